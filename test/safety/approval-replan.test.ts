/**
 * A run approved by its steps' digest makes only the calls of those steps: an unlink that the world
 * turned into a refusal after the chunk checked its digest is not re-planned into an entity delete.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Plan } from '../../plan/index.js';
import { approveUpdate, type ChunkResult } from '../../workflows/index.js';
import { KEYS, envFor, runPlan, startStack, type Stack } from '../helpers/stack.js';
import { untilAnswered } from '../helpers/sandbox.js';
import { digestToApprove } from '../helpers/temporal.js';
import { assertOnlyTargetsGone, assertReportAgrees } from './world.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const COLL = hex(0xc0);
const A = hex(0xa00);
const Z = hex(0xff);
const E = hex(0xe1);

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

/** Waits until the sandbox has answered `route` at least `count` times. */
const answered = (route: string, count = 1) => untilAnswered(stack.sandbox, route, count);

describe('approval: the approved steps bound what the run does', () => {
  it('an approved unlink refused at run time (delete-entity) skips the item, and deletes no entity', async () => {
    await stack.sandbox.reset();
    // E = {A, Z}: the approved steps unlink A from E (Z is outside the plan).
    await stack.sandbox.seed({
      entityReadyAfterMs: 100,
      twelvelabs: {
        apiKey: KEYS.tl,
        assets: [A, Z].map((_id) => ({ _id })),
        entityCollections: [{ _id: COLL }],
        entities: [{ _id: E, entity_collection_id: COLL, asset_ids: [A, Z] }],
      },
    });
    const plan = Plan.parse({
      name: 'approved-unlink-refused',
      items: [{ id: 'item-a', twelvelabs: { assetId: A } }],
      options: { lastEntityAsset: 'delete-entity' },
    });
    const was = await stack.sandbox.state();
    let steps: string[] = [];
    const { report } = await runPlan(stack, { plan }, envFor(stack.sandbox.url), {
      requireApproval: true,
      during: async (handle) => {
        const digest = await digestToApprove(handle);
        const discovered = (await stack.temporal.client.workflow
          .getHandle(`${handle.workflowId}/discover-00000`)
          .result()) as ChunkResult;
        steps = (discovered.steps ?? []).map((s) => `${s.step} ${s.target}`);
        // Slow enough to change E between the executing chunk's discovery (its digest matches) and its unlink.
        await stack.sandbox.faults({ twelvelabs: { latencyMs: [400, 400] } });
        await handle.executeUpdate(approveUpdate, { args: [{ digest }] });
        await answered('GET /assets/{asset_id}/entities', 2);
        // Z leaves E: A is now its last asset, and the approved unlink is refused.
        const s = await stack.sandbox.state();
        s.twelvelabs.entities[0]!.asset_ids = [A];
        await stack.sandbox.seed(s);
      },
    });
    await stack.sandbox.faults({});
    const now = await stack.sandbox.state();
    assert.deepEqual(steps, [`unlink-entity ${E}/${A}`, `delete-asset ${A}`], 'the approved steps');
    assert.deepEqual(
      report.mutations.filter((m) => m.step === 'delete-entity'),
      [],
      'no entity delete outside the approved steps',
    );
    assert.ok(
      now.twelvelabs.entities.some((e) => e._id === E),
      'the entity is kept',
    );
    const row = report.rows.find((r) => r.item === 'item-a')!;
    assert.equal(row.outcome, 'skipped', row.detail);
    assert.match(row.detail, /changed after approval/);
    assert.ok(
      now.twelvelabs.assets.some((a) => a._id === A),
      'the skipped item keeps its asset',
    );
    // The world as the test left it: Z no longer in E.
    was.twelvelabs.entities[0]!.asset_ids = [A];
    assertOnlyTargetsGone(was, now, [plan]);
    assertReportAgrees(plan, report, was, now);
  });
});
