/**
 * A vendor that answers what it should not: IDs that would leave the plan if they reached a URL as they
 * are, and bodies of another shape. A proxy in front of the sandbox rewrites its answers and logs every
 * request; each case checks that no request left the plan, that only the plan's targets disappeared, that
 * the item concerned ends failed with the reason, and that the other items are deleted everywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Plan, type PlanInput, type Report } from '../../plan/index.js';
import type { SandboxStateInput } from '../../sandbox/index.js';
import { KEYS, envFor, runPlan, startStack, type Stack } from '../helpers/stack.js';
import { startVendorProxy, type AnswerRewrite, type VendorProxy } from '../helpers/vendor-proxy.js';
import { assertOnlyTargetsGone, assertReportAgrees } from './world.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const COLL = hex(0xc0);
const INDEX = hex(0x1d);
/** An asset outside every plan, with an indexed asset and an entity of its own. */
const OTHER = hex(0xff);
const OTHER_INDEXED = hex(0x1fff);
const OTHER_ENTITY = hex(0xef);
const N = 12;
const ASSETS = Array.from({ length: N }, (_, i) => hex(0xa00 + i));
/** The entity of item i (for i < 4): it holds the item's asset and OTHER, so the item unlinks from it. */
const ENTITY = (i: number) => hex(0xe00 + i);

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
      indexedAssets: [
        ...ASSETS.map((a, i) => ({ _id: hex(0x1000 + i), index_id: INDEX, asset_id: a })),
        { _id: OTHER_INDEXED, index_id: INDEX, asset_id: OTHER },
      ],
      entityCollections: [{ _id: COLL }],
      entities: [
        ...[0, 1, 2, 3].map((i) => ({
          _id: ENTITY(i),
          entity_collection_id: COLL,
          asset_ids: [ASSETS[i]!, OTHER],
        })),
        { _id: OTHER_ENTITY, entity_collection_id: COLL, asset_ids: [OTHER] },
      ],
    },
    uplynk: {
      ownerId: KEYS.owner,
      apiKey: KEYS.uplynk,
      libraries: [
        { id: 'lib1', asset_ids: [...ASSETS.map((_, i) => `u${i}`), 'keep'] },
        { id: 'lib2', asset_ids: ['u-own', 'keep'] },
      ],
    },
    entermedia: { key: KEYS.dam, assets: [...ASSETS.map((_, i) => ({ id: `d${i}` })), { id: 'keep' }] },
  };
}

const plan = Plan.parse({
  name: 'vendor-answers',
  items: ASSETS.map((assetId, i) => ({
    id: `item-${i}`,
    twelvelabs: { assetId },
    uplynk: { assetId: `u${i}`, libraryIds: ['lib1'] },
    entermedia: { assetId: `d${i}` },
  })),
  // Most items of a case fail on purpose: the run goes on to show what happens to the others.
  options: { failureThreshold: 1 },
} satisfies PlanInput);

/** The requests a run of `plan` may make: its own assets, their indexed assets and entities, its library. */
const IN_PLAN = new RegExp(
  [
    `^GET /twelvelabs/v1\\.3/assets\\?`,
    `^(GET|DELETE) /twelvelabs/v1\\.3/assets/(${ASSETS.join('|')})(/indexed-assets|/entities)?(\\?|$)`,
    `^DELETE /twelvelabs/v1\\.3/indexes/${INDEX}/indexed-assets/(${ASSETS.map((_, i) => hex(0x1000 + i)).join('|')})$`,
    `^(GET|DELETE) /twelvelabs/v1\\.3/entity-collections/${COLL}/entities/(${[0, 1, 2, 3].map(ENTITY).join('|')})(/assets)?$`,
    `^DELETE /uplynk/api/v4/libraries/lib1/assets\\?ids=`,
    `^POST /entermedia/assets/mediadb/services/module/asset/(deleteassets|search)$`,
  ].join('|'),
);

/** Runs the plan through the proxy answering `rewrites`; answers the report and checks the world. */
async function runWith(rewrites: AnswerRewrite[]): Promise<Report> {
  await stack.sandbox.reset();
  await stack.sandbox.seed(catalogue());
  const was = await stack.sandbox.state();
  proxy.answer(rewrites);
  const { report } = await runPlan(
    stack,
    { plan },
    envFor(proxy.url, { BULK_DELETE_CALL_RETRY_MS: '3000' }),
    { chunkSize: N },
  );
  const now = await stack.sandbox.state();
  assert.deepEqual(
    proxy.requests.filter((r) => !IN_PLAN.test(r)),
    [],
    'requests outside the plan',
  );
  assertOnlyTargetsGone(was, now, [plan]);
  assertReportAgrees(plan, report, was, now);
  assert.equal(report.status, 'completed');
  return report;
}

function rowOf(report: Report, item: string, system: string) {
  const row = report.rows.find((r) => r.item === item && r.system === system);
  assert.ok(row, `no row for ${item}/${system}`);
  return row;
}

/** The item failed in TwelveLabs for `reason` and was not attempted in the other systems. */
function assertFailedInTwelveLabs(report: Report, item: string, reason: RegExp): void {
  const row = rowOf(report, item, 'twelvelabs');
  assert.equal(row.outcome, 'failed', JSON.stringify(row));
  assert.match(row.detail, reason);
  for (const system of ['uplynk', 'entermedia']) {
    const other = rowOf(report, item, system);
    assert.equal(other.outcome, 'skipped', JSON.stringify(other));
    assert.match(other.detail, /not attempted further: twelvelabs failed/);
  }
}

function assertDeletedEverywhere(report: Report, items: string[]): void {
  for (const item of items) {
    for (const system of ['twelvelabs', 'uplynk', 'entermedia']) {
      const row = rowOf(report, item, system);
      assert.equal(row.outcome, 'deleted', JSON.stringify(row));
    }
  }
}

const listing = (kind: 'indexed-assets' | 'entities', i: number) =>
  new RegExp(`^/twelvelabs/v1\\.3/assets/${ASSETS[i]}/${kind}$`);
const addIndexed = (i: number, entry: unknown): AnswerRewrite => ({
  method: 'GET',
  path: listing('indexed-assets', i),
  body: (page: { data: unknown[] }) => ({ ...page, data: [...page.data, entry] }),
});
const addEntity = (i: number, entry: Record<string, unknown>): AnswerRewrite => ({
  method: 'GET',
  path: listing('entities', i),
  body: (page: { data: unknown[] }) => ({
    ...page,
    data: [
      ...page.data,
      { entity_collection_id: COLL, asset_ids: [ASSETS[i], OTHER], status: 'ready', ...entry },
    ],
  }),
});

describe('safety: vendor answers with IDs that would leave the plan', () => {
  it('an indexed asset or entity whose ID would change the URL fails its item, without a call; the others are deleted', async () => {
    const report = await runWith([
      // Unencoded, these would reach OTHER's asset, its indexed asset, or another entity.
      addIndexed(4, { _id: `../../../assets/${OTHER}`, index: { _id: INDEX } }),
      addIndexed(5, { _id: OTHER_INDEXED, index: { _id: '..' } }),
      addIndexed(6, { _id: `${OTHER_INDEXED}?force=true`, index: { _id: INDEX } }),
      addIndexed(7, { _id: 'x'.repeat(300), index: { _id: INDEX } }),
      addIndexed(8, { _id: `${OTHER_INDEXED}\n`, index: { _id: INDEX } }),
      addIndexed(9, { _id: '', index: { _id: INDEX } }),
      // Entities are listed at discovery; the unlink is the first call that would use them.
      addEntity(0, { _id: `${OTHER_ENTITY}%2F..` }),
      addEntity(1, { _id: `${OTHER_ENTITY}#` }),
      addEntity(2, { _id: OTHER_ENTITY.replace(/^0/, '\uff10') }),
      addEntity(3, { _id: hex(0xe9), entity_collection_id: `${COLL}/../${COLL}` }),
    ]);
    for (const i of [4, 6, 7, 8])
      assertFailedInTwelveLabs(report, `item-${i}`, /indexed asset ID .* is not a safe ID/);
    assertFailedInTwelveLabs(report, 'item-5', /index ID "\.\." is not a safe ID/);
    assertFailedInTwelveLabs(report, 'item-9', /indexed-assets .* answered a body of an unexpected shape/);
    for (const i of [0, 1, 2]) assertFailedInTwelveLabs(report, `item-${i}`, /entity ID .* is not a safe ID/);
    assertFailedInTwelveLabs(report, 'item-3', /entity collection ID .* is not a safe ID/);
    assertDeletedEverywhere(report, ['item-10', 'item-11']);
  });
});

describe('safety: vendor answers of an unexpected shape', () => {
  it('a delete answered 2xx with a body that cannot be read may have been applied: the ledger and the report say so', async () => {
    let damAnswers = 0;
    const report = await runWith([
      // TwelveLabs deletes the asset, then answers a list; then one that is not JSON (retried: 404).
      { method: 'DELETE', path: new RegExp(`/assets/${ASSETS[4]}$`), body: () => [1, 2] },
      { method: 'DELETE', path: new RegExp(`/assets/${ASSETS[5]}$`), body: () => '<html>ok</html>' },
      // EnterMediaDB deletes the asset, then answers "ok" without a count, or a count that is not one.
      {
        method: 'POST',
        path: /\/deleteassets$/,
        body: (answer: { response: object }) => ({
          response: { ...answer.response, rowsedited: damAnswers++ === 0 ? undefined : 'one' },
        }),
      },
    ]);
    const entry = (step: string, target: string) => {
      const found = report.mutations.filter((e) => e.step === step && e.target === target);
      assert.equal(found.length, 1, `${step} ${target}: ${found.length} ledger entries`);
      return found[0]!;
    };
    const unreadable = entry('delete-asset', ASSETS[4]!);
    assert.equal(unreadable.answer, 'failed');
    assert.equal(unreadable.mayHaveApplied, true, JSON.stringify(unreadable));
    assert.match(
      unreadable.detail ?? '',
      /DELETE \/assets\/\{asset_id\} .* answered a body of an unexpected shape/,
    );
    assert.match(
      rowOf(report, 'item-4', 'twelvelabs').detail,
      new RegExp(`delete-asset ${ASSETS[4]}: failed`),
    );
    // The retry found it gone after the first try's answer could not be read: this run deleted it.
    assert.equal(entry('delete-asset', ASSETS[5]!).answer, 'deleted');
    // Every item but item-4 (failed in TwelveLabs) reached EnterMediaDB.
    for (let i = 0; i < N; i++) {
      if (i === 4) continue;
      const dam = entry('delete-dam-asset', `d${i}`);
      assert.equal(dam.mayHaveApplied, true, JSON.stringify(dam));
      assert.equal(rowOf(report, `item-${i}`, 'entermedia').outcome, 'failed');
    }
    const damDetails = report.mutations.filter((e) => e.step === 'delete-dam-asset').map((e) => e.detail);
    assert.equal(damDetails.filter((d) => /answered status "ok" without rowsedited/.test(d ?? '')).length, 1);
  });
});

describe('safety: a read beside the items answered in an unexpected shape', () => {
  it("a read-back of an unexpected shape fails the items it reads at verify; the chunk's other items are deleted", async () => {
    const readBack = /^\/twelvelabs\/v1\.3\/assets$/;
    const report = await runWith([
      { method: 'GET', path: readBack, query: new RegExp(ASSETS[6]!), body: () => ({ data: 'none' }) },
    ]);
    // The items whose assets that read-back named (the worker groups read-backs as deletes answer).
    const unread = new Set(
      proxy.requests
        .filter((r) => r.startsWith('GET /twelvelabs/v1.3/assets?') && r.includes(ASSETS[6]!))
        .flatMap((r) => new URLSearchParams(r.split('?')[1]).getAll('asset_ids'))
        .map((assetId) => `item-${ASSETS.indexOf(assetId)}`),
    );
    assert.ok(unread.has('item-6'));
    for (const item of unread) {
      const row = rowOf(report, item, 'twelvelabs');
      assert.equal(row.step, 'verify', JSON.stringify(row));
      assertFailedInTwelveLabs(report, item, /GET \/assets .* answered a body of an unexpected shape/);
    }
    assertDeletedEverywhere(
      report,
      plan.items.map((i) => i.id).filter((id) => !unread.has(id)),
    );
  });

  it("an entity that answers in an unexpected shape while its items wait for it fails those items; the chunk's other items are deleted", async () => {
    const report = await runWith([
      {
        method: 'GET',
        path: new RegExp(`/entity-collections/${COLL}/entities/${ENTITY(0)}$`),
        body: () => ({ status: 'ready' }),
      },
    ]);
    const row = rowOf(report, 'item-0', 'twelvelabs');
    assert.equal(row.step, 'wait-entities', JSON.stringify(row));
    assertFailedInTwelveLabs(
      report,
      'item-0',
      new RegExp(`${ENTITY(0)}.*answered a body of an unexpected shape`),
    );
    assertDeletedEverywhere(
      report,
      plan.items.map((i) => i.id).filter((id) => id !== 'item-0'),
    );
  });
});
