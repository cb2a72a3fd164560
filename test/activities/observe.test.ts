import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import { activitiesFor, countRequests, hexId, inActivity, sandboxEnv, seedWith } from './support.js';

const A = hexId('a', 1);
const GONE = hexId('a', 2);

describe('observeItems against the sandbox', () => {
  const sandbox = seededSandboxForSuite(
    seedWith({
      twelvelabs: { assets: [{ _id: A }] },
      uplynk: { libraries: [{ id: 'lib', asset_ids: ['u1'] }] },
      entermedia: { assets: [{ id: '101' }] },
    }),
  );

  it('answers gone or present per system that can be read, and unknown for Uplynk without any call', async () => {
    const activities = activitiesFor(sandboxEnv(sandbox));
    const run = await inActivity(() =>
      activities.observeItems({
        items: [
          {
            id: 'present',
            twelvelabs: { assetId: A },
            uplynk: { assetId: 'u1', libraryIds: ['lib'] },
            entermedia: { assetId: '101' },
          },
          { id: 'gone', twelvelabs: { assetId: GONE }, entermedia: { assetId: '999' } },
          { id: 'uplynk-only', uplynk: { assetId: 'u2', libraryIds: ['lib'] } },
        ],
      }),
    );
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(run.result, [
      { item: 'present', observed: { twelvelabs: 'present', uplynk: 'unknown', entermedia: 'present' } },
      { item: 'gone', observed: { twelvelabs: 'gone', entermedia: 'gone' } },
      { item: 'uplynk-only', observed: { uplynk: 'unknown' } },
    ]);
    const stats = await sandbox.stats();
    assert.equal(countRequests(stats, { system: 'uplynk' }), 0);
    assert.equal(countRequests(stats, { route: 'GET /assets/{asset_id}' }), 2);
    assert.equal(stats.mutations.twelvelabs + stats.mutations.entermedia, 0);
  });

  it('a read that keeps failing past the bound is unknown for that system only', async () => {
    await sandbox.faults({ entermedia: { error5xx: 1 } });
    const activities = activitiesFor(sandboxEnv(sandbox, { BULK_DELETE_CALL_RETRY_MS: '200' }));
    const run = await inActivity(() =>
      activities.observeItems({
        items: [{ id: 'i', twelvelabs: { assetId: A }, entermedia: { assetId: '101' } }],
      }),
    );
    assert.equal(run.error, undefined, String(run.error));
    assert.deepEqual(run.result, [{ item: 'i', observed: { twelvelabs: 'present', entermedia: 'unknown' } }]);
  });

  it('a refused key fails the observation without retry', async () => {
    const wrong = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_API_KEY: 'not-the-key' }));
    const run = await inActivity(() =>
      wrong.observeItems({ items: [{ id: 'i', twelvelabs: { assetId: A } }] }),
    );
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'TwelveLabsAuthError');
    assert.equal(run.error.nonRetryable, true);
  });
});
