import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webUiUrl } from '../../config/temporal-config.js';
import type { Plan } from '../../plan/index.js';
import { CliError, EXIT, plural, commandSpec, defineCommand } from '../command.js';
import { summaryLines } from '../report-format.js';
import { planOfRun, retryItems, retryWorkflowId } from '../retry-plan.js';
import { fetchReportOrArchived } from '../report-archive.js';
import { resolveRun } from '../run-ref.js';
import { storeLocationProblem } from '../../activities/object-store.js';
import { INLINE_PLAN_MAX_ITEMS, planRefFor, startBulkDelete, storePlan, type PlanSource } from '../start.js';
import { leaveOrFollow } from '../started-run.js';
import { withClient } from '../temporal-client.js';
import { selectionToReadAgain } from '../cleanup-selection.js';

const spec = commandSpec({
  usage: 'retry ID [--require-approval] [--wait] [--json]',
  description: `
Starts a new run over the items of a finished run ID that failed, were skipped or ended partial,
taken from ID's own plan (items deleted or already absent are left out). A run that waited for
approval is retried under approval too. The new run is
<ID>-retry-N, with a report of its own; its memo "retryOf" and search attribute BulkDeleteRetryOf
name ID. When every item ended deleted or already absent there is nothing to retry (exit 0).`,
  options: {
    'require-approval': { type: 'boolean' },
    wait: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    'require-approval': 'wait for "bulk-delete approve ID --digest D" before deleting anything',
    wait: 'follow the retry: live progress, then the summary; the exit code tells how it ended',
    json: 'print JSON on stdout: { workflowId, runId, webUiUrl, retryOf, items } and, with --wait, the report',
  },
  positionals: ['ID'],
});

/**
 * An inline plan, or for a large one a JSON file, uploaded to `BULK_DELETE_PLAN_STORE` when it is set as
 * `run` does: the workers need no access to this machine's disk.
 */
async function sourceOf(plan: Plan, env: NodeJS.ProcessEnv): Promise<PlanSource> {
  if (plan.items.length <= INLINE_PLAN_MAX_ITEMS) return { plan };
  const store = env.BULK_DELETE_PLAN_STORE?.trim();
  const problem = store ? storeLocationProblem(store) : undefined;
  if (problem) throw new CliError(`BULK_DELETE_PLAN_STORE ${problem}; nothing was started`);
  const dir = join(tmpdir(), 'bulk-delete', 'plans');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${plan.name}-retry-${Date.now().toString(36)}.json`);
  writeFileSync(path, JSON.stringify(plan));
  const ref = await planRefFor(path);
  return { planRef: store ? await storePlan(ref, path, store, env) : ref };
}

/** `bulk-delete retry ID`: run again what did not end deleted. */
export const retryCommand = defineCommand('retry', spec, async (args, io) => {
  const { values } = args;
  return withClient(io.env, async ({ client, config }) => {
    const { workflowId, description } = await resolveRun(client, args.positionals[0]!, io);
    if (description.status.name === 'RUNNING') {
      throw new CliError(`${workflowId} is still running: retry it once it has ended`);
    }
    // A dry run reports no item at all: "retrying" it would delete the whole plan.
    if (description.memo?.dryRun === true) {
      throw new CliError(
        `${workflowId} is a dry run: it deleted nothing and has nothing to retry (run the plan instead)`,
      );
    }
    const [{ report }, { plan, approval, recheck: carried }] = await Promise.all([
      fetchReportOrArchived(client, workflowId, io),
      planOfRun(client, workflowId, io.env),
    ]);
    // A scheduled clean-up's bulk delete started before chunks read the selection again carries none.
    const recheck = carried ?? (await selectionToReadAgain(client, workflowId));
    const items = retryItems(plan, report);
    if (items.length === 0) {
      const text = `nothing to retry: every item of ${workflowId} ended deleted or already absent`;
      if (values.json) io.out(JSON.stringify({ retryOf: workflowId, items: 0, message: text }, null, 2));
      else io.out(text);
      return EXIT.ok;
    }
    const id = await retryWorkflowId(client, workflowId);
    const handle = await startBulkDelete(client, await sourceOf({ ...plan, items }, io.env), {
      taskQueue: config.BULK_DELETE_TASK_QUEUE,
      workflowId: id,
      // A run that had to be approved is retried under approval too: its items were never approved to go
      // unreviewed (a run cancelled before its approval retries all of them).
      requireApproval: (values['require-approval'] ?? false) || approval.requireApproval === true,
      ...(approval.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: approval.approvalTimeoutMs } : {}),
      startWithinMs: 10 * 60_000,
      retryOf: workflowId,
      // A scheduled clean-up's items (skipped ones too, say as no longer selected) are checked again.
      ...(recheck !== undefined ? { recheck } : {}),
    });
    const { runId } = await handle.describe();
    const url = webUiUrl(config, handle.workflowId, runId);
    const started = {
      workflowId: handle.workflowId,
      runId,
      webUiUrl: url,
      retryOf: workflowId,
      items: items.length,
    };
    if (!values.json) {
      io.out(
        `started ${handle.workflowId}: retries ${plural(items.length, 'item')} of ${workflowId} ` +
          `(failed, skipped or partial; ${plural(plan.items.length - items.length, 'item')} left out)`,
      );
      if (approval.requireApproval && !values['require-approval']) {
        io.out(
          `  ${workflowId} waited for approval: this run does too ("bulk-delete report" lists its steps)`,
        );
      }
      io.out(`Web UI: ${url}`);
    }
    return leaveOrFollow(client, config.BULK_DELETE_TASK_QUEUE, started, io, {
      wait: values.wait ?? false,
      json: values.json ?? false,
      printOutcome(outcome) {
        if (outcome.report) io.out(['', ...summaryLines(outcome.report)].join('\n'));
      },
    });
  });
});
