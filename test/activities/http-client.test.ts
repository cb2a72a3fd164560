import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createHttpClient } from '../../activities/http-client.js';
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

/** A client whose calls fail at their first transient failure (no per-call retry), as CallError. */
function client(baseUrl: string, timeoutMs = 1_000) {
  return createHttpClient({
    system: 'uplynk',
    baseUrl,
    headers: { 'x-api-key': 'secret-key' },
    timeoutMs,
    limiter: createRateLimiter({ concurrency: 4 }),
    secrets: ['secret-key'],
    signParams: () => ({ msg: 'signed-msg', sig: 'signed-sig' }),
    retry: { boundMs: 0 },
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
    const v = await vendor((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
    try {
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
    } finally {
      await v.close();
    }
  });

  it('an empty 2xx body answers the empty string', async () => {
    const v = await vendor((_, response) => {
      response.writeHead(204);
      response.end();
    });
    try {
      assert.equal(await client(v.url).call({ ...call, method: 'DELETE', schema: z.literal('') }), '');
    } finally {
      await v.close();
    }
  });

  it('a 2xx body that is not JSON is a retryable ResponseNotJsonError', async () => {
    const v = await vendor((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>maintenance</html>');
    });
    try {
      const failure = await failureOf(client(v.url).call(call));
      assert.equal(failure.type, ErrorTypes.ResponseNotJson);
      assert.equal(failure.disposition, 'retry');
      assert.equal(failure.status, 200);
    } finally {
      await v.close();
    }
  });

  it('an error status with a text body is classified by its status, the text as the vendor message', async () => {
    const v = await vendor((_, response) => {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('Bad gateway');
    });
    try {
      const failure = await failureOf(client(v.url).call(call));
      assert.equal(failure.type, ErrorTypes.VendorUnavailable);
      assert.equal(failure.status, 502);
      assert.match(failure.message, /answered 502: Bad gateway/);
    } finally {
      await v.close();
    }
  });

  it('headers sent, then a body that stops coming: the request timeout covers the body', async () => {
    const v = await vendor((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"data":');
    });
    try {
      const started = Date.now();
      const failure = await failureOf(client(v.url, 300).call(call));
      assert.equal(failure.type, ErrorTypes.RequestTimeout);
      assert.equal(failure.disposition, 'retry');
      assert.match(failure.message, /no answer in time \(request timeout\)/);
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 1_000, `ended after ${took} ms`);
    } finally {
      await v.close();
    }
  });

  it('a body cut short by a dropped connection is a retryable ConnectionError, without URL or secret', async () => {
    const v = await vendor((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"data":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    try {
      const failure = await failureOf(client(v.url).call(call));
      assert.equal(failure.type, ErrorTypes.Connection);
      assert.equal(failure.disposition, 'retry');
      assert.match(failure.message, /connection lost/);
      assert.doesNotMatch(failure.message, /secret|signed|127\.0\.0\.1/);
    } finally {
      await v.close();
    }
  });

  it('a redirect is not followed: it fails the item as an unexpected answer', async () => {
    const v = await vendor((_, response) => {
      response.writeHead(302, { location: 'http://example.invalid/steal' });
      response.end();
    });
    try {
      const failure = await failureOf(client(v.url).call(call));
      assert.equal(failure.type, ErrorTypes.UnexpectedResponse);
      assert.equal(failure.disposition, 'item');
      assert.equal(v.seen.length, 1);
    } finally {
      await v.close();
    }
  });
});
