/**
 * The bulk delete run a user means by a workflow ID. A scheduled clean-up run (the IDs that
 * `schedule describe` lists) runs its bulk delete as the child `<id>/bulk-delete`: `status`, `report`,
 * `approve` and `cancel` follow it there.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { CliError, EXIT, type Io } from './command.js';

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
 * The bulk delete run behind `workflowId` and its description: the workflow itself, or, for a scheduled
 * clean-up run, its child `<id>/bulk-delete` (said on stderr).
 * @throws CliError exit 2 when there is no such workflow; exit 1 when a scheduled run has no bulk delete
 * (it is still selecting, or selected nothing).
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
    const state =
      description.status.name === 'RUNNING' ? 'has not started its bulk delete yet' : 'deleted nothing';
    throw new CliError(
      `${workflowId} is a scheduled clean-up run that ${state} (${description.status.name.toLowerCase()}): ` +
        `no ${childId} to follow`,
      EXIT.failed,
    );
  }
  io.err(`${workflowId} is a scheduled clean-up run: its bulk delete is ${childId}`);
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
