/**
 * Upgrading the workers while runs are in flight, as docs/operations.md ("Versioning") tells users to:
 * runs started on a worker of an earlier version (a worker that leaves the later versions' patches
 * inactive, test/workflows/patches.ts), that worker stopped, the current one started on the same task
 * queue and server. What users see is checked against the sandbox's state and the reports' rows: every
 * item ends as its row says, nothing outside the plans is touched, nothing is deleted twice.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchReport } from '../../client/report-fetch.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan, changedState, type Report } from '../../plan/index.js';
import type { SandboxState } from '../../sandbox/index.js';
import { scheduledCleanupWorkflow, type bulkDeleteWorkflow } from '../../workflows/index.js';
import { cleanEnv, runCli } from '../client/cli-process.js';
import { countRequests, untilAnswered } from '../helpers/sandbox.js';
import {
  KEYS,
  activitiesFor,
  assertOneRowPerItemAndSystem,
  envFor,
  startStack,
  type Stack,
} from '../helpers/stack.js';
import { digestToApprove, uniqueTaskQueue, withWorker } from '../helpers/temporal.js';
import { tempDir } from '../helpers/temp-dir.js';
import { assertOnlyTargetsGone, assertReportAgrees } from '../safety/world.js';
import { createPolicyActivities } from '../../activities/policy-activities.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import { patchesSince } from './patches.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const TL_DELETE = 'DELETE /assets/{asset_id}';
const ENTITY_DELETE = 'DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}';

/** Each TwelveLabs asset and entity deleted by one call only: the ledgers' deletes are the sandbox's 2xx. */
function assertDeletedOnce(stats: Awaited<ReturnType<Stack['sandbox']['stats']>>, reports: Report[]): void {
  const claimed = (step: string) =>
    reports.flatMap((r) => r.mutations).filter((e) => e.step === step && changedState(e));
  const assets = claimed('delete-asset').map((e) => e.target);
  assert.equal(new Set(assets).size, assets.length, `an asset deleted twice: ${assets.join(', ')}`);
  assert.equal(countRequests(stats, { route: TL_DELETE, status: 200 }), assets.length);
  // An entity's delete is one call for every item of the chunk that holds it, each with its ledger entry.
  const entities = new Set(claimed('delete-entity').map((e) => e.target));
  const answered = stats.requests
    .filter((r) => r.route === ENTITY_DELETE && r.status >= 200 && r.status < 300)
    .reduce((sum, r) => sum + r.count, 0);
  assert.equal(
    answered,
    entities.size,
    `entity deletes answered ${answered}, entities deleted ${entities.size}`,
  );
}

describe('upgrading the workers while runs are in flight', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });
  /**
   * Three expired TwelveLabs assets (`delete_after` 2020-01-01) from `base` on, each naming its DAM asset
   * `dam-N`, seeded afresh; the activities of a worker that also runs clean-up selections.
   */
  const expiredCatalogue = async (base: number, queue: string) => {
    const assets = [0, 1, 2].map((i) => hex(base + i));
    await stack.sandbox.reset();
    await stack.sandbox.seed({
      twelvelabs: {
        apiKey: KEYS.tl,
        assets: assets.map((_id, i) => ({
          _id,
          user_metadata: { delete_after: '2020-01-01', dam: `dam-${i}` },
        })),
      },
      entermedia: { key: KEYS.dam, assets: assets.map((_, i) => ({ id: `dam-${i}` })) },
    });
    const env = envFor(stack.sandbox.url);
    const activities = {
      ...activitiesFor(env),
      ...createPolicyActivities({ systems: loadSystemsConfig({ ...env }) }),
    };
    return { assets, activities, taskQueue: uniqueTaskQueue(queue) };
  };
  /**
   * Starts the clean-up `workflowId` (expired by `delete_after`, DAM asset in `dam`, under approval) and
   * answers the digest its bulk delete waits for.
   */
  const awaitingApproval = async (workflowId: string, taskQueue: string): Promise<string> => {
    const client = stack.temporal.client;
    await client.workflow.start(scheduledCleanupWorkflow, {
      taskQueue,
      workflowId,
      args: [
        {
          policy: {
            name: 'expired',
            select: { twelvelabsMetadata: { field: 'delete_after', entermediaAssetIdField: 'dam' } },
            requireApproval: true,
          },
        },
      ],
    });
    for (;;) {
      const d = await digestToApprove(client.workflow.getHandle(`${workflowId}/bulk-delete`)).catch(() => '');
      if (d) return d;
    }
  };
  /** The first asset of `expiredCatalogue` no longer expired: its date pushed to 2099. */
  const pushAhead = async (assetId: string) => {
    const now = await stack.sandbox.state();
    now.twelvelabs.assets.find((a) => a._id === assetId)!.user_metadata = {
      delete_after: '2099-01-01',
      dam: 'dam-0',
    };
    await stack.sandbox.seed(now);
  };
  const cli = (args: string[], taskQueue: string) =>
    runCli(args, {
      env: cleanEnv({ TEMPORAL_ADDRESS: stack.temporal.address, BULK_DELETE_TASK_QUEUE: taskQueue }),
    });

  it('a run approved before an upgrade that plans differently: the chunks started after it stop unchanged, and retry deletes their items', async () => {
    // Under delete-entity, v14 has every item of an entity the plan empties carry its delete, where the
    // version before had only the item of its greatest plan asset: e2's chunk plans other steps.
    const assets = Array.from({ length: 8 }, (_, i) => hex(0xa00 + i));
    const collection = hex(0xc0);
    await stack.sandbox.reset();
    await stack.sandbox.seed({
      entityReadyAfterMs: 100,
      twelvelabs: {
        apiKey: KEYS.tl,
        assets: [...assets, hex(0xff)].map((_id) => ({ _id })),
        entityCollections: [{ _id: collection }],
        entities: [
          { _id: hex(0xe1), entity_collection_id: collection, asset_ids: [assets[0]!, assets[5]!] },
          { _id: hex(0xe2), entity_collection_id: collection, asset_ids: [assets[6]!, assets[7]!] },
          { _id: hex(0xe3), entity_collection_id: collection, asset_ids: [assets[1]!, hex(0xff)] },
        ],
      },
    });
    const was = await stack.sandbox.state();
    const plan = Plan.parse({
      name: 'upgrade-approved',
      items: assets.map((assetId, i) => ({ id: `item-${i}`, twelvelabs: { assetId } })),
      options: { lastEntityAsset: 'delete-entity', failureThresholdMinItems: 2 },
    });
    const taskQueue = uniqueTaskQueue('upgrade-approved');
    const env = envFor(stack.sandbox.url);
    const client = stack.temporal.client;

    // The earlier version discovers, and the run is approved on it ("approve such runs before the upgrade").
    // Its first chunk makes its first delete; then its worker is stopped and the current one started.
    const workflowId = await withWorker(
      stack.temporal,
      taskQueue,
      activitiesFor(env),
      async () => {
        const run = await startBulkDelete(
          client,
          { plan },
          { taskQueue, requireApproval: true, chunkSize: 2, window: 1 },
        );
        const digest = await digestToApprove(run);
        await stack.sandbox.faults({ twelvelabs: { latencyMs: [300, 300] } });
        const approved = await cli(['approve', run.workflowId, '--digest', digest], taskQueue);
        assert.equal(approved.code, 0, approved.stderr);
        await untilAnswered(stack.sandbox, TL_DELETE, 1, 2000);
        return run.workflowId;
      },
      { inactivePatches: patchesSince('v14') },
    );
    await stack.sandbox.faults({});

    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      await client.workflow.getHandle(workflowId).result();
      const { report } = await fetchReport(client, workflowId);
      assertOneRowPerItemAndSystem(plan, report.rows);
      // The chunk of e2 started on the current version: its steps are not the approved ones, and it stops
      // before any call. The chunks started before the upgrade, and the one whose steps did not change, go on.
      const rows = Object.fromEntries(report.rows.map((r) => [r.item, r]));
      for (const item of ['item-6', 'item-7']) {
        assert.equal(rows[item]!.outcome, 'skipped', JSON.stringify(rows[item]));
        assert.match(
          rows[item]!.detail,
          /the references changed after approval .*nothing of this chunk was deleted; "bulk-delete retry" of this run/,
        );
      }
      for (const item of ['item-0', 'item-1', 'item-2', 'item-3', 'item-4', 'item-5'])
        assert.equal(rows[item]!.outcome, 'deleted', JSON.stringify(rows[item]));
      assert.equal(report.status, 'completed');
      const now = await stack.sandbox.state();
      assertOnlyTargetsGone(was, now, [plan]);
      assertReportAgrees(plan, report, was, now);
      assert.deepEqual(entity(now, 0xe2), [assets[6], assets[7]], 'the skipped items are untouched');

      // What docs/operations.md says to do then: retry the run, approve the steps the retry discovers.
      // Running the plan again answers the completed run instead.
      const file = join(tempDir('upgrade-'), 'plan.json');
      writeFileSync(file, JSON.stringify(plan));
      const again = await cli(['run', file, '--require-approval'], taskQueue);
      assert.match(again.stdout, /this plan already has a run \(completed\)/);
      const retried = await cli(['retry', workflowId], taskQueue);
      assert.equal(retried.code, 0, retried.stderr);
      assert.match(retried.stdout, /retries 2 items/);
      const retry = client.workflow.getHandle(`${workflowId}-retry-1`);
      const approvedRetry = await cli(
        ['approve', retry.workflowId, '--digest', await digestToApprove(retry)],
        taskQueue,
      );
      assert.equal(approvedRetry.code, 0, approvedRetry.stderr);
      await retry.result();
      const { report: retryReport } = await fetchReport(client, retry.workflowId);
      assert.deepEqual(
        retryReport.rows.map((r) => `${r.item} ${r.outcome}`),
        ['item-6 deleted', 'item-7 deleted'],
      );
      const end = await stack.sandbox.state();
      assertOnlyTargetsGone(was, end, [plan]);
      assert.deepEqual(
        end.twelvelabs.assets.map((a) => a._id),
        [hex(0xff)],
      );
      assert.deepEqual(
        end.twelvelabs.entities.map((e) => e._id),
        [hex(0xe3)],
      );
      assertDeletedOnce(await stack.sandbox.stats(), [report, retryReport]);
    });
  });

  it('runs deleting when the worker of an earlier version stops mid-phase: the current one finishes them, each call once', async () => {
    // Before v10, chunks unlinked in a phase of their own; before v9 that phase waited for every entity.
    await stack.sandbox.reset();
    const { plan: generated, env } = await stack.sandbox.generate(48, 3);
    const plans = [0, 1].map((n) =>
      Plan.parse({
        ...generated,
        name: `upgrade-deleting-${n}`,
        items: generated.items.slice(n * 20, n * 20 + 20),
      }),
    );
    const was = await stack.sandbox.state();
    const taskQueue = uniqueTaskQueue('upgrade-deleting');
    const client = stack.temporal.client;
    await stack.sandbox.faults({
      twelvelabs: { latencyMs: [300, 300] },
      uplynk: { latencyMs: [300, 300] },
      entermedia: { latencyMs: [300, 300] },
    });
    const DAM_DELETE = 'POST /assets/mediadb/services/module/asset/deleteassets';
    const ids = await withWorker(
      stack.temporal,
      taskQueue,
      activitiesFor(env),
      async () => {
        const runs = await Promise.all(
          plans.map((plan) => startBulkDelete(client, { plan }, { taskQueue, chunkSize: 8, window: 2 })),
        );
        // Items reached the DAM: chunks are in their items' phase when the worker stops, its activities
        // cut short at once.
        await untilAnswered(stack.sandbox, DAM_DELETE, 3, 3000);
        return runs.map((r) => r.workflowId);
      },
      { inactivePatches: patchesSince('v9'), shutdownGraceTimeMs: 100 },
    );
    await stack.sandbox.faults({});
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      const reports: Report[] = [];
      let retried = 0;
      for (const [n, id] of ids.entries()) {
        const result = await client.workflow.getHandle<typeof bulkDeleteWorkflow>(id).result();
        // An attempt cut short by the stop was retried on the current worker, from its last heartbeat.
        for (const chunk of result.chunkWorkflowIds) {
          const { events } = await client.workflow.getHandle(chunk).fetchHistory();
          retried += (events ?? []).filter(
            (e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1,
          ).length;
        }
        const { report } = await fetchReport(client, id);
        assertOneRowPerItemAndSystem(plans[n]!, report.rows);
        assert.equal(report.status, 'completed');
        assert.equal(
          report.summary.failed + report.summary.partial + report.summary.skipped,
          0,
          JSON.stringify(report.summary),
        );
        reports.push(report);
      }
      assert.ok(retried > 0, 'no activity attempt was cut short by the stop');
      const now = await stack.sandbox.state();
      assertOnlyTargetsGone(was, now, plans);
      for (const [n, report] of reports.entries()) assertReportAgrees(plans[n]!, report, was, now);
      const stats = await stack.sandbox.stats();
      assertDeletedOnce(stats, reports);
      const damClaimed = reports
        .flatMap((r) => r.mutations)
        .filter((e) => e.system === 'entermedia' && e.answer === 'deleted');
      assert.equal(damClaimed.length, stats.mutations.entermedia);
    });
  });

  it('a scheduled clean-up run waiting for approval across the upgrade that reads selections again: approved with the command line, its chunk reads the selection again', async () => {
    const { assets, activities, taskQueue } = await expiredCatalogue(0xc00, 'upgrade-cleanup');
    const client = stack.temporal.client;
    const workflowId = 'upgrade-cleanup';
    const digest = await withWorker(
      stack.temporal,
      taskQueue,
      activities,
      async () => {
        return awaitingApproval(workflowId, taskQueue);
      },
      { inactivePatches: patchesSince('v16') },
    );
    // After the upgrade, before the approval: one asset's date is pushed ahead.
    await pushAhead(assets[0]!);
    await withWorker(stack.temporal, taskQueue, activities, async () => {
      const approved = await cli(['approve', workflowId, '--digest', digest], taskQueue);
      assert.equal(approved.code, 0, approved.stderr);
      await client.workflow.getHandle(workflowId).result();
      const { report } = await fetchReport(client, `${workflowId}/bulk-delete`);
      // Its bulk delete was started before the upgrade, without the selection to read again: the approval
      // brings it, and the asset whose date was pushed ahead is skipped in every system, untouched. (Before,
      // both its parts were deleted.)
      const rows = (item: string) => report.rows.filter((r) => r.item === item);
      assert.deepEqual(
        rows(assets[0]!).map((r) => `${r.system} ${r.outcome}`),
        ['twelvelabs skipped', 'entermedia skipped'],
      );
      assert.match(rows(assets[0]!)[0]!.detail, /no longer selected/);
      for (const item of assets.slice(1))
        assert.deepEqual(
          rows(item).map((r) => `${r.system} ${r.outcome}`),
          ['twelvelabs deleted', 'entermedia deleted'],
        );
      const end = await stack.sandbox.state();
      assert.deepEqual(
        end.twelvelabs.assets.map((a) => a._id),
        [assets[0]],
      );
      assert.deepEqual(
        end.entermedia.assets.map((a) => a.id),
        ['dam-0'],
      );
    });
  });
  it('a scheduled clean-up run of an earlier version, retried after the upgrade: its retry reads the selection again', async () => {
    const { assets, activities, taskQueue } = await expiredCatalogue(0xc20, 'upgrade-cleanup-retry');
    const client = stack.temporal.client;
    const workflowId = 'upgrade-cleanup-retry';
    // On the earlier version the run waits for approval, and is cancelled: nothing is deleted.
    await withWorker(
      stack.temporal,
      taskQueue,
      activities,
      async () => {
        await awaitingApproval(workflowId, taskQueue);
        const cancelled = await cli(['cancel', workflowId, '--wait'], taskQueue);
        assert.equal(cancelled.code, 3, cancelled.stderr);
      },
      { inactivePatches: patchesSince('v16') },
    );
    await pushAhead(assets[0]!);
    await withWorker(stack.temporal, taskQueue, activities, async () => {
      const retried = await cli(['retry', workflowId], taskQueue);
      assert.equal(retried.code, 0, retried.stderr);
      const retry = client.workflow.getHandle(`${workflowId}/bulk-delete-retry-1`);
      const approved = await cli(
        ['approve', retry.workflowId, '--digest', await digestToApprove(retry)],
        taskQueue,
      );
      assert.equal(approved.code, 0, approved.stderr);
      await retry.result();
      const { report } = await fetchReport(client, retry.workflowId);
      // The asset whose date was pushed ahead is skipped in every system and left in place. (Before, the
      // retry carried no selection to read again: both its parts were deleted.)
      assert.deepEqual(report.rows.map((r) => `${r.item} ${r.system} ${r.outcome}`).sort(), [
        `${assets[0]} entermedia skipped`,
        `${assets[0]} twelvelabs skipped`,
        `${assets[1]} entermedia deleted`,
        `${assets[1]} twelvelabs deleted`,
        `${assets[2]} entermedia deleted`,
        `${assets[2]} twelvelabs deleted`,
      ]);
      const end = await stack.sandbox.state();
      assert.deepEqual(
        end.twelvelabs.assets.map((a) => a._id),
        [assets[0]],
      );
      assert.deepEqual(
        end.entermedia.assets.map((a) => a.id),
        ['dam-0'],
      );
    });
  });
});

function entity(state: SandboxState, id: number): string[] | undefined {
  return state.twelvelabs.entities.find((e) => e._id === hex(id))?.asset_ids;
}
