import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoredPlan, storeValidPlan } from '../../activities/plan-source.js';
import { Plan } from '../../plan/index.js';

const plan = Plan.parse({
  name: 'stored',
  options: { maxItems: 10_000 },
  items: Array.from({ length: 2500 }, (_, i) => ({
    id: `item-${i}`,
    ...(i % 2 === 0 ? { twelvelabs: { assetId: i.toString(16).padStart(24, '0') } } : {}),
    ...(i % 3 === 0 ? { uplynk: { assetId: `u-${i}`, libraryIds: ['lib-a', 'lib-b'] } } : {}),
    ...(i % 2 === 1 || i % 5 === 0 ? { entermedia: { assetId: `e-${i}` } } : {}),
  })),
});

describe('a plan kept as text (StoredPlan)', () => {
  const stored = StoredPlan.of(plan);

  it('answers every page as the parsed plan lists it, the last one short', () => {
    for (const [offset, limit] of [
      [0, 500],
      [500, 500],
      [2000, 500],
      [2400, 500],
      [2499, 1],
      [2500, 500],
      [1234, 7],
    ] as const) {
      assert.deepEqual(stored.page(offset, limit), plan.items.slice(offset, offset + limit));
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

  it('answers every TwelveLabs asset ID of the plan, the same set each time it is asked', () => {
    const ids = stored.twelveLabsAssetIds();
    assert.deepEqual(ids, new Set(plan.items.flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : []))));
    assert.equal(stored.twelveLabsAssetIds(), ids);
  });

  it('stores a valid plan a batch at a time as the whole parse would, a bytes hint too small or not', () => {
    const json: unknown = JSON.parse(JSON.stringify({ ...plan, options: { maxItems: 10_000 } }));
    for (const hint of [undefined, 10, 1_000_000]) {
      const batched = storeValidPlan(json, hint);
      assert.ok(batched);
      assert.equal(batched.items, 2500);
      assert.deepEqual(batched.options, plan.options);
      assert.deepEqual(batched.systems, stored.systems);
      assert.deepEqual(batched.page(0, 2500), plan.items);
    }
  });

  it('leaves to the whole parse every plan that Plan refuses', () => {
    const valid = { name: 'p', items: [{ id: 'a', entermedia: { assetId: '1' } }] };
    const refused: unknown[] = [
      null,
      [],
      'plan',
      { name: 'p' },
      { name: 'p', items: [] },
      { ...valid, extra: true },
      { ...valid, name: 'not a name' },
      {
        ...valid,
        options: { maxItems: 1 },
        items: [...valid.items, { id: 'b', entermedia: { assetId: '2' } }],
      },
      { ...valid, items: [...valid.items, { id: 'a', entermedia: { assetId: '2' } }] },
      { ...valid, items: [...valid.items, ...Array.from({ length: 1500 }, (_, i) => ({ id: `x${i}` }))] },
      { ...valid, items: [...valid.items, { id: 'b', entermedia: { assetId: '2' }, other: 1 }] },
    ];
    for (const json of refused) {
      assert.equal(Plan.safeParse(json).success, false, JSON.stringify(json).slice(0, 80));
      assert.equal(storeValidPlan(json), undefined, JSON.stringify(json).slice(0, 80));
    }
    assert.deepEqual(storeValidPlan(valid)?.page(0, 1), Plan.parse(valid).items);
  });
});
