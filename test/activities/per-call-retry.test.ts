/**
 * Per-call retry (activities/http-client.ts): a transient failure of one call (5xx, 429, a dropped
 * connection) is retried on that call alone while the others go on, and the phase answers without
 * failing. A delete whose answer was lost and whose retry finds the target gone is `deleted`.
 *
 * Each fault lands on one request: the seed that does so is looked for with the sandbox's own fault
 * decider (`faultSeed`), and the sandbox's stats confirm where it landed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  activitiesFor,
  answers,
  countRequests,
  faultSeed,
  hexId,
  inActivity,
  oneFaultWithin,
  sandboxEnv,
  seedWith,
  target,
} from './support.js';

const A = hexId('a', 1);
const B = hexId('b', 2);
const D = hexId('d', 4);
const COLL = hexId('2c', 1);
const E1 = hexId('e1', 1);
const E2 = hexId('e2', 2);
const E3 = hexId('e3', 3);
const LIBS = ['lib-1', 'lib-2', 'lib-3'];

const DAM_DELETE = 'POST /assets/mediadb/services/module/asset/deleteassets';
const DAM_SEARCH = 'POST /assets/mediadb/services/module/asset/search';
const REMOVE_ROUTE = 'DELETE /libraries/{library_id}/assets';
const DELETE_ENTITY = 'DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}';
const DELETE_ASSET = 'DELETE /assets/{asset_id}';
const INDEXED_ASSETS = 'GET /assets/{asset_id}/indexed-assets';
const UNLINK = 'DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}/assets';
const GET_ENTITY = 'GET /entity-collections/{entity_collection_id}/entities/{entity_id}';

describe('per-call retry against the sandbox', () => {
  const sandbox = seededSandboxForSuite(
    seedWith({
      twelvelabs: {
        assets: [A, B, D].map((_id) => ({ _id })),
        entityCollections: [{ _id: COLL }],
        entities: [
          { _id: E1, entity_collection_id: COLL, asset_ids: [A, B] },
          { _id: E2, entity_collection_id: COLL, asset_ids: [A] },
          { _id: E3, entity_collection_id: COLL, asset_ids: [B, D] },
        ],
      },
      uplynk: { libraries: LIBS.map((id) => ({ id, asset_ids: ['u1', 'keep'] })) },
      entermedia: { assets: ['101', '102', '103', '104', 'keep'].map((id) => ({ id })) },
    }),
  );

  /** Deletes one TwelveLabs asset while the sandbox drops the connections `kinds` says, request by request. */
  async function deleteAssetWithDrops(assetId: string, kinds: string[]) {
    const seed = faultSeed('twelvelabs', { drop: 0.5 }, kinds.length, (k) => k.join() === kinds.join());
    await sandbox.faults({ seed, twelvelabs: { drop: 0.5 } });
    const activities = activitiesFor(sandboxEnv(sandbox));
    return inActivity(() => activities.deleteAssets({ assets: [{ ...target(assetId), known: [] }] }));
  }

  it('a 5xx on one call is retried on that call alone, and the phase answers every delete', async () => {
    const faults = { error5xx: 0.3 };
    const seed = faultSeed('entermedia', faults, 12, oneFaultWithin('5xx', 4));
    await sandbox.faults({ seed, entermedia: faults });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const ids = ['101', '102', '103', '104'];
    const run = await inActivity(() => activities.deleteDamAssets({ assets: ids.map((id) => target(id)) }));
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(
      answers(run.result),
      ids.map((id) => ['delete-dam-asset', id, 'deleted']),
    );
    assert.deepEqual(run.result?.failures, []);
    const stats = await sandbox.stats();
    assert.equal(
      countRequests(stats, { route: DAM_DELETE, status: 500 }) +
        countRequests(stats, { route: DAM_DELETE, status: 503 }),
      1,
    );
    // Four deletes answered, one of them on its second try: no other call was sent again.
    assert.equal(countRequests(stats, { route: DAM_DELETE, status: 200 }), 4);
    assert.equal(stats.mutations.entermedia, 4);
  });

  it('a 429 with Retry-After is retried on that call after the Retry-After, and the others go on', async () => {
    const faults = { error429: 0.3, retryAfterSeconds: 1 };
    const seed = faultSeed('uplynk', faults, 8, oneFaultWithin('429', 3));
    await sandbox.faults({ seed, uplynk: faults });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const started = Date.now();
    const running = inActivity(() =>
      activities.removeFromLibraries({
        removals: LIBS.map((libraryId) => ({ libraryId, targets: [target('u1')] })),
      }),
    );
    // Halfway through the Retry-After, the other two libraries were done.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const midway = await sandbox.stats();
    assert.equal(countRequests(midway, { route: REMOVE_ROUTE, status: 429 }), 1);
    assert.equal(countRequests(midway, { route: REMOVE_ROUTE, status: 200 }), 2);
    const run = await running;
    const took = Date.now() - started;
    assert.equal(run.error, undefined, String(run.error));
    assert.ok(took >= 950, `answered after ${took} ms, before the Retry-After of 1 s`);
    assert.deepEqual(
      answers(run.result),
      LIBS.map((lib) => ['remove-from-library', `${lib}/u1`, 'removal-requested']),
    );
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: REMOVE_ROUTE, status: 429 }), 1);
    assert.equal(countRequests(stats, { route: REMOVE_ROUTE, status: 200 }), 3);
    const state = await sandbox.state();
    assert.ok(state.uplynk.libraries.every((l) => l.asset_ids.join() === 'keep'));
  });

  for (const [form, minMs, maxMs] of [
    ['date', 1_900, 4_000],
    ['none', 0, 900],
  ] as const) {
    it(`a 429 with Retry-After ${form === 'date' ? 'as an HTTP date is retried once that date has come' : "missing is retried after the call's own backoff"}`, async () => {
      const faults = { error429: 0.3, retryAfterSeconds: 2, retryAfterAs: form };
      const seed = faultSeed('uplynk', faults, 8, oneFaultWithin('429', 1));
      await sandbox.faults({ seed, uplynk: faults });
      const started = Date.now();
      const run = await inActivity(() =>
        activitiesFor(sandboxEnv(sandbox)).removeFromLibraries({
          removals: [{ libraryId: LIBS[0]!, targets: [target('u1')] }],
        }),
      );
      const took = Date.now() - started;
      assert.equal(run.error, undefined, String(run.error));
      assert.ok(took >= minMs && took < maxMs, `answered after ${took} ms`);
      assert.deepEqual(answers(run.result), [['remove-from-library', `${LIBS[0]}/u1`, 'removal-requested']]);
      const stats = await sandbox.stats();
      assert.equal(countRequests(stats, { route: REMOVE_ROUTE, status: 429 }), 1);
      assert.equal(countRequests(stats, { route: REMOVE_ROUTE, status: 200 }), 1);
    });
  }

  it('a call waiting out its Retry-After is told in the phase heartbeat, with why it waits', async () => {
    const faults = { error429: 0.3, retryAfterSeconds: 2 };
    const seed = faultSeed('uplynk', faults, 8, oneFaultWithin('429', 3));
    await sandbox.faults({ seed, uplynk: faults });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(() =>
      activities.removeFromLibraries({
        removals: LIBS.map((libraryId) => ({ libraryId, targets: [target('u1')] })),
      }),
    );
    assert.equal(run.error, undefined, String(run.error));
    const told = run.heartbeats.map((h) => (h as { waiting?: string }).waiting).filter(Boolean);
    assert.ok(told.length > 0, 'no heartbeat said what the phase waits for');
    assert.match(String(told[0]), /^1 call waiting to be sent again \(last: .*429/);
    // The wait ended in the removals asked for, one per library.
    assert.deepEqual(
      run.result?.entries.map((e) => e.answer),
      LIBS.map(() => 'removal-requested'),
    );
  });

  it('a stop while a call waits to be sent again, after a try that may have been applied, is recorded as a failure that may have applied', async () => {
    // The first try's connection drops after the delete was applied; the second is refused with a
    // Retry-After of 3 s; the workflow asks the phase to stop meanwhile.
    const faults = { drop: 0.3, error429: 0.3, retryAfterSeconds: 3 };
    const seed = faultSeed('entermedia', faults, 6, (k) => k[0] === 'drop' && k[1] === '429');
    await sandbox.faults({ seed, entermedia: faults });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(
      () => activities.deleteDamAssets({ assets: [target('101')] }),
      {},
      (env) => {
        const poll = setInterval(() => {
          void sandbox.stats().then((stats) => {
            if (countRequests(stats, { route: DAM_DELETE, status: 429 }) === 1) {
              clearInterval(poll);
              env.cancel();
            }
          });
        }, 20);
      },
    );
    assert.equal(run.error, undefined, String(run.error));
    assert.equal(run.result?.stopped, true);
    const [entry] = run.result?.entries ?? [];
    assert.equal(entry?.answer, 'failed');
    assert.equal(entry?.mayHaveApplied, true);
    assert.match(
      entry?.detail ?? '',
      /stopped before it was sent again; an earlier try may have been applied/,
    );
    // It was not sent a third time, and the delete that the first try applied is indeed done.
    assert.equal(countRequests(await sandbox.stats(), { route: DAM_DELETE }), 2);
    const state = await sandbox.state();
    assert.ok(!state.entermedia.assets.some((a) => a.id === '101'));
  });

  it('a dropped connection on one call is retried on that call alone, and the phase answers every delete', async () => {
    const faults = { drop: 0.3 };
    // Three entities: a read and a delete each, in any order across the lanes.
    const seed = faultSeed('twelvelabs', faults, 12, oneFaultWithin('drop', 6));
    await sandbox.faults({ seed, twelvelabs: faults });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(() =>
      activities.deleteEntities({
        deletes: [
          { entity: { id: E1, collectionId: COLL }, targets: [target(A)], planAssetIds: [A, B] },
          { entity: { id: E2, collectionId: COLL }, targets: [target(A)], planAssetIds: [A] },
          { entity: { id: E3, collectionId: COLL }, targets: [target(D)], planAssetIds: [B, D] },
        ],
      }),
    );
    assert.equal(run.error, undefined, String(run.error));
    // A dropped delete was applied: its retry's 404 still answers deleted.
    assert.deepEqual(answers(run.result), [
      ['delete-entity', E1, 'deleted'],
      ['delete-entity', E2, 'deleted'],
      ['delete-entity', E3, 'deleted'],
    ]);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { system: 'twelvelabs', status: 0 }), 1);
    assert.equal(stats.mutations.twelvelabs, 3);
    assert.deepEqual((await sandbox.state()).twelvelabs.entities, []);
  });

  it('a TwelveLabs asset delete whose connection dropped after it was applied, then 404 on retry, is deleted', async () => {
    // The listing of indexed assets, the delete (dropped), its retry (404), the read-back.
    const run = await deleteAssetWithDrops(D, ['ok', 'drop', 'ok', 'ok']);
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(answers(run.result), [['delete-asset', D, 'deleted']]);
    assert.match(
      run.result?.entries[0]?.detail ?? '',
      /answer was lost .*either that call deleted it or it was already absent/,
    );
    assert.deepEqual(run.result?.failures, []);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: DELETE_ASSET, status: 0 }), 1);
    assert.equal(countRequests(stats, { route: DELETE_ASSET, status: 404 }), 1);
    assert.equal(stats.mutations.twelvelabs, 1);
  });

  it('a read whose connection dropped changes nothing: an asset it then finds gone is already absent', async () => {
    // The listing of indexed assets of an asset that is not there: dropped, then 404 on retry.
    const gone = hexId('9', 9);
    const run = await deleteAssetWithDrops(gone, ['drop', 'ok']);
    assert.equal(run.error, undefined, String(run.error));
    // Not "deleted after a lost answer": no call of this unit could have deleted it.
    assert.deepEqual(answers(run.result), [['delete-asset', gone, 'already-absent']]);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: INDEXED_ASSETS, status: 0 }), 1);
    assert.equal(countRequests(stats, { route: INDEXED_ASSETS, status: 404 }), 1);
    assert.equal(countRequests(stats, { route: DELETE_ASSET }), 0);
    assert.equal(stats.mutations.twelvelabs, 0);
  });

  it('a resumed unlink whose retry is refused after a dropped answer reads the entity again: unlinked', async () => {
    // Attempt 2 reads the entity first (A still linked), sends the unlink (applied, connection
    // dropped), its retry is refused (400: not linked any more), and the entity is read again.
    const seed = faultSeed('twelvelabs', { drop: 0.5 }, 4, (k) => k.join() === 'ok,drop,ok,ok');
    await sandbox.faults({ seed, twelvelabs: { drop: 0.5 } });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(
      () =>
        activities.unlinkEntities({
          unlinks: [{ entity: { id: E1, collectionId: COLL }, targets: [target(A)] }],
          wait: false,
        }),
      { attempt: 2 },
    );
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(answers(run.result), [['unlink-entity', `${E1}/${A}`, 'unlinked']]);
    assert.match(run.result?.entries[0]?.detail ?? '', /earlier answer was lost/);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: UNLINK, status: 0 }), 1);
    assert.equal(countRequests(stats, { route: UNLINK, status: 400 }), 1);
    assert.equal(countRequests(stats, { route: GET_ENTITY }), 2);
    const e1 = (await sandbox.state()).twelvelabs.entities.find((e) => e._id === E1);
    assert.deepEqual(e1?.asset_ids, [B]);
  });

  it('a TwelveLabs entity delete whose answer was lost, then 404 on retry, is deleted', async () => {
    // The read of the entity, the delete (dropped), its retry (404).
    const seed = faultSeed('twelvelabs', { drop: 0.5 }, 3, (k) => k.join() === 'ok,drop,ok');
    await sandbox.faults({ seed, twelvelabs: { drop: 0.5 } });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(() =>
      activities.deleteEntities({
        deletes: [{ entity: { id: E2, collectionId: COLL }, targets: [target(A)], planAssetIds: [A] }],
      }),
    );
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(answers(run.result), [['delete-entity', E2, 'deleted']]);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: DELETE_ENTITY, status: 0 }), 1);
    assert.equal(countRequests(stats, { route: DELETE_ENTITY, status: 404 }), 1);
  });

  it('an EnterMediaDB delete whose answer was lost, then rowsedited 0 on retry, is deleted and confirmed by a search', async () => {
    const seed = faultSeed('entermedia', { drop: 0.5 }, 3, (k) => k.join() === 'drop,ok,ok');
    await sandbox.faults({ seed, entermedia: { drop: 0.5 } });
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(() => activities.deleteDamAssets({ assets: [target('101')] }));
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(answers(run.result), [['delete-dam-asset', '101', 'deleted']]);
    assert.match(run.result?.entries[0]?.detail ?? '', /rowsedited 0 on retry/);
    assert.deepEqual(run.result?.failures, []);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: DAM_DELETE, status: 0 }), 1);
    assert.equal(countRequests(stats, { route: DAM_DELETE, status: 200 }), 1);
    assert.equal(countRequests(stats, { route: DAM_SEARCH }), 1);
    assert.equal(stats.mutations.entermedia, 1);
  });
});
