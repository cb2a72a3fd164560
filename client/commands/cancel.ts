import { EXIT, commandSpec, defineCommand } from '../command.js';
import { summaryLines } from '../report-format.js';
import { watchRun } from '../run-watch.js';
import { withClient } from '../temporal-client.js';
import { resolveRunningRun } from '../run-ref.js';

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
    const workflowId = await resolveRunningRun(
      client,
      args.positionals[0]!,
      io,
      (id, status) => `${id} is already ${status}: nothing to cancel`,
    );
    await client.workflow.getHandle(workflowId).cancel();
    io.out(`cancellation requested for ${workflowId}`);
    if (!args.values.wait) return EXIT.ok;
    const outcome = await watchRun(client, workflowId, io);
    if (outcome.report) io.out(summaryLines(outcome.report).join('\n'));
    return outcome.exitCode;
  });
});
