import { digestOf } from '../../plan/index.js';
import { webUiUrl } from '../../config/temporal-config.js';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../../workflows/definitions.js';
import { CliError, intFlag, plural, commandSpec, defineCommand } from '../command.js';
import {
  PLAN_FILE_OPTION_HELP,
  PLAN_FILE_OPTIONS,
  PLAN_FILE_VALUE_NAMES,
  planSourceOf,
  readPlanFile,
} from '../plan-file.js';
import { countedSteps, stepLines } from '../report-format.js';
import { watchRun } from '../run-watch.js';
import { startBulkDelete, workflowIdFor } from '../start.js';
import { withClient } from '../temporal-client.js';
import { noWorkerMessage, workflowPollers } from '../worker-check.js';

const spec = commandSpec({
  usage: 'plan PLAN [--json]',
  description: `
Dry run: starts a workflow that discovers every reference of the plan's assets (indexed assets,
entities, libraries) and stops there, then prints the steps that "run" would take and their digest.
Nothing is changed. A worker must poll the task queue: without one, plan says so and starts nothing
(exit 2). "run --require-approval" waits for "approve" with the digest of the steps it
discovers itself: when nothing changed in between, it is the digest shown here.`,
  options: {
    json: { type: 'boolean' },
    'chunk-size': { type: 'string' },
    ...PLAN_FILE_OPTIONS,
  },
  optionHelp: {
    json: 'print JSON on stdout: { workflowId, runId, webUiUrl, digest, steps }',
    'chunk-size': `items per child workflow (default ${DEFAULT_CHUNK_SIZE}, at most ${MAX_CHUNK_SIZE})`,
    ...PLAN_FILE_OPTION_HELP,
  },
  valueNames: {
    'chunk-size': 'N',
    ...PLAN_FILE_VALUE_NAMES,
  },
  positionals: ['PLAN'],
});

/** `bulk-delete plan PLAN`: a dry run that prints the steps and their digest. */
export const planCommand = defineCommand('plan', spec, async (args, io) => {
  const file = readPlanFile(args.positionals[0]!, args.values);
  const chunkSize = intFlag('chunk-size', args.values['chunk-size'], 1, MAX_CHUNK_SIZE);
  const source = await planSourceOf(file, io.env);
  return withClient(io.env, async ({ client, config }) => {
    // A dry run that no worker picks up would wait for ever: refuse it, and start nothing.
    const pollers = await workflowPollers(client, config.BULK_DELETE_TASK_QUEUE);
    if (pollers === 0) {
      throw new CliError(
        `${noWorkerMessage(config.BULK_DELETE_TASK_QUEUE, client.options.namespace, false)}\nnothing was started`,
      );
    }
    // Every dry run discovers afresh: the catalogue may have changed since the last one.
    const workflowId = `${workflowIdFor(`${file.plan.name}-dry-run`, digestOf(file.plan))}-${Date.now().toString(36)}`;
    const handle = await startBulkDelete(client, source, {
      taskQueue: config.BULK_DELETE_TASK_QUEUE,
      workflowId,
      dryRun: true,
      ...(chunkSize !== undefined ? { chunkSize } : {}),
    });
    const { runId } = await handle.describe();
    const url = webUiUrl(config, handle.workflowId, runId);
    if (!args.values.json) io.err(`dry run ${handle.workflowId}: discovering ...\nWeb UI: ${url}`);
    const outcome = await watchRun(client, handle.workflowId, io);
    const digest = outcome.result?.digest;
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            workflowId: handle.workflowId,
            runId,
            webUiUrl: url,
            digest,
            ...(outcome.error ? { error: outcome.error } : {}),
            steps: outcome.steps,
            report: outcome.report,
          },
          null,
          2,
        ),
      );
      return outcome.exitCode;
    }
    if (outcome.error) io.err(outcome.error);
    io.out(stepLines(outcome.steps).join('\n'));
    const failures = outcome.report?.rows.filter((row) => row.outcome === 'failed') ?? [];
    if (failures.length) {
      io.out('\ndiscovery failed for:');
      for (const row of failures) io.out(`  ${row.item} ${row.system}: ${row.detail}`);
    }
    io.out(
      `\n${plural(countedSteps(outcome.steps), 'step')} for ${plural(file.plan.items.length, 'item')} of plan ${file.plan.name}; nothing was changed`,
    );
    if (digest) io.out(`digest: ${digest}`);
    return outcome.exitCode;
  });
});
