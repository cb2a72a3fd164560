import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Plan } from '../../plan/index.js';
import { startSandbox } from '../../sandbox/index.js';
import { sandboxForSuite } from '../helpers/sandbox.js';
import { hexId, twelvelabs } from './clients.js';

describe('sandbox controls', () => {
  const sandbox = sandboxForSuite();

  describe('seed and state', () => {
    it('a seeded state reads back in the same shape, with defaults filled in', async () => {
      await sandbox.seed({
        entityReadyAfterMs: 50,
        twelvelabs: { apiKey: 'k', assets: [{ _id: 'a'.repeat(24), filename: 'x.mp4' }] },
        entermedia: { key: 'e', assets: [{ id: '101', name: 'x' }] },
      });
      const state = await sandbox.state();
      assert.equal(state.entityReadyAfterMs, 50);
      assert.equal(state.twelvelabs.apiKey, 'k');
      assert.deepEqual(state.twelvelabs.assets[0], {
        _id: 'a'.repeat(24),
        filename: 'x.mp4',
        status: 'ready',
        created_at: '2024-01-01T00:00:00.000Z',
        user_metadata: {},
      });
      assert.deepEqual(state.entermedia.assets, [{ id: '101', name: 'x' }]);
      assert.deepEqual(Object.keys(state.twelvelabs).sort(), [
        'apiKey',
        'assets',
        'entities',
        'entityCollections',
        'indexedAssets',
        'indexes',
      ]);
      assert.deepEqual(Object.keys(state.uplynk).sort(), ['apiKey', 'libraries', 'ownerId']);
    });

    it('the state read back seeds the same state again', async () => {
      await sandbox.generate(30, 5);
      const state = await sandbox.state();
      await sandbox.seed(state);
      assert.deepEqual(await sandbox.state(), state);
    });

    it('a bad seed is refused with 400 and a message that names the fields, and the state stays', async () => {
      await sandbox.seed({ entermedia: { key: 'kept', assets: [] } });
      const res = await fetch(`${sandbox.url}/_sandbox/seed`, {
        method: 'POST',
        body: JSON.stringify({
          twelvelabs: {
            assets: [{ _id: 'not-hex' }],
            entities: [{ _id: hexId(1), entity_collection_id: hexId(2), asset_ids: [hexId(3)] }],
          },
        }),
      });
      assert.equal(res.status, 400);
      const { error } = (await res.json()) as { error: string };
      assert.match(error, /twelvelabs\.assets\[0\]\._id/);
      assert.match(error, /entity collection|entity_collection_id/);
      assert.equal((await sandbox.state()).entermedia.key, 'kept');
    });

    it('a seed with a key the state does not have, at the top or in a section, is refused with 400 naming it', async () => {
      await sandbox.seed({ entermedia: { key: 'kept', assets: [] } });
      for (const [body, key] of [
        [{ bogus: 1 }, /Unrecognized key: "bogus"/],
        [{ twelvelabs: { asets: [] } }, /Unrecognized key: "asets"[\s\S]*twelvelabs/],
      ] as const) {
        const res = await fetch(`${sandbox.url}/_sandbox/seed`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 400);
        assert.match(((await res.json()) as { error: string }).error, key);
      }
      assert.equal((await sandbox.state()).entermedia.key, 'kept');
    });

    it('a seed that is not JSON is refused with 400', async () => {
      const res = await fetch(`${sandbox.url}/_sandbox/seed`, { method: 'POST', body: '{' });
      assert.equal(res.status, 400);
    });

    it('reset clears the state, the faults and the stats', async () => {
      await sandbox.seed({ twelvelabs: { apiKey: 'k', assets: [{ _id: hexId(1) }] } });
      await sandbox.faults({ twelvelabs: { error5xx: 1 } });
      await twelvelabs(sandbox.url, 'k')('GET', `/assets/${hexId(1)}`);
      await sandbox.reset();
      const state = await sandbox.state();
      assert.deepEqual(state.twelvelabs.assets, []);
      assert.equal(state.entityReadyAfterMs, 300);
      assert.deepEqual((await sandbox.stats()).requests, []);
      const faults = (await (await fetch(`${sandbox.url}/_sandbox/faults`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(faults.twelvelabs, undefined);
    });

    it('an unknown control answers 404', async () => {
      assert.equal((await fetch(`${sandbox.url}/_sandbox/nothing`)).status, 404);
      assert.equal((await fetch(`${sandbox.url}/elsewhere`)).status, 404);
    });
  });

  describe('generate', () => {
    it('answers a valid plan named for the seed and size, with maxItems of at least 1000', async () => {
      const { plan } = await sandbox.generate(50, 3);
      const parsed = Plan.safeParse(plan);
      assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
      assert.equal(plan.items.length, 50);
      assert.equal(plan.name, 'generated-3-50');
      assert.equal(plan.options?.maxItems, 1000);
      const big = await sandbox.generate(1500, 3);
      assert.equal(big.plan.options?.maxItems, 1500);
      assert.ok(Plan.safeParse(big.plan).success);
    });

    it('answers the env of the generated credentials on 127.0.0.1 and the real port', async () => {
      const { env } = await sandbox.generate(5, 1);
      const state = await sandbox.state();
      const port = new URL(sandbox.url).port;
      assert.deepEqual(env, {
        TWELVELABS_BASE_URL: `http://127.0.0.1:${port}/twelvelabs/v1.3`,
        TWELVELABS_API_KEY: state.twelvelabs.apiKey,
        UPLYNK_BASE_URL: `http://127.0.0.1:${port}/uplynk/api/v4`,
        UPLYNK_OWNER_ID: state.uplynk.ownerId,
        UPLYNK_API_KEY: state.uplynk.apiKey,
        ENTERMEDIA_BASE_URL: `http://127.0.0.1:${port}/entermedia`,
        ENTERMEDIA_KEY: state.entermedia.key,
      });
      const res = await twelvelabs(sandbox.url, env.TWELVELABS_API_KEY)('GET', '/assets');
      assert.equal(res.status, 200);
    });

    it('the same seed gives the same catalogue and plan, another seed another', async () => {
      const first = await sandbox.generate(200, 11);
      const firstState = await sandbox.state();
      const second = await sandbox.generate(200, 11);
      assert.deepEqual(second.plan, first.plan);
      assert.deepEqual(await sandbox.state(), firstState);
      const other = await sandbox.generate(200, 12);
      assert.notDeepEqual(other.plan, first.plan);
    });

    it('keeps the current entityReadyAfterMs', async () => {
      await sandbox.seed({ entityReadyAfterMs: 42 });
      await sandbox.generate(3, 1);
      assert.equal((await sandbox.state()).entityReadyAfterMs, 42);
    });

    it('a plan part exists only where there is something to delete, with metadata pointing at the others', async () => {
      const { plan } = await sandbox.generate(400, 9);
      const state = await sandbox.state();
      const assets = new Map(state.twelvelabs.assets.map((a) => [a._id, a]));
      const libraries = new Map(state.uplynk.libraries.map((l) => [l.id, new Set(l.asset_ids)]));
      const dam = new Set(state.entermedia.assets.map((a) => a.id));
      let withAsset = 0;
      for (const item of plan.items) {
        assert.ok(item.twelvelabs ?? item.uplynk ?? item.entermedia, item.id);
        if (item.uplynk) {
          assert.ok(item.uplynk.libraryIds.length >= 1 && item.uplynk.libraryIds.length <= 2);
          for (const lib of item.uplynk.libraryIds) assert.ok(libraries.get(lib)?.has(item.uplynk.assetId));
        }
        if (item.entermedia) assert.ok(dam.has(item.entermedia.assetId));
        if (!item.twelvelabs) continue;
        withAsset++;
        const asset = assets.get(item.twelvelabs.assetId);
        assert.ok(asset, item.id);
        const meta = asset.user_metadata;
        assert.ok(!Number.isNaN(Date.parse(String(meta.delete_after))));
        assert.equal(meta.uplynk_asset_id, item.uplynk?.assetId);
        assert.equal(meta.uplynk_library_ids, item.uplynk?.libraryIds.join(','));
        assert.equal(meta.entermedia_asset_id, item.entermedia?.assetId);
      }
      assert.ok(withAsset > plan.items.length * 0.75, `${withAsset} of ${plan.items.length} have an asset`);
      const deleteAfter = plan.items.flatMap((i) =>
        i.twelvelabs
          ? [Date.parse(String(assets.get(i.twelvelabs.assetId)?.user_metadata.delete_after))]
          : [],
      );
      assert.ok(deleteAfter.some((t) => t < Date.now()) && deleteAfter.some((t) => t > Date.now()));
    });

    it('gives items 0 to 3 indexed assets and 0 to 2 entities, some where the item is last, some shared', async () => {
      const { plan } = await sandbox.generate(400, 9);
      const state = await sandbox.state();
      const planAssets = new Set(plan.items.flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : [])));
      const indexedCount = new Map<string, number>();
      for (const ia of state.twelvelabs.indexedAssets)
        indexedCount.set(ia.asset_id, (indexedCount.get(ia.asset_id) ?? 0) + 1);
      const counts = [...planAssets].map((a) => indexedCount.get(a) ?? 0);
      assert.deepEqual([...new Set(counts)].sort(), [0, 1, 2, 3]);
      const entityCount = new Map<string, number>();
      for (const e of state.twelvelabs.entities)
        for (const a of e.asset_ids) entityCount.set(a, (entityCount.get(a) ?? 0) + 1);
      const perAsset = [...planAssets].map((a) => entityCount.get(a) ?? 0);
      assert.deepEqual([...new Set(perAsset)].sort(), [0, 1, 2]);
      const planShare = state.twelvelabs.entities.map(
        (e) => e.asset_ids.filter((a) => planAssets.has(a)).length,
      );
      assert.ok(
        state.twelvelabs.entities.some(
          (e) => e.asset_ids.length === 1 && planAssets.has(e.asset_ids[0] ?? ''),
        ),
      );
      assert.ok(
        planShare.some((n) => n >= 2),
        'some entity holds several plan assets',
      );
      assert.ok(
        state.twelvelabs.entities.some((e) => e.asset_ids.some((a) => !planAssets.has(a))),
        'some entity holds an asset outside the plan',
      );
      assert.ok(state.twelvelabs.entities.every((e) => e.status === 'ready'));
    });

    it('a bad request is refused with 400', async () => {
      for (const body of [{}, { items: 0 }, { items: 1.5 }, { items: 'x' }]) {
        const res = await fetch(`${sandbox.url}/_sandbox/generate`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 400, JSON.stringify(body));
      }
    });
  });

  describe('state file', () => {
    it('keeps the state across restarts', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
      const stateFile = join(dir, 'state.json');
      try {
        const first = await startSandbox({
          stateFile,
          seed: { twelvelabs: { apiKey: 'k', assets: [{ _id: hexId(1) }, { _id: hexId(2) }] } },
        });
        await twelvelabs(first.url, 'k')('DELETE', `/assets/${hexId(1)}`);
        await first.close();
        const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { twelvelabs: { assets: unknown[] } };
        assert.equal(saved.twelvelabs.assets.length, 1);
        const second = await startSandbox({ stateFile });
        try {
          assert.equal((await twelvelabs(second.url, 'k')('GET', `/assets/${hexId(1)}`)).status, 404);
          assert.equal((await twelvelabs(second.url, 'k')('GET', `/assets/${hexId(2)}`)).status, 200);
        } finally {
          await second.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
