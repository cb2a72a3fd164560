import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import {
  createPlanSource,
  StoredPlan,
  streamValidPlan,
  sweepStalePlanDirs,
} from '../../activities/plan-source.js';
import { Plan } from '../../plan/index.js';

const plan = Plan.parse({
  name: 'stored',
  options: { maxItems: 10_000 },
  items: Array.from({ length: 2500 }, (_, i) => ({
    id: `item-${i}`,
    ...(i % 2 === 0 ? { twelvelabs: { assetId: (i * 7919).toString(16).padStart(24, 'a') } } : {}),
    ...(i % 3 === 0 ? { uplynk: { assetId: `u-${i}`, libraryIds: ['lib-a', 'lib-b'] } } : {}),
    ...(i % 2 === 1 || i % 5 === 0 ? { entermedia: { assetId: `e-${i}` } } : {}),
  })),
});
const assetIds = plan.items.flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : []));

/** The bytes cut into pieces of `size` (1: every byte apart, so that every token spans a cut). */
function* pieces(text: string, size: number): Iterable<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plan-source-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
/** The plan directories left under `dir`. */
const kept = async () => (await readdir(dir)).filter((name) => name.startsWith('bulk-delete-plan-'));

describe('a plan kept in a file of its own (StoredPlan)', () => {
  let stored: StoredPlan;
  before(async () => {
    stored = await StoredPlan.of(plan, dir);
  });
  after(async () => {
    await stored.close();
  });

  it('answers every page as the parsed plan lists it, the last one short', async () => {
    for (const [offset, limit] of [
      [0, 500],
      [500, 500],
      [2000, 500],
      [2400, 500],
      [2499, 1],
      [2500, 500],
      [1234, 7],
    ] as const) {
      assert.deepEqual(await stored.page(offset, limit), plan.items.slice(offset, offset + limit));
    }
  });

  it('counts the items and the items of each system, and keeps the name and options', () => {
    assert.equal(stored.items, 2500);
    assert.equal(stored.name, 'stored');
    assert.deepEqual(stored.options, plan.options);
    assert.deepEqual(stored.systems, {
      twelvelabs: plan.items.filter((i) => i.twelvelabs).length,
      uplynk: plan.items.filter((i) => i.uplynk).length,
      entermedia: plan.items.filter((i) => i.entermedia).length,
    });
  });

  it("knows exactly the plan's TwelveLabs asset IDs, however close another ID is", () => {
    const ids = stored.twelveLabsAssetIds();
    assert.equal(ids.size, assetIds.length);
    for (const id of assetIds) assert.ok(ids.has(id), id);
    const others = assetIds.flatMap((id) => [
      `${id.slice(0, 23)}${id[23] === 'f' ? '0' : 'f'}`,
      `${id[0] === 'f' ? '0' : 'f'}${id.slice(1)}`,
      `${id.slice(0, 12)}${id[12] === 'f' ? '0' : 'f'}${id.slice(13)}`,
    ]);
    for (const id of others.filter((o) => !assetIds.includes(o))) assert.equal(ids.has(id), false, id);
    for (const id of ['', 'not-hex', assetIds[0]!.toUpperCase(), `${assetIds[0]}0`]) {
      assert.equal(ids.has(id), false, id);
    }
  });

  it('sweeps the copies that a process no longer running left, and only those', async () => {
    const mine = await StoredPlan.of(plan, dir);
    try {
      const live = await kept();
      const pid = /^bulk-delete-plan-(\d+)/.exec(live[0]!)![1];
      const stale = [
        'bulk-delete-plan-999999999.12-dead', // no such process
        `bulk-delete-plan-${pid}.1-restarted`, // this PID, another start: a process before this one
      ];
      for (const name of stale) await mkdir(join(dir, name, 'items.json'), { recursive: true });
      await mkdir(join(dir, 'unrelated'));
      assert.deepEqual((await sweepStalePlanDirs(dir)).sort(), stale.sort());
      assert.deepEqual((await readdir(dir)).sort(), [...live, 'unrelated'].sort());
      assert.deepEqual(await mine.page(0, 2), plan.items.slice(0, 2));
    } finally {
      await mine.close();
      await rm(join(dir, 'unrelated'), { recursive: true, force: true });
    }
  });

  it('removes its file when dropped', async () => {
    const other = await StoredPlan.of(plan, dir);
    const before = await kept();
    await other.close();
    assert.equal((await kept()).length, before.length - 1);
  });
});

describe('a plan validated as it streams in (streamValidPlan)', () => {
  const text = JSON.stringify({ items: plan.items, options: { maxItems: 10_000 }, name: plan.name });

  it('keeps a valid plan as the whole parse would, however its bytes are cut', async () => {
    for (const size of [1, 7, 4096, text.length]) {
      const stored = await streamValidPlan(pieces(text, size), dir);
      assert.ok(stored, `cut every ${size} bytes`);
      try {
        assert.equal(stored.items, 2500);
        assert.equal(stored.name, 'stored');
        assert.deepEqual(stored.options, plan.options);
        assert.deepEqual(await stored.page(0, 2500), plan.items);
        assert.equal(stored.twelveLabsAssetIds().size, assetIds.length);
      } finally {
        await stored.close();
      }
    }
  });

  it('leaves to the whole read every plan that Plan refuses, and keeps nothing of it', async () => {
    const valid = { name: 'p', items: [{ id: 'a', entermedia: { assetId: '1' } }] };
    const refused: string[] = [
      'null',
      '[]',
      '"plan"',
      '{"name":"p"}',
      '{"name":"p","items":[]}',
      '{"name":"p","items":{"0":{"id":"a","entermedia":{"assetId":"1"}}}}',
      JSON.stringify({ ...valid, extra: true }),
      JSON.stringify({ extra: { items: [] }, ...valid }),
      JSON.stringify({ ...valid, name: 'not a name' }),
      JSON.stringify({
        ...valid,
        options: { maxItems: 1 },
        items: [...valid.items, { id: 'b', entermedia: { assetId: '2' } }],
      }),
      JSON.stringify({ ...valid, items: [...valid.items, { id: 'a', entermedia: { assetId: '2' } }] }),
      // Two items, one DAM asset.
      JSON.stringify({ ...valid, items: [...valid.items, { id: 'b', entermedia: { assetId: '1' } }] }),
      JSON.stringify({
        ...valid,
        items: [...valid.items, ...Array.from({ length: 1500 }, (_, i) => ({ id: `x${i}` }))],
      }),
      JSON.stringify({
        ...valid,
        items: [...valid.items, { id: 'b', entermedia: { assetId: '2' }, other: 1 }],
      }),
      `${JSON.stringify(valid)} x`,
      JSON.stringify(valid).slice(0, -1),
      '{"name":"p","items":[{"id":"a","entermedia":{"assetId":"1"}}',
    ];
    for (const json of refused) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch {
        parsed = Symbol('not JSON');
      }
      assert.equal(Plan.safeParse(parsed).success, false, json.slice(0, 80));
      for (const size of [1, 5, json.length]) {
        assert.equal(await streamValidPlan(pieces(json, size), dir), undefined, json.slice(0, 80));
      }
    }
    assert.deepEqual(await kept(), []);
    const stored = await streamValidPlan(pieces(`\n ${JSON.stringify(valid)} \n`, 3), dir);
    assert.deepEqual(await stored?.page(0, 1), Plan.parse(valid).items);
    await stored?.close();
  });
});

describe('plans read by reference from a file (createPlanSource)', () => {
  const text = JSON.stringify(plan);
  const sha256 = createHash('sha256').update(text).digest('hex');

  it('reads a plan file once, answers its summary and pages, and drops it when closed', async () => {
    const file = join(dir, 'plan.json');
    await writeFile(file, text);
    const source = createPlanSource({ dir });
    const ref = { uri: pathToFileURL(file).href, sha256, name: plan.name, items: plan.items.length };
    assert.deepEqual(await source.readPlanSummary({ ref }), {
      name: 'stored',
      items: 2500,
      options: plan.options,
      systems: {
        twelvelabs: assetIds.length,
        uplynk: plan.items.filter((i) => i.uplynk).length,
        entermedia: plan.items.filter((i) => i.entermedia).length,
      },
    });
    assert.deepEqual(
      await source.readPlanPage({ ref, offset: 1000, limit: 3 }),
      plan.items.slice(1000, 1003),
    );
    assert.ok((await source.twelveLabsAssetIds(ref)).has(assetIds[7]!));
    assert.equal((await kept()).length, 1);
    await source.close();
    assert.deepEqual(await kept(), []);
  });

  it('refuses, without retry, a file that changed, one that is gone, and a plan that Plan refuses, saying why', async () => {
    const file = join(dir, 'changed.json');
    await writeFile(file, text.replace('"stored"', '"stored2"'));
    const source = createPlanSource({ dir });
    const ref = { uri: pathToFileURL(file).href, sha256, name: plan.name, items: plan.items.length };
    const failure = (type: string, message: RegExp) => (error: unknown) =>
      error instanceof ApplicationFailure &&
      error.nonRetryable &&
      error.type === type &&
      message.test(error.message);
    await assert.rejects(
      source.readPlanSummary({ ref }),
      failure('PlanChangedError', /changed since it was submitted/),
    );
    await assert.rejects(
      source.readPlanSummary({ ref: { ...ref, uri: pathToFileURL(join(dir, 'gone.json')).href } }),
      failure('PlanUnreadableError', /ENOENT/),
    );
    const bad = JSON.stringify({ name: 'p', items: [{ id: 'a', twelvelabs: { assetId: 'XYZ' } }] });
    await writeFile(file, bad);
    const badRef = { ...ref, sha256: createHash('sha256').update(bad).digest('hex') };
    await assert.rejects(
      source.readPlanSummary({ ref: badRef }),
      failure('InvalidPlanError', /items\[0\]\.twelvelabs\.assetId/),
    );
    await source.close();
    assert.deepEqual(await kept(), []);
  });
});
