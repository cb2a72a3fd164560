/**
 * `lastEntityAsset: delete-entity` when an entity's assets are in different chunks: the entity is deleted
 * only by a chunk that, reading it again, finds nothing in it but its own live items' assets. Another
 * chunk's asset, whether its item is still to come or failed, keeps it; so an item that failed is never
 * touched again, and the chunk that reaches the entity last deletes it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchReport } from '../../client/report-fetch.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan, type DiscoveredAsset, type Report } from '../../plan/index.js';
import { approveUpdate } from '../../workflows/index.js';
import type { SandboxState, SandboxStateInput } from '../../sandbox/index.js';
import {
  KEYS,
  activitiesFor,
  envFor as sandboxEnvFor,
  runPlan,
  startStack,
  type Stack,
} from '../helpers/stack.js';
import { digestToApprove, meetingAt, uniqueTaskQueue, withWorker } from '../helpers/temporal.js';
import { assertOnlyTargetsGone, assertReportAgrees } from './world.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const COLL = hex(0xc0);
const INDEX = hex(0x1d);
const A = hex(0xa00);
const B = hex(0xa01);
const Z = hex(0xff);
const C = hex(0xa02);
const E = hex(0xe1);
const F = hex(0xe2);

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

function seedOf(
  entities: Array<{ id: string; assets: string[] }>,
  entityReadyAfterMs = 100,
): SandboxStateInput {
  return {
    entityReadyAfterMs,
    twelvelabs: {
      apiKey: KEYS.tl,
      assets: [A, B, C, Z].map((_id) => ({ _id })),
      indexes: [{ _id: INDEX }],
      indexedAssets: [],
      entityCollections: [{ _id: COLL }],
      entities: entities.map((e) => ({
        _id: e.id,
        entity_collection_id: COLL,
        asset_ids: e.assets,
        status: 'ready' as const,
      })),
    },
  };
}

function planOf(name: string): Plan {
  return Plan.parse({
    name,
    items: [
      { id: 'item-a', twelvelabs: { assetId: A } },
      { id: 'item-b', twelvelabs: { assetId: B } },
    ],
    options: { lastEntityAsset: 'delete-entity', failureThreshold: 1 },
  });
}

const row = (report: Report, item: string) => report.rows.find((r) => r.item === item)!;

/**
 * Every entity deleted held, before the run, no asset of an item that failed or was skipped, unless that
 * item's own call took its asset out (an unlink, or the entity delete itself, made while it was live).
 */
function assertNoFailedAssetTouched(plan: Plan, report: Report, was: SandboxState, now: SandboxState): void {
  const ended = new Set(
    report.rows.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped').map((r) => r.item),
  );
  for (const entity of was.twelvelabs.entities) {
    if (now.twelvelabs.entities.some((e) => e._id === entity._id)) continue;
    for (const item of plan.items) {
      if (!ended.has(item.id) || !entity.asset_ids.includes(item.twelvelabs!.assetId)) continue;
      const own = report.mutations.some(
        (m) =>
          m.item === item.id &&
          ((m.step === 'unlink-entity' && m.target === `${entity._id}/${item.twelvelabs!.assetId}`) ||
            (m.step === 'delete-entity' && m.target === entity._id)),
      );
      assert.ok(own, `entity ${entity._id} was deleted while it held ${item.id}'s asset, which failed`);
    }
  }
}

describe('safety: delete-entity across chunks', () => {
  it('an entity still holding the asset of an item that failed in another chunk is not deleted', async () => {
    await stack.sandbox.reset();
    // E = {A, B}: the plan takes both. Reading A fails for good (as a 403 would), so item-a fails at
    // discovery, in its own chunk, and A stays in E. item-b's chunk must not delete E: it unlinks B.
    await stack.sandbox.seed(seedOf([{ id: E, assets: [A, B] }]));
    const plan = planOf('entity-failed-elsewhere');
    const was: SandboxState = await stack.sandbox.state();
    const real = activitiesFor(sandboxEnvFor(stack.sandbox.url)) as {
      discoverAssets: (input: { assetIds: string[] }) => Promise<DiscoveredAsset[]>;
    };
    const activities = {
      ...real,
      discoverAssets: async (input: { assetIds: string[] }) =>
        (await real.discoverAssets(input)).map((d) =>
          d.assetId === A ? { ...d, error: { type: 'PermissionDeniedError', message: '403 (test)' } } : d,
        ),
    };
    const taskQueue = uniqueTaskQueue('entity-chunks');
    const report = await withWorker(stack.temporal, taskQueue, activities, async () => {
      const handle = await startBulkDelete(
        stack.temporal.client,
        { plan },
        { workflowId: uniqueTaskQueue('run'), taskQueue, chunkSize: 1, window: 2 },
      );
      await handle.result().catch(() => undefined);
      return (await fetchReport(stack.temporal.client, handle.workflowId)).report;
    });
    const now: SandboxState = await stack.sandbox.state();
    assert.equal(row(report, 'item-a').outcome, 'failed');
    const e = now.twelvelabs.entities.find((x) => x._id === E);
    assert.ok(e, 'entity E, which still holds the failed item A, is kept');
    assert.deepEqual(e.asset_ids, [A]);
    assert.ok(
      now.twelvelabs.assets.some((x) => x._id === A),
      'the failed item is untouched',
    );
    const b = row(report, 'item-b');
    assert.equal(b.outcome, 'deleted');
    assert.match(b.detail, /not deleted: it now also holds 1 asset\(s\) outside this chunk's live items/);
    assert.deepEqual(
      report.mutations.filter((m) => m.target.startsWith(E)).map((m) => `${m.item} ${m.step} ${m.answer}`),
      ['item-b unlink-entity unlinked'],
    );
    assert.ok(!report.mutations.some((m) => m.item === 'item-a'), 'no call for the failed item');
    assertOnlyTargetsGone(was, now, [plan]);
    assertReportAgrees(plan, report, was, now);
    assertNoFailedAssetTouched(plan, report, was, now);
  });

  for (const chunkSize of [1, 2]) {
    it(`an item that fails after its entities were settled leaves no entity deleted with its asset in it (chunkSize ${chunkSize})`, async () => {
      await stack.sandbox.reset();
      // E = {A, B}: the plan takes both. A is also in F = {A, Z}: A is unlinked from F, and F stays
      // processing past the entity wait, so item-a fails before its forced delete.
      await stack.sandbox.seed(
        seedOf(
          [
            { id: E, assets: [A, B] },
            { id: F, assets: [A, Z] },
          ],
          8000,
        ),
      );
      const plan = planOf(`entity-failed-later-${chunkSize}`);
      const was: SandboxState = await stack.sandbox.state();
      const { report } = await runPlan(
        stack,
        { plan },
        sandboxEnvFor(stack.sandbox.url, { BULK_DELETE_ENTITY_WAIT_MS: '1000' }),
        { chunkSize, window: 2 },
      );
      const now: SandboxState = await stack.sandbox.state();
      assert.equal(row(report, 'item-a').outcome, 'failed');
      assert.equal(row(report, 'item-a').step, 'wait-entities');
      assert.ok(
        now.twelvelabs.assets.some((x) => x._id === A),
        'the failed item keeps its asset',
      );
      assertOnlyTargetsGone(was, now, [plan]);
      assertReportAgrees(plan, report, was, now);
      assertNoFailedAssetTouched(plan, report, was, now);
    });
  }

  it('an entity whose assets are in different chunks is deleted when all its items succeed', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(seedOf([{ id: E, assets: [A, B] }]));
    const plan = planOf('entity-all-chunks');
    const was: SandboxState = await stack.sandbox.state();
    const { report } = await runPlan(stack, { plan }, sandboxEnvFor(stack.sandbox.url), {
      chunkSize: 1,
      window: 2,
    });
    const now: SandboxState = await stack.sandbox.state();
    assert.deepEqual(
      report.rows.map((r) => `${r.item} ${r.outcome}`),
      ['item-a deleted', 'item-b deleted'],
    );
    assert.ok(!now.twelvelabs.entities.some((x) => x._id === E), 'entity E is deleted');
    assert.equal(
      report.mutations.filter((m) => m.step === 'delete-entity' && m.answer === 'deleted').length,
      1,
      'by one chunk: the one that reached it last',
    );
    assertOnlyTargetsGone(was, now, [plan]);
    assertReportAgrees(plan, report, was, now);
  });

  it('an approved run whose two chunks read the entity at the same moment deletes it, as approved', async () => {
    await stack.sandbox.reset();
    // E = {A, B}: the plan takes both, in two chunks released together by the first chunk (item-c). Both
    // read E before either unlinks: each finds the other's asset and unlinks its own instead, so the
    // second unlink is refused (it would empty E). E's delete is among both items' approved steps.
    await stack.sandbox.seed(seedOf([{ id: E, assets: [A, B] }]));
    const plan = Plan.parse({
      name: 'entity-approved-race',
      items: [
        { id: 'item-c', twelvelabs: { assetId: C } },
        { id: 'item-a', twelvelabs: { assetId: A } },
        { id: 'item-b', twelvelabs: { assetId: B } },
      ],
      options: { lastEntityAsset: 'delete-entity', failureThreshold: 1, failureThresholdMinItems: 1 },
    });
    const was: SandboxState = await stack.sandbox.state();
    // Each entity delete waits for the other chunk's (at most 10 s), so that both read E together.
    const { activities, arrived } = meetingAt(
      activitiesFor(sandboxEnvFor(stack.sandbox.url)),
      'deleteEntities',
      2,
    );
    const taskQueue = uniqueTaskQueue('entity-chunks');
    let steps: string[] = [];
    const report = await withWorker(stack.temporal, taskQueue, activities, async () => {
      const handle = await startBulkDelete(
        stack.temporal.client,
        { plan },
        { workflowId: uniqueTaskQueue('run'), taskQueue, chunkSize: 1, window: 2, requireApproval: true },
      );
      const digest = await digestToApprove(handle);
      steps = (await fetchReport(stack.temporal.client, handle.workflowId)).steps.map(
        (s) => `${s.item} ${s.step} ${s.target}`,
      );
      await handle.executeUpdate(approveUpdate, { args: [{ digest }] });
      await handle.result().catch(() => undefined);
      return (await fetchReport(stack.temporal.client, handle.workflowId)).report;
    });
    const now: SandboxState = await stack.sandbox.state();
    assert.ok(steps.includes(`item-a delete-entity ${E}`) && steps.includes(`item-b delete-entity ${E}`));
    // Both chunks reached the entity delete together, then the chunk whose unlink was refused deleted it.
    assert.equal(arrived(), 3, 'the entity deletes: two that unlinked instead, then the one that deleted');
    assert.deepEqual(
      report.rows.map((r) => `${r.item} ${r.outcome}`),
      ['item-c deleted', 'item-a deleted', 'item-b deleted'],
      report.rows.map((r) => r.detail).join('\n'),
    );
    assert.ok(!now.twelvelabs.entities.some((x) => x._id === E), 'entity E is deleted, as approved');
    assert.equal(
      report.mutations.filter((m) => m.step === 'delete-entity' && m.answer === 'deleted').length,
      1,
    );
    assertOnlyTargetsGone(was, now, [plan]);
    assertReportAgrees(plan, report, was, now);
  });
});
