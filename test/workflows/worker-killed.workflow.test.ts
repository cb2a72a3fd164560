/**
 * Two workers on one task queue, one of them SIGKILLed while it runs a chunk's `deleteItems`: its attempt
 * times out (30 s without a heartbeat) and the other worker runs the next one, from the last heartbeat
 * that reached the server. The run must end, the sandbox's state diffed before and after must show only
 * the plan's targets gone, and every report row must say what happened, no more: a part the report calls
 * `deleted` was there before the run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pendingLines, pendingWork } from '../../client/pending-work.js';
import { fetchReport } from '../../client/report-fetch.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan } from '../../plan/index.js';
import { cleanEnv, eventually, runCli, startCli } from '../client/cli-process.js';
import { untilAnswered } from '../helpers/sandbox.js';
import {
  KEYS,
  activitiesFor,
  assertOneRowPerItemAndSystem,
  envFor,
  startStack,
  type Stack,
} from '../helpers/stack.js';
import { uniqueTaskQueue, withWorker } from '../helpers/temporal.js';
import { assertOnlyTargetsGone, assertReportAgrees } from '../safety/world.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const ITEMS = 20;
/** Items from this one on have no DAM asset left before the run: their DAM part is already absent. */
const FIRST_GONE_IN_DAM = 12;
const DAM_DELETE = 'POST /assets/mediadb/services/module/asset/deleteassets';

/** Items i0..i19, each a TwelveLabs asset with one indexed asset and a DAM asset; plus assets outside the plan. */
function catalogue() {
  const ids = Array.from({ length: ITEMS }, (_, n) => n);
  return {
    twelvelabs: {
      apiKey: KEYS.tl,
      assets: [...ids.map((n) => ({ _id: hex(0xa00 + n) })), { _id: hex(0xfff) }],
      indexes: [{ _id: hex(0x1d) }],
      indexedAssets: ids.map((n) => ({ _id: hex(0xb00 + n), index_id: hex(0x1d), asset_id: hex(0xa00 + n) })),
    },
    entermedia: {
      key: KEYS.dam,
      assets: [...ids.filter((n) => n < FIRST_GONE_IN_DAM).map((n) => ({ id: `d${n}` })), { id: 'keep' }],
    },
  };
}

const plan = Plan.parse({
  name: 'worker-killed',
  items: Array.from({ length: ITEMS }, (_, n) => ({
    id: `i${n}`,
    twelvelabs: { assetId: hex(0xa00 + n) },
    entermedia: { assetId: `d${n}` },
  })),
});

describe('a worker killed mid-run beside another', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('the other worker finishes the items; DAM assets gone before the run are reported already absent, not deleted', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(catalogue());
    // Slow vendors and one request at a time: the doomed worker has reached only the first few items
    // when it dies.
    await stack.sandbox.faults({
      twelvelabs: { latencyMs: [150, 150] },
      entermedia: { latencyMs: [150, 150] },
    });
    const was = await stack.sandbox.state();
    const taskQueue = uniqueTaskQueue('killed');
    const env = envFor(stack.sandbox.url);
    const doomed = startCli(['worker'], {
      env: cleanEnv({
        TEMPORAL_ADDRESS: stack.temporal.address,
        BULK_DELETE_TASK_QUEUE: taskQueue,
        ...env,
        TWELVELABS_CONCURRENCY: '1',
        ENTERMEDIA_CONCURRENCY: '1',
        UPLYNK_CONCURRENCY: '1',
        BULK_DELETE_UNITS_PER_SLOT: '1',
      }),
    });
    try {
      await eventually(() => Promise.resolve(doomed.output().stderr.includes('worker polling')), 60_000);
      const handle = await startBulkDelete(stack.temporal.client, { plan }, { taskQueue });
      // It deletes: the first item went through TwelveLabs and reached the DAM.
      await untilAnswered(stack.sandbox, DAM_DELETE, 1, 3000);
      // The second worker polls the same queue; then the first dies with its phase activity running.
      const { report, ended } = await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
        doomed.child.kill('SIGKILL');
        assert.equal((await doomed.done).code, null, 'the worker was killed, it did not exit');
        // Right after: the run's progress query may wait on the dead worker. Whatever status answers, it
        // must not say that no worker picked the run up.
        const status = await runCli(['status', handle.workflowId], {
          env: cleanEnv({ TEMPORAL_ADDRESS: stack.temporal.address, BULK_DELETE_TASK_QUEUE: taskQueue }),
          timeoutMs: 60_000,
        });
        assert.doesNotMatch(status.stdout, /no worker has picked the run up/, status.stdout);
        assert.match(status.stdout, /deleted|may have just stopped/, status.stdout);
        // While its attempt times out, status says whose heartbeat stopped, not only what it last said.
        const silent = await eventually(async () => {
          const lines = pendingLines(
            await pendingWork(stack.temporal.client, [`${handle.workflowId}/chunk-00000`]),
          );
          return lines.find((l) => /no heartbeat for/.test(l));
        }, 40_000);
        assert.match(
          silent,
          new RegExp(
            `deleteItems, attempt 1, no heartbeat for \\d+ s from worker ${doomed.child.pid}@.*30 s after its last heartbeat`,
          ),
        );
        const result = await handle.result().then(
          () => 'completed',
          (error: unknown) => String(error),
        );
        return { ended: result, ...(await fetchReport(stack.temporal.client, handle.workflowId)) };
      });
      assert.equal(ended, 'completed');
      const now = await stack.sandbox.state();
      assert.equal(report.status, 'completed');
      assertOneRowPerItemAndSystem(plan, report.rows);
      assertOnlyTargetsGone(was, now, [plan]);
      assertReportAgrees(plan, report, was, now);
      assert.equal(report.summary.failed, 0);
      // Each DAM row as a user checks it: deleted if it was there before, already absent if it was not.
      const dam = report.rows
        .filter((r) => r.system === 'entermedia')
        .map((r) => `${r.item} ${r.outcome}`)
        .sort();
      const expected = plan.items
        .map((item, n) => `${item.id} ${n < FIRST_GONE_IN_DAM ? 'deleted' : 'already-absent'}`)
        .sort();
      assert.deepEqual(dam, expected, JSON.stringify(report.rows.filter((r) => r.system === 'entermedia')));
      // The ledger claims no DAM delete the sandbox did not see.
      const claimed = report.mutations.filter((e) => e.system === 'entermedia' && e.answer === 'deleted');
      assert.equal(claimed.length, (await stack.sandbox.stats()).mutations.entermedia);
    } finally {
      if (doomed.child.exitCode === null && doomed.child.signalCode === null) doomed.child.kill('SIGKILL');
    }
  });
});
