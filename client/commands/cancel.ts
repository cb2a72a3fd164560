import { EXIT, commandSpec, defineCommand } from '../command.js';
import { summaryLines } from '../report-format.js';
import { watchRun } from '../run-watch.js';
import { withClient } from '../temporal-client.js';
import { NoBulkDeleteError, resolveRunningRun } from '../run-ref.js';

const spec = commandSpec({
  usage: 'cancel ID [--wait]',
  description: `
Stops a run cleanly: running chunks stop at their next step boundary (a delete already sent is not
undone), items not started are reported as skipped, and the run ends as cancelled. With --wait,
waits for it to end and prints the summary (exit 3 when it ended cancelled).`,
  options: { wait: { type: 'boolean' } },
  optionHelp: { wait: 'wait until the run has stopped and print its summary' },
  positionals: ['ID'],
});

/** `bulk-delete cancel ID`. */
export const cancelCommand = defineCommand('cancel', spec, async (args, io) => {
  return withClient(io.env, async ({ client }) => {
    let workflowId: string;
    try {
      workflowId = await resolveRunningRun(
        client,
        args.positionals[0]!,
        io,
        (id, status) => `${id} is already ${status}: nothing to cancel`,
      );
    } catch (error) {
      // A scheduled run still selecting: cancelled itself, so that it never starts its bulk delete.
      if (!(error instanceof NoBulkDeleteError) || error.scheduled.description.status.name !== 'RUNNING') {
        throw error;
      }
      const scheduled = client.workflow.getHandle(error.scheduled.workflowId);
      await scheduled.cancel();
      io.out(
        `cancellation requested for ${error.scheduled.workflowId}: it was still selecting what to delete, ` +
          'and starts no bulk delete (one it started meanwhile is cancelled with it)',
      );
      if (!args.values.wait) return EXIT.ok;
      const ended = await scheduled.result().then(
        () => 'completed',
        () => undefined,
      );
      const status = ended ?? (await scheduled.describe()).status.name.toLowerCase();
      io.out(`${error.scheduled.workflowId}: ${status}`);
      return status === 'cancelled' ? EXIT.cancelled : status === 'completed' ? EXIT.ok : EXIT.failed;
    }
    await client.workflow.getHandle(workflowId).cancel();
    io.out(`cancellation requested for ${workflowId}`);
    if (!args.values.wait) return EXIT.ok;
    const outcome = await watchRun(client, workflowId, io);
    if (outcome.report) io.out(summaryLines(outcome.report).join('\n'));
    return outcome.exitCode;
  });
});
