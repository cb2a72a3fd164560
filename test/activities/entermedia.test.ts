import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/contract.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  activitiesFor,
  countRequests,
  inActivity,
  sandboxEnv,
  seedWith,
  startStatusServer,
  target,
} from './support.js';

const SEARCH = 'POST /assets/mediadb/services/module/asset/search';

describe('EnterMediaDB activities against the sandbox', () => {
  const sandbox = seededSandboxForSuite(
    seedWith({ entermedia: { assets: [{ id: '101' }, { id: '102' }, { id: 'keep' }] } }),
  );
  let activities: Activities;
  before(() => {
    activities = activitiesFor(sandboxEnv(sandbox));
  });

  it('deletes assets with the session cookie; a second run answers already-absent (rowsedited "0", searched)', async () => {
    const input = { assets: [target('101', 'i1'), target('102', 'i2')] };
    const first = await inActivity(() => activities.deleteDamAssets(input));
    assert.equal(first.error, undefined);
    assert.equal(countRequests(await sandbox.stats(), { route: SEARCH }), 0);
    assert.deepEqual(
      first.result?.entries.map((e) => [e.item, e.system, e.step, e.target, e.answer]).sort(),
      [
        ['i1', 'entermedia', 'delete-dam-asset', '101', 'deleted'],
        ['i2', 'entermedia', 'delete-dam-asset', '102', 'deleted'],
      ],
    );
    assert.deepEqual(first.result?.failures, []);
    const second = await inActivity(() => activities.deleteDamAssets(input));
    assert.deepEqual(
      second.result?.entries.map((e) => e.answer),
      ['already-absent', 'already-absent'],
    );
    assert.match(second.result?.entries[0]?.detail ?? '', /rowsedited 0/);
    const state = await sandbox.state();
    assert.deepEqual(
      state.entermedia.assets.map((a) => a.id),
      ['keep'],
    );
    assert.equal((await sandbox.stats()).mutations.entermedia, 2);
    // rowsedited "1" says it all; "0" read as already absent is an assumption, confirmed by a search each.
    assert.equal(countRequests(await sandbox.stats(), { route: SEARCH }), 2);
    assert.deepEqual(second.result?.failures, []);
  });

  it('an asset named by two items is deleted once', async () => {
    const run = await inActivity(() =>
      activities.deleteDamAssets({ assets: [target('101', 'i1'), target('101', 'i2')] }),
    );
    assert.equal(run.error, undefined);
    assert.equal((await sandbox.stats()).mutations.entermedia, 1);
    assert.equal(
      countRequests(await sandbox.stats(), {
        route: 'POST /assets/mediadb/services/module/asset/deleteassets',
      }),
      1,
    );
  });

  it('observing answers gone for assets that search no longer finds, present for the others', async () => {
    await inActivity(() => activities.deleteDamAssets({ assets: [target('101')] }));
    const run = await inActivity(() =>
      activities.observeItems({
        items: ['101', '102', 'never'].map((id) => ({ id: `i-${id}`, entermedia: { assetId: id } })),
      }),
    );
    assert.equal(run.error, undefined);
    assert.deepEqual(run.result, [
      { item: 'i-101', observed: { entermedia: 'gone' } },
      { item: 'i-102', observed: { entermedia: 'present' } },
      { item: 'i-never', observed: { entermedia: 'gone' } },
    ]);
    assert.equal(countRequests(await sandbox.stats(), { route: SEARCH }), 3);
  });

  it('a server that redirects (http to https) fails each item naming where it redirects and the variable to set', async () => {
    const server = await startStatusServer(() => ({
      status: 301,
      headers: { location: 'https://dam.example.com/assets/mediadb/services/module/asset/deleteassets' },
      body: '<html><body>Moved Permanently</body></html>',
    }));
    try {
      const run = await inActivity(() =>
        activitiesFor(sandboxEnv(sandbox, { ENTERMEDIA_BASE_URL: server.url })).deleteDamAssets({
          assets: [target('101', 'i1')],
        }),
      );
      assert.equal(run.error, undefined);
      const [entry] = run.result?.entries ?? [];
      assert.equal(entry?.answer, 'failed');
      assert.match(
        entry?.detail ?? '',
        /answered 301, a redirect to https:\/\/dam\.example\.com\/assets\/mediadb\/.*, which is not followed: check ENTERMEDIA_BASE_URL/,
      );
      assert.doesNotMatch(entry?.detail ?? '', /<html>/);
    } finally {
      await server.close();
    }
  });

  it('a wrong session key fails the whole phase without retry as EnterMediaAuthError, with the vendor message', async () => {
    const wrong = activitiesFor(sandboxEnv(sandbox, { ENTERMEDIA_KEY: 'not-the-key' }));
    const run = await inActivity(() => wrong.deleteDamAssets({ assets: [target('101')] }));
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'EnterMediaAuthError');
    assert.equal(run.error.nonRetryable, true);
    assert.match(run.error.message, /answered 401: The session key is not valid/);
  });

  it('without ENTERMEDIA_BASE_URL (no default) the activities fail at once, naming the variable', async () => {
    const env = sandboxEnv(sandbox);
    delete env.ENTERMEDIA_BASE_URL;
    const unconfigured = activitiesFor(env);
    const calls: Array<() => Promise<unknown>> = [
      () => unconfigured.deleteDamAssets({ assets: [target('101')] }),
      () => unconfigured.observeItems({ items: [{ id: 'i', entermedia: { assetId: '101' } }] }),
    ];
    for (const call of calls) {
      const run = await inActivity(call);
      assert.ok(run.error instanceof ApplicationFailure);
      assert.equal(run.error.type, 'MissingCredentialsError');
      assert.match(run.error.message, /ENTERMEDIA_BASE_URL/);
      assert.doesNotMatch(run.error.message, /ENTERMEDIA_KEY/);
    }
    assert.equal(countRequests(await sandbox.stats()), 0);
  });
});
