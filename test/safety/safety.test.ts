/**
 * The engine as an adversary tries it: hand-made catalogues, the world changed under the run, runs
 * cancelled, chunks terminated, plans racing each other. Each case diffs the sandbox's state before and
 * after and checks that only the plans' targets disappeared and that every report row and ledger entry
 * agrees with what is there now.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchReport } from '../../client/report-fetch.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan, compareSteps, type LastEntityAsset, type PlanInput, type Report } from '../../plan/index.js';
import type { SandboxState, SandboxStateInput } from '../../sandbox/index.js';
import { chunkProgressQuery, progressQuery, type Phase } from '../../workflows/index.js';
import {
  KEYS,
  activitiesFor,
  envFor as sandboxEnvFor,
  runPlan,
  startStack,
  type Stack,
} from '../helpers/stack.js';
import { uniqueTaskQueue, withWorker } from '../helpers/temporal.js';
import { untilAnswered } from '../helpers/sandbox.js';
import { assertOnlyTargetsGone, assertReportAgrees } from './world.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const COLL = hex(0xc0);
const INDEX = hex(0x1d);

/** The calls of these cases retry for at most 20 s before the attempt fails. */
function envFor(url: string, overrides: Record<string, string> = {}): Record<string, string> {
  return sandboxEnvFor(url, { BULK_DELETE_CALL_RETRY_MS: '20000', ...overrides });
}

/** n items, each with a TwelveLabs asset (and an indexed asset), a library membership and a DAM asset. */
function catalogue(n: number, extra: { entities?: Array<{ id: number; assets: string[] }> } = {}) {
  const assets = Array.from({ length: n }, (_, i) => hex(0xa00 + i));
  return {
    entityReadyAfterMs: 100,
    twelvelabs: {
      apiKey: KEYS.tl,
      assets: [...assets, hex(0xff), hex(0xfe)].map((_id) => ({ _id })),
      indexes: [{ _id: INDEX }],
      indexedAssets: assets.map((a, i) => ({ _id: hex(0x1000 + i), index_id: INDEX, asset_id: a })),
      entityCollections: [{ _id: COLL }],
      entities: (extra.entities ?? []).map((e) => ({
        _id: hex(e.id),
        entity_collection_id: COLL,
        asset_ids: e.assets,
      })),
    },
    uplynk: {
      ownerId: KEYS.owner,
      apiKey: KEYS.uplynk,
      libraries: [{ id: 'lib1', asset_ids: [...assets.map((_, i) => `u${i}`), 'keep'] }],
    },
    entermedia: { key: KEYS.dam, assets: [...assets.map((_, i) => ({ id: `d${i}` })), { id: 'keep' }] },
  } satisfies SandboxStateInput;
}

function planOf(name: string, n: number, options: PlanInput['options'] = {}, from = 0): Plan {
  return Plan.parse({
    name,
    items: Array.from({ length: n }, (_, k) => {
      const i = from + k;
      return {
        id: `item-${i}`,
        twelvelabs: { assetId: hex(0xa00 + i) },
        uplynk: { assetId: `u${i}`, libraryIds: ['lib1'] },
        entermedia: { assetId: `d${i}` },
      };
    }),
    options,
  });
}

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

async function world(): Promise<SandboxState> {
  return stack.sandbox.state();
}

/** Waits until the sandbox has answered `route` at least `count` times. */
const answered = (route: string, count = 1) => untilAnswered(stack.sandbox, route, count, 500);

/** Changes the state in place (the sandbox's seed replaces it whole; faults and stats are kept). */
async function change(edit: (s: SandboxState) => void): Promise<void> {
  const s = await world();
  edit(s);
  await stack.sandbox.seed(s);
}

function check(plan: Plan, report: Report, was: SandboxState, now: SandboxState): void {
  assertOnlyTargetsGone(was, now, [plan]);
  assertReportAgrees(plan, report, was, now);
}

describe('safety: only what a plan targets disappears, and the report says what was done', () => {
  it('an unlink refused at run time under skip-item skips the item everywhere: nothing of it is touched', async () => {
    await stack.sandbox.reset();
    // Discovery sees E = {A0, X}; before the unlink arrives X leaves E, so A0 became its last asset.
    await stack.sandbox.seed(catalogue(2, { entities: [{ id: 0xe1, assets: [hex(0xa00), hex(0xff)] }] }));
    await stack.sandbox.faults({ twelvelabs: { latencyMs: [600, 600] } });
    const plan = planOf('skip-at-run-time', 2, { lastEntityAsset: 'skip-item' });
    const was = await world();
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
      during: async () => {
        await answered('GET /assets/{asset_id}/entities', 2);
        await change((s) => {
          s.twelvelabs.entities[0]!.asset_ids = [hex(0xa00)];
        });
      },
    });
    await stack.sandbox.faults({});
    const now = await world();
    const rows = report.rows.filter((r) => r.item === 'item-0');
    assert.deepEqual(
      rows.map((r) => r.outcome),
      ['skipped', 'skipped', 'skipped'],
    );
    assert.match(rows[0]!.detail, /last asset of entity .* decided during the run/);
    assert.ok(now.uplynk.libraries[0]!.asset_ids.includes('u0'), 'the skipped item keeps its library');
    assert.ok(
      now.entermedia.assets.some((a) => a.id === 'd0'),
      'the skipped item keeps its DAM asset',
    );
    assert.equal(report.summary.deleted, 1);
    check(
      plan,
      report,
      { ...was, twelvelabs: { ...was.twelvelabs, entities: now.twelvelabs.entities } },
      now,
    );
  });

  for (const phase of ['unlink', 'delete-items'] as Phase[]) {
    it(`a cancel during ${phase} stops after the calls in flight; a system that finished says deleted, one stopped midway partial, the rest skipped`, async () => {
      await stack.sandbox.reset();
      const entities = Array.from({ length: 6 }, (_, i) => ({
        id: 0xe00 + i,
        assets: [hex(0xa00 + i), hex(0xff)],
      }));
      await stack.sandbox.seed(catalogue(12, { entities }));
      await stack.sandbox.faults({
        twelvelabs: { latencyMs: [60, 60] },
        uplynk: { latencyMs: [300, 300] },
        entermedia: { latencyMs: [60, 60] },
      });
      // With `force-unlink` (the default) the unlinks go in `deleteItems`: a phase of their own is
      // walked under the other choices.
      const plan = planOf(`cancel-${phase}`, 12, phase === 'unlink' ? { lastEntityAsset: 'skip-item' } : {});
      const was = await world();
      const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
        chunkSize: 6,
        window: 1,
        during: async (handle) => {
          for (let i = 0; i < 1000; i++) {
            const p = await handle.query(progressQuery);
            const id = p.runningChunks[0];
            if (id) {
              const c = await stack.temporal.client.workflow
                .getHandle(id)
                .query(chunkProgressQuery)
                .catch(() => undefined);
              if (c?.phase === phase) break;
            }
            await new Promise((r) => setTimeout(r, 10));
          }
          await handle.cancel();
        },
      });
      await stack.sandbox.faults({});
      const now = await world();
      assert.equal(report.status, 'cancelled');
      assert.equal(report.summary.items, 12);
      check(plan, report, was, now);
      const partial = report.rows.filter((r) => r.outcome === 'partial');
      if (phase !== 'unlink')
        assert.ok(partial.length > 0 || report.summary.deleted > 0, 'something was done');
      assert.ok(report.rows.some((r) => r.outcome === 'skipped' && /cancel/.test(r.detail)));
    });
  }

  it('a terminated chunk loses its record: the run reads its items in every system and reports what it sees', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(catalogue(8));
    await stack.sandbox.faults({ uplynk: { latencyMs: [1500, 1500] } });
    const plan = planOf('terminated-chunk', 8);
    const was = await world();
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
      chunkSize: 4,
      window: 1,
      during: async (handle) => {
        await answered('DELETE /assets/{asset_id}', 4);
        await stack.temporal.client.workflow.getHandle(`${handle.workflowId}/chunk-00000`).terminate('test');
      },
    });
    await stack.sandbox.faults({});
    const now = await world();
    assert.equal(report.summary.items, 8, 'every item has rows, also those of the lost chunk');
    const lost = report.rows.filter((r) => r.step === 'observe');
    assert.equal(lost.length, 12, 'the 4 items of the lost chunk, 3 systems each');
    assert.ok(lost.filter((r) => r.system === 'twelvelabs').every((r) => r.outcome === 'deleted'));
    assert.ok(lost.filter((r) => r.system === 'entermedia').every((r) => r.outcome === 'failed'));
    assert.ok(lost.filter((r) => r.system === 'uplynk').every((r) => /cannot be read back/.test(r.detail)));
    check(plan, report, was, now);
  });

  it('an indexed asset created after discovery is found by the second look and deleted, not orphaned', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed({
      ...catalogue(1, { entities: [{ id: 0xe1, assets: [hex(0xa00), hex(0xff)] }] }),
      entityReadyAfterMs: 800,
    });
    const plan = planOf('late-indexed-asset', 1);
    const was = await world();
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
      during: async () => {
        await answered('DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}/assets');
        await change((s) => {
          s.twelvelabs.indexedAssets.push({ _id: hex(0x2000), index_id: INDEX, asset_id: hex(0xa00) });
        });
      },
    });
    const now = await world();
    assert.equal(now.twelvelabs.indexedAssets.length, 0, 'no orphaned indexed asset');
    assert.ok(report.mutations.some((e) => e.target === `${INDEX}/${hex(0x2000)}` && e.answer === 'deleted'));
    check(plan, report, { ...was, twelvelabs: { ...was.twelvelabs, indexedAssets: [] } }, now);
  });

  it('an entity that gains an asset outside the plan after discovery is not deleted under delete-entity', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(catalogue(1, { entities: [{ id: 0xe1, assets: [hex(0xa00)] }] }));
    await stack.sandbox.faults({ twelvelabs: { latencyMs: [500, 500] } });
    const plan = planOf('foreign-asset', 1, { lastEntityAsset: 'delete-entity' });
    const was = await world();
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
      during: async () => {
        await answered('GET /assets/{asset_id}/entities');
        await change((s) => {
          s.twelvelabs.entities[0]!.asset_ids.push(hex(0xff));
        });
      },
    });
    await stack.sandbox.faults({});
    const now = await world();
    const entity = now.twelvelabs.entities.find((e) => e._id === hex(0xe1));
    assert.ok(entity, 'the entity is kept');
    assert.deepEqual(entity.asset_ids, [hex(0xff)], 'it keeps the asset outside the plan');
    const tl = report.rows.find((r) => r.system === 'twelvelabs')!;
    assert.equal(tl.outcome, 'deleted');
    assert.match(tl.detail, /not deleted: it now also holds 1 asset/);
    assert.ok(!report.mutations.some((e) => e.step === 'delete-entity' && e.answer === 'deleted'));
    check(plan, report, was, now);
  });

  it('two plans that share assets, run at once, delete nothing else and each reports the truth', async () => {
    await stack.sandbox.reset();
    const entities = [{ id: 0xe1, assets: [hex(0xa02), hex(0xa03), hex(0xa04)] }];
    await stack.sandbox.seed(catalogue(8, { entities }));
    const one = planOf('shared-one', 5, {}, 0);
    const two = planOf('shared-two', 5, {}, 3);
    const was = await world();
    const taskQueue = uniqueTaskQueue('race');
    const reports = await withWorker(
      stack.temporal,
      taskQueue,
      activitiesFor(envFor(stack.sandbox.url)),
      async () => {
        const handles = await Promise.all(
          [one, two].map((plan) =>
            startBulkDelete(
              stack.temporal.client,
              { plan },
              { taskQueue, workflowId: uniqueTaskQueue(plan.name), chunkSize: 2 },
            ),
          ),
        );
        await Promise.all(handles.map((h) => h.result().catch(() => undefined)));
        return Promise.all(
          handles.map(async (h) => (await fetchReport(stack.temporal.client, h.workflowId)).report),
        );
      },
    );
    const now = await world();
    assertOnlyTargetsGone(was, now, [one, two]);
    const mutations = reports.flatMap((r) => r.mutations);
    for (const [plan, report] of [
      [one, reports[0]!],
      [two, reports[1]!],
    ] as const) {
      assertReportAgrees(plan, { ...report, mutations }, was, now);
      assert.equal(
        report.summary.failed,
        0,
        JSON.stringify(report.rows.filter((r) => r.outcome === 'failed')),
      );
    }
    assert.ok(
      now.twelvelabs.assets.some((a) => a._id === hex(0xff)),
      'assets outside both plans stay',
    );
  });

  it('a whole window of chunks discovers beside the first one, and changes nothing before it finished', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(catalogue(25));
    // Slow enough that the first chunk is still running when the parent has started the other four.
    await stack.sandbox.faults({ twelvelabs: { latencyMs: [50, 50] } });
    const plan = planOf('beside-first', 25);
    const was = await world();
    const { report, workflowId } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
      chunkSize: 5,
      window: 4,
    });
    await stack.sandbox.faults({});
    const now = await world();
    assert.equal(report.summary.deleted, 25);
    const chunks = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        stack.temporal.client.workflow.getHandle(`${workflowId}/chunk-0000${i}`).describe(),
      ),
    );
    const first = new Set(['item-0', 'item-1', 'item-2', 'item-3', 'item-4']);
    const changesOfFirst = report.mutations
      .filter((e) => first.has(e.item))
      .map((e) => e.at)
      .sort();
    // Chunks 1 to 4, a whole window beside the first chunk, were started while it still made its changes
    // (they discovered meanwhile; how early among its changes depends on the machine's load)...
    const lastOfFirst = changesOfFirst.at(-1)!;
    for (const c of chunks.slice(1)) {
      assert.ok(
        c.startTime.toISOString() < lastOfFirst,
        `${c.workflowId} started after chunk 0's last change`,
      );
    }
    // ...and made their first change only after chunk 0's last one.
    const othersFrom = report.mutations
      .filter((e) => !first.has(e.item))
      .map((e) => e.at)
      .sort()[0]!;
    assert.ok(
      othersFrom >= lastOfFirst,
      `another chunk changed something at ${othersFrom}, before ${lastOfFirst}`,
    );
    check(plan, report, was, now);
  });

  it('the threshold stops a chunk while its items phase runs: items it had not reached are not touched', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(catalogue(60));
    // The DAM refuses every delete (403): each item fails at its last system. TwelveLabs answers slowly
    // and two calls at a time, so that the items reach it one after another.
    await stack.sandbox.faults({ entermedia: { error403: 1 }, twelvelabs: { latencyMs: [100, 100] } });
    const plan = planOf('threshold-within', 60, { failureThreshold: 0.1, failureThresholdMinItems: 5 });
    const was = await world();
    const { report } = await runPlan(
      stack,
      { plan },
      envFor(stack.sandbox.url, { TWELVELABS_CONCURRENCY: '2' }),
      { chunkSize: 60, window: 1 },
    );
    await stack.sandbox.faults({});
    const now = await world();
    assert.equal(report.status, 'failed');
    // One chunk of 60 items: the run stopped it as its failures came, not once all 60 had been tried.
    const reached = new Set(report.mutations.filter((e) => e.system === 'twelvelabs').map((e) => e.item));
    assert.ok(
      reached.size >= 5 && reached.size <= 45,
      `${reached.size} of 60 items were called in TwelveLabs`,
    );
    const untouched = report.rows.filter((r) => !reached.has(r.item));
    assert.ok(untouched.length > 0);
    for (const row of untouched) {
      assert.equal(row.outcome, 'skipped', `${row.item} ${row.system}`);
      assert.match(row.detail, /failure threshold/);
    }
    check(plan, report, was, now);
  });

  it('the threshold stops the run before any further irreversible phase, and the run ends Failed', async () => {
    await stack.sandbox.reset();
    await stack.sandbox.seed(catalogue(20));
    const plan = planOf('threshold', 20, { failureThreshold: 0.2, failureThresholdMinItems: 2 });
    const was = await world();
    // A wrong DAM key: every item of the first chunk fails at its last phase.
    const { report, workflowId } = await runPlan(
      stack,
      { plan },
      envFor(stack.sandbox.url, { ENTERMEDIA_KEY: 'wrong' }),
      {
        chunkSize: 5,
        window: 4,
      },
    );
    const now = await world();
    const description = await stack.temporal.client.workflow.getHandle(workflowId).describe();
    assert.equal(description.status.name, 'FAILED');
    assert.equal(report.status, 'failed');
    // The first chunk (failureThresholdMinItems items) ran alone: no other chunk touched anything.
    const touched = new Set(report.mutations.map((e) => e.item));
    assert.deepEqual([...touched].sort(), ['item-0', 'item-1']);
    assert.equal(report.rows.filter((r) => r.step === 'not-started').length, 54);
    check(plan, report, was, now);
  });
});

describe('safety: a dry run shows exactly the calls a run then makes', () => {
  for (const mode of ['force-unlink', 'delete-entity', 'skip-item'] as LastEntityAsset[]) {
    it(`dry-run steps equal executed mutations, 100%, under ${mode}, over several chunks`, async () => {
      await stack.sandbox.reset();
      // Entities shared across chunks, entities the plan empties, entities with assets outside the plan.
      const entities = [
        { id: 0xe1, assets: [hex(0xa00), hex(0xa05)] },
        { id: 0xe2, assets: [hex(0xa01), hex(0xa06), hex(0xff)] },
        { id: 0xe3, assets: [hex(0xa02)] },
        { id: 0xe4, assets: [hex(0xa03), hex(0xa04), hex(0xa07), hex(0xa08)] },
        { id: 0xe5, assets: [hex(0xa08), hex(0xa09)] },
      ];
      await stack.sandbox.seed(catalogue(10, { entities }));
      const plan = planOf(`dry-${mode}`, 10, { lastEntityAsset: mode });
      const env = envFor(stack.sandbox.url);
      const dry = await runPlan(stack, { plan }, env, { chunkSize: 3, window: 2, dryRun: true });
      const was = await world();
      const run = await runPlan(stack, { plan }, env, { chunkSize: 3, window: 2 });
      const now = await world();
      const key = (s: { item: string; system: string; step: string; target: string }) =>
        `${s.item} ${s.system} ${s.step} ${s.target}`;
      const planned = dry.steps
        .filter((s) => s.step !== 'skip' && s.step !== 'leave-to-force-delete')
        .sort(compareSteps)
        .map(key);
      // Under delete-entity, a chunk that reads an entity again and finds another chunk's asset still in
      // it unlinks its own assets instead of deleting it: a planned entity delete is made as one or the
      // other, and the chunk that reaches the entity last deletes it.
      const entityDeletes = new Set(planned.filter((k) => k.includes(' delete-entity ')));
      const asPlanned = (k: string): string => {
        const [item, system, step, target] = k.split(' ') as [string, string, string, string];
        const entityDelete = `${item} ${system} delete-entity ${target.split('/')[0]}`;
        return step === 'unlink-entity' && entityDeletes.has(entityDelete) ? entityDelete : k;
      };
      const made = run.report.mutations.map(key).map(asPlanned).sort();
      assert.deepEqual(made, [...planned].sort());
      const deletedEntities = [...entityDeletes].map((k) => k.split(' ')[3]!);
      assert.deepEqual(
        now.twelvelabs.entities.filter((e) => deletedEntities.includes(e._id)),
        [],
        'every entity the plan empties is deleted',
      );
      check(plan, run.report, was, now);
    });
  }
});
