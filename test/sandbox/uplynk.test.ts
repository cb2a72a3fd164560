/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Vendor JSON is read loosely on purpose: these tests pin its shape with assertions, not with types. */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { sandboxForSuite } from '../helpers/sandbox.js';
import { uplynk, uplynkSignature } from './clients.js';

const OWNER = 'a735c56ea4014685bc74c0a375236cc5';
const API_KEY = 'uplynk-secret-key';
const LIBRARY = '8b69f969c65e481385281331520cf1e2';

describe('Uplynk sandbox', () => {
  const sandbox = sandboxForSuite();
  let up: ReturnType<typeof uplynk>;
  before(() => {
    up = uplynk(sandbox.url, OWNER, API_KEY);
  });
  beforeEach(() =>
    sandbox.seed({
      uplynk: {
        ownerId: OWNER,
        apiKey: API_KEY,
        libraries: [{ id: LIBRARY, desc: 'Takedowns', owner_name: 'acme', asset_ids: ['a1', 'a2', 'a3'] }],
      },
    }),
  );

  it('removing assets from a library answers the Library JSON of API.md', async () => {
    const res = await up('DELETE', `/libraries/${LIBRARY}/assets`, { ids: 'a1,a2' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      '@id': `/api/v4/libraries/${LIBRARY}`,
      '@type': 'Library',
      id: LIBRARY,
      desc: 'Takedowns',
      owner_name: 'acme',
      library_type: 'owner',
      message: 'Assets removed successfully.',
    });
    const library = await up('GET', `/libraries/${LIBRARY}`);
    assert.deepEqual(library.body.asset_ids, ['a3']);
  });

  it('IDs that are not in the library are ignored with 200', async () => {
    const res = await up('DELETE', `/libraries/${LIBRARY}/assets`, { ids: 'nope,a3' });
    assert.equal(res.status, 200);
    const again = await up('DELETE', `/libraries/${LIBRARY}/assets`, { ids: 'a3' });
    assert.equal(again.status, 200);
    assert.deepEqual((await up('GET', `/libraries/${LIBRARY}`)).body.asset_ids, ['a1', 'a2']);
  });

  it('an unknown library answers 404 in the Uplynk error shape', async () => {
    const res = await up('DELETE', '/libraries/0000/assets', { ids: 'a1' });
    assert.equal(res.status, 404);
    assert.equal(res.body['@type'], 'Error');
    assert.equal(res.body.code, 'NotFound');
    assert.equal(res.body.status_code, 404);
    assert.equal(typeof res.body.title, 'string');
  });

  it('a removal without ids answers 400 in the Uplynk error shape', async () => {
    const res = await up('DELETE', `/libraries/${LIBRARY}/assets`);
    assert.equal(res.status, 400);
    assert.equal(res.body['@type'], 'Error');
    assert.equal(res.body.status_code, 400);
  });

  describe('signing', () => {
    const refusedWith401 = async (query: string) => {
      const res = await fetch(`${sandbox.url}/uplynk/api/v4/libraries/${LIBRARY}/assets?ids=a1&${query}`, {
        method: 'DELETE',
      });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 401);
      assert.equal(body['@type'], 'Error');
      assert.equal(body.status_code, 401);
      assert.ok(!JSON.stringify(body).includes(API_KEY));
      // Nothing was removed.
      const library = await up('GET', `/libraries/${LIBRARY}`);
      assert.deepEqual(library.body.asset_ids, ['a1', 'a2', 'a3']);
    };

    it('an unsigned request is refused with 401', () => refusedWith401(''));

    it('a signature made with another key is refused with 401', () => {
      const { msg, sig } = uplynkSignature(OWNER, 'another-key');
      return refusedWith401(new URLSearchParams({ msg, sig }).toString());
    });

    it('a message for another owner is refused with 401 even when signed with the right key', () => {
      const { msg, sig } = uplynkSignature('someone-else', API_KEY);
      return refusedWith401(new URLSearchParams({ msg, sig }).toString());
    });

    it('a timestamp more than 300 seconds off is refused with 401, either way', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const timestamp of [now - 301, now + 301]) {
        const { msg, sig } = uplynkSignature(OWNER, API_KEY, timestamp);
        await refusedWith401(new URLSearchParams({ msg, sig }).toString());
      }
    });

    it('a timestamp within 5 minutes is accepted', async () => {
      const res = await up(
        'DELETE',
        `/libraries/${LIBRARY}/assets`,
        { ids: 'a1' },
        Math.floor(Date.now() / 1000) - 250,
      );
      assert.equal(res.status, 200);
    });

    it('a message that is not zlib JSON is refused with 401 even with a matching signature', async () => {
      const { createHmac } = await import('node:crypto');
      const msg = Buffer.from('not zlib').toString('base64');
      const sig = createHmac('sha256', API_KEY).update(msg).digest('hex');
      await refusedWith401(new URLSearchParams({ msg, sig }).toString());
    });
  });

  it('an unknown route answers 404 and a wrong method 405 in the Uplynk shape', async () => {
    const unknown = await up('GET', '/assets');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['@type'], 'Error');
    const wrong = await up('POST', `/libraries/${LIBRARY}/assets`, { ids: 'a1' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.status_code, 405);
  });
});
