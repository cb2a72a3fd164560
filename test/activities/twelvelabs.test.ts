import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/contract.js';
import { CallError } from '../../activities/http-errors.js';
import { FirstLook, allPages } from '../../activities/twelvelabs-activities.js';
import type { LedgerEntry } from '../../plan/index.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  activitiesFor,
  answers,
  countRequests,
  hexId,
  inActivity,
  sandboxEnv,
  seedWith,
  target,
} from './support.js';

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
const ENTITY_ROUTE = 'GET /entity-collections/{entity_collection_id}/entities/{entity_id}';
const DELETE_ENTITY = 'DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}';
const DELETE_ASSET = 'DELETE /assets/{asset_id}';
const LIST_ASSETS = 'GET /assets';
const DELETE_INDEXED = 'DELETE /indexes/{index_id}/indexed-assets/{indexed_asset_id}';
const entity = (id: string) => ({ id, collectionId: COLL });

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
  const sandbox = seededSandboxForSuite(seed);
  let activities: Activities;
  before(() => {
    activities = activitiesFor(sandboxEnv(sandbox));
  });

  async function entityNow(id: string): Promise<{ asset_ids: string[]; status?: string } | undefined> {
    const state = await sandbox.state();
    return state.twelvelabs.entities.find((e) => e._id === id);
  }
  async function entityAssets(id: string): Promise<string[] | undefined> {
    return (await entityNow(id))?.asset_ids;
  }
  const mutations = async () => (await sandbox.stats()).mutations.twelvelabs;

  describe('discoverAssets', () => {
    it('reads every page of 50 of an asset with 120 indexed assets and 60 entities', async () => {
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
      const run = await inActivity(() => activities.discoverAssets({ assetIds: [P], indexedAssets: true }));
      assert.equal(run.error, undefined);
      const [found] = run.result ?? [];
      assert.equal(found?.exists, true);
      assert.deepEqual(
        (found?.indexedAssets ?? []).map((ia) => ia.id).sort(),
        many.map((ia) => ia._id).sort(),
      );
      assert.equal(found?.entities.length, 60);
      assert.deepEqual(found?.entities[0]?.assetIds.sort(), [P, D].sort());
      const stats = await sandbox.stats();
      // 120 at 50 a page is 3 pages; 60 is 2; page_info.total_page ends the walk without an empty page.
      assert.equal(countRequests(stats, { route: 'GET /assets/{asset_id}/indexed-assets' }), 3);
      assert.equal(countRequests(stats, { route: 'GET /assets/{asset_id}/entities' }), 2);
    });

    it('answers exists: false for an asset that TwelveLabs does not know, and the references of the others', async () => {
      const unknown = hexId('0', 77);
      const run = await inActivity(() =>
        activities.discoverAssets({ assetIds: [A, unknown], indexedAssets: true }),
      );
      assert.equal(run.error, undefined);
      const [a, gone] = run.result ?? [];
      assert.equal(a?.exists, true);
      assert.deepEqual((a?.indexedAssets ?? []).map((ia) => ia.id).sort(), [IA1, IA2].sort());
      assert.deepEqual(a?.entities.map((e) => e.id).sort(), [E1, E2].sort());
      assert.deepEqual(gone, { assetId: unknown, exists: false, indexedAssets: [], entities: [] });
    });

    it('lists indexed assets only when asked, and says which of each entity’s assets the whole plan takes', async () => {
      const run = await inActivity(() =>
        activities.discoverAssets({ assetIds: [B], indexedAssets: false, plan: { assetIds: [A, B, C] } }),
      );
      assert.equal(run.error, undefined);
      const [b] = run.result ?? [];
      assert.equal(b?.indexedAssets, undefined);
      assert.deepEqual(
        b?.entities.map((e) => [e.id, e.planAssetIds]).sort(),
        [
          [E1, [A, B]],
          [E3, [B]],
        ].sort(),
      );
      assert.equal(
        countRequests(await sandbox.stats(), { route: 'GET /assets/{asset_id}/indexed-assets' }),
        0,
      );
    });
  });

  describe('unlinkEntities', () => {
    it('sends one call per entity with all its assets, and running it again answers already-absent', async () => {
      const unlinks = [{ entity: entity(E1), targets: [target(A, 'ia'), target(B, 'ib')] }];
      const first = await inActivity(() => activities.unlinkEntities({ unlinks }));
      assert.equal(first.error, undefined);
      assert.deepEqual(
        first.result?.entries.map((e) => [e.item, e.system, e.step, e.target, e.answer]),
        [
          ['ia', 'twelvelabs', 'unlink-entity', `${E1}/${A}`, 'unlinked'],
          ['ib', 'twelvelabs', 'unlink-entity', `${E1}/${B}`, 'unlinked'],
        ],
      );
      assert.deepEqual(await entityAssets(E1), [D]);
      assert.equal(countRequests(await sandbox.stats(), { route: UNLINK_ROUTE }), 1);

      // The same call again (a first attempt): the vendor refuses (400, not linked), the entity is read,
      // nothing is left to do.
      const second = await inActivity(() => activities.unlinkEntities({ unlinks }));
      assert.deepEqual(
        second.result?.entries.map((e) => e.answer),
        ['already-absent', 'already-absent'],
      );
      assert.equal(second.result?.refused, undefined);
      // A retry (attempt 2) may follow a lost answer: it reads the entity first and does not send the
      // DELETE at all; what is no longer linked was most likely unlinked by the attempt before it.
      const before = countRequests(await sandbox.stats(), { route: UNLINK_ROUTE });
      const retry = await inActivity(() => activities.unlinkEntities({ unlinks }), { attempt: 2 });
      assert.deepEqual(
        retry.result?.entries.map((e) => e.answer),
        ['unlinked', 'unlinked'],
      );
      assert.match(retry.result?.entries[0]?.detail ?? '', /earlier answer was lost/);
      assert.equal(countRequests(await sandbox.stats(), { route: UNLINK_ROUTE }), before);
      assert.deepEqual(await entityAssets(E1), [D]);
      assert.equal(await mutations(), 1);
    });

    it('a retried unlink removes only the assets still linked', async () => {
      // C was never (or is no longer) linked to E3: only B is sent, so the vendor does not refuse the call.
      const run = await inActivity(
        () =>
          activities.unlinkEntities({ unlinks: [{ entity: entity(E3), targets: [target(B), target(C)] }] }),
        { attempt: 3 },
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(answers(run.result), [
        ['unlink-entity', `${E3}/${B}`, 'unlinked'],
        ['unlink-entity', `${E3}/${C}`, 'unlinked'],
      ]);
      assert.deepEqual(await entityAssets(E3), [D]);
      const stats = await sandbox.stats();
      assert.equal(countRequests(stats, { route: UNLINK_ROUTE, status: 200 }), 1);
      assert.equal(countRequests(stats, { route: UNLINK_ROUTE, status: 400 }), 0);
    });

    it('an asset no longer linked is already-absent, and the entity’s other assets are still unlinked', async () => {
      const run = await inActivity(() =>
        activities.unlinkEntities({ unlinks: [{ entity: entity(E3), targets: [target(B), target(C)] }] }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(answers(run.result), [
        ['unlink-entity', `${E3}/${B}`, 'unlinked'],
        ['unlink-entity', `${E3}/${C}`, 'already-absent'],
      ]);
      assert.deepEqual(await entityAssets(E3), [D]);
      assert.equal(await mutations(), 1);
    });

    it('an unlink that would empty its entity is refused without any change; the other entities are unlinked', async () => {
      const run = await inActivity(() =>
        activities.unlinkEntities({
          unlinks: [
            { entity: entity(E2), targets: [target(A, 'ia')] },
            { entity: entity(E3), targets: [target(B, 'ib')] },
          ],
        }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(run.result?.refused, [
        {
          item: 'ia',
          system: 'twelvelabs',
          step: 'unlink-entity',
          target: `${E2}/${A}`,
          entity: entity(E2),
          assetId: A,
        },
      ]);
      assert.deepEqual(answers(run.result), [['unlink-entity', `${E3}/${B}`, 'unlinked']]);
      assert.deepEqual(await entityAssets(E2), [A]);
      assert.deepEqual(await entityAssets(E3), [D]);
      assert.equal(await mutations(), 1);
    });

    it('a retried unlink that would empty its entity is refused without sending it', async () => {
      const run = await inActivity(
        () => activities.unlinkEntities({ unlinks: [{ entity: entity(E2), targets: [target(A)] }] }),
        { attempt: 2 },
      );
      assert.equal(run.result?.refused?.length, 1);
      assert.deepEqual(run.result?.entries, []);
      assert.equal(countRequests(await sandbox.stats(), { route: UNLINK_ROUTE }), 0);
      assert.deepEqual(await entityAssets(E2), [A]);
    });

    it('an unlink from an entity that is gone answers already-absent', async () => {
      const gone = hexId('e9', 9);
      const run = await inActivity(() =>
        activities.unlinkEntities({ unlinks: [{ entity: entity(gone), targets: [target(A)] }] }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(answers(run.result), [['unlink-entity', `${gone}/${A}`, 'already-absent']]);
    });

    it('answers only once each entity it changed is ready again (entityReadyAfterMs)', async () => {
      await sandbox.seed({ ...seed, entityReadyAfterMs: 600 });
      const started = Date.now();
      const run = await inActivity(() =>
        activities.unlinkEntities({
          unlinks: [
            { entity: entity(E1), targets: [target(B)] },
            { entity: entity(E3), targets: [target(B)] },
          ],
        }),
      );
      const took = Date.now() - started;
      assert.equal(run.error, undefined);
      assert.deepEqual(run.result?.failures, []);
      assert.ok(took >= 600, `answered after ${took} ms`);
      // Both entities were changed and are ready again when the phase answers.
      assert.equal((await entityNow(E1))?.status, 'ready');
      assert.equal((await entityNow(E3))?.status, 'ready');
      assert.ok(countRequests(await sandbox.stats(), { route: ENTITY_ROUTE }) >= 4, 'polled both entities');
    });

    it('with wait: false, answers once the unlinks are answered, leaving the entities processing', async () => {
      await sandbox.seed({ ...seed, entityReadyAfterMs: 60_000 });
      const run = await inActivity(() =>
        activities.unlinkEntities({ unlinks: [{ entity: entity(E1), targets: [target(B)] }], wait: false }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(answers(run.result), [['unlink-entity', `${E1}/${B}`, 'unlinked']]);
      assert.deepEqual(run.result?.failures, []);
      // Not polled: the items unlinked from it wait for it in deleteItems.
      assert.equal((await entityNow(E1))?.status, 'processing');
      assert.equal(countRequests(await sandbox.stats(), { route: ENTITY_ROUTE }), 0);
    });

    it('an entity still processing after BULK_DELETE_ENTITY_WAIT_MS is a wait-entities failure of its items, and the phase says what it waits for', async () => {
      await sandbox.seed({ ...seed, entityReadyAfterMs: 60_000 });
      const patient = activitiesFor(sandboxEnv(sandbox, { BULK_DELETE_ENTITY_WAIT_MS: '1000' }));
      const run = await inActivity(() =>
        patient.unlinkEntities({ unlinks: [{ entity: entity(E1), targets: [target(B, 'ib')] }] }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(answers(run.result), [['unlink-entity', `${E1}/${B}`, 'unlinked']]);
      assert.deepEqual(
        run.result?.failures.map((f) => [f.item, f.system, f.step]),
        [['ib', 'twelvelabs', 'wait-entities']],
      );
      assert.match(run.result?.failures[0]?.detail ?? '', new RegExp(`${E1} still processing after 1 s`));
      const waiting = run.said.map((h) => (JSON.parse(h) as { waiting?: string }).waiting).filter(Boolean);
      assert.match(String(waiting[0]), /1 TwelveLabs entities still processing/);
    });
  });

  describe('deleteEntities', () => {
    it('deletes an entity all of whose assets the plan takes, and answers already-absent the second time', async () => {
      const deletes = [
        { entity: entity(E3), targets: [target(B, 'ib'), target(D, 'id')], planAssetIds: [B, D] },
      ];
      const first = await inActivity(() => activities.deleteEntities({ deletes }));
      assert.equal(first.error, undefined);
      assert.deepEqual(
        first.result?.entries.map((e) => [e.item, e.step, e.target, e.answer]),
        [
          ['ib', 'delete-entity', E3, 'deleted'],
          ['id', 'delete-entity', E3, 'deleted'],
        ],
      );
      assert.equal(await entityNow(E3), undefined);
      const again = await inActivity(() => activities.deleteEntities({ deletes }));
      assert.deepEqual(
        again.result?.entries.map((e) => e.answer),
        ['already-absent', 'already-absent'],
      );
      assert.equal(countRequests(await sandbox.stats(), { route: DELETE_ENTITY }), 1);
    });

    it('reads the entity again and refuses to delete it when it holds assets outside planAssetIds', async () => {
      // Discovery saw E3 holding only B; D was linked since.
      const run = await inActivity(() =>
        activities.deleteEntities({
          deletes: [{ entity: entity(E3), targets: [target(B, 'ib')], planAssetIds: [B] }],
        }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(run.result?.entries, []);
      assert.deepEqual(run.result?.refused, [
        {
          item: 'ib',
          system: 'twelvelabs',
          step: 'delete-entity',
          target: E3,
          entity: entity(E3),
          assetId: B,
          foreign: [D],
        },
      ]);
      const stats = await sandbox.stats();
      assert.equal(countRequests(stats, { route: ENTITY_ROUTE }), 1);
      assert.equal(countRequests(stats, { route: DELETE_ENTITY }), 0);
      assert.deepEqual(await entityAssets(E3), [B, D]);
    });
  });

  describe('deleteAssets', () => {
    it('deletes the indexed assets, then the assets (force), and a second run answers already-absent', async () => {
      const input = {
        assets: [
          { ...target(A, 'ia'), known: [IA1, IA2].map((id) => ({ id, indexId: INDEX })) },
          { ...target(C, 'ic'), known: [{ id: IA3, indexId: INDEX }] },
        ],
      };
      const first = await inActivity(() => activities.deleteAssets(input));
      assert.equal(first.error, undefined);
      assert.deepEqual(answers(first.result), [
        ['delete-asset', A, 'deleted'],
        ['delete-asset', C, 'deleted'],
        ['delete-indexed-asset', `${INDEX}/${IA1}`, 'deleted'],
        ['delete-indexed-asset', `${INDEX}/${IA2}`, 'deleted'],
        ['delete-indexed-asset', `${INDEX}/${IA3}`, 'deleted'],
      ]);
      assert.deepEqual(first.result?.failures, []);
      // Each item's entries are its own.
      const items = (step: string, item: string) =>
        first.result?.entries.filter((e: LedgerEntry) => e.step === step && e.item === item).length;
      assert.equal(items('delete-indexed-asset', 'ia'), 2);
      assert.equal(items('delete-indexed-asset', 'ic'), 1);

      const again = await inActivity(() => activities.deleteAssets(input));
      assert.equal(again.error, undefined);
      assert.ok(again.result?.entries.every((e) => e.answer === 'already-absent'));
      assert.equal(again.result?.entries.length, 5);

      const state = await sandbox.state();
      assert.deepEqual(state.twelvelabs.assets.map((a) => a._id).sort(), [B, D].sort());
      assert.deepEqual(state.twelvelabs.indexedAssets, []);
      assert.equal(await mutations(), 5);
    });

    it('lists the indexed assets again just before the forced delete, so one created after discovery is deleted too, with its own entry', async () => {
      // Discovery found none (known: []); IA1 and IA2 exist now.
      const run = await inActivity(() =>
        activities.deleteAssets({ assets: [{ ...target(A, 'ia'), known: [] }] }),
      );
      assert.equal(run.error, undefined);
      assert.deepEqual(
        run.result?.entries.map((e) => [e.item, e.step, e.target, e.answer]),
        [
          ['ia', 'delete-indexed-asset', `${INDEX}/${IA1}`, 'deleted'],
          ['ia', 'delete-indexed-asset', `${INDEX}/${IA2}`, 'deleted'],
          ['ia', 'delete-asset', A, 'deleted'],
        ],
      );
      const state = await sandbox.state();
      assert.deepEqual(
        state.twelvelabs.indexedAssets.map((ia) => ia._id),
        [IA3],
      );
      const stats = await sandbox.stats();
      assert.equal(countRequests(stats, { route: DELETE_INDEXED }), 2);
      // The listing came before the forced delete, and the deleted asset was read back once.
      assert.equal(countRequests(stats, { route: 'GET /assets/{asset_id}/indexed-assets' }), 1);
      assert.equal(countRequests(stats, { route: LIST_ASSETS }), 1);
    });

    it('reads the deleted assets back 50 a call, and an asset that still reads as present is a verify failure', async () => {
      const many = Array.from({ length: 54 }, (_, i) => hexId('5', i));
      await sandbox.seed(seedWith({ twelvelabs: { assets: [...many, D].map((_id) => ({ _id })) } }));
      // An earlier attempt answered D deleted (its heartbeat says so), yet D is there.
      const heartbeatDetails = {
        v: 2,
        done: [D],
        inFlight: [],
        entries: [
          {
            item: 'id',
            system: 'twelvelabs',
            step: 'delete-asset',
            target: D,
            answer: 'deleted',
            at: new Date().toISOString(),
          },
        ],
        failures: [],
        refused: [],
      };
      const run = await inActivity(
        () =>
          activities.deleteAssets({
            assets: [...many, D].map((id) => ({ ...target(id, id === D ? 'id' : undefined), known: [] })),
          }),
        { attempt: 2, heartbeatDetails },
      );
      assert.equal(run.error, undefined);
      assert.equal(run.result?.entries.filter((e) => e.step === 'delete-asset').length, 55);
      assert.deepEqual(
        run.result?.failures.map((f) => [f.item, f.system, f.step]),
        [['id', 'twelvelabs', 'verify']],
      );
      assert.match(run.result?.failures[0]?.detail ?? '', new RegExp(`${D} still reads as present`));
      const stats = await sandbox.stats();
      assert.equal(countRequests(stats, { route: LIST_ASSETS }), 2);
      assert.equal(countRequests(stats, { route: DELETE_ASSET }), 54);
    });
  });

  it('an asset found gone on a retried attempt is deleted without a call, and the row says the lost attempt may have deleted more', async () => {
    // The attempt before deleted B (it has no indexed assets here) and died before its heartbeat told.
    await inActivity(() => activities.deleteAssets({ assets: [{ ...target(B), known: [] }] }));
    const before = countRequests(await sandbox.stats(), { route: DELETE_ASSET });
    const retry = await inActivity(() => activities.deleteAssets({ assets: [{ ...target(B), known: [] }] }), {
      attempt: 2,
    });
    assert.equal(retry.error, undefined);
    const entry = retry.result?.entries.find((e) => e.step === 'delete-asset');
    assert.equal(entry?.answer, 'deleted');
    assert.match(entry?.detail ?? '', /indexed assets that attempt deleted are not in this record/);
    assert.equal(countRequests(await sandbox.stats(), { route: DELETE_ASSET }), before);
    // A first attempt that finds the asset gone says it was gone before: no deletion is claimed.
    const first = await inActivity(() => activities.deleteAssets({ assets: [{ ...target(B), known: [] }] }));
    assert.deepEqual(answers(first.result), [['delete-asset', B, 'already-absent']]);
  });

  it('an asset a retried attempt deletes after a lost one deleted its indexed assets: the row says those deletes are not in the record', async () => {
    // The attempt before listed C's indexed asset, deleted it, and died before its heartbeat told (a
    // worker killed): the retry lists none left and deletes C itself.
    const state = await sandbox.state();
    await sandbox.seed({
      ...seed,
      twelvelabs: {
        ...seed.twelvelabs,
        indexedAssets: state.twelvelabs.indexedAssets.filter((ia) => ia._id !== IA3),
      },
    });
    const retry = await inActivity(() => activities.deleteAssets({ assets: [{ ...target(C), known: [] }] }), {
      attempt: 2,
    });
    assert.equal(retry.error, undefined);
    assert.deepEqual(answers(retry.result), [['delete-asset', C, 'deleted']]);
    const entry = retry.result?.entries.find((e) => e.step === 'delete-asset');
    assert.match(
      entry?.detail ?? '',
      /an earlier attempt was lost: any indexed assets it deleted are not in this record/,
    );
    // A first attempt has nothing to own up to: its record has every call it made.
    const first = await inActivity(() => activities.deleteAssets({ assets: [{ ...target(A), known: [] }] }));
    assert.deepEqual(
      first.result?.entries.map((e) => e.detail),
      [undefined, undefined, undefined],
    );
  });

  it('observing answers present for the assets TwelveLabs still has and gone for the others', async () => {
    await inActivity(() => activities.deleteAssets({ assets: [{ ...target(B), known: [] }] }));
    const run = await inActivity(() =>
      activities.observeItems({
        items: [A, B, C].map((id) => ({ id: `i-${id}`, twelvelabs: { assetId: id } })),
      }),
    );
    assert.deepEqual(
      run.result?.map((o) => [o.item, o.observed.twelvelabs]),
      [
        [`i-${A}`, 'present'],
        [`i-${B}`, 'gone'],
        [`i-${C}`, 'present'],
      ],
    );
  });

  it('without TWELVELABS_API_KEY every TwelveLabs activity fails at once, without retry, naming the variable', async () => {
    const unconfigured = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_API_KEY: '' }));
    const calls: Array<() => Promise<unknown>> = [
      () => unconfigured.discoverAssets({ assetIds: [A], indexedAssets: true }),
      () => unconfigured.unlinkEntities({ unlinks: [{ entity: entity(E1), targets: [target(A)] }] }),
      () =>
        unconfigured.deleteEntities({
          deletes: [{ entity: entity(E1), targets: [target(A)], planAssetIds: [A, B, D] }],
        }),
      () => unconfigured.deleteAssets({ assets: [{ ...target(A), known: [{ id: IA1, indexId: INDEX }] }] }),
      () => unconfigured.observeItems({ items: [{ id: 'i', twelvelabs: { assetId: A } }] }),
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

describe('FirstLook: when an unlinked entity is first polled', () => {
  /**
   * Polls one entity that settles after `readyMs` the way `untilReady` does, unlinked at `unlinkedAt` on
   * the worker's clock; answers the polls it took.
   */
  function polls(look: FirstLook, readyMs: number, unlinkedAt: number): number {
    let at = 0;
    for (let round = 0; ; round++) {
      at += round === 0 ? look.ms : Math.min(2000, 150 * 1.5 ** round);
      if (at >= readyMs) {
        look.saw(round === 0, at, unlinkedAt + at);
        return round + 1;
      }
    }
  }

  it('learns a vendor whose entities settle after 300 ms: one poll for most, and follows it when it speeds up', () => {
    const look = new FirstLook();
    // One entity a second.
    let clock = 0;
    const next = (readyMs: number) => polls(look, readyMs, (clock += 1000));
    assert.equal(next(300), 2, 'the first entity is looked at after 150 ms, still processing');
    for (let i = 0; i < 20; i++) next(300);
    let taken = 0;
    for (let i = 0; i < 100; i++) taken += next(300);
    assert.ok(taken <= 110, `${taken} polls for 100 entities`);
    assert.ok(look.ms >= 300 && look.ms < 450, `first look after ${look.ms} ms`);
    for (let i = 0; i < 300; i++) next(50);
    assert.equal(look.ms, FirstLook.MIN_MS);
  });

  it('entities unlinked together and ready at their first look lower it once, not once each', () => {
    const look = new FirstLook();
    // Learnt from a few entities that were still processing at their first look.
    for (let i = 0; i < 5 && look.ms < 300; i++) polls(look, 300, i * 1000);
    const learnt = look.ms;
    assert.ok(learnt >= 300, `first look after ${learnt} ms`);
    // A chunk's 200 entities, unlinked at once, all ready at the first look.
    for (let i = 0; i < 200; i++) polls(look, 300, 5_000);
    assert.equal(look.ms, learnt * 0.99);
    // So the next chunk's first looks still find its entities ready: one poll each.
    let taken = 0;
    for (let i = 0; i < 200; i++) taken += polls(look, 300, 6_000);
    assert.equal(taken, 200);
  });

  it('one entity that takes a minute moves the first look to at most a second', () => {
    const look = new FirstLook();
    polls(look, 60_000, 0);
    assert.equal(look.ms, FirstLook.MAX_MS);
  });
});

describe('a listing that does not end', () => {
  it('fails its item past the page limit instead of going on with what it read', async () => {
    let asked = 0;
    const endless = (page: number) => {
      asked++;
      return Promise.resolve({ data: [{ _id: `ia-${page}` }], page_info: { page, total_page: 1_000_000 } });
    };
    await assert.rejects(
      allPages(endless, 'the indexed assets of asset a1', 5),
      (error: unknown) =>
        error instanceof CallError &&
        error.failure.disposition === 'item' &&
        /indexed assets of asset a1 past 5 pages/.test(error.failure.message),
    );
    assert.equal(asked, 5);
    // A listing that ends within the limit answers every page's items.
    const short = (page: number) =>
      Promise.resolve({ data: [{ _id: `ia-${page}` }], page_info: { page, total_page: 3 } });
    assert.deepEqual(
      (await allPages(short, 'x', 5)).map((x) => x._id),
      ['ia-1', 'ia-2', 'ia-3'],
    );
  });
});
