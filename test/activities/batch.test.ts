import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ItemResult } from '../../activities/contract.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import {
  activitiesFor,
  countRequests,
  hexId,
  inActivity,
  lastDone,
  sandboxEnv,
  seedWith,
} from './support.js';

const DELETE_ASSET = 'DELETE /assets/{asset_id}';
const DAM_DELETE = 'POST /assets/mediadb/services/module/asset/deleteassets';

describe('batch activities: heartbeats, resume, cancellation, limits', () => {
  let sandbox: TestSandbox;
  const assets = Array.from({ length: 12 }, (_, i) => hexId('a', i));
  const damAssets = Array.from({ length: 12 }, (_, i) => `dam-${i}`);
  before(async () => {
    sandbox = await startTestSandbox();
  });
  after(() => sandbox?.close());
  beforeEach(async () => {
    await sandbox.reset();
    await sandbox.seed(
      seedWith({
        twelvelabs: { assets: assets.map((_id) => ({ _id })) },
        entermedia: { assets: damAssets.map((id) => ({ id })) },
      }),
    );
  });

  it('heartbeats every result so far, and a retry resumes from them without repeating a call that succeeded', async () => {
    // One at a time, so that a 5xx lands after some deletes succeeded. The fault seed that does so is
    // looked for rather than hard-coded, so that the test does not depend on the sandbox's PRNG.
    const activities = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_CONCURRENCY: '1' }));
    let first: Awaited<ReturnType<typeof inActivity<ItemResult[]>>> | undefined;
    let done: ItemResult[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      await sandbox.reset();
      await sandbox.seed(seedWith({ twelvelabs: { assets: assets.map((_id) => ({ _id })) } }));
      await sandbox.faults({ seed, twelvelabs: { error5xx: 0.3 } });
      first = await inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: assets }));
      done = lastDone(first) as ItemResult[];
      if (first.error && done.length >= 2) break;
    }
    assert.ok(first?.error instanceof ApplicationFailure, 'the first attempt fails on a 5xx');
    assert.equal(first.error.nonRetryable, false);
    assert.ok(done.length >= 2 && done.length < assets.length, `settled ${done.length} before the 5xx`);
    assert.ok(done.every((r) => r.outcome === 'deleted'));

    await sandbox.faults({});
    const statsBefore = await sandbox.stats();
    const retry = await inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: assets }), {
      attempt: 2,
      heartbeatDetails: first.heartbeats.at(-1),
    });
    assert.equal(retry.error, undefined);
    assert.deepEqual(
      retry.result?.map((r) => r.key),
      assets,
    );
    assert.ok(retry.result?.every((r) => r.outcome === 'deleted'));
    const statsAfter = await sandbox.stats();
    // Only the assets the first attempt had not settled were requested again, and none was already gone.
    assert.equal(
      countRequests(statsAfter, { route: DELETE_ASSET }) -
        countRequests(statsBefore, { route: DELETE_ASSET }),
      assets.length - done.length,
    );
    assert.equal(countRequests(statsAfter, { route: DELETE_ASSET, status: 404 }), 0);
    assert.equal(statsAfter.mutations.twelvelabs, assets.length);
  });

  it('a retry whose heartbeat covers every item makes no call at all', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const first = await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: damAssets }));
    assert.equal(first.error, undefined);
    const calls = countRequests(await sandbox.stats());
    const retry = await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: damAssets }), {
      attempt: 2,
      heartbeatDetails: first.heartbeats.at(-1),
    });
    assert.deepEqual(retry.result, first.result);
    assert.equal(countRequests(await sandbox.stats()), calls);
  });

  it('heartbeat details of an unknown shape are ignored and the batch starts over, safely', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(
      () => activities.deleteEnterMediaAssets({ assetIds: damAssets.slice(0, 2) }),
      {
        attempt: 2,
        heartbeatDetails: { progress: 7 },
      },
    );
    assert.deepEqual(
      run.result?.map((r) => r.outcome),
      ['deleted', 'deleted'],
    );
    assert.ok(run.logs.some((line) => line.includes('unexpected shape')));
  });

  it('when cancelled, a batch stops promptly between calls and rethrows the cancellation', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox, { ENTERMEDIA_CONCURRENCY: '1' }));
    await sandbox.faults({ entermedia: { latencyMs: [100, 100] } });
    const started = Date.now();
    const run = await inActivity(
      () => activities.deleteEnterMediaAssets({ assetIds: damAssets }),
      {},
      (env) => setTimeout(() => env.cancel(), 250),
    );
    assert.ok(run.error instanceof CancelledFailure, String(run.error));
    assert.ok(Date.now() - started < 1000, 'stopped within a second, not after all 12 calls');
    const calls = countRequests(await sandbox.stats(), { route: DAM_DELETE });
    assert.ok(calls <= 4, `${calls} calls before the cancellation took effect`);
    // What was done before the cancellation is in the last heartbeat, for whoever runs it again.
    assert.ok(lastDone(run).length >= 1);
  });

  it('the worker keeps to a system’s requests-per-second limit across concurrent activities', async () => {
    const activities = activitiesFor(
      sandboxEnv(sandbox, { TWELVELABS_MAX_RPS: '5', TWELVELABS_CONCURRENCY: '8' }),
    );
    const started = Date.now();
    // Two activities at once share the one TwelveLabs limiter of this worker.
    const [a, b] = await Promise.all([
      inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: assets.slice(0, 6) })),
      inActivity(() => activities.deleteTwelveLabsAssets({ assetIds: assets.slice(6) })),
    ]);
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    const stats = await sandbox.stats();
    assert.ok(
      stats.peakRequestsPerSecond.twelvelabs <= 5,
      `peak ${stats.peakRequestsPerSecond.twelvelabs}/s`,
    );
    // 12 starts 200 ms apart take at least 2.2 s.
    assert.ok(Date.now() - started >= 2100);
  });

  it('a Retry-After holds back the other calls of this worker to the same system', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    await sandbox.faults({ entermedia: { error429: 1, retryAfterSeconds: 1 } });
    const limited = await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: [damAssets[0]!] }));
    assert.ok(limited.error instanceof ApplicationFailure);
    assert.equal(limited.error.nextRetryDelay, 1000);
    await sandbox.faults({});
    const started = Date.now();
    const next = await inActivity(() => activities.deleteEnterMediaAssets({ assetIds: [damAssets[1]!] }));
    assert.equal(next.result?.[0]?.outcome, 'deleted');
    assert.ok(Date.now() - started >= 800, 'waited for the Retry-After');
  });
});
