/* eslint-disable @typescript-eslint/no-unsafe-member-access -- vendor JSON is read loosely on purpose: assertions pin its shape. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { before, describe, it } from 'node:test';
import { generateCatalogue } from '../../sandbox/generate.js';
import { stateJsonChunks } from '../../sandbox/state-json.js';
import { Store } from '../../sandbox/store.js';
import { sandboxForSuite } from '../helpers/sandbox.js';
import { entermedia, hexId, twelvelabs } from './clients.js';

/** Sends raw bytes and answers what came back before the server closed or 500 ms passed. */
function raw(url: string, data: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(data));
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const done = () => resolve(out);
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(() => {
      socket.destroy();
      done();
    }, 500);
  });
}

describe('sandbox robustness', () => {
  const sandbox = sandboxForSuite();
  before(() =>
    sandbox.seed({
      twelvelabs: { apiKey: 'k', assets: [{ _id: hexId(1) }] },
      entermedia: { key: 'e', assets: [{ id: '1' }] },
    }),
  );

  it('a request that is not HTTP gets 400 and the server keeps serving', async () => {
    const answer = await raw(sandbox.url, 'HELLO THERE\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400/);
    assert.equal((await twelvelabs(sandbox.url, 'k')('GET', `/assets/${hexId(1)}`)).status, 200);
  });

  it('a body over 1 MB is refused with 413 in the vendor shape', async () => {
    const res = await entermedia(sandbox.url, 'e')(
      'deleteassets',
      undefined,
      JSON.stringify({ assetid: 'x'.repeat(2 << 20) }),
    );
    assert.equal(res.status, 413);
    assert.equal(res.body.response.status, 'error');
  });

  it('a path with broken percent-encoding answers 404, not a crash', async () => {
    const res = await twelvelabs(sandbox.url, 'k')('GET', '/assets/%zz');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'route_not_found');
  });

  it('a path outside the three systems answers 404 JSON', async () => {
    const res = await fetch(`${sandbox.url}/twelvelabs/v2`);
    assert.equal(res.status, 404);
    assert.ok(((await res.json()) as { error: string }).error);
  });

  it('hundreds of concurrent mixed requests all get an answer', async () => {
    const tl = twelvelabs(sandbox.url, 'k');
    const em = entermedia(sandbox.url, 'e');
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 3 === 0
          ? tl('GET', `/assets/${hexId(1)}`)
          : i % 3 === 1
            ? tl('GET', '/assets?page_limit=999')
            : em('search', { query: { terms: [{ field: 'id', operator: 'matches', value: '*' }] } }),
      ),
    );
    assert.deepEqual([...new Set(answers.map((a) => a.status))].sort(), [200, 400]);
  });

  it('the streamed state is the same document as the exported state', () => {
    const store = new Store();
    store.load(generateCatalogue(1200, 4, 300).state);
    const now = Date.now();
    assert.deepEqual(JSON.parse([...stateJsonChunks(store, now)].join('')), store.export(now));
  });
});
