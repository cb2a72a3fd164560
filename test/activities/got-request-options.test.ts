import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import got, { Options } from 'got';
import { gotsOwnBuild, leanRequestOptions } from '../../activities/got-request-options.js';

const CACHE_KEYS = ['shared', 'cacheHeuristic', 'immutableMinTimeToLive', 'ignoreCargoCult'];

describe("got's request options, built without the cache options' spread", () => {
  it('are what got builds, but for the four cache options, and leave the instance as it was', () => {
    assert.equal(leanRequestOptions(), true);
    assert.equal(leanRequestOptions(), true, 'installed once');
    const own = gotsOwnBuild();
    assert.ok(own, "got's own build is kept");
    const options = new Options('http://127.0.0.1:9/twelvelabs/v1.3/assets/a1', {
      method: 'DELETE',
      headers: { 'x-api-key': 'k' },
      responseType: 'json',
      timeout: { request: 1000 },
    });
    const lean = options.createNativeRequestOptions();
    const full = own.call(options);
    const withoutCache = Object.fromEntries(
      Object.entries(full).filter(([key]) => !CACHE_KEYS.includes(key)),
    );
    assert.deepEqual(lean, withoutCache);
    assert.equal(lean.agent, full.agent);
    assert.equal(lean.headers, full.headers);
    assert.deepEqual(Object.keys(options.cacheOptions), CACHE_KEYS, 'the cache options are back in place');
  });

  it('with a cache, got builds them itself, cache options included', () => {
    leanRequestOptions();
    const options = new Options('http://127.0.0.1:9/', { cache: new Map() });
    const built = options.createNativeRequestOptions();
    for (const key of CACHE_KEYS) assert.ok(key in built, key);
  });

  it('a request still goes out and is answered', async () => {
    leanRequestOptions();
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => res.end(JSON.stringify({ method: req.method, url: req.url })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const body = await got.delete(`http://127.0.0.1:${port}/assets/a%2F1`, { retry: { limit: 0 } }).json();
      assert.deepEqual(body, { method: 'DELETE', url: '/assets/a%2F1' });
    } finally {
      server.close();
    }
  });
});
