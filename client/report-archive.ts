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
import { ChunkGoneError, fetchReport, type FetchedReport } from './report-fetch.js';

async function exists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** The store could not be read (its message says which object and why). */
class StoreUnreadable extends Error {}

/** The report archived for `workflowId` in the store at `location`, undefined when there is none. */
async function readArchived(
  workflowId: string,
  location: string,
  env: NodeJS.ProcessEnv,
): Promise<Report | undefined> {
  const store = openObjectStore(location, env);
  let bytes: Buffer | undefined;
  try {
    bytes = await store.get(archiveKeys(workflowId).report);
  } catch (error) {
    throw new StoreUnreadable((error as Error).message);
  }
  if (!bytes) return undefined;
  let parsed: ReturnType<typeof Report.safeParse>;
  try {
    parsed = Report.safeParse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new CliError(
      `the archived report of ${workflowId} in ${location} is not JSON: ${(error as Error).message}`,
      EXIT.failed,
    );
  }
  if (!parsed.success) {
    throw new CliError(
      `the archived report of ${workflowId} in ${location} is not a report:\n${z.prettifyError(parsed.error)}`,
      EXIT.failed,
    );
  }
  return parsed.data;
}

/**
 * The report of a run that is still in Temporal (`fetchReport`); when its history can no longer give it
 * whole (a chunk already removed by retention), the report archived in `BULK_DELETE_REPORT_STORE`, said
 * on stderr. @throws CliError when a chunk is gone and no archived report can stand in for it.
 */
export async function fetchReportOrArchived(
  client: Client,
  workflowId: string,
  io: { env: NodeJS.ProcessEnv; err(line: string): void },
): Promise<FetchedReport & { archivedIn?: string }> {
  try {
    return await fetchReport(client, workflowId);
  } catch (error) {
    if (!(error instanceof ChunkGoneError)) throw error;
    const location = io.env.BULK_DELETE_REPORT_STORE?.trim();
    let report: Report | undefined;
    try {
      report = location ? await readArchived(workflowId, location, io.env) : undefined;
    } catch (unreadable) {
      if (!(unreadable instanceof StoreUnreadable)) throw unreadable;
      throw new CliError(
        `${error.message}, and its report cannot be read from BULK_DELETE_REPORT_STORE: ${unreadable.message}`,
        EXIT.failed,
      );
    }
    if (!location || !report) {
      throw new CliError(
        `${error.message} (retention removes a run's chunks before the run), ` +
          (location
            ? `and BULK_DELETE_REPORT_STORE ${location} holds no report of it`
            : 'and BULK_DELETE_REPORT_STORE is not set: set it to where the workers archive reports'),
        EXIT.failed,
      );
    }
    io.err(`${error.chunkId} is no longer in Temporal: the report of ${workflowId} archived in ${location}`);
    return { report, result: undefined, steps: [], archivedIn: location };
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
  for (const id of [workflowId, `${workflowId}/bulk-delete`]) {
    let report: Report | undefined;
    try {
      report = await readArchived(id, location, env);
    } catch (error) {
      if (!(error instanceof StoreUnreadable)) throw error;
      throw new CliError(
        `${workflowId} is no longer in Temporal, and its report cannot be read from BULK_DELETE_REPORT_STORE: ${error.message}`,
        EXIT.failed,
      );
    }
    if (report) return { report, location };
  }
  // Said with the store that was searched: a run that never existed and one whose archive is missing
  // (a wrong prefix, a store the workers do not write to) are not told apart otherwise.
  throw new CliError(
    `no workflow "${workflowId}" in namespace ${client.options.namespace}, and no report of it in BULK_DELETE_REPORT_STORE ${location}`,
  );
}
