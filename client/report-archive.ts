/**
 * Reports of runs that are no longer in Temporal (retention, `temporal workflow delete`): the worker
 * archived them when they ended in `BULK_DELETE_REPORT_STORE` (activities/archive-activities.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { archiveKeys } from '../activities/archive-activities.js';
import { openObjectStore } from '../activities/object-store.js';
import { Report } from '../plan/index.js';
import { CliError, EXIT } from './command.js';

async function exists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * The archived report of `workflowId` (or of its scheduled bulk delete `<id>/bulk-delete`) when the
 * workflow no longer exists and `BULK_DELETE_REPORT_STORE` is set; undefined otherwise (the history is
 * then the source). @throws CliError when the store cannot be read, holds no report of the run, or the
 * archived report is unreadable.
 */
export async function archivedReport(
  client: Client,
  workflowId: string,
  env: NodeJS.ProcessEnv,
): Promise<{ report: Report; location: string } | undefined> {
  const location = env.BULK_DELETE_REPORT_STORE?.trim();
  if (!location || (await exists(client, workflowId))) return undefined;
  const store = openObjectStore(location, env);
  for (const id of [workflowId, `${workflowId}/bulk-delete`]) {
    let bytes: Buffer | undefined;
    try {
      bytes = await store.get(archiveKeys(id).report);
    } catch (error) {
      throw new CliError(
        `${workflowId} is no longer in Temporal, and its report cannot be read from BULK_DELETE_REPORT_STORE: ${(error as Error).message}`,
        EXIT.failed,
      );
    }
    if (!bytes) continue;
    let parsed: ReturnType<typeof Report.safeParse>;
    try {
      parsed = Report.safeParse(JSON.parse(bytes.toString('utf8')));
    } catch (error) {
      throw new CliError(
        `the archived report of ${id} in ${location} is not JSON: ${(error as Error).message}`,
        EXIT.failed,
      );
    }
    if (!parsed.success) {
      throw new CliError(
        `the archived report of ${id} in ${location} is not a report:\n${z.prettifyError(parsed.error)}`,
        EXIT.failed,
      );
    }
    return { report: parsed.data, location };
  }
  // Said with the store that was searched: a run that never existed and one whose archive is missing
  // (a wrong prefix, a store the workers do not write to) are not told apart otherwise.
  throw new CliError(
    `no workflow "${workflowId}" in namespace ${client.options.namespace}, and no report of it in BULK_DELETE_REPORT_STORE ${location}`,
  );
}
