import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  createHttpClient,
  DEFAULT_CALL_RETRY,
  type CallRetryOptions,
  FailureShare,
  retryDelay,
} from '../../activities/http-client.js';
import { CallError, ErrorTypes } from '../../activities/http-errors.js';
import { createRateLimiter } from '../../activities/rate-limiter.js';

/** A vendor that answers over real HTTP as `handle` says, and what it was sent. */
async function vendor(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      handle(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `body` against a vendor that answers as `handle` says, and closes it however `body` ends. */
async function withVendor(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  body: (v: Awaited<ReturnType<typeof vendor>>) => Promise<void>,
): Promise<void> {
  const v = await vendor(handle);
  try {
    await body(v);
  } finally {
    await v.close();
  }
}

/**
 * A client whose calls fail at their first transient failure (no per-call retry), as CallError, unless
 * `retry` says otherwise.
 */
function client(baseUrl: string, timeoutMs = 1_000, retry: CallRetryOptions = { boundMs: 0 }) {
  return createHttpClient({
    system: 'uplynk',
    baseUrl,
    headers: { 'x-api-key': 'secret-key' },
    timeoutMs,
    limiter: createRateLimiter({ concurrency: 4 }),
    secrets: ['secret-key'],
    signParams: () => ({ msg: 'signed-msg', sig: 'signed-sig' }),
    retry,
  });
}

async function failureOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof CallError, `a CallError, not ${String(error)}`);
  return error.failure;
}

const call = {
  method: 'GET' as const,
  route: '/libraries/{id}',
  path: '/libraries/lib%2F1',
  schema: z.unknown(),
};

describe('the connectors’ HTTP client over real HTTP', () => {
  it('sends the path under the base, the query with its signature, the JSON body and the headers', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
      },
      async (v) => {
        const answer = await client(`${v.url}/api/v4`).call({
          method: 'DELETE',
          route: '/libraries/{id}/assets',
          path: '/libraries/lib%2F1/assets',
          searchParams: { ids: 'a,b' },
          json: { note: 'x' },
          schema: z.object({ ok: z.boolean() }),
        });
        assert.deepEqual(answer, { ok: true });
        const [sent] = v.seen;
        assert.equal(sent?.method, 'DELETE');
        assert.equal(sent?.url, '/api/v4/libraries/lib%2F1/assets?ids=a%2Cb&msg=signed-msg&sig=signed-sig');
        assert.equal(sent?.body, '{"note":"x"}');
        assert.equal(sent?.headers['content-type'], 'application/json');
        assert.equal(sent?.headers['x-api-key'], 'secret-key');
        assert.equal(sent?.headers['user-agent'], 'bulk-delete');
      },
    );
  });

  it('a change refused (4xx) after a try whose answer was lost fails as may have been applied', async () => {
    let tries = 0;
    await withVendor(
      (_, response) => {
        // The first try is applied, then its connection drops; the second is refused as of something gone.
        if (++tries === 1) return void response.socket?.destroy();
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end('{"code":"parameter_invalid","message":"The indexed asset does not exist."}');
      },
      async (v) => {
        const failure = await failureOf(
          client(v.url, 1_000, { boundMs: 10_000 }).call({
            ...call,
            method: 'DELETE',
            schema: z.literal(''),
          }),
        );
        assert.equal(tries, 2);
        assert.equal(failure.disposition, 'item');
        assert.equal(failure.type, 'InvalidRequestError');
        assert.equal(failure.mayHaveApplied, true);
        assert.match(
          failure.message,
          /answered 400 .*does not exist\. \(after a try whose answer was lost, which may have been applied\)/,
        );
      },
    );
    // A read changes nothing, whatever happened to its answer.
    tries = 0;
    await withVendor(
      (_, response) => {
        if (++tries === 1) return void response.socket?.destroy();
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end('{"code":"parameter_invalid","message":"no"}');
      },
      async (v) => {
        const failure = await failureOf(client(v.url, 1_000, { boundMs: 10_000 }).call(call));
        assert.equal(failure.mayHaveApplied, undefined);
      },
    );
  });

  it('an empty 2xx body answers the empty string', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(204);
        response.end();
      },
      async (v) => {
        assert.equal(await client(v.url).call({ ...call, method: 'DELETE', schema: z.literal('') }), '');
      },
    );
  });

  it('a 2xx body that is not JSON is a retryable ResponseNotJsonError', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<html>maintenance</html>');
      },
      async (v) => {
        const failure = await failureOf(client(v.url).call(call));
        assert.equal(failure.type, ErrorTypes.ResponseNotJson);
        assert.equal(failure.disposition, 'retry');
        assert.equal(failure.status, 200);
      },
    );
  });

  it('an error status with a text body is classified by its status, the text as the vendor message', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end('Bad gateway');
      },
      async (v) => {
        const failure = await failureOf(client(v.url).call(call));
        assert.equal(failure.type, ErrorTypes.VendorUnavailable);
        assert.equal(failure.status, 502);
        assert.match(failure.message, /answered 502: Bad gateway/);
      },
    );
  });

  it('headers sent, then a body that stops coming: the request timeout covers the body', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"data":');
      },
      async (v) => {
        const started = Date.now();
        const failure = await failureOf(client(v.url, 300).call(call));
        assert.equal(failure.type, ErrorTypes.RequestTimeout);
        assert.equal(failure.disposition, 'retry');
        assert.match(failure.message, /no answer in time \(request timeout\)/);
        const took = Date.now() - started;
        assert.ok(took >= 290 && took < 1_000, `ended after ${took} ms`);
      },
    );
  });

  it('a body cut short by a dropped connection is a retryable ConnectionError, without URL or secret', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"data":');
        setTimeout(() => response.socket?.destroy(), 20);
      },
      async (v) => {
        const failure = await failureOf(client(v.url).call(call));
        assert.equal(failure.type, ErrorTypes.Connection);
        assert.equal(failure.disposition, 'retry');
        assert.match(failure.message, /connection lost/);
        assert.doesNotMatch(failure.message, /secret|signed|127\.0\.0\.1/);
      },
    );
  });

  it('a redirect is not followed: it fails the item as an unexpected answer', async () => {
    await withVendor(
      (_, response) => {
        response.writeHead(302, { location: 'http://example.invalid/steal' });
        response.end();
      },
      async (v) => {
        const failure = await failureOf(client(v.url).call(call));
        assert.equal(failure.type, ErrorTypes.UnexpectedResponse);
        assert.equal(failure.disposition, 'item');
        assert.equal(v.seen.length, 1);
      },
    );
  });

  it('a 429 after a run of 5xx is sent again after its Retry-After, not after the backoff the 5xx grew', async () => {
    // Five 503s in a row, then a 429 asking for 1 s, then the answer.
    const answered: number[] = [];
    await withVendor(
      (_, response) => {
        answered.push(Date.now());
        const n = answered.length;
        if (n <= 5) response.writeHead(503, { 'content-type': 'application/json' });
        else if (n === 6) response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        else response.writeHead(200, { 'content-type': 'application/json' });
        response.end(n <= 6 ? '{"code":"busy","message":"try later"}' : '{}');
      },
      async (v) => {
        assert.deepEqual(await client(v.url, 1_000, { boundMs: 60_000 }).call(call), {});
        assert.equal(answered.length, 7);
        // The sixth try's backoff could reach 6.4 s under the 10 s cap; the vendor asked for 1 s.
        const waited = answered[6]! - answered[5]!;
        assert.ok(waited >= 950 && waited < 1_600, `sent again ${waited} ms after the 429, asked for 1,000`);
      },
    );
  });
});

describe('a Retry-After given as an asctime date', () => {
  it("is waited as the vendor's GMT time on a worker whose time zone is not GMT, not hours longer", async () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    const answered: number[] = [];
    try {
      await withVendor(
        (_, response) => {
          answered.push(Date.now());
          if (answered.length === 1) {
            // asctime (RFC 9110 §5.6.7): GMT, with no zone named. Two seconds ahead, to the second.
            const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toUTCString().split(' ');
            const [, day, month, year, time] = at as [string, string, string, string, string];
            const weekday = at[0]!.slice(0, 3);
            const asctime = `${weekday} ${month} ${day.replace(/^0/, ' ')} ${time} ${year}`;
            response.writeHead(429, { 'content-type': 'application/json', 'retry-after': asctime });
            response.end('{"code":"too_many_requests","message":"slow down"}');
          } else {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end('{}');
          }
        },
        async (v) => {
          assert.deepEqual(await client(v.url, 1_000, { boundMs: 60_000 }).call(call), {});
          const waited = answered[1]! - answered[0]!;
          assert.ok(waited >= 900 && waited < 2_600, `sent again ${waited} ms after the 429`);
        },
      );
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe('the wait between two tries of one call', () => {
  it('is the Retry-After as given, however many tries failed before, and at least the base backoff', () => {
    assert.equal(retryDelay(1, 1_000), 1_000);
    assert.equal(retryDelay(9, 1_000, {}, 0.99), 1_000);
    assert.equal(retryDelay(3, 30_000), 30_000);
    assert.equal(retryDelay(3, 0), DEFAULT_CALL_RETRY.baseMs);
  });

  it('without a Retry-After is a full-jitter backoff that doubles from 100 ms up to 2 s', () => {
    assert.equal(retryDelay(1, undefined, {}, 0.5), 100);
    assert.equal(retryDelay(3, undefined, {}, 0.5), 400);
    assert.equal(retryDelay(4, undefined, {}, 0.999), 1_598.4);
    assert.equal(retryDelay(5, undefined, {}, 0.999), 1_998);
    assert.equal(retryDelay(30, undefined, {}, 0.999), 1_998);
    assert.equal(retryDelay(30, undefined, {}, 0), 0);
    assert.equal(retryDelay(2, undefined, { baseMs: 50, maxMs: 150 }, 0.999), 149.85);
  });

  it('grows to 10 s only once half or more of a system’s recent tries failed', () => {
    assert.equal(DEFAULT_CALL_RETRY.troubledMaxMs, 10_000);
    const share = new FailureShare();
    // The bench's heavy faults: one try in six fails, spread out. The system is not in trouble.
    for (let i = 0; i < 600; i++) share.note(i % 6 === 0);
    assert.equal(share.troubled, false);
    // Every try fails: in trouble after a few dozen, however unlucky any one call is before that.
    const down = new FailureShare();
    for (let i = 0; i < 34; i++) down.note(true);
    assert.equal(down.troubled, false);
    down.note(true);
    assert.equal(down.troubled, true);
    for (let i = 0; i < 15; i++) down.note(true);
    // Answers again: out of trouble once the recent tries mostly succeed.
    for (let i = 0; i < 11; i++) down.note(false);
    assert.equal(down.troubled, true);
    down.note(false);
    assert.equal(down.troubled, false);
  });
});
