import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { fetchReport } from '../../client/report-fetch.js';
import { COMPRESSED_ENCODING, COMPRESS_FROM_BYTES, encodingOf } from '../../config/payload-codec.js';
import { planRefFor, startBulkDelete } from '../../client/start.js';
import { Plan, type ReportRow } from '../../plan/index.js';
import { progressQuery } from '../../workflows/index.js';
import {
  activitiesFor,
  assertOneRowPerItemAndSystem,
  runPlan,
  startStack,
  type Stack,
} from '../helpers/stack.js';
import { uniqueTaskQueue, withWorker } from '../helpers/temporal.js';
import { assertOnlyTargetsGone, assertReportAgrees } from '../safety/world.js';

function rowsOf(rows: ReportRow[], item: string): ReportRow[] {
  return rows.filter((r) => r.item === item);
}

describe('bulk delete workflow: stopping, safety limits and size', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('refuses a plan larger than maxItems before anything is deleted', async () => {
    await stack.sandbox.reset();
    const { plan: generated, env } = await stack.sandbox.generate(12, 3);
    // A client that skips validation: the workflow checks again.
    const plan = { ...Plan.parse(generated), options: { ...Plan.parse(generated).options, maxItems: 5 } };
    const taskQueue = uniqueTaskQueue();
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      const handle = await startBulkDelete(
        stack.temporal.client,
        { plan },
        { taskQueue, workflowId: uniqueTaskQueue('max') },
      );
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(String(error.cause?.message), /maxItems|more than/);
        return true;
      });
    });
    assert.deepEqual((await stack.sandbox.stats()).mutations, { twelvelabs: 0, uplynk: 0, entermedia: 0 });
  });

  it('refuses a plan whose two items share a DAM asset before anything is deleted', async () => {
    await stack.sandbox.reset();
    const { plan: generated, env } = await stack.sandbox.generate(4, 5);
    const parsed = Plan.parse(generated);
    const withDam = parsed.items.filter((i) => i.entermedia);
    assert.ok(withDam.length >= 2, 'the generated plan has two items with a DAM asset');
    const [first, second] = withDam as [(typeof withDam)[0], (typeof withDam)[0]];
    // A client that skips validation: the second item names the first one's DAM asset.
    const plan = {
      ...parsed,
      items: parsed.items.map((i) => (i === second ? { ...i, entermedia: first.entermedia } : i)),
    };
    const was = await stack.sandbox.state();
    const taskQueue = uniqueTaskQueue();
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      const handle = await startBulkDelete(
        stack.temporal.client,
        { plan },
        { taskQueue, workflowId: uniqueTaskQueue('shared') },
      );
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(
          String(error.cause?.message),
          new RegExp(`duplicate EnterMediaDB asset "${first.entermedia!.assetId}" \\(first at items\\[`),
        );
        return true;
      });
    });
    assert.deepEqual((await stack.sandbox.stats()).mutations, { twelvelabs: 0, uplynk: 0, entermedia: 0 });
    assert.deepEqual(await stack.sandbox.state(), was, 'nothing changed');
  });

  it('starts one run when the same plan is submitted twice', async () => {
    await stack.sandbox.reset();
    const { plan, env } = await stack.sandbox.generate(5, 4);
    const parsed = Plan.parse(plan);
    const taskQueue = uniqueTaskQueue();
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      const first = await startBulkDelete(stack.temporal.client, { plan: parsed }, { taskQueue });
      const second = await startBulkDelete(stack.temporal.client, { plan: parsed }, { taskQueue });
      assert.equal(second.workflowId, first.workflowId);
      await first.result();
      const third = await startBulkDelete(stack.temporal.client, { plan: parsed }, { taskQueue });
      assert.equal(third.workflowId, first.workflowId);
      const runs = [];
      for await (const run of stack.temporal.client.workflow.list({
        query: `WorkflowId = "${first.workflowId}"`,
      })) {
        runs.push(run.runId);
      }
      assert.equal(runs.length, 1, 'one run for the plan');
    });
  });

  it('stops cleanly when the failure threshold trips, and reports unstarted items as skipped', async () => {
    await stack.sandbox.reset();
    const { plan: generated, env } = await stack.sandbox.generate(40, 5);
    const plan = Plan.parse({
      ...generated,
      options: { ...generated.options, failureThreshold: 0.5, failureThresholdMinItems: 5 },
    });
    const before = await stack.sandbox.state();
    // A wrong TwelveLabs key: every item with a TwelveLabs part fails at discovery.
    const { report, result } = await runPlan(
      stack,
      { plan },
      { ...env, TWELVELABS_API_KEY: 'wrong-key' },
      { chunkSize: 5, window: 1 },
    );
    assert.equal(result?.status, 'failed');
    assert.match(result?.reason ?? '', /failure threshold/);
    assertOneRowPerItemAndSystem(plan, report.rows);
    const notStarted = report.rows.filter((r) => r.step === 'not-started');
    assert.ok(notStarted.length > 0, 'some chunks never started');
    assert.ok(notStarted.every((r) => r.outcome === 'skipped' && /failure threshold/.test(r.detail)));
    assert.ok(report.summary.failed >= 3);
    const tlFailure = report.rows.find((r) => r.system === 'twelvelabs' && r.outcome === 'failed');
    assert.match(tlFailure?.detail ?? '', /TwelveLabsAuthError|401/);
    assert.doesNotMatch(JSON.stringify(report), /wrong-key/);
    // Items that never started are untouched in every system.
    const after = await stack.sandbox.state();
    const skippedItems = new Set(notStarted.map((r) => r.item));
    for (const item of plan.items.filter((i) => skippedItems.has(i.id))) {
      if (item.entermedia) assert.ok(after.entermedia.assets.some((a) => a.id === item.entermedia!.assetId));
      if (item.twelvelabs) assert.ok(after.twelvelabs.assets.some((a) => a._id === item.twelvelabs!.assetId));
    }
    assert.equal(after.twelvelabs.assets.length, before.twelvelabs.assets.length);
  });

  it('counts each finished chunk once against the failure threshold: fewer settled items than its minimum never stop a run', async () => {
    await stack.sandbox.reset();
    const { env } = await stack.sandbox.generate(1, 6);
    // Six items whose DAM delete is refused (403), in one chunk: 6 settled and 6 failed, under the
    // minimum of 10, so the threshold does not apply yet.
    const plan = Plan.parse({
      name: 'under-the-minimum',
      items: Array.from({ length: 6 }, (_, i) => ({ id: `u-${i}`, entermedia: { assetId: `u-dam-${i}` } })),
      options: { failureThreshold: 0.5, failureThresholdMinItems: 10 },
    });
    // The DAM holds the six assets: the refusals leave them, and the report must say so.
    const seeded = await stack.sandbox.state();
    await stack.sandbox.seed({
      ...seeded,
      entermedia: {
        ...seeded.entermedia,
        assets: [...seeded.entermedia.assets, ...plan.items.map((i) => ({ id: i.entermedia!.assetId }))],
      },
    });
    const before = await stack.sandbox.state();
    await stack.sandbox.faults({ entermedia: { error403: 1 } });
    try {
      const { report, result } = await runPlan(stack, { plan }, env);
      assert.equal(result?.reason, undefined, `not stopped early: ${result?.reason ?? ''}`);
      assertOneRowPerItemAndSystem(plan, report.rows);
      assert.equal(report.summary.failed, 6);
      assert.ok(report.rows.every((r) => r.step === 'delete-dam-asset' && /403/.test(r.detail)));
      const after = await stack.sandbox.state();
      assert.deepEqual(after, before, 'every refused asset is still there');
      assertReportAgrees(plan, report, before, after);
    } finally {
      await stack.sandbox.faults({});
    }
  });

  it('reports the rows so far of an open run; cancelling it stops after the calls in flight and reports every item once', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed({ entityReadyAfterMs: 1500 });
    const { plan: generated, env } = await stack.sandbox.generate(40, 6);
    const plan = Plan.parse(generated);
    const taskQueue = uniqueTaskQueue();
    const workflowId = uniqueTaskQueue('cancel');
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      const handle = await startBulkDelete(
        stack.temporal.client,
        { plan },
        { taskQueue, workflowId, chunkSize: 5, window: 2 },
      );
      for (;;) {
        const progress = await handle.query(progressQuery);
        if (progress.chunks.done >= 1) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const sofar = await fetchReport(stack.temporal.client, workflowId);
      assert.equal(sofar.report.status, 'running', 'an open run reports its rows so far');
      assert.ok(sofar.report.rows.length > 0 && sofar.report.summary.items < plan.items.length);
      await handle.cancel();
      await assert.rejects(handle.result(), /cancel/i);
    });
    const { report } = await fetchReport(stack.temporal.client, workflowId);
    assert.equal(report.status, 'cancelled');
    assertOneRowPerItemAndSystem(plan, report.rows);
    assert.ok(report.summary.deleted > 0, 'the chunks that ran deleted their items');
    const skipped = report.rows.filter((r) => r.outcome === 'skipped');
    assert.ok(skipped.length > 0);
    assert.ok(skipped.some((r) => /cancel/.test(r.detail)));
    const state = await stack.sandbox.state();
    const notStartedItems = new Set(report.rows.filter((r) => r.step === 'not-started').map((r) => r.item));
    assert.ok(notStartedItems.size > 0);
    for (const item of plan.items.filter((i) => notStartedItems.has(i.id) && i.twelvelabs)) {
      assert.ok(
        state.twelvelabs.assets.some((a) => a._id === item.twelvelabs!.assetId),
        `${item.id} untouched`,
      );
    }
    for (const row of report.rows.filter((r) => r.outcome === 'deleted' && r.system === 'twelvelabs')) {
      const item = plan.items.find((i) => i.id === row.item)!;
      assert.ok(
        !state.twelvelabs.assets.some((a) => a._id === item.twelvelabs!.assetId),
        `${item.id} deleted`,
      );
    }
    assert.equal(rowsOf(report.rows, plan.items[0]!.id).length > 0, true);
  });

  it('continues as new when its history fills, carrying progress, and still reports every item once', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed({ entityReadyAfterMs: 20 });
    const { plan: generated, env } = await stack.sandbox.generate(120, 9);
    const plan = Plan.parse(generated);
    const { report, result, workflowId } = await runPlan(stack, { plan }, env, {
      chunkSize: 10,
      window: 2,
      maxHistoryEvents: 50,
    });
    const runs = [];
    for await (const run of stack.temporal.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      runs.push(run);
    }
    assert.ok(runs.length >= 2, `continued as new: ${runs.length} runs`);
    assert.equal(result?.status, 'completed');
    assert.equal(result?.summary.items, 120);
    assert.equal(result?.chunkWorkflowIds.length, 12);
    assertOneRowPerItemAndSystem(plan, report.rows);
    assert.equal(report.summary.failed, 0);
  });

  it('runs a 2,000-item plan by reference with every run history under 10,240 events', async (t) => {
    await stack.sandbox.reset();
    await stack.sandbox.seed({ entityReadyAfterMs: 20 });
    const { plan: generated, env } = await stack.sandbox.generate(2000, 8);
    const plan = Plan.parse(generated);
    const dir = await mkdtemp(join(tmpdir(), 'bulk-delete-limits-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'plan.json');
    await writeFile(file, JSON.stringify(plan));
    const planRef = await planRefFor(file);
    const was = await stack.sandbox.state();
    const { report, result, workflowId } = await runPlan(stack, { planRef }, env, { window: 4 });
    assert.equal(result?.status, 'completed');
    assert.equal(report.summary.items, 2000);
    // A first chunk of 10 items (failureThresholdMinItems), then chunks of 500: 10 + 500 + 500 + 500 + 490,
    // each item once.
    assert.equal(result?.chunkWorkflowIds.length, 5);
    assert.equal(report.summary.failed, 0);
    assertOneRowPerItemAndSystem(plan, report.rows);
    const state = await stack.sandbox.state();
    // Read from the workers' copy of the file, the items reach exactly the systems the plan names.
    assertOnlyTargetsGone(was, state, [plan]);
    assertReportAgrees(plan, report, was, state);
    assert.equal(
      state.twelvelabs.assets.filter((a) => plan.items.some((i) => i.twelvelabs?.assetId === a._id)).length,
      0,
    );

    const lengths: number[] = [];
    for await (const run of stack.temporal.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
      lengths.push(run.historyLength);
    }
    for (const id of result.chunkWorkflowIds) {
      lengths.push((await stack.temporal.client.workflow.getHandle(id).describe()).historyLength);
    }
    const largest = Math.max(...lengths);
    const total = lengths.reduce((a, b) => a + b, 0);
    console.log(
      `2,000 items: ${lengths.length} runs, largest history ${largest} events, ${(total / 2000).toFixed(2)} events per item`,
    );
    assert.ok(largest < 10_240, `largest history ${largest} events`);

    // Each chunk's record reaches the parent's history compressed (config/payload-codec.ts): the report
    // above was read through that, and the parent's history holds a tenth of the record's JSON.
    const parent = await stack.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const results = (parent.events ?? []).flatMap(
      (e) => e.childWorkflowExecutionCompletedEventAttributes?.result?.payloads ?? [],
    );
    assert.equal(results.length, 5, 'one result per chunk in the parent (one run)');
    const records = await Promise.all(
      result.chunkWorkflowIds.map((id) => stack.temporal.client.workflow.getHandle(id).result()),
    );
    let compressed = 0;
    const sizes: string[] = [];
    for (const [i, payload] of results.entries()) {
      const json = JSON.stringify(records[i]).length;
      if (json < COMPRESS_FROM_BYTES) continue;
      compressed++;
      sizes.push(
        `${Math.round(json / 1024)} KiB as ${Math.round((payload.data?.byteLength ?? 0) / 1024)} KiB`,
      );
      assert.equal(encodingOf(payload), COMPRESSED_ENCODING, `chunk ${i}'s result (${json} bytes of JSON)`);
      const stored = payload.data?.byteLength ?? 0;
      assert.ok(stored * 5 < json, `chunk ${i}: ${stored} bytes stored for ${json} of JSON`);
    }
    assert.equal(compressed, 4, 'the four chunks of 500 items');
    console.log(`chunk records in the parent's history: ${sizes.join(', ')}`);
  });
});
