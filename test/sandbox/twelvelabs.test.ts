/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment --
   Vendor JSON is read loosely on purpose: these tests pin its shape with assertions, not with types. */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { sandboxForSuite } from '../helpers/sandbox.js';
import { hexId, sleep, twelvelabs } from './clients.js';

const KEY = 'tl-test-key';
const [A1, A2, A3, A4, A5] = [0xa1, 0xa2, 0xa3, 0xa4, 0xa5].map(hexId) as [
  string,
  string,
  string,
  string,
  string,
];
const INDEX = hexId(0x1d);
const OTHER_INDEX = hexId(0x2d);
const [IA1, IA2] = [hexId(0x1a1), hexId(0x1a2)];
const COLLECTION = hexId(0xc1);
const [E1, E2, E3] = [hexId(0xe1), hexId(0xe2), hexId(0xe3)];
const READY_AFTER_MS = 150;

describe('TwelveLabs sandbox', () => {
  const sandbox = sandboxForSuite();
  let tl: ReturnType<typeof twelvelabs>;
  before(() => {
    tl = twelvelabs(sandbox.url, KEY);
  });
  beforeEach(() =>
    sandbox.seed({
      entityReadyAfterMs: READY_AFTER_MS,
      twelvelabs: {
        apiKey: KEY,
        assets: [A1, A2, A3, A4, A5].map((_id, i) => ({
          _id,
          filename: `clip-${i + 1}.mp4`,
          user_metadata: { n: i + 1 },
        })),
        indexes: [
          { _id: INDEX, name: 'main' },
          { _id: OTHER_INDEX, name: 'other' },
        ],
        indexedAssets: [
          { _id: IA1, index_id: INDEX, asset_id: A1 },
          { _id: IA2, index_id: INDEX, asset_id: A1 },
        ],
        entityCollections: [{ _id: COLLECTION, name: 'people' }],
        entities: [
          { _id: E1, entity_collection_id: COLLECTION, name: 'two assets', asset_ids: [A1, A2] },
          { _id: E2, entity_collection_id: COLLECTION, name: 'only A1', asset_ids: [A1] },
          { _id: E3, entity_collection_id: COLLECTION, name: 'only A3', asset_ids: [A3] },
        ],
      },
    }),
  );

  describe('authentication', () => {
    it('a request without x-api-key is refused with 401 api_key_invalid', async () => {
      const res = await twelvelabs(sandbox.url, undefined)('GET', `/assets/${A1}`);
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'api_key_invalid');
      assert.equal(typeof res.body.message, 'string');
    });

    it('a request with a wrong key is refused with 401 and the message does not echo the key', async () => {
      const res = await twelvelabs(sandbox.url, 'wrong-key')('GET', `/assets/${A1}`);
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'api_key_invalid');
      assert.ok(!res.text.includes('wrong-key') && !res.text.includes(KEY));
    });
  });

  describe('assets', () => {
    it('one asset reads with its metadata, status and creation date', async () => {
      const res = await tl('GET', `/assets/${A2}`);
      assert.equal(res.status, 200);
      assert.equal(res.body._id, A2);
      assert.equal(res.body.filename, 'clip-2.mp4');
      assert.equal(res.body.status, 'ready');
      assert.deepEqual(res.body.user_metadata, { n: 2 });
      assert.ok(res.body.created_at);
    });

    it('an unknown asset answers 404 resource_not_exist', async () => {
      const res = await tl('GET', `/assets/${hexId(0xdead)}`);
      assert.equal(res.status, 404);
      assert.equal(res.body.code, 'resource_not_exist');
      assert.match(res.body.message, /asset/);
    });

    it('the asset list pages with page_info, and a page past the end is empty', async () => {
      const first = await tl('GET', '/assets?page=1&page_limit=2');
      assert.equal(first.status, 200);
      assert.deepEqual(
        first.body.data.map((a: { _id: string }) => a._id),
        [A1, A2],
      );
      assert.deepEqual(first.body.page_info, { limit_per_page: 2, page: 1, total_page: 3, total_results: 5 });
      const last = await tl('GET', '/assets?page=3&page_limit=2');
      assert.deepEqual(
        last.body.data.map((a: { _id: string }) => a._id),
        [A5],
      );
      const past = await tl('GET', '/assets?page=4&page_limit=2');
      assert.equal(past.status, 200);
      assert.deepEqual(past.body.data, []);
      assert.equal(past.body.page_info.page, 4);
    });

    it('page_limit defaults to 10', async () => {
      const res = await tl('GET', '/assets');
      assert.equal(res.body.page_info.limit_per_page, 10);
      assert.equal(res.body.page_info.total_page, 1);
      assert.equal(res.body.data.length, 5);
    });

    it('page_limit over 50, page 0 and non-numbers are refused with 400 parameter_invalid', async () => {
      for (const query of ['page_limit=51', 'page=0', 'page=abc', 'page_limit=0', 'page_limit=-1']) {
        const res = await tl('GET', `/assets?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.code, 'parameter_invalid', query);
      }
      assert.equal((await tl('GET', '/assets?page_limit=50')).status, 200);
    });

    it('asset_ids filters the list, one ID per parameter; a comma-joined list is refused', async () => {
      const repeated = await tl('GET', `/assets?asset_ids=${A3}&asset_ids=${A1}&asset_ids=${hexId(0xdead)}`);
      assert.deepEqual(repeated.body.data.map((a: { _id: string }) => a._id).sort(), [A1, A3]);
      assert.equal(repeated.body.page_info.total_results, 2);
      const comma = await tl('GET', `/assets?asset_ids=${A4},${A5}`);
      assert.equal(comma.status, 400);
      assert.equal(comma.body.code, 'parameter_invalid');
    });
  });

  describe('references', () => {
    it("an asset's indexed assets list with their index", async () => {
      const res = await tl('GET', `/assets/${A1}/indexed-assets?page_limit=1`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, [{ _id: IA1, index: { _id: INDEX, name: 'main' } }]);
      assert.deepEqual(res.body.page_info, { limit_per_page: 1, page: 1, total_page: 2, total_results: 2 });
      const second = await tl('GET', `/assets/${A1}/indexed-assets?page=2&page_limit=1`);
      assert.deepEqual(second.body.data, [{ _id: IA2, index: { _id: INDEX, name: 'main' } }]);
    });

    it("an asset's entities list as full entities", async () => {
      const res = await tl('GET', `/assets/${A1}/entities`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.map((e: { _id: string }) => e._id).sort(), [E1, E2]);
      const e1 = res.body.data.find((e: { _id: string }) => e._id === E1);
      assert.equal(e1.entity_collection_id, COLLECTION);
      assert.deepEqual(e1.asset_ids, [A1, A2]);
      assert.equal(e1.status, 'ready');
      for (const field of ['name', 'description', 'metadata', 'created_at', 'updated_at'])
        assert.ok(field in e1);
    });

    it('references of an unknown asset answer 404', async () => {
      assert.equal((await tl('GET', `/assets/${hexId(0xdead)}/indexed-assets`)).status, 404);
      assert.equal((await tl('GET', `/assets/${hexId(0xdead)}/entities`)).status, 404);
    });

    it('an asset without references lists nothing', async () => {
      const res = await tl('GET', `/assets/${A5}/entities`);
      assert.deepEqual(res.body.data, []);
      assert.equal(res.body.page_info.total_results, 0);
    });
  });

  describe('deleting', () => {
    it('an indexed asset deletes with 204 and an empty body, then answers 404', async () => {
      const res = await tl('DELETE', `/indexes/${INDEX}/indexed-assets/${IA1}`);
      assert.equal(res.status, 204);
      assert.equal(res.text, '');
      assert.equal((await tl('GET', `/indexes/${INDEX}/indexed-assets/${IA1}`)).status, 404);
      const again = await tl('DELETE', `/indexes/${INDEX}/indexed-assets/${IA1}`);
      assert.equal(again.status, 404);
      assert.equal(again.body.code, 'resource_not_exist');
    });

    it('an indexed asset named under another index answers 404', async () => {
      assert.equal((await tl('DELETE', `/indexes/${OTHER_INDEX}/indexed-assets/${IA1}`)).status, 404);
      assert.equal((await tl('DELETE', `/indexes/${hexId(0xbad)}/indexed-assets/${IA1}`)).status, 404);
    });

    it('a plain delete of an asset that indexed assets reference is refused with 409', async () => {
      const res = await tl('DELETE', `/assets/${A1}`);
      assert.equal(res.status, 409);
      assert.equal(typeof res.body.code, 'string');
      assert.match(res.body.message, /indexed asset/);
      assert.equal((await tl('GET', `/assets/${A1}`)).status, 200);
    });

    it('a plain delete succeeds once the indexed assets are gone and unlinks the asset from its entities', async () => {
      await tl('DELETE', `/indexes/${INDEX}/indexed-assets/${IA1}`);
      await tl('DELETE', `/indexes/${INDEX}/indexed-assets/${IA2}`);
      const res = await tl('DELETE', `/assets/${A1}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {});
      const e1 = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E1}`);
      assert.deepEqual(e1.body.asset_ids, [A2]);
      assert.equal(e1.body.status, 'processing');
    });

    it('a forced delete deletes anyway, leaves the indexed assets orphaned and empties entities it was last in', async () => {
      const res = await tl('DELETE', `/assets/${A1}?force=true`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {});
      assert.equal((await tl('GET', `/assets/${A1}`)).status, 404);
      const orphan = await tl('GET', `/indexes/${INDEX}/indexed-assets/${IA1}`);
      assert.equal(orphan.status, 200);
      assert.equal(orphan.body.asset_id, A1);
      const e2 = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E2}`);
      assert.deepEqual(e2.body.asset_ids, []);
      assert.equal(e2.body.status, 'processing');
      const e1 = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E1}`);
      assert.deepEqual(e1.body.asset_ids, [A2]);
      await sleep(READY_AFTER_MS + 50);
      const later = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E2}`);
      assert.equal(later.body.status, 'ready');
      assert.deepEqual(later.body.asset_ids, []);
      // The orphans are still deletable on their own.
      assert.equal((await tl('DELETE', `/indexes/${INDEX}/indexed-assets/${IA1}`)).status, 204);
    });

    it('deleting an asset that is already gone answers 404', async () => {
      await tl('DELETE', `/assets/${A5}`);
      const again = await tl('DELETE', `/assets/${A5}?force=true`);
      assert.equal(again.status, 404);
      assert.equal(again.body.code, 'resource_not_exist');
    });

    it('a deleted asset leaves the asset list', async () => {
      await tl('DELETE', `/assets/${A3}?force=true`);
      const res = await tl('GET', '/assets');
      assert.equal(res.body.page_info.total_results, 4);
      assert.ok(!res.body.data.some((a: { _id: string }) => a._id === A3));
    });
  });

  describe('entities', () => {
    it('one entity reads by collection and ID; a wrong collection or ID answers 404', async () => {
      const res = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E3}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.name, 'only A3');
      assert.equal((await tl('GET', `/entity-collections/${hexId(0xbad)}/entities/${E3}`)).status, 404);
      assert.equal(
        (await tl('GET', `/entity-collections/${COLLECTION}/entities/${hexId(0xbad)}`)).status,
        404,
      );
    });

    it('unlinking an asset answers the entity, processing, and ready again after entityReadyAfterMs', async () => {
      const res = await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E1}/assets`, {
        asset_ids: [A1],
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.asset_ids, [A2]);
      assert.equal(res.body.status, 'processing');
      const listed = await tl('GET', `/assets/${A1}/entities`);
      assert.deepEqual(
        listed.body.data.map((e: { _id: string }) => e._id),
        [E2],
      );
      await sleep(READY_AFTER_MS + 50);
      const later = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E1}`);
      assert.equal(later.body.status, 'ready');
      // The asset itself stays.
      assert.equal((await tl('GET', `/assets/${A1}`)).status, 200);
    });

    it("removing an entity's last asset is refused with 400 and changes nothing", async () => {
      const res = await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E2}/assets`, {
        asset_ids: [A1],
      });
      assert.equal(res.status, 400);
      assert.match(res.body.message, /last asset/);
      const e2 = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E2}`);
      assert.deepEqual(e2.body.asset_ids, [A1]);
      assert.equal(e2.body.status, 'ready');
    });

    it('removing all the assets of an entity at once is refused as removing its last', async () => {
      const res = await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E1}/assets`, {
        asset_ids: [A1, A2],
      });
      assert.equal(res.status, 400);
    });

    it('removing an asset that is not linked to the entity is refused with 400 (strict reading)', async () => {
      const res = await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E1}/assets`, {
        asset_ids: [A3],
      });
      assert.equal(res.status, 400);
      assert.match(res.body.message, /not linked/);
      const e1 = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E1}`);
      assert.deepEqual(e1.body.asset_ids, [A1, A2]);
    });

    it('linking assets answers the entity with them, processing', async () => {
      const res = await tl('POST', `/entity-collections/${COLLECTION}/entities/${E3}/assets`, {
        asset_ids: [A4, A5],
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.asset_ids, [A3, A4, A5]);
      assert.equal(res.body.status, 'processing');
      const listed = await tl('GET', `/assets/${A4}/entities`);
      assert.deepEqual(
        listed.body.data.map((e: { _id: string }) => e._id),
        [E3],
      );
    });

    it('linking an unknown asset answers 404 and changes nothing', async () => {
      const res = await tl('POST', `/entity-collections/${COLLECTION}/entities/${E3}/assets`, {
        asset_ids: [hexId(0xdead)],
      });
      assert.equal(res.status, 404);
      const e3 = await tl('GET', `/entity-collections/${COLLECTION}/entities/${E3}`);
      assert.deepEqual(e3.body.asset_ids, [A3]);
    });

    it('an entity deletes with 204, then answers 404 and leaves its assets', async () => {
      const res = await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E2}`);
      assert.equal(res.status, 204);
      assert.equal(res.text, '');
      assert.equal((await tl('GET', `/entity-collections/${COLLECTION}/entities/${E2}`)).status, 404);
      assert.equal((await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E2}`)).status, 404);
      const listed = await tl('GET', `/assets/${A1}/entities`);
      assert.deepEqual(
        listed.body.data.map((e: { _id: string }) => e._id),
        [E1],
      );
    });

    it("a collection's entities list with paging", async () => {
      const res = await tl('GET', `/entity-collections/${COLLECTION}/entities?page_limit=2`);
      assert.equal(res.status, 200);
      assert.equal(res.body.data.length, 2);
      assert.equal(res.body.page_info.total_results, 3);
    });

    it('a seeded processing entity turns ready after entityReadyAfterMs', async () => {
      await sandbox.seed({
        entityReadyAfterMs: READY_AFTER_MS,
        twelvelabs: {
          apiKey: KEY,
          assets: [{ _id: A1 }],
          entityCollections: [{ _id: COLLECTION }],
          entities: [{ _id: E1, entity_collection_id: COLLECTION, asset_ids: [A1], status: 'processing' }],
        },
      });
      assert.equal(
        (await tl('GET', `/entity-collections/${COLLECTION}/entities/${E1}`)).body.status,
        'processing',
      );
      await sleep(READY_AFTER_MS + 50);
      assert.equal(
        (await tl('GET', `/entity-collections/${COLLECTION}/entities/${E1}`)).body.status,
        'ready',
      );
    });
  });

  describe('malformed requests', () => {
    it('a body that is not JSON answers 400 in the TwelveLabs shape', async () => {
      const res = await tl(
        'DELETE',
        `/entity-collections/${COLLECTION}/entities/${E1}/assets`,
        undefined,
        '{oops',
      );
      assert.equal(res.status, 400);
      assert.equal(res.body.code, 'parameter_invalid');
    });

    it('asset_ids missing, empty or of the wrong type answers 400 parameter_invalid', async () => {
      for (const body of [undefined, {}, { asset_ids: [] }, { asset_ids: A1 }, { asset_ids: [1] }]) {
        const res = await tl('DELETE', `/entity-collections/${COLLECTION}/entities/${E1}/assets`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'parameter_invalid');
      }
    });

    it('an unknown route answers 404 and a wrong method 405, both in the TwelveLabs shape', async () => {
      const unknown = await tl('GET', '/no/such/route');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, 'route_not_found');
      const wrong = await tl('PUT', `/assets/${A1}`);
      assert.equal(wrong.status, 405);
      assert.equal(typeof wrong.body.code, 'string');
      assert.match(wrong.headers.get('allow') ?? '', /DELETE/);
    });

    it('an ID with characters that are not hex answers 404, not an error', async () => {
      const res = await tl('GET', '/assets/%E0%A4%A');
      assert.ok(res.status === 404, String(res.status));
    });
  });
});
