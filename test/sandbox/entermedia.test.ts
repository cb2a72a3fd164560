/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call --
   Vendor JSON is read loosely on purpose: these tests pin its shape with assertions, not with types. */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { sandboxForSuite } from '../helpers/sandbox.js';
import { entermedia } from './clients.js';

const KEY = 'em-session-key';

describe('EnterMediaDB sandbox', () => {
  const sandbox = sandboxForSuite();
  let em: ReturnType<typeof entermedia>;
  before(() => {
    em = entermedia(sandbox.url, KEY);
  });
  beforeEach(() =>
    sandbox.seed({
      entermedia: {
        key: KEY,
        assets: Array.from({ length: 25 }, (_, i) => ({ id: String(101 + i), name: `asset-${101 + i}.mov` })),
      },
    }),
  );

  const byId = (id: string) => ({
    page: 1,
    hitsperpage: 20,
    query: { terms: [{ field: 'id', operator: 'exact', value: id }] },
  });

  it('deleting an asset answers rowsedited "1", and the asset no longer appears in search', async () => {
    const res = await em('deleteassets', { assetid: '101' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { response: { status: 'ok', rowsedited: '1' } });
    const search = await em('search', byId('101'));
    assert.equal(search.body.response.totalhits, 0);
    assert.deepEqual(search.body.results, []);
  });

  it('deleting an unknown or already deleted asset answers 200 with rowsedited "0"', async () => {
    await em('deleteassets', { assetid: '102' });
    const again = await em('deleteassets', { assetid: '102' });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { response: { status: 'ok', rowsedited: '0' } });
    const unknown = await em('deleteassets', { assetid: '999999' });
    assert.equal(unknown.body.response.rowsedited, '0');
  });

  it('an exact id search finds that asset', async () => {
    const res = await em('search', byId('110'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      response: { status: 'ok', totalhits: 1, hitsperpage: 20, page: 1, pages: 1 },
      results: [{ id: '110', name: 'asset-110.mov' }],
    });
  });

  it('a "matches *" search lists everything in pages', async () => {
    const all = { field: 'id', operator: 'matches', value: '*' };
    const first = await em('search', { page: 1, hitsperpage: 10, query: { terms: [all] } });
    assert.deepEqual(first.body.response, {
      status: 'ok',
      totalhits: 25,
      hitsperpage: 10,
      page: 1,
      pages: 3,
    });
    assert.equal(first.body.results.length, 10);
    assert.equal(first.body.results[0].id, '101');
    const last = await em('search', { page: 3, hitsperpage: 10, query: { terms: [all] } });
    assert.equal(last.body.results.length, 5);
    const past = await em('search', { page: 4, hitsperpage: 10, query: { terms: [all] } });
    assert.deepEqual(past.body.results, []);
  });

  it('a "matches" search with a wildcard filters by pattern', async () => {
    const res = await em('search', {
      page: 1,
      hitsperpage: 50,
      query: { terms: [{ field: 'id', operator: 'matches', value: '12*' }] },
    });
    assert.deepEqual(
      res.body.results.map((r: { id: string }) => r.id),
      ['120', '121', '122', '123', '124', '125'],
    );
  });

  describe('authentication', () => {
    it('a call without the entermedia.key cookie is refused with 401 in the EnterMediaDB shape', async () => {
      const res = await entermedia(sandbox.url, undefined)('deleteassets', { assetid: '101' });
      assert.equal(res.status, 401);
      assert.equal(res.body.response.status, 'error');
      assert.equal(typeof res.body.response.message, 'string');
    });

    it('a wrong key is refused with 401 and deletes nothing', async () => {
      const res = await entermedia(sandbox.url, 'wrong')('deleteassets', { assetid: '101' });
      assert.equal(res.status, 401);
      assert.equal((await em('search', byId('101'))).body.response.totalhits, 1);
    });

    it('the key is found among other cookies', async () => {
      const res = await fetch(`${sandbox.url}/entermedia/assets/mediadb/services/module/asset/search`, {
        method: 'POST',
        headers: { cookie: `JSESSIONID=x; entermedia.key=${KEY}; other=y` },
        body: JSON.stringify(byId('101')),
      });
      assert.equal(res.status, 200);
    });
  });

  describe('malformed requests', () => {
    it('a body that is not JSON answers 400 in the EnterMediaDB shape', async () => {
      const res = await em('deleteassets', undefined, '{nope');
      assert.equal(res.status, 400);
      assert.equal(res.body.response.status, 'error');
    });

    it('a delete without a string assetid answers 400', async () => {
      for (const body of [{}, { assetid: 101 }, { assetid: '' }, []]) {
        const res = await em('deleteassets', body);
        assert.equal(res.status, 400, JSON.stringify(body));
      }
    });

    it('a search with an unsupported field or operator answers 400', async () => {
      const res = await em('search', {
        query: { terms: [{ field: 'color', operator: 'exact', value: 'red' }] },
      });
      assert.equal(res.status, 400);
      assert.equal((await em('search', { query: {} })).status, 400);
    });

    it('an unknown route answers 404 in the EnterMediaDB shape', async () => {
      const res = await fetch(`${sandbox.url}/entermedia/assets/mediadb/services/module/asset/nothing`, {
        method: 'POST',
        headers: { cookie: `entermedia.key=${KEY}` },
      });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { response: { status: string } }).response.status, 'error');
    });
  });
});
