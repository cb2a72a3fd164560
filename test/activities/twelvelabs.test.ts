import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Activities } from '../../activities/contract.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { activitiesFor, countRequests, hexId, inActivity, sandboxEnv, seedWith } from './support.js';

// A small catalogue: assets A, B, C in the plan, D outside it.
const A = hexId('a', 1);
const B = hexId('b', 2);
const C = hexId('c', 3);
const D = hexId('d', 4);
const INDEX = hexId('1', 1);
const IA1 = hexId('1a', 1);
const IA2 = hexId('1a', 2);
const IA3 = hexId('1a', 3);
const COLL = hexId('2c', 1);
const E1 = hexId('e1', 1); // A, B and D
const E2 = hexId('e2', 2); // A only: A is its last asset
const E3 = hexId('e3', 3); // B and D

const UNLINK_ROUTE = 'DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}/assets';

const seed = seedWith({
  entityReadyAfterMs: 300,
  twelvelabs: {
    assets: [A, B, C, D].map((_id) => ({ _id })),
    indexes: [{ _id: INDEX }],
    indexedAssets: [
      { _id: IA1, index_id: INDEX, asset_id: A },
      { _id: IA2, index_id: INDEX, asset_id: A },
      { _id: IA3, index_id: INDEX, asset_id: C },
    ],
    entityCollections: [{ _id: COLL }],
    entities: [
      { _id: E1, entity_collection_id: COLL, asset_ids: [A, B, D] },
      { _id: E2, entity_collection_id: COLL, asset_ids: [A] },
      { _id: E3, entity_collection_id: COLL, asset_ids: [B, D] },
    ],
  },
});

describe('TwelveLabs activities against the sandbox', () => {
  let sandbox: TestSandbox;
  let activities: Activities;
  before(async () => {
    sandbox = await startTestSandbox();
    activities = activitiesFor(sandboxEnv(sandbox));
  });
  after(() => sandbox?.close());
  beforeEach(async () => {
    await sandbox.reset();
    await sandbox.seed(seed);
  });

  async function entityAssets(id: string): Promise<string[] | undefined> {
    const state = await sandbox.state();
    return state.twelvelabs.entities.find((e) => e._id === id)?.asset_ids;
  }

  it('discovery reads every page of 50 of an asset with 120 indexed assets and 60 entities', async () => {
    const P = hexId('f', 9);
    const many = Array.from({ length: 120 }, (_, i) => ({
      _id: hexId('9a', i),
      index_id: INDEX,
      asset_id: P,
    }));
    const entities = Array.from({ length: 60 }, (_, i) => ({
      _id: hexId('9e', i),
      entity_collection_id: COLL,
      asset_ids: [P, D],
    }));
    await sandbox.seed(
      seedWith({
        twelvelabs: {
          assets: [{ _id: P }, { _id: D }],
          indexes: [{ _id: INDEX }],
          indexedAssets: many,
          entityCollections: [{ _id: COLL }],
          entities,
        },
      }),
    );
    const run = await inActivity(() => activities.discoverTwelveLabsAssets({ assetIds: [P] }));
    assert.equal(run.error, undefined);
    const [found] = run.result ?? [];
    assert.equal(found?.exists, true);
    assert.deepEqual(found?.indexedAssets.map((ia) => ia.id).sort(), many.map((ia) => ia._id).sort());
    assert.equal(found?.entities.length, 60);
    assert.deepEqual(found?.entities[0]?.assetIds.sort(), [P, D].sort());
    const stats = await sandbox.stats();
    // 120 at 50 a page is 3 pages; 60 is 2; page_info.total_page ends the walk without an empty page.
    assert.equal(countRequests(stats, { route: 'GET /assets/{asset_id}/indexed-assets' }), 3);
    assert.equal(countRequests(stats, { route: 'GET /assets/{asset_id}/entities' }), 2);
  });

  it('discovery answers exists: false for an asset that TwelveLabs does not know, and the references of the others', async () => {
    const unknown = hexId('0', 77);
    const run = await inActivity(() => activities.discoverTwelveLabsAssets({ assetIds: [A, unknown] }));
    assert.equal(run.error, undefined);
    const [a, gone] = run.result ?? [];
    assert.equal(a?.exists, true);
    assert.deepEqual(a?.indexedAssets.map((ia) => ia.id).sort(), [IA1, IA2].sort());
    assert.deepEqual(a?.entities.map((e) => e.id).sort(), [E1, E2].sort());
    assert.deepEqual(gone, { assetId: unknown, exists: false, indexedAssets: [], entities: [] });
  });

  it('unlinking sends one call per entity with all its assets, and running it again answers already-absent', async () => {
    // Two entries for E1 are merged into one call with both assets.
    const unlinks = [
      { id: E1, collectionId: COLL, assetIds: [A] },
      { id: E1, collectionId: COLL, assetIds: [B] },
    ];
    const first = await inActivity(() => activities.unlinkEntityAssets({ unlinks }));
    assert.equal(first.error, undefined);
    assert.equal(first.result?.length, 1);
    assert.equal(first.result?.[0]?.outcome, 'deleted');
    assert.deepEqual(await entityAssets(E1), [D]);
    let stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: UNLINK_ROUTE }), 1);

    // The same call again (a first attempt): the vendor refuses (400, not linked), the entity is read, nothing is left to do.
    const second = await inActivity(() => activities.unlinkEntityAssets({ unlinks }));
    assert.deepEqual(
      second.result?.map((r) => r.outcome),
      ['already-absent'],
    );
    // A retry (attempt 2) reads the entity first and does not send the DELETE at all.
    const before = countRequests(await sandbox.stats(), { route: UNLINK_ROUTE });
    const retry = await inActivity(() => activities.unlinkEntityAssets({ unlinks }), { attempt: 2 });
    assert.deepEqual(
      retry.result?.map((r) => r.outcome),
      ['already-absent'],
    );
    stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: UNLINK_ROUTE }), before);
    assert.deepEqual(await entityAssets(E1), [D]);
  });

  it('a retried unlink removes only the assets still linked', async () => {
    // C was never (or is no longer) linked to E3: only B is sent, so the vendor does not refuse the call.
    const run = await inActivity(
      () => activities.unlinkEntityAssets({ unlinks: [{ id: E3, collectionId: COLL, assetIds: [B, C] }] }),
      { attempt: 3 },
    );
    assert.equal(run.result?.[0]?.outcome, 'deleted');
    assert.match(run.result?.[0]?.detail ?? '', /unlinked 1 asset/);
    assert.deepEqual(await entityAssets(E3), [D]);
  });

  it('unlinking the last asset of an entity fails that entity alone without retry as EntityLastAssetError', async () => {
    const run = await inActivity(() =>
      activities.unlinkEntityAssets({
        unlinks: [
          { id: E2, collectionId: COLL, assetIds: [A] },
          { id: E3, collectionId: COLL, assetIds: [B] },
        ],
      }),
    );
    assert.equal(run.error, undefined);
    const [last, other] = run.result ?? [];
    assert.equal(last?.outcome, 'failed');
    assert.equal(last?.errorType, 'EntityLastAssetError');
    assert.match(last?.detail ?? '', /at least one asset/);
    assert.equal(other?.outcome, 'deleted');
    assert.deepEqual(await entityAssets(E2), [A]);
    assert.deepEqual(await entityAssets(E3), [D]);
  });

  it('an unlink from an entity that is gone answers already-absent', async () => {
    const gone = hexId('e9', 9);
    const run = await inActivity(() =>
      activities.unlinkEntityAssets({ unlinks: [{ id: gone, collectionId: COLL, assetIds: [A] }] }),
    );
    assert.equal(run.result?.[0]?.outcome, 'already-absent');
  });

  it('while an entity is processing, the wait fails retryably with a BENIGN EntityProcessingError, then counts ready and gone', async () => {
    await inActivity(() =>
      activities.unlinkEntityAssets({ unlinks: [{ id: E1, collectionId: COLL, assetIds: [B] }] }),
    );
    const entities = [
      { id: E1, collectionId: COLL },
      { id: hexId('e9', 9), collectionId: COLL },
    ];
    const waiting = await inActivity(() => activities.waitEntitiesReady({ entities }));
    assert.ok(waiting.error instanceof ApplicationFailure, String(waiting.error));
    assert.equal(waiting.error.type, 'EntityProcessingError');
    assert.equal(waiting.error.nonRetryable, false);
    assert.equal(waiting.error.category, ApplicationFailureCategory.BENIGN);
    assert.match(waiting.error.message, new RegExp(E1));

    await delay(400);
    const ready = await inActivity(() => activities.waitEntitiesReady({ entities }));
    assert.equal(ready.error, undefined);
    assert.deepEqual(ready.result, { ready: 1, gone: 1 });
  });

  it('deleting indexed assets, then the assets (force) and entities works, and a second run answers already-absent', async () => {
    const ias = [
      { id: IA1, indexId: INDEX },
      { id: IA2, indexId: INDEX },
    ];
    const first = await inActivity(() => activities.deleteIndexedAssets({ indexedAssets: ias }));
    assert.deepEqual(
      first.result?.map((r) => [r.key, r.outcome]),
      [
        [IA1, 'deleted'],
        [IA2, 'deleted'],
      ],
    );
    const again = await inActivity(() => activities.deleteIndexedAssets({ indexedAssets: ias }));
    assert.deepEqual(
      again.result?.map((r) => r.outcome),
      ['already-absent', 'already-absent'],
    );

    // C is still referenced by IA3: only force=true deletes it (a plain delete would answer 409).
    const assets = await inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: [A, C] }));
    assert.deepEqual(
      assets.result?.map((r) => r.outcome),
      ['deleted', 'deleted'],
    );
    const assetsAgain = await inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: [A, C] }));
    assert.deepEqual(
      assetsAgain.result?.map((r) => r.outcome),
      ['already-absent', 'already-absent'],
    );

    const entities = await inActivity(() =>
      activities.deleteEntities({ entities: [{ id: E3, collectionId: COLL }] }),
    );
    assert.equal(entities.result?.[0]?.outcome, 'deleted');
    const entitiesAgain = await inActivity(() =>
      activities.deleteEntities({ entities: [{ id: E3, collectionId: COLL }] }),
    );
    assert.equal(entitiesAgain.result?.[0]?.outcome, 'already-absent');

    const state = await sandbox.state();
    assert.deepEqual(state.twelvelabs.assets.map((a) => a._id).sort(), [B, D].sort());
    assert.equal((await sandbox.stats()).mutations.twelvelabs, 5);
  });

  it('finding assets answers only those that TwelveLabs still has', async () => {
    await inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: [B] }));
    const run = await inActivity(() => activities.findTwelveLabsAssets({ assetIds: [A, B, C] }));
    assert.deepEqual(run.result, [A, C]);
  });

  it('without TWELVELABS_API_KEY every TwelveLabs activity fails at once, without retry, naming the variable', async () => {
    const unconfigured = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_API_KEY: '' }));
    const calls: Array<() => Promise<unknown>> = [
      () => unconfigured.discoverTwelveLabsAssets({ assetIds: [A] }),
      () => unconfigured.unlinkEntityAssets({ unlinks: [{ id: E1, collectionId: COLL, assetIds: [A] }] }),
      () => unconfigured.waitEntitiesReady({ entities: [{ id: E1, collectionId: COLL }] }),
      () => unconfigured.deleteEntities({ entities: [{ id: E1, collectionId: COLL }] }),
      () => unconfigured.deleteIndexedAssets({ indexedAssets: [{ id: IA1, indexId: INDEX }] }),
      () => unconfigured.deleteTwelveLabsAssets({ assetIds: [A] }),
      () => unconfigured.findTwelveLabsAssets({ assetIds: [A] }),
    ];
    for (const call of calls) {
      const run = await inActivity(call);
      assert.ok(run.error instanceof ApplicationFailure);
      assert.equal(run.error.type, 'MissingCredentialsError');
      assert.equal(run.error.nonRetryable, true);
      assert.match(run.error.message, /TWELVELABS_API_KEY/);
    }
    assert.equal(countRequests(await sandbox.stats()), 0);
  });
});
