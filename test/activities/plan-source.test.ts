import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoredPlan } from '../../activities/plan-source.js';
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
  const stored = new StoredPlan(plan);

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
});
