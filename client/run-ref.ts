/**
 * The bulk delete run a user means by a workflow ID. A scheduled clean-up run (the IDs that
 * `schedule describe` lists) runs its bulk delete as the child `<id>/bulk-delete`: `status`, `report`,
 * `approve` and `cancel` follow it there.
 */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { CleanupSelection } from '../activities/policy-activities.js';
import { valueOfPayload } from '../config/payload-codec.js';
import type { ScheduledCleanupResult } from '../workflows/index.js';
import { CliError, EXIT, plural, type Io } from './command.js';

/** The workflow type of a scheduled clean-up run (workflows/scheduled-cleanup.workflow.ts). */
const SCHEDULED_CLEANUP = 'scheduledCleanupWorkflow';

async function describeOrUndefined(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * A scheduled clean-up run without a bulk delete: still selecting, or ended before one (it selected
 * nothing, or its selection failed). Its exit code says how it ended (0 when it selected nothing).
 */
export class NoBulkDeleteError extends CliError {
  constructor(
    message: string,
    exitCode: number,
    /** The scheduled clean-up run. */
    readonly scheduled: { workflowId: string; description: WorkflowExecutionDescription },
  ) {
    super(message, exitCode);
  }
}

/** At most this many of a selection's notes are shown; the run's result holds the others. */
const SHOWN_NOTES = 20;

/**
 * What a scheduled clean-up run's selection said, from its history (the answer of its one activity):
 * how many items it selected, how many it left to later runs, and what it left alone or skipped, and why.
 */
async function selectionLines(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  for (const event of history.events ?? []) {
    const payload = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (!payload) continue;
    const selection = await valueOfPayload<CleanupSelection>(client.options.loadedDataConverter, payload);
    const left = selection.remaining > 0 ? `; ${selection.remaining} more left to later runs (maxItems)` : '';
    const more = selection.notes.length - SHOWN_NOTES;
    return [
      `it selected ${plural(selection.selected, 'item')}${left}`,
      ...selection.notes.slice(0, SHOWN_NOTES).map((note) => `  ${note}`),
      ...(more > 0 ? [`  and ${plural(more, 'more note')} in the run's result`] : []),
    ];
  }
  return [];
}

/** Why a scheduled clean-up run has no bulk delete, in words, and the exit code that goes with it. */
async function withoutBulkDelete(
  client: Client,
  workflowId: string,
  status: WorkflowExecutionDescription['status']['name'],
): Promise<{ why: string; exitCode: number }> {
  if (status === 'RUNNING') {
    return { why: 'is still selecting what to delete: no bulk delete yet', exitCode: EXIT.failed };
  }
  if (status === 'CANCELLED') return { why: 'was cancelled before any delete', exitCode: EXIT.cancelled };
  try {
    const result = (await client.workflow.getHandle(workflowId).result()) as ScheduledCleanupResult;
    const left = result.remaining > 0 ? `; ${plural(result.remaining, 'item')} left to later runs` : '';
    const notes = result.notes.length ? `; ${result.notes.join('; ')}` : '';
    return { why: `selected nothing to delete${left}${notes}`, exitCode: EXIT.ok };
  } catch (error) {
    const cause =
      error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : String(error);
    return { why: `ended ${status.toLowerCase()} before any delete: ${cause}`, exitCode: EXIT.failed };
  }
}

/**
 * The bulk delete run behind `workflowId` and its description: the workflow itself, or, for a scheduled
 * clean-up run, its child `<id>/bulk-delete` (said on stderr).
 * @throws CliError exit 2 when there is no such workflow; `NoBulkDeleteError` when a scheduled run has
 * no bulk delete (still selecting: exit 1; selected nothing: 0; failed: 1, with why; cancelled: 3).
 */
export async function resolveRun(
  client: Client,
  workflowId: string,
  io: Io,
): Promise<{ workflowId: string; description: WorkflowExecutionDescription }> {
  const description = await describeOrUndefined(client, workflowId);
  if (!description)
    throw new CliError(`no workflow "${workflowId}" in namespace ${client.options.namespace}`);
  if (description.type !== SCHEDULED_CLEANUP) return { workflowId, description };
  const childId = `${workflowId}/bulk-delete`;
  const child = await describeOrUndefined(client, childId);
  if (!child) {
    const { why, exitCode } = await withoutBulkDelete(client, workflowId, description.status.name);
    throw new NoBulkDeleteError(`${workflowId} is a scheduled clean-up run that ${why}`, exitCode, {
      workflowId,
      description,
    });
  }
  io.err(`${workflowId} is a scheduled clean-up run: its bulk delete is ${childId}`);
  for (const line of await selectionLines(client, workflowId)) io.err(line);
  return { workflowId: childId, description: child };
}

/**
 * {@link resolveRun} for a command that acts on a run still going (approve, cancel): answers the bulk
 * delete's workflow ID while it is running.
 * @throws CliError exit 2 with `refusal(workflowId, status)` (status in lower case, e.g. `completed`) when
 * it has ended.
 */
export async function resolveRunningRun(
  client: Client,
  workflowId: string,
  io: Io,
  refusal: (workflowId: string, status: string) => string,
): Promise<string> {
  const run = await resolveRun(client, workflowId, io);
  if (run.description.status.name !== 'RUNNING') {
    throw new CliError(refusal(run.workflowId, run.description.status.name.toLowerCase()));
  }
  return run.workflowId;
}
