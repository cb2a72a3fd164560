import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/contract.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { activitiesFor, countRequests, inActivity, sandboxEnv, seedWith } from './support.js';

describe('EnterMediaDB activities against the sandbox', () => {
  let sandbox: TestSandbox;
  let activities: Activities;
  before(async () => {
    sandbox = await startTestSandbox();
    activities = activitiesFor(sandboxEnv(sandbox));
  });
  after(() => sandbox?.close());
  beforeEach(async () => {
    await sandbox.reset();
    await sandbox.seed(seedWith({ entermedia: { assets: [{ id: '101' }, { id: '102' }, { id: 'keep' }] } }));
  });

  it('deletes assets with the session cookie, and a second run answers already-absent (rowsedited "0")', async () => {
    const first = await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: ['101', '102'] }));
    assert.equal(first.error, undefined);
    assert.deepEqual(
      first.result?.map((r) => [r.key, r.outcome]),
      [
        ['101', 'deleted'],
        ['102', 'deleted'],
      ],
    );
    const second = await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: ['101', '102'] }));
    assert.deepEqual(
      second.result?.map((r) => r.outcome),
      ['already-absent', 'already-absent'],
    );
    assert.match(second.result?.[0]?.detail ?? '', /rowsedited 0/);
    const state = await sandbox.state();
    assert.deepEqual(
      state.entermedia.assets.map((a) => a.id),
      ['keep'],
    );
    assert.equal((await sandbox.stats()).mutations.entermedia, 2);
  });

  it('finding assets answers only those that search still finds', async () => {
    await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: ['101'] }));
    const run = await inActivity(() =>
      activities.findEnterMediaAssets({ assetIds: ['101', '102', 'never'] }),
    );
    assert.deepEqual(run.result, ['102']);
    assert.equal(
      countRequests(await sandbox.stats(), { route: 'POST /assets/mediadb/services/module/asset/search' }),
      3,
    );
  });

  it('a wrong session key fails the whole batch without retry as EnterMediaAuthError, with the vendor message', async () => {
    const wrong = activitiesFor(sandboxEnv(sandbox, { ENTERMEDIA_KEY: 'not-the-key' }));
    const run = await inActivity(() => wrong.deleteEnterMediaAssets({ assetIds: ['101'] }));
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
      () => unconfigured.deleteEnterMediaAssets({ assetIds: ['101'] }),
      () => unconfigured.findEnterMediaAssets({ assetIds: ['101'] }),
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
