import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/contract.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  KEYS,
  activitiesFor,
  hexId,
  inActivity,
  sandboxEnv,
  seedWith,
  startStatusServer,
  type ActivityRun,
} from './support.js';

const SECRETS = [KEYS.twelvelabs, KEYS.uplynk, KEYS.entermedia];
const A = hexId('a', 1);

/** Every activity of every system, each with a non-empty input. */
function everyCall(activities: Activities): Array<[string, () => Promise<unknown>]> {
  const entity = { id: hexId('e', 1), collectionId: hexId('c', 1) };
  const targets = [{ item: 'i', assetId: A }];
  return [
    ['discoverAssets', () => activities.discoverAssets({ assetIds: [A], indexedAssets: true })],
    ['unlinkEntities', () => activities.unlinkEntities({ unlinks: [{ entity, targets }] })],
    [
      'deleteEntities',
      () => activities.deleteEntities({ deletes: [{ entity, targets, planAssetIds: [A] }] }),
    ],
    [
      'deleteAssets',
      () =>
        activities.deleteAssets({
          assets: [{ item: 'i', assetId: A, known: [{ id: hexId('1a', 1), indexId: hexId('1', 1) }] }],
        }),
    ],
    [
      'removeFromLibraries',
      () =>
        activities.removeFromLibraries({
          removals: [{ libraryId: 'lib', targets: [{ item: 'i', assetId: 'u1' }] }],
        }),
    ],
    ['deleteDamAssets', () => activities.deleteDamAssets({ assets: [{ item: 'i', assetId: '101' }] })],
    [
      'observeItems/twelvelabs',
      () => activities.observeItems({ items: [{ id: 'i', twelvelabs: { assetId: A } }] }),
    ],
    [
      'observeItems/entermedia',
      () => activities.observeItems({ items: [{ id: 'i', entermedia: { assetId: '101' } }] }),
    ],
  ];
}

/**
 * Reads that keep failing do not fail their activity: discovery answers the asset's error, observation
 * answers unknown. Every other activity fails its attempt, retryably.
 */
function assertFailedRetryably(name: string, run: ActivityRun<unknown>): void {
  if (name === 'discoverAssets') {
    const [found] = run.result as Array<{ error?: { type: string } }>;
    assert.ok(found?.error, `${name} answers the asset's error`);
    return;
  }
  if (name.startsWith('observeItems')) {
    const [seen] = run.result as Array<{ observed: Record<string, string> }>;
    assert.deepEqual(Object.values(seen?.observed ?? {}), ['unknown'], name);
    return;
  }
  assert.ok(run.error instanceof ApplicationFailure, `${name} fails`);
  assert.equal(run.error.nonRetryable, false, name);
}

/** Everything a failure exposes: message, stack, details, the cause chain, its JSON and its inspection. */
function exposed(run: ActivityRun<unknown>): string {
  const parts: string[] = [JSON.stringify(run.result ?? null), ...run.logs, JSON.stringify(run.heartbeats)];
  let error: unknown = run.error;
  for (let depth = 0; error !== undefined && error !== null && depth < 10; depth++) {
    parts.push(inspect(error, { depth: 10, showHidden: true }));
    parts.push(JSON.stringify(error, Object.getOwnPropertyNames(error)));
    if (error instanceof ApplicationFailure) parts.push(JSON.stringify(error.details));
    if (error instanceof Error) {
      parts.push(error.message, String(error.stack));
      error = error.cause;
    } else break;
  }
  return parts.join('\n');
}

function assertNoSecret(name: string, run: ActivityRun<unknown>): void {
  const text = exposed(run);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${name} exposes a secret`);
  // Uplynk's signature travels in the URL: no signed URL may surface either.
  assert.doesNotMatch(text, /[?&](sig|msg)=[^*]/, `${name} exposes a signed URL`);
}

describe('no secret in anything an activity throws, logs or answers', () => {
  const sandbox = seededSandboxForSuite(seedWith({}));

  it('when every system refuses the keys (401), the failures name the variable to check and no secret', async () => {
    // The sandbox expects the test keys; the worker sends other keys that are secrets too.
    const wrong = activitiesFor(
      sandboxEnv(sandbox, {
        TWELVELABS_API_KEY: `${KEYS.twelvelabs}-old`,
        UPLYNK_API_KEY: `${KEYS.uplynk}-old`,
        ENTERMEDIA_KEY: `${KEYS.entermedia}-old`,
      }),
    );
    for (const [name, call] of everyCall(wrong)) {
      const run = await inActivity(call);
      assert.ok(run.error instanceof ApplicationFailure, `${name} fails`);
      assert.match(run.error.type ?? '', /^(TwelveLabs|Uplynk|EnterMedia)AuthError$/, name);
      assert.equal(run.error.nonRetryable, true, name);
      assertNoSecret(name, run);
    }
  });

  it('when every system answers 500, the retryable failures carry no secret', async () => {
    await sandbox.faults({
      twelvelabs: { error5xx: 1 },
      uplynk: { error5xx: 1 },
      entermedia: { error5xx: 1 },
    });
    const activities = activitiesFor(sandboxEnv(sandbox, { BULK_DELETE_CALL_RETRY_MS: '300' }));
    for (const [name, call] of everyCall(activities)) {
      const run = await inActivity(call);
      assertFailedRetryably(name, run);
      assertNoSecret(name, run);
    }
  });

  it('when connections drop or time out, the failures carry no secret and no signed URL', async () => {
    await sandbox.faults({
      twelvelabs: { drop: 1 },
      uplynk: { drop: 1 },
      entermedia: { latencyMs: [800, 800] },
    });
    const activities = activitiesFor(
      sandboxEnv(sandbox, { BULK_DELETE_HTTP_TIMEOUT_MS: '200', BULK_DELETE_CALL_RETRY_MS: '300' }),
    );
    for (const [name, call] of everyCall(activities)) {
      const run = await inActivity(call);
      assertFailedRetryably(name, run);
      assertNoSecret(name, run);
    }
  });

  it('a vendor that echoes the credentials it was sent is scrubbed before its message is shown', async () => {
    const echo = await startStatusServer((request) => ({
      status: 400,
      body: {
        code: 'parameter_invalid',
        message: `bad request with key ${String(request.headers['x-api-key'])}, cookie ${String(request.headers.cookie)}, url ${request.url}`,
        '@type': 'Error',
        title: `url ${request.url}`,
      },
    }));
    try {
      const root = echo.url;
      const activities = activitiesFor(
        sandboxEnv(sandbox, {
          TWELVELABS_BASE_URL: root,
          UPLYNK_BASE_URL: root,
          ENTERMEDIA_BASE_URL: root,
        }),
      );
      for (const [name, call] of everyCall(activities)) {
        const run = await inActivity(call);
        assertNoSecret(name, run);
      }
    } finally {
      await echo.close();
    }
  });
});
