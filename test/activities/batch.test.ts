import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  activitiesFor,
  answers,
  countRequests,
  faultSeed,
  hexId,
  inActivity,
  lastDone,
  sandboxEnv,
  seedWith,
  target,
} from './support.js';

const DELETE_ASSET = 'DELETE /assets/{asset_id}';
const DAM_DELETE = 'POST /assets/mediadb/services/module/asset/deleteassets';

describe('phase activities: heartbeats, resume, cancellation, limits', () => {
  const assets = Array.from({ length: 12 }, (_, i) => hexId('a', i));
  const damAssets = Array.from({ length: 12 }, (_, i) => `dam-${i}`);
  const sandbox = seededSandboxForSuite(
    seedWith({
      twelvelabs: { assets: assets.map((_id) => ({ _id })) },
      entermedia: { assets: damAssets.map((id) => ({ id })) },
    }),
  );

  it('a call failing past BULK_DELETE_CALL_RETRY_MS fails the attempt retryably; the retry resumes from the heartbeat and repeats no successful call', async () => {
    const six = assets.slice(0, 6);
    // One unit at a time: per asset, a listing of its indexed assets, then the forced delete. Requests
    // 0..4 (two assets done, the third one's listing) succeed; the third asset's delete and every try
    // after it answer 5xx, far more tries than fit in 300 ms of backoff.
    const seed = faultSeed('twelvelabs', { error5xx: 0.8 }, 20, (kinds) =>
      kinds.every((k, i) => (i < 5 ? k === 'ok' : k === '5xx')),
    );
    await sandbox.faults({ seed, twelvelabs: { error5xx: 0.8 } });
    const activities = activitiesFor(
      sandboxEnv(sandbox, {
        TWELVELABS_CONCURRENCY: '1',
        BULK_DELETE_UNITS_PER_SLOT: '1',
        BULK_DELETE_CALL_RETRY_MS: '300',
      }),
    );
    const input = { assets: six.map((id) => ({ ...target(id), known: [] })) };
    const first = await inActivity(() => activities.deleteAssets(input));
    assert.ok(first.error instanceof ApplicationFailure, String(first.error));
    assert.equal(first.error.type, 'VendorUnavailableError');
    assert.equal(first.error.nonRetryable, false);
    assert.match(first.error.message, /DELETE \/assets\/\{asset_id\}.*still failing after \d+ tries/);
    assert.deepEqual(lastDone(first), six.slice(0, 2));
    let stats = await sandbox.stats();
    assert.equal(stats.mutations.twelvelabs, 2);
    const faulted = countRequests(stats, { route: DELETE_ASSET }) - 2;
    assert.ok(faulted >= 2, `the failing delete was tried ${faulted} times`);

    await sandbox.faults({});
    const retry = await inActivity(() => activities.deleteAssets(input), {
      attempt: 2,
      heartbeatDetails: first.heartbeats.at(-1),
    });
    assert.equal(retry.error, undefined);
    assert.deepEqual(answers(retry.result), six.map((id) => ['delete-asset', id, 'deleted']).sort());
    assert.deepEqual(retry.result?.failures, []);
    stats = await sandbox.stats();
    // Each asset was deleted once: a repeated delete would have answered 404, and the two assets the
    // first attempt finished were neither listed nor deleted again.
    assert.equal(stats.mutations.twelvelabs, six.length);
    assert.equal(countRequests(stats, { route: DELETE_ASSET, status: 200 }), six.length);
    assert.equal(countRequests(stats, { route: DELETE_ASSET, status: 404 }), 0);
    assert.equal(
      countRequests(stats, { route: 'GET /assets/{asset_id}/indexed-assets', status: 200 }),
      3 + (six.length - 2),
    );
  });

  it('a worker shutting down mid-phase heartbeats every unit it finished; the retry makes no call at all', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const input = { assets: damAssets.map((id) => target(id)) };
    // Every delete is in flight at once, answered after 300 ms; the worker shuts down after 100 ms. A
    // request already sent finishes, so each unit ends done and the attempt fails (for another worker).
    await sandbox.faults({ entermedia: { latencyMs: [300, 300] } });
    const first = await inActivity(
      () => activities.deleteDamAssets(input),
      {},
      (env) => setTimeout(() => env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({})), 100),
    );
    await sandbox.faults({});
    assert.ok(first.error !== undefined, 'the attempt fails when its worker shuts down');
    assert.deepEqual(lastDone(first).sort(), [...damAssets].sort());
    let stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: DAM_DELETE }), damAssets.length);
    const retry = await inActivity(() => activities.deleteDamAssets(input), {
      attempt: 2,
      heartbeatDetails: first.heartbeats.at(-1),
    });
    assert.equal(retry.error, undefined);
    assert.deepEqual(
      retry.result?.entries.map((e) => [e.target, e.answer]).sort(),
      damAssets.map((id) => [id, 'deleted']).sort(),
    );
    stats = await sandbox.stats();
    assert.equal(countRequests(stats, { route: DAM_DELETE }), damAssets.length);
  });

  it('an attempt that answers sends no last heartbeat: its answer is the record', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(() =>
      activities.deleteDamAssets({ assets: damAssets.slice(0, 2).map((id) => target(id)) }),
    );
    assert.equal(run.error, undefined);
    assert.equal(run.result?.entries.length, 2);
    assert.deepEqual(run.heartbeats, []);
  });

  it('heartbeat details of an unknown shape are ignored and the phase starts over, safely', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(
      () => activities.deleteDamAssets({ assets: damAssets.slice(0, 2).map((id) => target(id)) }),
      { attempt: 2, heartbeatDetails: { progress: 7 } },
    );
    assert.deepEqual(
      run.result?.entries.map((e) => e.answer),
      ['deleted', 'deleted'],
    );
    assert.ok(run.logs.some((line) => line.includes('unexpected shape')));
  });

  it('when the workflow cancels it, a phase stops promptly between calls and answers what it did, as stopped', async () => {
    const activities = activitiesFor(
      sandboxEnv(sandbox, { ENTERMEDIA_CONCURRENCY: '1', BULK_DELETE_UNITS_PER_SLOT: '4' }),
    );
    await sandbox.faults({ entermedia: { latencyMs: [100, 100] } });
    const started = Date.now();
    const run = await inActivity(
      () => activities.deleteDamAssets({ assets: damAssets.map((id) => target(id)) }),
      {},
      (env) => setTimeout(() => env.cancel(), 250),
    );
    assert.equal(run.error, undefined, String(run.error));
    assert.equal(run.result?.stopped, true);
    assert.ok(Date.now() - started < 1000, 'stopped within a second, not after all 12 calls');
    const calls = countRequests(await sandbox.stats(), { route: DAM_DELETE });
    assert.ok(calls <= 4, `${calls} calls before the cancellation took effect`);
    const answered = run.result?.entries ?? [];
    assert.ok(answered.length >= 1 && answered.length < damAssets.length);
    assert.ok(answered.every((e) => e.answer === 'deleted'));
    // A request already sent finishes: the answer records every delete the DAM received.
    assert.equal(answered.length, calls);
  });

  it('each heartbeat is a snapshot: what a heartbeat carries does not change after it was given', async () => {
    const activities = activitiesFor(
      sandboxEnv(sandbox, { ENTERMEDIA_CONCURRENCY: '1', BULK_DELETE_UNITS_PER_SLOT: '4' }),
    );
    await sandbox.faults({ entermedia: { latencyMs: [300, 300] } });
    // 8 deletes one after another, 300 ms each: a heartbeat after 1 s and another after 2 s.
    const run = await inActivity(() =>
      activities.deleteDamAssets({ assets: damAssets.slice(0, 8).map((id) => target(id)) }),
    );
    assert.equal(run.error, undefined);
    assert.ok(run.heartbeats.length >= 2);
    // The SDK encodes heartbeat details when it sends them, which can be later than the call.
    assert.deepEqual(
      run.heartbeats.map((h) => JSON.stringify(h)),
      run.said,
    );
  });

  it('a retried attempt tells what it waits for itself, not what the lost attempt before it waited for', async () => {
    await sandbox.faults({ entermedia: { latencyMs: [300, 300] } });
    const activities = activitiesFor(
      sandboxEnv(sandbox, { ENTERMEDIA_CONCURRENCY: '1', BULK_DELETE_UNITS_PER_SLOT: '4' }),
    );
    // The last heartbeat of an attempt whose worker died while its calls queued there.
    const stale = '40 calls queued for entermedia (16 in flight, at most 47 requests/s)';
    const run = await inActivity(
      () => activities.deleteDamAssets({ assets: damAssets.slice(0, 8).map((id) => target(id)) }),
      {
        attempt: 2,
        heartbeatDetails: {
          v: 2,
          done: [],
          inFlight: [],
          entries: [],
          failures: [],
          refused: [],
          waiting: stale,
        },
      },
    );
    assert.equal(run.error, undefined, String(run.error));
    const told = run.heartbeats.map((h) => (h as { waiting?: string }).waiting);
    assert.ok(told.length >= 2, `${told.length} heartbeats`);
    assert.ok(
      told.every((w) => !w?.includes(stale)),
      `heartbeats said: ${JSON.stringify(told)}`,
    );
    // What it does wait for is told: its own calls queued behind one request in flight.
    assert.ok(
      told.some((w) => /calls? queued for entermedia \(1 in flight\)/.test(w ?? '')),
      JSON.stringify(told),
    );
  });

  it('the worker keeps to a system’s requests-per-second limit across concurrent activities', async () => {
    const activities = activitiesFor(
      sandboxEnv(sandbox, { TWELVELABS_MAX_RPS: '5', TWELVELABS_CONCURRENCY: '8' }),
    );
    const started = Date.now();
    // Two activities at once share the one TwelveLabs limiter of this worker: one request per asset.
    const [a, b] = await Promise.all([
      inActivity(() => activities.discoverAssets({ assetIds: assets.slice(0, 6), indexedAssets: false })),
      inActivity(() => activities.discoverAssets({ assetIds: assets.slice(6), indexedAssets: false })),
    ]);
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { system: 'twelvelabs' }), 12);
    assert.ok(
      stats.peakRequestsPerSecond.twelvelabs <= 5,
      `peak ${stats.peakRequestsPerSecond.twelvelabs}/s`,
    );
    // 12 starts 200 ms apart take at least 2.2 s.
    assert.ok(Date.now() - started >= 2100);
    // Meanwhile, the phases' heartbeats said what they waited for.
    const told = [...a.heartbeats, ...b.heartbeats].map((h) => (h as { waiting?: string }).waiting);
    assert.ok(
      told.some((w) =>
        /^\d+ calls? queued for twelvelabs \(8 in flight, at most 5 requests\/s\)$/.test(w ?? ''),
      ),
      `heartbeats said: ${JSON.stringify(told)}`,
    );
  });
});
