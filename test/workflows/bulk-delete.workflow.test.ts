import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Plan, type LastEntityAsset, type ReportRow } from '../../plan/index.js';
import { approveUpdate, progressQuery, type Progress } from '../../workflows/index.js';
import {
  KEYS,
  assertOneRowPerItemAndSystem,
  envFor,
  runPlan,
  startStack,
  type Stack,
} from '../helpers/stack.js';
import { SLOW_ITEM, seedSlowAsset } from '../helpers/slow-asset.js';
import { assertOnlyTargetsGone, assertReportAgrees } from '../safety/world.js';

/** A 24-hex TwelveLabs ID from a small number, readable in failures. */
const hex = (n: number): string => n.toString(16).padStart(24, '0');

/**
 * Two items: a1 is the only asset of entity E1; a2 shares entity E2 with an asset outside the plan.
 * Each has an indexed asset, a library and a DAM asset.
 */
function entityCatalogue() {
  return {
    entityReadyAfterMs: 100,
    twelvelabs: {
      apiKey: KEYS.tl,
      assets: [{ _id: hex(0xa1) }, { _id: hex(0xa2) }, { _id: hex(0xff) }],
      indexes: [{ _id: hex(0x1d) }],
      indexedAssets: [
        { _id: hex(0x1a1), index_id: hex(0x1d), asset_id: hex(0xa1) },
        { _id: hex(0x1a2), index_id: hex(0x1d), asset_id: hex(0xa2) },
      ],
      entityCollections: [{ _id: hex(0xc0) }],
      entities: [
        { _id: hex(0xe1), entity_collection_id: hex(0xc0), asset_ids: [hex(0xa1)] },
        { _id: hex(0xe2), entity_collection_id: hex(0xc0), asset_ids: [hex(0xa2), hex(0xff)] },
      ],
    },
    uplynk: {
      ownerId: KEYS.owner,
      apiKey: KEYS.uplynk,
      libraries: [{ id: 'lib1', asset_ids: ['u1', 'u2', 'keep'] }],
    },
    entermedia: { key: KEYS.dam, assets: [{ id: 'd1' }, { id: 'd2' }, { id: 'keep' }] },
  };
}

function entityPlan(lastEntityAsset: LastEntityAsset, name: string) {
  return Plan.parse({
    name,
    items: [
      {
        id: 'a1',
        twelvelabs: { assetId: hex(0xa1) },
        uplynk: { assetId: 'u1', libraryIds: ['lib1'] },
        entermedia: { assetId: 'd1' },
      },
      {
        id: 'a2',
        twelvelabs: { assetId: hex(0xa2) },
        uplynk: { assetId: 'u2', libraryIds: ['lib1'] },
        entermedia: { assetId: 'd2' },
      },
    ],
    options: { lastEntityAsset },
  });
}

function row(rows: ReportRow[], item: string, system: string): ReportRow {
  const found = rows.filter((r) => r.item === item && r.system === system);
  assert.equal(found.length, 1, `exactly one row for ${item}/${system}, got ${JSON.stringify(found)}`);
  return found[0]!;
}

describe('bulk delete workflow on a real dev server and the sandbox', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('deletes a generated catalogue everywhere, and reports unknown and already-gone IDs as already absent', async () => {
    const { plan: generated, env } = await stack.sandbox.generate(30, 7);
    const plan = Plan.parse({
      ...generated,
      items: [
        ...generated.items,
        {
          id: 'unknown-everywhere',
          twelvelabs: { assetId: hex(0xdead) },
          uplynk: { assetId: 'nope', libraryIds: ['no-such-library'] },
          entermedia: { assetId: 'no-such-dam-asset' },
        },
      ],
    });
    const before = await stack.sandbox.state();
    const { report, result } = await runPlan(stack, { plan }, env, { chunkSize: 8, window: 2 });

    assert.equal(result?.status, 'completed');
    assertOneRowPerItemAndSystem(plan, report.rows);
    const failures = report.rows.filter((r) => r.outcome === 'failed');
    assert.deepEqual(failures, [], 'no row failed');
    assert.equal(row(report.rows, 'unknown-everywhere', 'twelvelabs').outcome, 'already-absent');
    assert.equal(row(report.rows, 'unknown-everywhere', 'uplynk').outcome, 'already-absent');
    assert.equal(row(report.rows, 'unknown-everywhere', 'entermedia').outcome, 'already-absent');
    assert.equal(report.summary.items, plan.items.length);

    const state = await stack.sandbox.state();
    const planAssets = new Set(generated.items.flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : [])));
    assert.ok(planAssets.size > 10);
    assert.deepEqual(
      state.twelvelabs.assets.filter((a) => planAssets.has(a._id)),
      [],
      'plan assets are gone',
    );
    assert.deepEqual(
      state.twelvelabs.indexedAssets.filter((ia) => planAssets.has(ia.asset_id)),
      [],
      'their indexed assets are gone',
    );
    for (const entity of state.twelvelabs.entities) {
      assert.deepEqual(
        entity.asset_ids.filter((a) => planAssets.has(a)),
        [],
        `entity ${entity._id} holds no plan asset`,
      );
    }
    for (const item of generated.items) {
      for (const lib of item.uplynk?.libraryIds ?? []) {
        const library = state.uplynk.libraries.find((l) => l.id === lib);
        assert.ok(!library?.asset_ids.includes(item.uplynk!.assetId), `${item.id} left library ${lib}`);
      }
      if (item.entermedia) assert.ok(!state.entermedia.assets.some((a) => a.id === item.entermedia!.assetId));
    }
    // Assets outside the plan are untouched.
    const untouched = before.twelvelabs.assets.filter((a) => !planAssets.has(a._id));
    assert.deepEqual(state.twelvelabs.assets.map((a) => a._id).sort(), untouched.map((a) => a._id).sort());
  });

  it("with lastEntityAsset force-unlink, leaves an entity's last asset to the forced delete and says so", async () => {
    await stack.sandbox.seed(entityCatalogue());
    const plan = entityPlan('force-unlink', 'force-unlink');
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url));
    assert.equal(row(report.rows, 'a1', 'twelvelabs').outcome, 'deleted');
    assert.match(row(report.rows, 'a1', 'twelvelabs').detail, /last asset of entity 0+e1/);
    assert.equal(row(report.rows, 'a2', 'twelvelabs').outcome, 'deleted');
    const state = await stack.sandbox.state();
    assert.deepEqual(
      state.twelvelabs.assets.map((a) => a._id),
      [hex(0xff)],
    );
    assert.deepEqual(state.twelvelabs.entities.find((e) => e._id === hex(0xe1))?.asset_ids, []);
    assert.deepEqual(state.twelvelabs.entities.find((e) => e._id === hex(0xe2))?.asset_ids, [hex(0xff)]);
    assert.deepEqual(state.twelvelabs.indexedAssets, []);
    assert.deepEqual(state.uplynk.libraries[0]?.asset_ids, ['keep']);
    assert.deepEqual(
      state.entermedia.assets.map((a) => a.id),
      ['keep'],
    );
  });

  it('deletes an asset only once the entity it was unlinked from is ready again', async () => {
    await stack.sandbox.seed({ ...entityCatalogue(), entityReadyAfterMs: 1000 });
    const plan = entityPlan('force-unlink', 'entity-ready');
    const was = await stack.sandbox.state();
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url));
    assert.equal(report.summary.failed, 0);
    const now = await stack.sandbox.state();
    assertOnlyTargetsGone(was, now, [plan]);
    assertReportAgrees(plan, report, was, now);
    const at = (step: string) =>
      Date.parse(report.mutations.find((e) => e.item === 'a2' && e.step === step)!.at);
    // E2 is processing for 1 s after the unlink that changed it; the asset's forced delete waits for it.
    const waited = at('delete-asset') - at('unlink-entity');
    assert.ok(waited >= 950, `a2 deleted ${waited} ms after its unlink`);
    assert.ok(at('delete-indexed-asset') - at('unlink-entity') >= 950, 'its indexed asset waited too');
    assert.deepEqual(now.twelvelabs.entities.find((e) => e._id === hex(0xe2))?.asset_ids, [hex(0xff)]);
    assert.deepEqual(
      now.twelvelabs.assets.map((a) => a._id),
      [hex(0xff)],
    );
  });

  it('with lastEntityAsset delete-entity, deletes the entity that would be left empty', async () => {
    await stack.sandbox.seed(entityCatalogue());
    const { report } = await runPlan(
      stack,
      { plan: entityPlan('delete-entity', 'delete-entity') },
      envFor(stack.sandbox.url),
    );
    assert.equal(row(report.rows, 'a1', 'twelvelabs').outcome, 'deleted');
    assert.match(row(report.rows, 'a1', 'twelvelabs').detail, /entity 0+e1 deleted/);
    const state = await stack.sandbox.state();
    assert.deepEqual(
      state.twelvelabs.entities.map((e) => e._id),
      [hex(0xe2)],
    );
    assert.deepEqual(
      state.twelvelabs.assets.map((a) => a._id),
      [hex(0xff)],
    );
  });

  it("with lastEntityAsset skip-item, touches nothing of the item whose asset is an entity's last one", async () => {
    await stack.sandbox.seed(entityCatalogue());
    const { report } = await runPlan(
      stack,
      { plan: entityPlan('skip-item', 'skip-item') },
      envFor(stack.sandbox.url),
    );
    for (const system of ['twelvelabs', 'uplynk', 'entermedia']) {
      const r = row(report.rows, 'a1', system);
      assert.equal(r.outcome, 'skipped');
      assert.match(r.detail, /last asset of entity 0+e1/);
    }
    assert.equal(row(report.rows, 'a2', 'twelvelabs').outcome, 'deleted');
    assert.equal(report.summary.skipped, 1);
    assert.equal(report.summary.deleted, 1);
    const state = await stack.sandbox.state();
    assert.deepEqual(state.twelvelabs.assets.map((a) => a._id).sort(), [hex(0xa1), hex(0xff)]);
    assert.deepEqual(state.twelvelabs.entities.find((e) => e._id === hex(0xe1))?.asset_ids, [hex(0xa1)]);
    assert.deepEqual(
      state.twelvelabs.indexedAssets.map((ia) => ia._id),
      [hex(0x1a1)],
    );
    assert.deepEqual(state.uplynk.libraries[0]?.asset_ids.sort(), ['keep', 'u1']);
    assert.deepEqual(state.entermedia.assets.map((a) => a.id).sort(), ['d1', 'keep']);
  });

  it('a dry run discovers the steps and their digest and changes nothing', async () => {
    await stack.sandbox.reset();
    const { plan, env } = await stack.sandbox.generate(25, 11);
    const statsBefore = await stack.sandbox.stats();
    const { result, steps, report } = await runPlan(stack, { plan: Plan.parse(plan) }, env, {
      dryRun: true,
      chunkSize: 10,
    });
    const statsAfter = await stack.sandbox.stats();
    assert.equal(result?.status, 'completed');
    assert.equal(result?.dryRun, true);
    assert.match(result?.digest ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(statsAfter.mutations, statsBefore.mutations);
    assert.deepEqual(statsAfter.mutations, { twelvelabs: 0, uplynk: 0, entermedia: 0 });
    assert.ok(steps.some((s) => s.step === 'delete-asset'));
    assert.ok(steps.some((s) => s.step === 'delete-indexed-asset'));
    assert.ok(steps.some((s) => s.step === 'remove-from-library'));
    assert.deepEqual(report.rows, []);
  });

  it('a chunk that only waits on its last asset lends its place in the window to the next chunk', async () => {
    // Chunks of 10, window 1: chunk 1 waits ~4 s on the indexed assets of its item i15.
    const plan = await seedSlowAsset(stack.sandbox, KEYS.tl, 'lend-place');
    let seen: Progress['chunks'] | undefined;
    try {
      const { result, steps, workflowId } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
        dryRun: true,
        chunkSize: 10,
        window: 1,
        // What `status` shows meanwhile: the chunk that waits, and the one running in its place.
        during: async (handle) => {
          for (let i = 0; i < 200 && !seen; i++) {
            const { chunks } = await handle.query(progressQuery);
            if (chunks.running === 2 && chunks.waiting === 1) seen = chunks;
            else await new Promise((r) => setTimeout(r, 50));
          }
        },
      });
      assert.deepEqual(seen, { total: 3, done: 1, running: 2, waiting: 1 });
      assert.equal(result?.status, 'completed');
      // What it discovered is whole: the slow asset's 2,000 indexed assets are in the steps.
      const indexed = steps.filter((st) => st.step === 'delete-indexed-asset' && st.item === SLOW_ITEM);
      assert.equal(indexed.length, 2000);
      const times = async (chunk: number) => {
        const d = await stack.temporal.client.workflow
          .getHandle(`${workflowId}/discover-0000${chunk}`)
          .describe();
        return { start: d.startTime.getTime(), close: d.closeTime!.getTime() };
      };
      const [waiting, next] = await Promise.all([times(1), times(2)]);
      assert.ok(waiting.close - waiting.start >= 3000, `chunk 1 took ${waiting.close - waiting.start} ms`);
      assert.ok(
        next.start < waiting.close - 1000,
        `chunk 2 started ${next.start - waiting.start} ms into chunk 1, which took ${waiting.close - waiting.start} ms`,
      );
    } finally {
      await stack.sandbox.faults({});
    }
  });

  it('waits for approval, refuses a wrong digest and deletes after the right one', async () => {
    await stack.sandbox.reset();
    const { plan, env } = await stack.sandbox.generate(12, 21);
    let refused = '';
    const { result } = await runPlan(stack, { plan: Plan.parse(plan) }, env, {
      requireApproval: true,
      async during(handle) {
        let progress = await handle.query(progressQuery);
        while (progress.status !== 'awaiting-approval') {
          await new Promise((r) => setTimeout(r, 100));
          progress = await handle.query(progressQuery);
        }
        const statsBefore = await stack.sandbox.stats();
        assert.deepEqual(
          statsBefore.mutations,
          { twelvelabs: 0, uplynk: 0, entermedia: 0 },
          'nothing deleted before approval',
        );
        await assert.rejects(
          handle.executeUpdate(approveUpdate, { args: [{ digest: '0'.repeat(64) }] }),
          (error: unknown) => {
            assert.ok(error instanceof WorkflowUpdateFailedError);
            refused = String(error.cause?.message);
            return true;
          },
        );
        assert.equal((await handle.query(progressQuery)).status, 'awaiting-approval', 'still waiting');
        await handle.executeUpdate(approveUpdate, { args: [{ digest: progress.digest! }] });
      },
    });
    assert.match(refused, /does not match/);
    assert.equal(result?.status, 'completed');
    assert.ok(result.summary.deleted > 0);
    const stats = await stack.sandbox.stats();
    assert.ok(stats.mutations.twelvelabs > 0);
  });
});
