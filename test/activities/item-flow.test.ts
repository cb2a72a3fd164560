import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, it } from 'node:test';
import type { ItemDeletion } from '../../activities/contract.js';
import type { LedgerEntry } from '../../plan/index.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import type { SandboxStateInput } from '../../sandbox/index.js';
import {
  activitiesFor,
  countRequests,
  hexId,
  inActivity,
  sandboxEnv,
  seedWith,
  startDelayingProxy,
} from './support.js';

const LIBRARIES = ['lib0000000000000000000000000000a', 'lib0000000000000000000000000000b'];
const ITEMS = 8;
const asset = (i: number) => hexId('a', i);
const item = (i: number) => `item-${i}`;
const libraryOf = (i: number) => LIBRARIES[i < ITEMS / 2 ? 0 : 1]!;

/** Item i: TwelveLabs asset a…i, Uplynk asset u-i in one of two libraries, DAM asset dam-i. */
const seed = seedWith({
  twelvelabs: { assets: Array.from({ length: ITEMS }, (_, i) => ({ _id: asset(i) })) },
  uplynk: {
    libraries: LIBRARIES.map((id) => ({
      id,
      asset_ids: [
        ...Array.from({ length: ITEMS }, (_, i) => i)
          .filter((i) => libraryOf(i) === id)
          .map((i) => `u-${i}`),
        'keep',
      ],
    })),
  },
  entermedia: { assets: [...Array.from({ length: ITEMS }, (_, i) => ({ id: `dam-${i}` })), { id: 'keep' }] },
});

function deletionOf(i: number): ItemDeletion {
  return {
    item: item(i),
    twelvelabs: { assetId: asset(i), known: [] },
    libraries: [{ libraryId: libraryOf(i), assetId: `u-${i}` }],
    dam: { assetId: `dam-${i}` },
  };
}

const entriesOf = (entries: readonly LedgerEntry[], i: number) => entries.filter((e) => e.item === item(i));

const COLL = hexId('2c', 1);
/** An asset outside the plan: entities that hold it are never emptied by the plan. */
const other = hexId('f', 9);
type EntitySeed = NonNullable<NonNullable<SandboxStateInput['twelvelabs']>['entities']>[number];

/**
 * The catalogue, `other`, and these entities in one collection; an entity changed (or seeded
 * `processing`) is ready again `readyAfterMs` later.
 */
function withEntities(readyAfterMs: number, entities: Array<Omit<EntitySeed, 'entity_collection_id'>>) {
  return seedWith({
    ...seed,
    entityReadyAfterMs: readyAfterMs,
    twelvelabs: {
      ...seed.twelvelabs,
      assets: [...seed.twelvelabs!.assets!, { _id: other }],
      entityCollections: [{ _id: COLL }],
      entities: entities.map((e) => ({ ...e, entity_collection_id: COLL })),
    },
  });
}

describe('deleteItems: each item through TwelveLabs, Uplynk and the DAM, on its own', () => {
  const sandbox = seededSandboxForSuite(seed);
  beforeEach(async () => {
    await sandbox.reset();
    await sandbox.seed(seed);
  });

  it('walks each item in the mission order, groups library removals, and never calls again for an item that failed', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const items = Array.from({ length: ITEMS }, (_, i) => deletionOf(i));
    // Item 2 names an indexed asset whose ID cannot reach a URL: its TwelveLabs delete is refused.
    items[2]!.twelvelabs!.known = [{ id: 'bad/../id', indexId: hexId('f', 1) }];
    const run = await inActivity(() => activities.deleteItems({ items }));
    assert.equal(run.error, undefined, String(run.error));
    const entries = run.result!.entries;

    for (let i = 0; i < ITEMS; i++) {
      const mine = entriesOf(entries, i);
      if (i === 2) {
        // Failed in TwelveLabs: no call for it anywhere after that.
        assert.deepEqual(
          mine.map((e) => [e.system, e.step, e.answer]),
          [['twelvelabs', 'delete-indexed-asset', 'failed']],
        );
        continue;
      }
      assert.deepEqual(
        mine.map((e) => [e.system, e.step, e.target, e.answer]),
        [
          ['twelvelabs', 'delete-asset', asset(i), 'deleted'],
          ['uplynk', 'remove-from-library', `${libraryOf(i)}/u-${i}`, 'removal-requested'],
          ['entermedia', 'delete-dam-asset', `dam-${i}`, 'deleted'],
        ],
      );
      // Each system answered before the item's next system was called.
      const at = mine.map((e) => Date.parse(e.at));
      assert.ok(at[0]! <= at[1]! && at[1]! <= at[2]!, `item ${i}: ${mine.map((e) => e.at).join(' ')}`);
    }

    const state = await sandbox.state();
    assert.deepEqual(
      state.twelvelabs.assets.map((a) => a._id),
      [asset(2)],
    );
    assert.deepEqual(
      state.uplynk.libraries.map((l) => [...l.asset_ids].sort()),
      [['keep', 'u-2'], ['keep']],
    );
    assert.deepEqual(state.entermedia.assets.map((a) => a.id).sort(), ['dam-2', 'keep']);
    // Seven items in two libraries: removals went grouped, not one call per item.
    const stats = await sandbox.stats();
    const removals = countRequests(stats, { route: 'DELETE /libraries/{library_id}/assets' });
    assert.ok(removals >= 2 && removals < 7, `${removals} removal calls`);
    // Read back in batches too.
    assert.ok(countRequests(stats, { route: 'GET /assets' }) < 7);
  });

  it('a retried attempt goes on from what the last heartbeat recorded, calling no system twice for an item', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const items = Array.from({ length: 3 }, (_, i) => deletionOf(i));
    // The first attempt deleted item 0's TwelveLabs asset and removed it from its library, then was lost.
    await sandbox.seed({
      ...seed,
      twelvelabs: { ...seed.twelvelabs, assets: seed.twelvelabs!.assets!.filter((a) => a._id !== asset(0)) },
      uplynk: {
        ...seed.uplynk,
        libraries: seed.uplynk!.libraries!.map((l) => ({
          ...l,
          asset_ids: l.asset_ids!.filter((id) => id !== 'u-0'),
        })),
      },
    });
    const at = new Date().toISOString();
    const earlier: LedgerEntry[] = [
      { item: item(0), system: 'twelvelabs', step: 'delete-asset', target: asset(0), answer: 'deleted', at },
      {
        item: item(0),
        system: 'uplynk',
        step: 'remove-from-library',
        target: `${libraryOf(0)}/u-0`,
        answer: 'removal-requested',
        at,
      },
    ];
    const run = await inActivity(() => activities.deleteItems({ items }), {
      attempt: 2,
      heartbeatDetails: { v: 2, done: [], inFlight: [item(0)], entries: earlier, failures: [], refused: [] },
    });
    assert.equal(run.error, undefined, String(run.error));
    const entries = run.result!.entries;
    // Item 0: the recorded answers stand, once each; only its DAM delete was left to make.
    assert.deepEqual(
      entriesOf(entries, 0).map((e) => [e.step, e.answer]),
      [
        ['delete-asset', 'deleted'],
        ['remove-from-library', 'removal-requested'],
        ['delete-dam-asset', 'deleted'],
      ],
    );
    assert.deepEqual(run.result!.failures, []);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: 'DELETE /assets/{asset_id}' }), 2);
    // Item 0's TwelveLabs asset was read back (gone), not deleted again; u-0 was not sent again.
    assert.equal(stats.mutations.twelvelabs, 2);
    const state = await sandbox.state();
    assert.deepEqual(state.entermedia.assets.map((a) => a.id).sort(), [
      ...Array.from({ length: ITEMS - 3 }, (_, i) => `dam-${i + 3}`),
      'keep',
    ]);
  });
  it("a retried attempt's tallies count the items earlier attempts ended, and those that failed", async () => {
    const told: Array<{ phase: number; settled: number; failed: number }> = [];
    const activities = activitiesFor(sandboxEnv(sandbox), {
      tellTally: (tally) => {
        told.push(tally);
        return Promise.resolve();
      },
    });
    const items = Array.from({ length: 4 }, (_, i) => deletionOf(i));
    // The first attempt ended items 0 and 1, item 1 failing at its DAM delete, then was lost.
    const at = new Date().toISOString();
    const earlier: LedgerEntry[] = [
      { item: item(0), system: 'twelvelabs', step: 'delete-asset', target: asset(0), answer: 'deleted', at },
      { item: item(1), system: 'twelvelabs', step: 'delete-asset', target: asset(1), answer: 'deleted', at },
      {
        item: item(1),
        system: 'entermedia',
        step: 'delete-dam-asset',
        target: 'dam-1',
        answer: 'failed',
        at,
      },
    ];
    const run = await inActivity(() => activities.deleteItems({ items, tally: { phase: 3 } }), {
      attempt: 2,
      heartbeatDetails: {
        v: 2,
        done: [item(0), item(1)],
        inFlight: [],
        entries: earlier,
        failures: [],
        refused: [],
      },
    });
    assert.equal(run.error, undefined, String(run.error));
    // Told at once: the failure the chunk's threshold must not lose while this attempt runs.
    assert.deepEqual(told[0], { phase: 3, settled: 2, failed: 1 });
    assert.ok(
      told.every((t) => t.failed >= 1 && t.settled >= 2),
      JSON.stringify(told),
    );
    assert.deepEqual(run.result!.failures, []);
  });

  it('after an attempt lost with its worker, an item whose TwelveLabs asset is still there finds its DAM asset already absent, not deleted', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    // dam-0 and dam-1 were gone before the run. Item 0 has a TwelveLabs asset; item 1 only its DAM asset.
    await sandbox.seed({
      ...seed,
      entermedia: {
        ...seed.entermedia,
        assets: seed.entermedia!.assets!.filter((a) => a.id !== 'dam-0' && a.id !== 'dam-1'),
      },
    });
    const items: ItemDeletion[] = [
      { ...deletionOf(0), libraries: [] },
      { item: item(1), libraries: [], dam: { assetId: 'dam-1' } },
    ];
    // The earlier attempt's last heartbeat recorded nothing: what it did after is unknown.
    const run = await inActivity(() => activities.deleteItems({ items }), {
      attempt: 2,
      heartbeatDetails: { v: 2, done: [], inFlight: [], entries: [], failures: [], refused: [] },
    });
    assert.equal(run.error, undefined, String(run.error));
    const entries = run.result!.entries;
    // Item 0's asset was still there: that attempt never reached the DAM for it.
    assert.deepEqual(
      entriesOf(entries, 0).map((e) => [e.system, e.answer]),
      [
        ['twelvelabs', 'deleted'],
        ['entermedia', 'already-absent'],
      ],
    );
    // Nothing tells whether that attempt deleted dam-1: found gone, it counts as deleted, with why.
    assert.deepEqual(
      entriesOf(entries, 1).map((e) => [e.system, e.answer]),
      [['entermedia', 'deleted']],
    );
    assert.match(entriesOf(entries, 1)[0]!.detail ?? '', /lost/);
    assert.equal((await sandbox.stats()).mutations.entermedia, 0);
  });

  describe('entities left to the items (unlinkEntities with wait: false)', () => {
    const SLOW = hexId('e1', 1); // still processing: changed at seeding
    const READY = hexId('e2', 2);
    /** Two entities holding `other`, SLOW processing for `readyAfterMs` from seeding. */
    const slowAndReady = (readyAfterMs: number) =>
      withEntities(readyAfterMs, [
        { _id: SLOW, asset_ids: [other], status: 'processing' },
        { _id: READY, asset_ids: [other] },
      ]);
    /** Item 0 waits for SLOW, item 1 for READY, the others for nothing. */
    const waiting = () => {
      const items = Array.from({ length: ITEMS }, (_, i) => deletionOf(i));
      items[0]!.twelvelabs!.entities = [{ id: SLOW, collectionId: COLL }];
      items[1]!.twelvelabs!.entities = [{ id: READY, collectionId: COLL }];
      return items;
    };

    it('each item waits for its own entities before its first delete, and no other item waits with it', async () => {
      await sandbox.seed(slowAndReady(1200));
      const seeded = Date.now();
      const run = await inActivity(() =>
        activitiesFor(sandboxEnv(sandbox)).deleteItems({ items: waiting() }),
      );
      assert.equal(run.error, undefined, String(run.error));
      assert.deepEqual(run.result!.failures, []);
      const deleted = (i: number) =>
        Date.parse(entriesOf(run.result!.entries, i).find((e) => e.step === 'delete-asset')!.at);
      // Item 0's asset went only once its entity was ready again; every other item went before it.
      assert.ok(deleted(0) - seeded >= 1200, `item 0 deleted ${deleted(0) - seeded} ms after seeding`);
      for (let i = 1; i < ITEMS; i++)
        assert.ok(deleted(i) < deleted(0), `item ${i} waited for item 0's entity`);
      const state = await sandbox.state();
      assert.deepEqual(
        state.twelvelabs.assets.map((a) => a._id),
        [other],
      );
    });

    it('an entity still processing past BULK_DELETE_ENTITY_WAIT_MS fails its item before any call, in any system, and the phase says what it waits for', async () => {
      await sandbox.seed(slowAndReady(60_000));
      const patient = activitiesFor(sandboxEnv(sandbox, { BULK_DELETE_ENTITY_WAIT_MS: '1000' }));
      const run = await inActivity(() => patient.deleteItems({ items: waiting() }));
      assert.equal(run.error, undefined, String(run.error));
      const waits = run.said.map((h) => (JSON.parse(h) as { waiting?: string }).waiting).filter(Boolean);
      assert.ok(
        waits.some((w) => w === `1 TwelveLabs entities still processing (${SLOW})`),
        `heartbeats said: ${waits.join(' | ')}`,
      );
      assert.deepEqual(
        run.result!.failures.map((f) => [f.item, f.system, f.step]),
        [[item(0), 'twelvelabs', 'wait-entities']],
      );
      assert.match(run.result!.failures[0]!.detail, new RegExp(`${SLOW} still processing after 1 s`));
      assert.deepEqual(entriesOf(run.result!.entries, 0), []);
      // Item 0 is whole in every system; every other item is gone.
      const state = await sandbox.state();
      assert.deepEqual(
        state.twelvelabs.assets.map((a) => a._id),
        [asset(0), other],
      );
      assert.deepEqual(
        state.uplynk.libraries.map((l) => l.asset_ids),
        [['u-0', 'keep'], ['keep']],
      );
      assert.deepEqual(state.entermedia.assets.map((a) => a.id).sort(), ['dam-0', 'keep']);
    });
    it('an indexed asset added while its item waited for its entity is deleted before the forced delete, not orphaned', async () => {
      // Item 0 waits about 3 s for SLOW; its asset is indexed meanwhile.
      await sandbox.seed(slowAndReady(3000));
      const INDEX = hexId('1d', 1);
      const LATE = hexId('1a', 1);
      const LISTING = 'GET /assets/{asset_id}/indexed-assets';
      const ENTITY = 'GET /entity-collections/{entity_collection_id}/entities/{entity_id}';
      const running = inActivity(() =>
        activitiesFor(sandboxEnv(sandbox)).deleteItems({ items: [waiting()[0]!] }),
      );
      // Once the item is waiting for its entity, someone indexes the asset (the entity stays processing).
      while (countRequests(await sandbox.stats(), { route: ENTITY }) === 0) await sleep(20);
      const state = await sandbox.state();
      await sandbox.seed({
        ...slowAndReady(3000),
        twelvelabs: {
          ...slowAndReady(3000).twelvelabs,
          indexes: [{ _id: INDEX }],
          indexedAssets: [{ _id: LATE, index_id: INDEX, asset_id: asset(0) }],
        },
      });
      assert.deepEqual(
        state.twelvelabs.assets.map((a) => a._id),
        [...Array.from({ length: ITEMS }, (_, i) => asset(i)), other],
        'nothing was deleted before the entity was ready',
      );
      const run = await running;
      assert.equal(run.error, undefined, String(run.error));
      assert.deepEqual(run.result!.failures, []);
      assert.deepEqual(
        entriesOf(run.result!.entries, 0).map((e) => [e.step, e.target, e.answer]),
        [
          ['delete-indexed-asset', `${INDEX}/${LATE}`, 'deleted'],
          ['delete-asset', asset(0), 'deleted'],
          ['remove-from-library', `${libraryOf(0)}/u-0`, 'removal-requested'],
          ['delete-dam-asset', 'dam-0', 'deleted'],
        ],
      );
      // Looked at once, after the wait: just before the deletes.
      assert.equal(countRequests(await sandbox.stats(), { route: LISTING }), 1);
      const after = await sandbox.state();
      assert.deepEqual(after.twelvelabs.indexedAssets, []);
      assert.ok(!after.twelvelabs.assets.some((a) => a._id === asset(0)));
    });
  });
  describe('unlinks in the item flow (ItemDeletion.twelvelabs.unlinks)', () => {
    const SHARED = hexId('e1', 1); // holds items 0 and 1 and an asset outside the plan
    const LAST = hexId('e2', 2); // holds item 2's asset alone: unlinking it would empty it
    const READY_AFTER_MS = 400;
    const catalogue = withEntities(READY_AFTER_MS, [
      { _id: SHARED, asset_ids: [asset(0), asset(1), other] },
      { _id: LAST, asset_ids: [asset(2)] },
    ]);
    const UNLINK = 'DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}/assets';
    const withUnlinks = () => {
      const items = Array.from({ length: ITEMS }, (_, i) => deletionOf(i));
      items[0]!.twelvelabs!.unlinks = [{ id: SHARED, collectionId: COLL }];
      items[1]!.twelvelabs!.unlinks = [{ id: SHARED, collectionId: COLL }];
      items[2]!.twelvelabs!.unlinks = [{ id: LAST, collectionId: COLL }];
      return items;
    };

    it('unlinks the items of one entity in one call, deletes their assets only once it is ready again, and leaves a last asset to the forced delete', async () => {
      await sandbox.seed(catalogue);
      const run = await inActivity(() =>
        activitiesFor(sandboxEnv(sandbox)).deleteItems({ items: withUnlinks() }),
      );
      assert.equal(run.error, undefined, String(run.error));
      const { entries, failures, refused } = run.result!;
      assert.deepEqual(failures, []);
      const at = (i: number, step: string) =>
        Date.parse(entriesOf(entries, i).find((e) => e.step === step)!.at);
      for (const i of [0, 1]) {
        assert.deepEqual(
          entriesOf(entries, i).map((e) => [e.step, e.answer]),
          [
            ['unlink-entity', 'unlinked'],
            ['delete-asset', 'deleted'],
            ['remove-from-library', 'removal-requested'],
            ['delete-dam-asset', 'deleted'],
          ],
        );
        const waited = at(i, 'delete-asset') - at(i, 'unlink-entity');
        assert.ok(waited >= READY_AFTER_MS - 20, `item ${i} deleted ${waited} ms after its unlink`);
      }
      // Item 2's unlink was refused (it would have emptied LAST): no change, its forced delete went on.
      assert.deepEqual(
        refused?.map((r) => [r.item, r.step, r.target]),
        [[item(2), 'unlink-entity', `${LAST}/${asset(2)}`]],
      );
      assert.deepEqual(
        entriesOf(entries, 2).map((e) => e.step),
        ['delete-asset', 'remove-from-library', 'delete-dam-asset'],
      );
      const stats = await sandbox.stats();
      assert.equal(countRequests(stats, { route: UNLINK, status: 200 }), 1);
      const state = await sandbox.state();
      assert.deepEqual(
        state.twelvelabs.assets.map((a) => a._id),
        [other],
      );
      assert.deepEqual(
        state.twelvelabs.entities.map((e) => [e._id, e.asset_ids]),
        [
          [SHARED, [other]],
          [LAST, []],
        ],
      );
    });

    it('a stop answers only once the unlinks already sent have answered, those of items not yet reached too', async () => {
      // Item 7 has its own entity; its unlink goes with the activity's start but answers slowly, and no
      // lane has reached item 7 when the workflow stops the phase.
      const OWN = hexId('e3', 3);
      await sandbox.seed(withEntities(READY_AFTER_MS, [{ _id: OWN, asset_ids: [asset(7), other] }]));
      const proxy = await startDelayingProxy(sandbox.url, (method, path) =>
        method === 'DELETE' && path.includes(`/entities/${OWN}/assets`) ? 1500 : 0,
      );
      try {
        const items = Array.from({ length: ITEMS }, (_, i) => deletionOf(i));
        items[7]!.twelvelabs!.unlinks = [{ id: OWN, collectionId: COLL }];
        // Three lanes (one unit per request slot): items 0 to 2 first.
        const activities = activitiesFor(
          sandboxEnv(sandbox, {
            TWELVELABS_BASE_URL: `${proxy.url}/twelvelabs/v1.3`,
            BULK_DELETE_UNITS_PER_SLOT: '1',
            TWELVELABS_CONCURRENCY: '1',
            UPLYNK_CONCURRENCY: '1',
            ENTERMEDIA_CONCURRENCY: '1',
          }),
        );
        const run = await inActivity(
          // As Temporal sends it: the answer as it is when the activity completes.
          async () => structuredClone(await activities.deleteItems({ items })),
          {},
          (env) => setTimeout(() => env.cancel(), 300),
        );
        assert.equal(run.error, undefined, String(run.error));
        assert.equal(run.result!.stopped, true);
        await sleep(2000);
        const state = await sandbox.state();
        const own = state.twelvelabs.entities.find((e) => e._id === OWN)!;
        assert.deepEqual(own.asset_ids, [other], 'the unlink sent before the stop was applied');
        assert.deepEqual(
          entriesOf(run.result!.entries, 7).map((e) => [e.step, e.target, e.answer]),
          [['unlink-entity', `${OWN}/${asset(7)}`, 'unlinked']],
          'the answer records the unlink it made',
        );
      } finally {
        await proxy.close();
      }
    });

    it('a retried attempt does not unlink again what the last heartbeat recorded, and still waits for that entity', async () => {
      // The first attempt unlinked item 0 and 1 from SHARED just now; the entity is processing.
      await sandbox.seed(
        withEntities(READY_AFTER_MS, [
          { _id: SHARED, asset_ids: [other], status: 'processing' },
          { _id: LAST, asset_ids: [asset(2)] },
        ]),
      );
      const seeded = Date.now();
      const at = new Date().toISOString();
      const earlier: LedgerEntry[] = [0, 1].map((i) => ({
        item: item(i),
        system: 'twelvelabs',
        step: 'unlink-entity',
        target: `${SHARED}/${asset(i)}`,
        answer: 'unlinked',
        at,
      }));
      const run = await inActivity(
        () => activitiesFor(sandboxEnv(sandbox)).deleteItems({ items: withUnlinks() }),
        {
          attempt: 2,
          heartbeatDetails: { v: 2, done: [], inFlight: [], entries: earlier, failures: [], refused: [] },
        },
      );
      assert.equal(run.error, undefined, String(run.error));
      assert.deepEqual(run.result!.failures, []);
      const stats = await sandbox.stats();
      // Only item 2's entity was read (a retried attempt reads before it unlinks); SHARED was not sent.
      assert.equal(countRequests(stats, { route: UNLINK }), 0);
      for (const i of [0, 1]) {
        const deleted = Date.parse(
          entriesOf(run.result!.entries, i).find((e) => e.step === 'delete-asset')!.at,
        );
        assert.ok(deleted - seeded >= READY_AFTER_MS - 20, `item ${i} deleted before SHARED was ready`);
      }
      const state = await sandbox.state();
      assert.deepEqual(
        state.twelvelabs.assets.map((a) => a._id),
        [other],
      );
    });
  });
});
