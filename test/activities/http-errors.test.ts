import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  ErrorTypes,
  NON_RETRYABLE_ERROR_TYPES,
  classifyError,
  classifyStatus,
  parseRetryAfter,
  transportStatus,
  toApplicationFailure,
  vendorMessage,
  type CallSite,
} from '../../activities/http-errors.js';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import {
  activitiesFor,
  countRequests,
  faultSeed,
  hexId,
  inActivity,
  sandboxEnv,
  seedWith,
  startStatusServer,
} from './support.js';

const site: CallSite = { system: 'twelvelabs', method: 'DELETE', route: '/assets/{asset_id}', target: 'x' };
const tlError = (code: string, message: string) => ({ code, message });

describe('the error table, row by row', () => {
  it('404 means the target is absent (a delete reads it as already done)', () => {
    const f = classifyStatus(site, 404, tlError('resource_not_exist', 'The asset x does not exist.'));
    assert.equal(f.disposition, 'absent');
    assert.match(
      f.message,
      /DELETE \/assets\/\{asset_id\} \(x\) answered 404 \[resource_not_exist\]: The asset x does not exist\./,
    );
  });

  it("a 404 that is not the vendor's own not-found fails the item with a hint, never reads as absent", () => {
    const wrapped = classifyStatus(site, 404, { error: tlError('resource_not_exist', 'gone') });
    assert.equal(wrapped.disposition, 'absent');
    for (const body of [
      '<html>Not Found</html>',
      '',
      { message: 'Not Found' },
      tlError('route_not_found', 'no'),
    ]) {
      const f = classifyStatus(site, 404, body);
      assert.equal(f.disposition, 'item', JSON.stringify(body));
      assert.equal(f.type, 'NotFoundError');
      assert.match(f.message, /check TWELVELABS_BASE_URL; not read as already absent/);
    }
    const library = { system: 'uplynk', method: 'DELETE', route: '/libraries/{library_id}/assets' } as const;
    const uplynkGone = { '@type': 'Error', code: 'NotFound', status_code: 404, title: 'Not Found' };
    assert.equal(classifyStatus(library, 404, uplynkGone).disposition, 'absent');
    assert.equal(classifyStatus(library, 404, 'Not Found').disposition, 'item');
    const dam = {
      system: 'entermedia',
      method: 'POST',
      route: '/assets/mediadb/services/module/asset/deleteassets',
    } as const;
    const damError = { response: { status: 'error', message: 'No route' } };
    const f = classifyStatus(dam, 404, damError);
    assert.equal(f.disposition, 'item');
    assert.match(f.message, /rowsedited "0", not 404: .* check ENTERMEDIA_BASE_URL/);
  });

  it('400 and 422 fail the item without retry as InvalidRequestError, with the vendor message', () => {
    for (const status of [400, 422]) {
      const f = classifyStatus(site, status, tlError('parameter_invalid', 'page_limit must be at most 50'));
      assert.equal(f.disposition, 'item');
      assert.equal(f.type, 'InvalidRequestError');
      assert.match(f.message, /page_limit must be at most 50/);
    }
  });

  it('401 stops the whole batch without retry with each system its own auth error type', () => {
    assert.equal(classifyStatus(site, 401, {}).type, 'TwelveLabsAuthError');
    assert.equal(classifyStatus({ ...site, system: 'uplynk' }, 401, {}).type, 'UplynkAuthError');
    assert.equal(classifyStatus({ ...site, system: 'entermedia' }, 401, {}).type, 'EnterMediaAuthError');
    const f = classifyStatus(site, 401, tlError('api_key_invalid', 'The API key is invalid.'));
    assert.equal(f.disposition, 'batch');
    assert.match(f.message, /The API key is invalid\..*TWELVELABS_API_KEY/);
  });

  it('403 fails the item without retry as PermissionDeniedError', () => {
    const f = classifyStatus(site, 403, tlError('forbidden', 'not yours'));
    assert.deepEqual([f.disposition, f.type], ['item', 'PermissionDeniedError']);
  });

  it('409 fails the item without retry as AssetReferencedError', () => {
    const f = classifyStatus(site, 409, tlError('resource_conflict', 'referenced by 2 indexed assets'));
    assert.deepEqual([f.disposition, f.type], ['item', 'AssetReferencedError']);
    assert.match(f.message, /referenced by 2 indexed assets/);
  });

  it('any other 4xx fails the item without retry as UnexpectedClientError', () => {
    for (const status of [405, 410, 413, 418]) {
      const f = classifyStatus(site, status, 'teapot');
      assert.deepEqual([f.disposition, f.type], ['item', 'UnexpectedClientError']);
    }
  });

  it('408 and 5xx are retried', () => {
    assert.deepEqual(
      [408, 500, 502, 503, 504].map((status) => {
        const f = classifyStatus(site, status, '');
        return [f.disposition, f.type];
      }),
      [
        ['retry', 'RequestTimeoutError'],
        ['retry', 'VendorUnavailableError'],
        ['retry', 'VendorUnavailableError'],
        ['retry', 'VendorUnavailableError'],
        ['retry', 'VendorUnavailableError'],
      ],
    );
  });

  it('429 is retried after Retry-After, given in seconds or as an HTTP date', () => {
    const f = classifyStatus(site, 429, tlError('too_many_requests', 'slow down'), { 'retry-after': '7' });
    assert.deepEqual([f.disposition, f.type, f.retryAfterMs], ['retry', 'RateLimitedError', 7000]);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(classifyStatus(site, 429, {}).retryAfterMs, undefined);
  });

  it("Retry-After's three date forms are GMT whatever the worker's time zone; what is no date is ignored", () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const now = Date.parse('2026-12-07T23:00:00Z');
      for (const date of [
        'Mon, 07 Dec 2026 23:00:30 GMT',
        'Mon, 7 Dec 2026 23:00:30 GMT',
        'Monday, 07-Dec-26 23:00:30 GMT',
        'Mon Dec  7 23:00:30 2026',
      ]) {
        assert.equal(parseRetryAfter(date, now), 30_000, date);
      }
      assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now), 0);
      // Read as "now" before: the call's own backoff applies instead.
      for (const junk of ['-1', 'abc 3', 'in 5 minutes', '2026-12-07', 'Mon, 07 Dec 2026 23:00:30']) {
        assert.equal(parseRetryAfter(junk, now), undefined, junk);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('a retryable failure becomes a retryable ApplicationFailure with nextRetryDelay, the others non-retryable', () => {
    const retry = toApplicationFailure(classifyStatus(site, 429, {}, { 'retry-after': '3' }));
    assert.equal(retry.nonRetryable, false);
    assert.equal(retry.nextRetryDelay, 3000);
    assert.equal(retry.type, 'RateLimitedError');
    const item = toApplicationFailure(classifyStatus(site, 409, {}));
    assert.equal(item.nonRetryable, true);
    assert.equal(item.cause, undefined);
  });

  it('the vendor message is read from all three vendors’ error shapes and scrubbed of secrets', () => {
    assert.deepEqual(vendorMessage({ code: 'parameter_invalid', message: 'bad' }), {
      code: 'parameter_invalid',
      message: 'bad',
    });
    assert.deepEqual(vendorMessage({ error: { code: 'resource_not_exist', message: 'gone' } }), {
      code: 'resource_not_exist',
      message: 'gone',
    });
    assert.deepEqual(
      vendorMessage({ '@type': 'Error', code: 'NotFound', status_code: 404, title: 'Not Found' }),
      { code: 'NotFound', message: 'Not Found' },
    );
    assert.deepEqual(vendorMessage({ response: { status: 'error', message: 'Not logged in' } }), {
      code: undefined,
      message: 'Not logged in',
    });
    assert.equal(vendorMessage({ message: 'key s3cr3t is wrong' }, ['s3cr3t']).message, 'key *** is wrong');
  });

  it('the list of non-retryable types holds every non-retryable row and none of the retryable ones', () => {
    for (const type of [
      'TwelveLabsAuthError',
      'UplynkAuthError',
      'EnterMediaAuthError',
      'MissingCredentialsError',
      'PermissionDeniedError',
      'AssetReferencedError',
      'InvalidRequestError',
      'EntityLastAssetError',
      'UnexpectedClientError',
      'UnexpectedResponseError',
    ]) {
      assert.ok((NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(type), type);
    }
    for (const type of [
      ErrorTypes.RateLimited,
      ErrorTypes.VendorUnavailable,
      ErrorTypes.RequestTimeout,
      ErrorTypes.Connection,
      ErrorTypes.ResponseNotJson,
      ErrorTypes.EntityProcessing,
    ]) {
      assert.ok(!(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(type), type);
    }
  });
});

describe('transport errors, by their code', () => {
  /** An error as the system or undici throws it: a message that may quote the URL, and a code. */
  const transport = (code: string, extra: object = {}) =>
    Object.assign(new Error(`failed: https://host/path?sig=secret (${code})`), { code, ...extra });

  it('a timeout, ours or the system’s, is a retryable RequestTimeoutError and counts as a timeout', () => {
    for (const [code, phase] of [
      ['REQUEST_TIMEOUT', 'request'],
      ['UND_ERR_HEADERS_TIMEOUT', 'headers'],
      ['ETIMEDOUT', 'connection'],
    ] as const) {
      const f = classifyError(site, transport(code, { syscall: 'read' }));
      assert.equal(f?.disposition, 'retry', code);
      assert.equal(f?.type, ErrorTypes.RequestTimeout, code);
      assert.match(f?.message ?? '', new RegExp(`got no answer in time \\(${phase} timeout\\)`), code);
      assert.equal(transportStatus(transport(code)), 'timeout', code);
    }
  });

  it('a dropped connection is a retryable ConnectionError naming only its code, and counts as dropped', () => {
    const f = classifyError(site, transport('ECONNRESET', { syscall: 'read' }));
    assert.equal(f?.disposition, 'retry');
    assert.equal(f?.type, ErrorTypes.Connection);
    assert.match(f?.message ?? '', /failed: connection lost \(ECONNRESET\)$/);
    assert.doesNotMatch(f?.message ?? '', /secret/);
    assert.equal(transportStatus(transport('ECONNRESET')), 'dropped');
  });

  it('an abort, and an error without a code, are not about the call: left to the caller', () => {
    assert.equal(classifyError(site, transport('UND_ERR_ABORTED')), undefined);
    assert.equal(classifyError(site, new TypeError('a bug of ours')), undefined);
    assert.equal(transportStatus(new TypeError('a bug of ours')), 'error');
  });
});

describe("the error table over HTTP, through the connectors' client", () => {
  const A = hexId('a', 1);
  const B = hexId('b', 2);
  const sandbox = seededSandboxForSuite(
    seedWith({
      twelvelabs: { assets: [{ _id: A }, { _id: B }] },
      entermedia: { assets: [{ id: '101' }] },
      uplynk: { libraries: [{ id: 'lib', asset_ids: ['u1'] }] },
    }),
  );

  // BULK_DELETE_CALL_RETRY_MS=0: the first transient failure of a call fails the attempt, so that each
  // row of the table is seen as the ApplicationFailure Temporal gets (per-call retry: per-call-retry.test.ts).
  const once = (overrides: Record<string, string> = {}) =>
    activitiesFor(sandboxEnv(sandbox, { BULK_DELETE_CALL_RETRY_MS: '0', ...overrides }));
  const dam = (id: string) => ({ assets: [{ item: `item-${id}`, assetId: id }] });
  const tlAsset = (id: string) => ({ assets: [{ item: `item-${id}`, assetId: id, known: [] }] });

  it('a 429 with Retry-After that outlasts the bound fails the attempt retryably with nextRetryDelay set from it', async () => {
    await sandbox.faults({ twelvelabs: { error429: 1, retryAfterSeconds: 2 } });
    const run = await inActivity(() => once().deleteAssets(tlAsset(A)));
    assert.ok(run.error instanceof ApplicationFailure, String(run.error));
    assert.equal(run.error.type, 'RateLimitedError');
    assert.equal(run.error.nonRetryable, false);
    assert.equal(run.error.nextRetryDelay, 2000);
    assert.match(run.error.message, /429 \[too_many_requests\]/);
  });

  it('a 5xx past the bound fails the attempt retryably, and the retry removes what is left', async () => {
    await sandbox.faults({ uplynk: { error5xx: 1 } });
    const input = { removals: [{ libraryId: 'lib', targets: [{ item: 'i', assetId: 'u1' }] }] };
    const activities = once();
    const run = await inActivity(() => activities.removeFromLibraries(input));
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'VendorUnavailableError');
    assert.equal(run.error.nonRetryable, false);
    await sandbox.faults({});
    const retry = await inActivity(() => activities.removeFromLibraries(input), {
      attempt: 2,
      heartbeatDetails: run.heartbeats.at(-1),
    });
    assert.equal(retry.result?.entries[0]?.answer, 'removal-requested');
    assert.deepEqual((await sandbox.state()).uplynk.libraries[0]?.asset_ids, []);
  });

  it('a dropped connection (the change applied, no answer) is retryable, and the next attempt answers it deleted, not already-absent', async () => {
    await sandbox.faults({ entermedia: { drop: 1 } });
    const activities = once();
    const run = await inActivity(() => activities.deleteDamAssets(dam('101')));
    assert.ok(run.error instanceof ApplicationFailure, String(run.error));
    assert.equal(run.error.type, 'ConnectionError');
    assert.equal(run.error.nonRetryable, false);
    assert.match(run.error.message, /connection lost/);
    assert.equal((await sandbox.stats()).mutations.entermedia, 1);
    await sandbox.faults({});
    const retry = await inActivity(() => activities.deleteDamAssets(dam('101')), {
      attempt: 2,
      heartbeatDetails: run.heartbeats.at(-1),
    });
    assert.equal(retry.result?.entries[0]?.answer, 'deleted');
    assert.match(retry.result?.entries[0]?.detail ?? '', /rowsedited 0 on retry/);
  });

  it('a connection refused is retryable', async () => {
    const closed = await startStatusServer(() => ({ status: 200 }));
    const { url } = closed;
    await closed.close();
    const offline = once({ TWELVELABS_BASE_URL: `${url}/twelvelabs/v1.3` });
    const run = await inActivity(() => offline.deleteAssets(tlAsset(A)));
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'ConnectionError');
    assert.equal(run.error.nonRetryable, false);
    assert.match(run.error.message, /ECONNREFUSED/);
  });

  it('no answer within the request timeout is a retryable RequestTimeoutError', async () => {
    await sandbox.faults({ twelvelabs: { latencyMs: [1500, 1500] } });
    const slow = once({ BULK_DELETE_HTTP_TIMEOUT_MS: '200' });
    const run = await inActivity(() => slow.deleteAssets(tlAsset(A)));
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'RequestTimeoutError');
    assert.equal(run.error.nonRetryable, false);
  });

  it('a request timeout shrinks below a short start-to-close timeout of the activity', async () => {
    await sandbox.faults({ twelvelabs: { latencyMs: [1500, 1500] } });
    const started = Date.now();
    const run = await inActivity(() => once().deleteAssets(tlAsset(A)), { startToCloseTimeoutMs: 500 });
    assert.ok(run.error instanceof ApplicationFailure);
    assert.equal(run.error.type, 'RequestTimeoutError');
    assert.ok(Date.now() - started < 1200);
  });

  it(
    'a read-back after the deletes that keeps failing fails the attempt as a retryable VendorUnavailableError',
    {},
    async () => {
      // The listing and the delete succeed; the batched read-back (GET /assets?asset_ids=) answers 5xx.
      const seed = faultSeed('twelvelabs', { error5xx: 0.5 }, 3, (k) => k.join() === 'ok,ok,5xx');
      await sandbox.faults({ seed, twelvelabs: { error5xx: 0.5 } });
      const run = await inActivity(() => once().deleteAssets(tlAsset(A)));
      assert.equal(countRequests(await sandbox.stats(), { route: 'GET /assets' }), 1);
      assert.ok(run.error instanceof ApplicationFailure, `not an ApplicationFailure: ${String(run.error)}`);
      assert.equal(run.error.type, 'VendorUnavailableError');
      assert.equal(run.error.nonRetryable, false);
    },
  );

  it(
    'a 401 on the read-back after the deletes fails the phase without retry, as TwelveLabsAuthError',
    {},
    async () => {
      const vendor = await startStatusServer((request) => {
        if (request.method === 'DELETE') return { status: 200, body: {} };
        if ((request.url ?? '').startsWith('/assets?'))
          return { status: 401, body: { code: 'api_key_invalid', message: 'The API key is invalid.' } };
        return { status: 200, body: { data: [], page_info: { page: 1, total_page: 1 } } };
      });
      try {
        const direct = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_BASE_URL: vendor.url }));
        const run = await inActivity(() => direct.deleteAssets(tlAsset(A)));
        assert.ok(run.error instanceof ApplicationFailure, `not an ApplicationFailure: ${String(run.error)}`);
        assert.equal(run.error.type, 'TwelveLabsAuthError');
        assert.equal(run.error.nonRetryable, true);
      } finally {
        await vendor.close();
      }
    },
  );

  it('403, 409, 422 and an unknown 4xx fail only their item, without retry, with the vendor message', async () => {
    const statuses: Record<string, number> = {
      [A]: 403,
      [B]: 409,
      [hexId('c', 3)]: 422,
      [hexId('d', 4)]: 418,
    };
    const vendor = await startStatusServer((request) => {
      const url = request.url ?? '';
      // The listing of indexed assets and the read-back answer an empty page; the deletes their status.
      if (request.method === 'GET')
        return { status: 200, body: { data: [], page_info: { page: 1, total_page: 1 } } };
      const id = /\/assets\/([0-9a-f]{24})/.exec(url)?.[1] ?? '';
      const status = statuses[id] ?? 200;
      // The wrapped shape {error: {code, message}} that some TwelveLabs endpoints send.
      return { status, body: status === 200 ? {} : { error: { code: `c${status}`, message: `m${status}` } } };
    });
    try {
      const direct = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_BASE_URL: vendor.url }));
      const ids = [...Object.keys(statuses), hexId('e', 5)];
      const run = await inActivity(() =>
        direct.deleteAssets({ assets: ids.map((assetId) => ({ item: assetId, assetId, known: [] })) }),
      );
      assert.equal(run.error, undefined);
      const byAsset = new Map(run.result?.entries.map((e) => [e.target, e]));
      assert.deepEqual(
        ids.map((id) => [byAsset.get(id)?.answer, /^(\w+):/.exec(byAsset.get(id)?.detail ?? '')?.[1]]),
        [
          ['failed', 'PermissionDeniedError'],
          ['failed', 'AssetReferencedError'],
          ['failed', 'InvalidRequestError'],
          ['failed', 'UnexpectedClientError'],
          ['deleted', undefined],
        ],
      );
      assert.match(byAsset.get(B)?.detail ?? '', /answered 409 \[c409\]: m409/);
      // A refusal changed nothing: it is not one the vendor may have applied.
      assert.ok(run.result?.entries.every((e) => e.mayHaveApplied !== true));
    } finally {
      await vendor.close();
    }
  });

  it('a 2xx body of an unexpected shape fails the item as UnexpectedResponseError naming the field', async () => {
    const vendor = await startStatusServer(() => ({ status: 200, body: { data: 'nope' } }));
    try {
      const direct = activitiesFor(sandboxEnv(sandbox, { TWELVELABS_BASE_URL: vendor.url }));
      // A plain run's discovery lists entities first: the listing's `data` is what is wrong.
      const run = await inActivity(() => direct.discoverAssets({ assetIds: [A], indexedAssets: false }));
      assert.equal(run.result?.[0]?.error?.type, 'UnexpectedResponseError');
      assert.match(run.result?.[0]?.error?.message ?? '', /data/);
      assert.equal(countRequests(await sandbox.stats()), 0);
    } finally {
      await vendor.close();
    }
  });
});
