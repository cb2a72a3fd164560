import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { ItemDeletion } from '../../activities/contract.js';
import type { LedgerEntry } from '../../plan/index.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import { activitiesFor, countRequests, hexId, inActivity, sandboxEnv, seedWith } from './support.js';

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
});
