import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/contract.js';
import { UPLYNK_MAX_URL_LENGTH, createUplynkClient } from '../../activities/uplynk-client.js';
import { signUplynkRequest } from '../../activities/uplynk-signing.js';
import { createRateLimiter } from '../../activities/rate-limiter.js';
import { verifyUplynk } from '../../sandbox/index.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  KEYS,
  activitiesFor,
  answers,
  countRequests,
  inActivity,
  sandboxEnv,
  seedWith,
  target,
} from './support.js';

const LIB1 = '8b69f969c65e481385281331520cf1e2';
const LIB2 = '0c2d4b1f7a9e4e6bb0b5d1a2c3e4f5a6';
const REMOVE_ROUTE = 'DELETE /libraries/{library_id}/assets';

describe('Uplynk signing', () => {
  it('signs msg as base64 of zlib-deflated {_owner, _timestamp} and sig as hex HMAC-SHA256 of msg', () => {
    const { msg, sig } = signUplynkRequest('owner-42', 'key', 1_700_000_000);
    assert.deepEqual(JSON.parse(inflateSync(Buffer.from(msg, 'base64')).toString('utf8')), {
      _owner: 'owner-42',
      _timestamp: 1_700_000_000,
    });
    assert.match(sig, /^[0-9a-f]{64}$/);
    // The sandbox's own verifier (written separately, from API.md) accepts it at that time.
    const query = new URLSearchParams({ msg, sig });
    assert.equal(verifyUplynk(query, { ownerId: 'owner-42', apiKey: 'key' }, 1_700_000_000_000), undefined);
    assert.match(
      String(verifyUplynk(query, { ownerId: 'owner-42', apiKey: 'other' }, 1_700_000_000_000)),
      /signature/,
    );
  });
});

describe('Uplynk activities against the sandbox', () => {
  const sandbox = seededSandboxForSuite(
    seedWith({
      uplynk: {
        libraries: [
          { id: LIB1, asset_ids: ['a1', 'a2', 'keep'] },
          { id: LIB2, asset_ids: ['a1', 'a3'] },
        ],
      },
    }),
  );
  let activities: Activities;
  before(() => {
    activities = activitiesFor(sandboxEnv(sandbox));
  });

  async function members(id: string): Promise<string[] | undefined> {
    return (await sandbox.state()).uplynk.libraries.find((l) => l.id === id)?.asset_ids.sort();
  }

  it('removes assets with one signed call per library and answers one entry per item, library and asset', async () => {
    const run = await inActivity(() =>
      activities.removeFromLibraries({
        removals: [
          { libraryId: LIB1, targets: [target('a1', 'i1')] },
          { libraryId: LIB2, targets: [target('a1', 'i1'), target('a3', 'i3')] },
          { libraryId: LIB1, targets: [target('a2', 'i2')] },
        ],
      }),
    );
    assert.equal(run.error, undefined);
    assert.deepEqual(
      run.result?.entries.map((e) => [e.item, e.system, e.step, e.target, e.answer]).sort(),
      [
        ['i1', 'uplynk', 'remove-from-library', `${LIB1}/a1`, 'removal-requested'],
        ['i1', 'uplynk', 'remove-from-library', `${LIB2}/a1`, 'removal-requested'],
        ['i2', 'uplynk', 'remove-from-library', `${LIB1}/a2`, 'removal-requested'],
        ['i3', 'uplynk', 'remove-from-library', `${LIB2}/a3`, 'removal-requested'],
      ].sort(),
    );
    assert.deepEqual(await members(LIB1), ['keep']);
    assert.deepEqual(await members(LIB2), []);
    assert.equal(countRequests(await sandbox.stats(), { route: REMOVE_ROUTE, status: 200 }), 2);
  });

  it('an asset that two items name in one library is sent once, and each item has its entry', async () => {
    const run = await inActivity(() =>
      activities.removeFromLibraries({
        removals: [
          { libraryId: LIB1, targets: [target('a1', 'i1'), target('a1', 'i2'), target('a2', 'i2')] },
        ],
      }),
    );
    assert.equal(run.error, undefined);
    assert.deepEqual(run.result?.entries.map((e) => [e.item, e.target]).sort(), [
      ['i1', `${LIB1}/a1`],
      ['i2', `${LIB1}/a1`],
      ['i2', `${LIB1}/a2`],
    ]);
    assert.deepEqual(await members(LIB1), ['keep']);
    assert.equal(countRequests(await sandbox.stats(), { route: REMOVE_ROUTE }), 1);
  });

  it('splits many IDs of one library into several calls whose URLs stay under 2,000 characters', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `asset-${String(i).padStart(6, '0')}`);
    await sandbox.seed(seedWith({ uplynk: { libraries: [{ id: LIB1, asset_ids: [...ids, 'keep'] }] } }));
    const client = createUplynkClient({
      baseUrl: `${sandbox.url}/uplynk/api/v4`,
      ownerId: KEYS.uplynkOwner,
      apiKey: KEYS.uplynk,
      timeoutMs: 5000,
      limiter: createRateLimiter({ concurrency: 1 }),
      secrets: [],
    });
    const groups = client.groupForUrl(LIB1, ids);
    assert.ok(groups.length > 1);
    assert.deepEqual(groups.flat(), ids);
    for (const group of groups) {
      const { msg, sig } = signUplynkRequest(KEYS.uplynkOwner, KEYS.uplynk);
      const url = `${sandbox.url}/uplynk/api/v4/libraries/${LIB1}/assets?${new URLSearchParams({ ids: group.join(','), msg, sig }).toString()}`;
      assert.ok(url.length <= UPLYNK_MAX_URL_LENGTH, `URL of ${url.length} characters`);
    }

    const run = await inActivity(() =>
      activities.removeFromLibraries({
        removals: [{ libraryId: LIB1, targets: ids.map((id) => target(id)) }],
      }),
    );
    assert.equal(run.result?.entries.length, 300);
    assert.ok(run.result?.entries.every((e) => e.answer === 'removal-requested'));
    assert.deepEqual(await members(LIB1), ['keep']);
    assert.equal(countRequests(await sandbox.stats(), { route: REMOVE_ROUTE }), groups.length);
  });

  it('an unknown library answers already-absent for each of its pairs, and a second run still succeeds', async () => {
    const removals = [
      { libraryId: 'no-such-library', targets: [target('a1'), target('a2')] },
      { libraryId: LIB1, targets: [target('a1')] },
    ];
    const run = await inActivity(() => activities.removeFromLibraries({ removals }));
    assert.deepEqual(answers(run.result), [
      ['remove-from-library', `${LIB1}/a1`, 'removal-requested'],
      ['remove-from-library', 'no-such-library/a1', 'already-absent'],
      ['remove-from-library', 'no-such-library/a2', 'already-absent'],
    ]);
    // Uplynk ignores IDs that are not in the library (200), so a rerun is harmless.
    const again = await inActivity(() => activities.removeFromLibraries({ removals }));
    assert.equal(again.error, undefined);
    assert.equal((await sandbox.stats()).mutations.uplynk, 1);
  });

  it('an ID that is not safe in a URL fails its items without any call', async () => {
    const run = await inActivity(() =>
      activities.removeFromLibraries({ removals: [{ libraryId: LIB1, targets: [target('a1/../x')] }] }),
    );
    assert.equal(run.error, undefined);
    assert.equal(run.result?.entries[0]?.answer, 'failed');
    assert.match(run.result?.entries[0]?.detail ?? '', /UnsafeIdError: .*not a safe ID/);
    assert.equal(countRequests(await sandbox.stats()), 0);
  });

  it('a wrong API key fails the whole phase without retry as UplynkAuthError', async () => {
    const wrong = activitiesFor(sandboxEnv(sandbox, { UPLYNK_API_KEY: 'not-the-key' }));
    const run = await inActivity(() =>
      wrong.removeFromLibraries({ removals: [{ libraryId: LIB1, targets: [target('a1')] }] }),
    );
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'UplynkAuthError');
    assert.equal(run.error.nonRetryable, true);
    assert.match(run.error.message, /401.*signature/);
    assert.deepEqual(await members(LIB1), ['a1', 'a2', 'keep']);
  });

  it('without UPLYNK_OWNER_ID and UPLYNK_API_KEY the activity fails at once, naming both', async () => {
    const unconfigured = activitiesFor(sandboxEnv(sandbox, { UPLYNK_OWNER_ID: '', UPLYNK_API_KEY: '' }));
    const run = await inActivity(() =>
      unconfigured.removeFromLibraries({ removals: [{ libraryId: LIB1, targets: [target('a1')] }] }),
    );
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'MissingCredentialsError');
    assert.equal(run.error.nonRetryable, true);
    assert.match(run.error.message, /UPLYNK_OWNER_ID and UPLYNK_API_KEY/);
    assert.equal(countRequests(await sandbox.stats()), 0);
  });
});
