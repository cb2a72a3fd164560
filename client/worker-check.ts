/**
 * Whether any worker polls a task queue, so that a run nobody will pick up is said at once instead of
 * waiting in silence. Temporal lists the workers that polled the queue in the last minutes.
 */
import type { Client } from '@temporalio/client';
import type { Io } from './command.js';

/** How many workers polled the workflow task queue recently; undefined when the server cannot tell. */
export async function workflowPollers(client: Client, taskQueue: string): Promise<number | undefined> {
  try {
    const answer = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      // The workflow task queue is the default type: the one a run needs a worker on before anything else.
      taskQueue: { name: taskQueue },
    });
    return answer.pollers?.length ?? 0;
  } catch {
    return undefined;
  }
}

/**
 * What to tell a user whose run waits on a task queue that no worker polls; `waits: false` for a
 * command that starts nothing without one (`plan`).
 */
export function noWorkerMessage(taskQueue: string, namespace: string, waits = true): string {
  return (
    `no worker polls task queue "${taskQueue}" (namespace ${namespace})${waits ? ': the run waits until one does' : ''}.\n` +
    '  start one with "npx bulk-delete worker" (same TEMPORAL_ADDRESS and BULK_DELETE_TASK_QUEUE),\n' +
    '  or run everything local with "npm start"'
  );
}

/**
 * Says at once when no worker polls the task queue of a run. Answers whether one does (true when the
 * server cannot tell, so that nothing is refused on a guess).
 */
export async function warnWithoutWorker(
  client: Client,
  taskQueue: string,
  io: Io,
  extra = '',
): Promise<boolean> {
  const pollers = await workflowPollers(client, taskQueue);
  if (pollers !== 0) return true;
  io.err(`warning: ${noWorkerMessage(taskQueue, client.options.namespace)}${extra}`);
  return false;
}
