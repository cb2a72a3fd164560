/**
 * Runs against the sandbox where the worker is set up or answered the way a real deployment can be: a base
 * URL whose path is not the vendor's API, and answers the vendors may give that the sandbox would not.
 * Each case checks the report's rows and the systems' state after the run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Plan, type PlanInput, type Report } from '../../plan/index.js';
import type { SandboxState, SandboxStateInput } from '../../sandbox/index.js';
import { countRequests } from '../helpers/sandbox.js';
import { KEYS, envFor, runPlan, startStack, type Stack } from '../helpers/stack.js';
import { startVendorProxy, type VendorProxy } from '../helpers/vendor-proxy.js';
import { assertOnlyTargetsGone, assertReportAgrees } from './world.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const INDEX = hex(0x1d);
const N = 4;
const ASSETS = Array.from({ length: N }, (_, i) => hex(0xa00 + i));
/** An asset outside the plan, and an entity that holds it and item-0's asset: item-0 unlinks from it. */
const OTHER = hex(0xff);
const COLL = hex(0xc0);
const ENTITY = hex(0xe0);

let stack: Stack;
let proxy: VendorProxy;
before(async () => {
  stack = await startStack();
  proxy = await startVendorProxy(stack.sandbox.url);
});
after(async () => {
  await proxy?.close();
  await stack?.close();
});

function catalogue(): SandboxStateInput {
  return {
    entityReadyAfterMs: 50,
    twelvelabs: {
      apiKey: KEYS.tl,
      assets: [...ASSETS, OTHER].map((_id) => ({ _id })),
      indexes: [{ _id: INDEX }],
      indexedAssets: ASSETS.map((a, i) => ({ _id: hex(0x1000 + i), index_id: INDEX, asset_id: a })),
      entityCollections: [{ _id: COLL }],
      entities: [{ _id: ENTITY, entity_collection_id: COLL, asset_ids: [ASSETS[0]!, OTHER] }],
    },
    uplynk: {
      ownerId: KEYS.owner,
      apiKey: KEYS.uplynk,
      libraries: [{ id: 'lib1', asset_ids: [...ASSETS.map((_, i) => `u${i}`), 'keep'] }],
    },
    entermedia: { key: KEYS.dam, assets: [...ASSETS.map((_, i) => ({ id: `d${i}` })), { id: 'keep' }] },
  };
}

const plan = Plan.parse({
  name: 'vendor-contract',
  items: ASSETS.map((assetId, i) => ({
    id: `item-${i}`,
    twelvelabs: { assetId },
    uplynk: { assetId: `u${i}`, libraryIds: ['lib1'] },
    entermedia: { assetId: `d${i}` },
  })),
  options: { failureThreshold: 1 },
} satisfies PlanInput);

/** Runs the plan with the worker's environment changed by `overrides`; checks the world after it. */
async function runWith(
  overrides: Record<string, string>,
): Promise<{ report: Report; was: SandboxState; now: SandboxState }> {
  await stack.sandbox.reset();
  await stack.sandbox.seed(catalogue());
  const was = await stack.sandbox.state();
  const { report } = await runPlan(
    stack,
    { plan },
    envFor(stack.sandbox.url, { BULK_DELETE_CALL_RETRY_MS: '3000', ...overrides }),
    { chunkSize: N },
  );
  const now = await stack.sandbox.state();
  assertOnlyTargetsGone(was, now, [plan]);
  assertReportAgrees(plan, report, was, now);
  return { report, was, now };
}

function rowOf(report: Report, item: string, system: string) {
  const row = report.rows.find((r) => r.item === item && r.system === system);
  assert.ok(row, `no row for ${item}/${system}`);
  return row;
}

describe('vendor contract: a 404 that is not the vendor saying the target is gone', () => {
  it('an EnterMediaDB base URL with a wrong path fails every DAM part with a hint; none reads already absent', async () => {
    const { report, now } = await runWith({
      ENTERMEDIA_BASE_URL: `${stack.sandbox.url}/entermedia/dam`,
    });
    for (let i = 0; i < N; i++) {
      const dam = rowOf(report, `item-${i}`, 'entermedia');
      assert.equal(dam.outcome, 'failed', JSON.stringify(dam));
      assert.match(dam.detail, /deleteassets \(d\d\) answered 404/);
      assert.match(dam.detail, /check ENTERMEDIA_BASE_URL; not read as already absent/);
      // The other systems were reached at their right URLs and did their part.
      assert.equal(rowOf(report, `item-${i}`, 'twelvelabs').outcome, 'deleted');
      assert.equal(rowOf(report, `item-${i}`, 'uplynk').outcome, 'deleted');
    }
    assert.deepEqual(
      now.entermedia.assets.map((a) => a.id),
      ['d0', 'd1', 'd2', 'd3', 'keep'],
    );
    assert.equal(report.mutations.filter((e) => e.answer === 'already-absent').length, 0);
  });

  it('a TwelveLabs base URL without its version fails every item at discovery; nothing is deleted anywhere', async () => {
    const { report, was, now } = await runWith({
      TWELVELABS_BASE_URL: `${stack.sandbox.url}/twelvelabs`,
    });
    for (let i = 0; i < N; i++) {
      const row = rowOf(report, `item-${i}`, 'twelvelabs');
      assert.equal(row.outcome, 'failed', JSON.stringify(row));
      assert.match(row.detail, /answered 404/);
      assert.match(row.detail, /check TWELVELABS_BASE_URL; not read as already absent/);
      for (const system of ['uplynk', 'entermedia']) {
        assert.notEqual(rowOf(report, `item-${i}`, system).outcome, 'deleted');
      }
    }
    assert.deepEqual(now, was);
  });
});

describe('vendor contract: GET /assets?asset_ids=', () => {
  it('the read-back names each deleted asset as its own asset_ids parameter: every item reads back gone and is deleted', async () => {
    const { report, now } = await runWith({});
    for (let i = 0; i < N; i++) {
      for (const system of ['twelvelabs', 'uplynk', 'entermedia']) {
        const row = rowOf(report, `item-${i}`, system);
        assert.equal(row.outcome, 'deleted', JSON.stringify(row));
      }
    }
    assert.deepEqual(
      now.twelvelabs.assets.map((a) => a._id),
      [OTHER],
    );
    const stats = await stack.sandbox.stats();
    assert.ok(countRequests(stats, { route: 'GET /assets', status: 200 }) >= 1);
    assert.equal(countRequests(stats, { route: 'GET /assets', status: 400 }), 0);
  });
});

describe('vendor contract: EnterMediaDB rowsedited "0"', () => {
  it('an asset answered rowsedited "0" is searched for: one still found fails its item at verify, not already absent', async () => {
    // The DAM deletes nothing and says it edited no row (deletes it refused without saying so).
    proxy.answer([
      {
        method: 'POST',
        path: /\/deleteassets$/,
        withhold: true,
        body: () => ({ response: { status: 'ok', rowsedited: '0' } }),
      },
    ]);
    const { report, now } = await runWith({ ENTERMEDIA_BASE_URL: `${proxy.url}/entermedia` });
    for (let i = 0; i < N; i++) {
      const dam = rowOf(report, `item-${i}`, 'entermedia');
      assert.equal(dam.outcome, 'failed', JSON.stringify(dam));
      assert.equal(dam.step, 'verify', JSON.stringify(dam));
      assert.match(
        dam.detail,
        new RegExp(`asset d${i} is still found after EnterMediaDB answered rowsedited "0"`),
      );
    }
    assert.deepEqual(
      now.entermedia.assets.map((a) => a.id),
      ['d0', 'd1', 'd2', 'd3', 'keep'],
    );
    // Each was searched once, after its answer.
    assert.equal(proxy.requests.filter((r) => r.endsWith('/asset/search')).length, N);
  });
});

describe('vendor contract: an entity answered as the vendor documents it', () => {
  it('an unlink answer and entity reads without entity_collection_id (seed 000 has none) unlink and delete the item', async () => {
    const withoutCollection = ({ entity_collection_id: _, ...entity }: Record<string, unknown>) => entity;
    proxy.answer([
      { method: 'DELETE', path: new RegExp(`/entities/${ENTITY}/assets$`), body: withoutCollection },
      { method: 'GET', path: new RegExp(`/entities/${ENTITY}$`), body: withoutCollection },
    ]);
    const { report, now } = await runWith({ TWELVELABS_BASE_URL: `${proxy.url}/twelvelabs/v1.3` });
    for (let i = 0; i < N; i++) {
      for (const system of ['twelvelabs', 'uplynk', 'entermedia']) {
        const row = rowOf(report, `item-${i}`, system);
        assert.equal(row.outcome, 'deleted', JSON.stringify(row));
      }
    }
    assert.ok(proxy.requests.some((r) => r.startsWith(`DELETE /twelvelabs/v1.3/entity-collections/${COLL}`)));
    assert.ok(proxy.requests.some((r) => r.startsWith(`GET /twelvelabs/v1.3/entity-collections/${COLL}`)));
    assert.deepEqual(now.twelvelabs.entities.find((e) => e._id === ENTITY)?.asset_ids, [OTHER]);
    assert.deepEqual(
      now.twelvelabs.assets.map((a) => a._id),
      [OTHER],
    );
  });
});

describe('vendor contract: descriptive fields answered null', () => {
  it('entities and indexed assets listed with null names (as the SDK reads them) are unlinked and deleted', async () => {
    type Page = { data: Array<Record<string, unknown>> };
    proxy.answer([
      {
        method: 'GET',
        path: new RegExp(`/assets/${ASSETS[0]}/entities$`),
        body: (page: Page) => ({ ...page, data: page.data.map((e) => ({ ...e, name: null })) }),
      },
      {
        method: 'GET',
        path: /\/assets\/[0-9a-f]{24}\/indexed-assets$/,
        body: (page: Page) => ({
          ...page,
          data: page.data.map((ia) => ({ ...ia, index: { ...(ia.index as object), name: null } })),
        }),
      },
    ]);
    const { report, now } = await runWith({ TWELVELABS_BASE_URL: `${proxy.url}/twelvelabs/v1.3` });
    for (let i = 0; i < N; i++) {
      for (const system of ['twelvelabs', 'uplynk', 'entermedia']) {
        const row = rowOf(report, `item-${i}`, system);
        assert.equal(row.outcome, 'deleted', JSON.stringify(row));
      }
    }
    assert.deepEqual(now.twelvelabs.indexedAssets, []);
    assert.deepEqual(now.twelvelabs.entities.find((e) => e._id === ENTITY)?.asset_ids, [OTHER]);
  });
});

describe('vendor contract: an entity in a status other than processing or ready', () => {
  it('an entity that turns "failed" after the unlink fails its items at once, naming the status; the others are deleted', async () => {
    proxy.answer([
      {
        method: 'GET',
        path: new RegExp(`/entity-collections/${COLL}/entities/${ENTITY}$`),
        body: (entity: Record<string, unknown>) => ({ ...entity, status: 'failed' }),
      },
    ]);
    const started = Date.now();
    const { report } = await runWith({ TWELVELABS_BASE_URL: `${proxy.url}/twelvelabs/v1.3` });
    assert.ok(Date.now() - started < 60_000, 'waited for the entity as if it were processing');
    const row = rowOf(report, 'item-0', 'twelvelabs');
    assert.equal(row.outcome, 'failed', JSON.stringify(row));
    assert.equal(row.step, 'wait-entities', JSON.stringify(row));
    assert.match(
      row.detail,
      new RegExp(
        `entity ${ENTITY} could not be read again: [\\s\\S]*status "failed" is neither "processing" nor "ready"`,
      ),
    );
    for (let i = 1; i < N; i++) assert.equal(rowOf(report, `item-${i}`, 'twelvelabs').outcome, 'deleted');
  });
});
