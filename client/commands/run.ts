import { webUiUrl } from '../../config/temporal-config.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_WINDOW,
  MAX_CHUNK_SIZE,
  MAX_WINDOW,
} from '../../workflows/definitions.js';
import {
  CliError,
  durationFlag,
  intFlag,
  plural,
  commandSpec,
  defineCommand,
  workflowIdFlag,
} from '../command.js';
import {
  PLAN_FILE_OPTION_HELP,
  PLAN_FILE_OPTIONS,
  PLAN_FILE_VALUE_NAMES,
  planSourceOf,
  readPlanFile,
} from '../plan-file.js';
import { countedSteps, stepLines, summaryLines } from '../report-format.js';
import { startBulkDelete } from '../start.js';
import { leaveOrFollow } from '../started-run.js';
import { withClient } from '../temporal-client.js';

const spec = commandSpec({
  usage:
    'run PLAN [--dry-run] [--require-approval] [--approval-timeout DURATION] [--wait] [--id ID] [--start-within DURATION] [--json]',
  description: `
Validates PLAN (a .json or .csv plan file) and starts its deletion as a Temporal workflow, then prints
the workflow ID and its Web UI link. A bad plan starts nothing: every problem is named by file, line
and field (exit 2). Starting the same plan again answers the run it already started. When no worker
polls the task queue, run says so at once (and, with --wait, keeps waiting); a run that no worker
picks up within --start-within ends without deleting anything. Ctrl-C during --wait leaves the run
going and prints the commands that follow or cancel it.

Exit codes with --wait: 0 every item deleted, already absent or skipped; 1 some failed; 2 bad input
or configuration; 3 cancelled.`,
  options: {
    'dry-run': { type: 'boolean' },
    'require-approval': { type: 'boolean' },
    'approval-timeout': { type: 'string' },
    wait: { type: 'boolean' },
    id: { type: 'string' },
    'start-within': { type: 'string' },
    json: { type: 'boolean' },
    'chunk-size': { type: 'string' },
    window: { type: 'string' },
    ...PLAN_FILE_OPTIONS,
  },
  optionHelp: {
    'dry-run': 'discover every reference and stop with the steps; change nothing',
    'require-approval': 'wait for "bulk-delete approve ID --digest D" before deleting anything',
    'approval-timeout':
      'with --require-approval: a run not approved within this ends Failed, deleting nothing (default 7d)',
    wait: 'follow the run: live progress, then the summary; the exit code tells how it ended',
    id: 'the workflow ID (default: from the plan name and digest, so a plan starts one run)',
    'start-within': 'a run no worker picks up within this ends without deleting anything (default 10m)',
    json: 'print JSON on stdout: { workflowId, runId, webUiUrl } and, with --wait, the report',
    'chunk-size': `items per child workflow (default ${DEFAULT_CHUNK_SIZE}, at most ${MAX_CHUNK_SIZE})`,
    window: `child workflows busy at once (default ${DEFAULT_WINDOW}, at most ${MAX_WINDOW}); one that waits on its last calls lends its place, up to twice as many`,
    ...PLAN_FILE_OPTION_HELP,
  },
  valueNames: {
    id: 'ID',
    'start-within': 'DURATION',
    'approval-timeout': 'DURATION',
    'chunk-size': 'N',
    window: 'N',
    ...PLAN_FILE_VALUE_NAMES,
  },
  positionals: ['PLAN'],
});

/** `bulk-delete run PLAN`: validate, start, optionally follow to the end. */
export const runCommand = defineCommand('run', spec, async (args, io) => {
  const { values } = args;
  const file = readPlanFile(args.positionals[0]!, values);
  const chunkSize = intFlag('chunk-size', values['chunk-size'], 1, MAX_CHUNK_SIZE);
  const window = intFlag('window', values.window, 1, MAX_WINDOW);
  const startWithinMs = durationFlag('start-within', values['start-within'] ?? '10m');
  if (values['approval-timeout'] !== undefined && !values['require-approval']) {
    throw new CliError('--approval-timeout bounds the wait for an approval: give it with --require-approval');
  }
  const approvalTimeoutMs = durationFlag('approval-timeout', values['approval-timeout'] ?? '7d');
  const workflowId = workflowIdFlag(values.id);
  const source = await planSourceOf(file, io.env);

  return withClient(io.env, async ({ client, config }) => {
    const asked = Date.now();
    const handle = await startBulkDelete(client, source, {
      taskQueue: config.BULK_DELETE_TASK_QUEUE,
      ...(workflowId !== undefined ? { workflowId } : {}),
      dryRun: values['dry-run'] ?? false,
      requireApproval: values['require-approval'] ?? false,
      ...(chunkSize !== undefined ? { chunkSize } : {}),
      ...(window !== undefined ? { window } : {}),
      startWithinMs,
      approvalTimeoutMs,
    });
    const description = await handle.describe();
    const runId = description.runId;
    const url = webUiUrl(config, handle.workflowId, runId);
    // Starting a plan that already has a run answers that run (client/start.ts): say so. A closed run
    // comes back as a plain handle, without the run ID a start answers; an open one started earlier.
    const startedRunId = (handle as { firstExecutionRunId?: string }).firstExecutionRunId;
    const fresh = startedRunId !== undefined && description.startTime.getTime() >= asked - 5000;
    if (!values.json) {
      if (!fresh) {
        io.out(
          `this plan already has a run (${description.status.name.toLowerCase()}): ${handle.workflowId}\n` +
            '  (give --id to start another run of the same plan)',
        );
      } else {
        io.out(
          `started ${handle.workflowId}: plan ${file.plan.name}, ${plural(file.plan.items.length, 'item')}`,
        );
      }
      io.out(`Web UI: ${url}`);
    }
    const started = { workflowId: handle.workflowId, runId, webUiUrl: url };
    return leaveOrFollow(client, config.BULK_DELETE_TASK_QUEUE, started, io, {
      wait: values.wait ?? false,
      json: values.json ?? false,
      outcomeFields: (outcome) => (outcome.result?.digest ? { digest: outcome.result.digest } : {}),
      printOutcome(outcome) {
        if (outcome.result?.reason) io.err(`stopped early: ${outcome.result.reason}`);
        // A dry run has no rows to sum up (it deleted nothing): its steps are what it found.
        if (outcome.result?.dryRun) io.out(['', ...stepLines(outcome.steps)].join('\n'));
        else if (outcome.report) io.out(['', ...summaryLines(outcome.report)].join('\n'));
        if (outcome.result?.dryRun) {
          io.out(
            `\ndry run: ${plural(countedSteps(outcome.steps), 'step')}, digest ${outcome.result.digest ?? '(none)'}; nothing was changed`,
          );
        }
        io.out(`\nWeb UI: ${url}`);
      },
    });
  });
});
