/**
 * Records the histories that the replay test guards: a few runs of the current workflows on a dev server
 * and the sandbox, each workflow's history (parent and chunks) saved under `test/workflows/histories/`.
 * Run it when a workflow change is meant to be incompatible (with a version bump), or when the way
 * payloads are stored changes (v7z: the same workflows as v7, large payloads compressed by
 * config/payload-codec.ts; v8: chunks waiting on their last units lend their place in the window, with
 * two runs where they do; v9: unlinks leave each entity's wait to the items unlinked from it; v10: with
 * `force-unlink`, each item's unlinks go in `deleteItems`, no unlink phase; v11: the first chunk runs
 * beside the window, so small-first starts all four chunks at once; v12: a finished chunk counts once
 * against the failure threshold; v14: under `delete-entity`, every item of an entity the plan empties
 * deletes it, the chunk that finds only its own live items' assets in it, with a run whose entities
 * span chunks; v15: an approved run goes ahead with an entity delete that its refused items' approved
 * steps hold, with a run whose two chunks read their shared entity at the same moment; v16: a scheduled
 * clean-up's chunks read its selection again before deleting, with a run that skips an asset whose date
 * was pushed ahead while it waited for approval, and a manifest's run that skips an item taken out of
 * the manifest meanwhile; v17: a scheduled clean-up started before its chunks read the selection
 * again, approved after the upgrade with the selection, which its chunk then reads again), never to
 * make the replay test pass:
 * `node --import tsx test/workflows/record-histories.ts TAG` (keep the older files).
 * `... record-histories.ts TAG rate-shares` records the rate shares coordinator only.
 * `... record-histories.ts TAG pre-patch` records only runs of the branches that runs started before a patch
 * take (files `TAG-before-<version>-…`: as the version before `<version>` ran them), each on a worker that leaves
 * the patches of that version and the later ones inactive (test/workflows/patches.ts), where no history
 * recorded by an earlier version reaches that branch.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan } from '../../plan/index.js';
import type { Holding } from '../../plan/rate-shares.js';
import { createPolicyActivities } from '../../activities/policy-activities.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import { approveUpdate, rateSharesWorkflow, scheduledCleanupWorkflow } from '../../workflows/index.js';
import { requestShares } from '../../worker/rate-shares.js';
import { seedSlowAsset } from '../helpers/slow-asset.js';
import { activitiesFor, startStack } from '../helpers/stack.js';
import { digestToApprove, meetingAt, uniqueTaskQueue, withWorker } from '../helpers/temporal.js';
import type { Stack } from '../helpers/stack.js';
import { patchesSince, type Version } from './patches.js';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
/** A tag for the file names, so that histories of each version of the workflows are kept side by side. */
const TAG = process.argv[2] ?? 'v1';
/** `rate-shares`: only the coordinator of shared rate limits. */
const ONLY = process.argv[3];

async function save(client: Client, name: string, workflowIds: string[]): Promise<void> {
  for (const [i, id] of workflowIds.entries()) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    // The proto JSON form (what `temporal workflow show --output json` writes), which replay reads back.
    const json: unknown = JSON.parse(historyToJSON(history));
    await writeFile(
      `${DIR}${TAG}-${name}-${i}.json`,
      `${JSON.stringify({ workflowId: id, history: json })}\n`,
    );
  }
}

/**
 * The coordinator of shared rate limits: two workers ask, renew, and one gets work while the other holds
 * nearly all; after a few updates it continues as new. Both runs are saved.
 */
async function recordRateShares(client: Client, taskQueue: string): Promise<void> {
  const where = { taskQueue, workflowId: 'replay-rate-shares' };
  const ask = (worker: string, holding: Holding, seenAt: number | undefined, saturated: boolean) =>
    requestShares(client, where, {
      worker,
      holding,
      seenAt,
      workerCount: 2,
      systems: { twelvelabs: { limit: 100, rate: saturated ? 40 : 0, saturated } },
    });
  // Past its quiet time, as a coordinator continued from an earlier run (rate-v1 recorded a fresh one):
  // a newcomer held back by what the other still holds is then told to ask again soon.
  const first = await client.workflow.start(rateSharesWorkflow, {
    ...where,
    args: [{ state: { holders: {}, quietUntil: 0 }, updatesPerRun: 6 }],
  });
  let a = await ask('a', 'static', undefined, true);
  let b = await ask('b', 'static', undefined, false);
  a = await ask('a', 'lease', a.at, true);
  b = await ask('b', 'lease', b.at, false);
  a = await ask('a', 'lease', a.at, true);
  // The sixth update ends the run: it continues as new with the claims.
  b = await ask('b', 'lease', b.at, true);
  await ask('a', 'lease', a.at, true);
  await ask('b', 'lease', b.at, true);
  const history = async (runId: string) =>
    JSON.parse(
      historyToJSON(await client.workflow.getHandle(where.workflowId, runId).fetchHistory()),
    ) as unknown;
  const latest = await client.workflow.getHandle(where.workflowId).describe();
  await client.workflow.getHandle(where.workflowId).terminate('recorded');
  for (const [i, runId] of [first.firstExecutionRunId, latest.runId].entries()) {
    await writeFile(
      `${DIR}${TAG}-rate-shares-${i}.json`,
      `${JSON.stringify({ workflowId: where.workflowId, history: await history(runId) })}\n`,
    );
  }
}

async function main(): Promise<void> {
  await mkdir(DIR, { recursive: true });
  const stack = await startStack();
  if (ONLY === 'pre-patch') {
    try {
      await recordPrePatch(stack);
    } finally {
      await stack.close();
    }
    return;
  }
  if (ONLY === 'rate-shares') {
    try {
      const taskQueue = uniqueTaskQueue('record');
      await withWorker(stack.temporal, taskQueue, {}, () =>
        recordRateShares(stack.temporal.client, taskQueue),
      );
    } finally {
      await stack.close();
    }
    return;
  }
  try {
    const client = stack.temporal.client;
    const { plan: generated, env } = await stack.sandbox.generate(224, 3);
    /** Items `from` to `to` of the generated plan, as a plan of its own (with a threshold, if given). */
    const part = (
      name: string,
      from: number,
      to: number,
      threshold?: { failureThreshold: number; failureThresholdMinItems: number },
    ) =>
      Plan.parse({
        ...generated,
        name,
        items: generated.items.slice(from, to),
        ...(threshold ? { options: { ...generated.options, ...threshold } } : {}),
      });
    const taskQueue = uniqueTaskQueue('record');
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      // A plain run over three chunks (entities, indexed assets, libraries, DAM).
      const plain = part('plain', 0, 24);
      const run = await startBulkDelete(
        client,
        { plan: plain },
        { taskQueue, workflowId: 'replay-plain', chunkSize: 10 },
      );
      const result = await run.result();
      await save(client, 'plain', [run.workflowId, ...result.chunkWorkflowIds]);

      // A run that waits for approval and is approved.
      const approval = part('approval', 24, 36);
      const approved = await startBulkDelete(
        client,
        { plan: approval },
        { taskQueue, workflowId: 'replay-approval', chunkSize: 6, requireApproval: true },
      );
      await approved.executeUpdate(approveUpdate, { args: [{ digest: await digestToApprove(approved) }] });
      const approvedResult = await approved.result();
      await save(client, 'approval', [approved.workflowId, ...approvedResult.chunkWorkflowIds]);

      /** Cancels a run 1.5 s after its start, while its first chunk runs, and saves it with its chunks. */
      const recordCancelled = async (name: string, plan: Plan, window: number) => {
        const workflowId = `replay-${name}`;
        const handle = await startBulkDelete(
          client,
          { plan },
          { taskQueue, workflowId, chunkSize: 4, window },
        );
        await new Promise((r) => setTimeout(r, 1500));
        await handle.cancel();
        await handle.result().catch(() => undefined);
        const chunks = Array.from({ length: window }, (_, i) => `${workflowId}/chunk-0000${i}`);
        await save(client, name, [workflowId, ...chunks]);
      };
      await stack.sandbox.faults({ twelvelabs: { latencyMs: [300, 300] } });
      // A run cancelled while its first chunk runs.
      await recordCancelled('cancel', part('cancelled', 36, 48), 1);
      // A run cancelled while its first chunk runs and the others of its window, gated, wait for it.
      await recordCancelled('cancel-gated', part('cancelled-gated', 36, 48), 3);

      // A run whose first chunk is smaller than the others (10 items, then 60, 60 and 20).
      const smallFirst = part('small-first', 48, 198);
      const small = await startBulkDelete(
        client,
        { plan: smallFirst },
        { taskQueue, workflowId: 'replay-small-first', chunkSize: 60, window: 3 },
      );
      const smallResult = await small.result();
      await save(client, 'small-first', [small.workflowId, ...smallResult.chunkWorkflowIds]);

      // A run whose DAM refuses half the deletes (403): the items phase tells its failures as they come,
      // and the threshold stops the chunk while the phase runs.
      await stack.sandbox.faults({ entermedia: { error403: 0.5 } });
      const refusing = part('refused-items', 208, 224, {
        failureThreshold: 0.2,
        failureThresholdMinItems: 3,
      });
      const stopped = await startBulkDelete(
        client,
        { plan: refusing },
        { taskQueue, workflowId: 'replay-refused-items', chunkSize: 16, window: 1 },
      );
      await stopped.result().catch(() => undefined);
      await stack.sandbox.faults({});
      await save(client, 'refused-items', [stopped.workflowId, `${stopped.workflowId}/chunk-00000`]);
    });

    // A run whose DAM refuses the worker's key: a chunk's phase fails for good after its TwelveLabs and
    // Uplynk changes, which stay in its record, and the threshold stops the run.
    const refusingQueue = uniqueTaskQueue('record-refused');
    await withWorker(
      stack.temporal,
      refusingQueue,
      activitiesFor({ ...env, ENTERMEDIA_KEY: 'wrong' }),
      async () => {
        const refused = part('dam-refused', 198, 208, { failureThreshold: 0.2, failureThresholdMinItems: 2 });
        const run = await startBulkDelete(
          client,
          { plan: refused },
          { taskQueue: refusingQueue, workflowId: 'replay-dam-refused', chunkSize: 5, window: 2 },
        );
        await run.result().catch(() => undefined);
        // Its three chunks: 2 items (failureThresholdMinItems), then 5 and 3.
        const chunks = [0, 1, 2].map((i) => `${run.workflowId}/chunk-0000${i}`);
        await save(client, 'dam-refused', [run.workflowId, ...chunks]);
      },
    );

    // Chunks that wait on one slow asset lend their place in the window (window 1): in a dry run, its
    // 2,000 indexed assets take 40 pages to list; in the run, as many deletes.
    const lendingQueue = uniqueTaskQueue('record-lending');
    await withWorker(stack.temporal, lendingQueue, activitiesFor(env), async () => {
      const lending = await seedSlowAsset(stack.sandbox, env.TWELVELABS_API_KEY, 'lent-place');
      for (const dryRun of [true, false]) {
        const workflowId = `replay-lent-place${dryRun ? '-dry' : ''}`;
        const run = await startBulkDelete(
          client,
          { plan: lending },
          { taskQueue: lendingQueue, workflowId, chunkSize: 10, window: 1, dryRun },
        );
        await run.result();
        const kind = dryRun ? 'discover' : 'chunk';
        const chunks = [0, 1, 2].map((i) => `${workflowId}/${kind}-0000${i}`);
        await save(client, `lent-place${dryRun ? '-dry' : ''}`, [workflowId, ...chunks]);
      }
      await stack.sandbox.faults({});
    });

    // Under delete-entity, entities whose assets span chunks: each chunk reads the entity again, and the
    // one that finds only its own live items' assets in it deletes it; the others unlink theirs.
    const entityQueue = uniqueTaskQueue('record-entity-delete');
    await withWorker(stack.temporal, entityQueue, activitiesFor(env), async () => {
      const hex = (n: number): string => n.toString(16).padStart(24, '0');
      const assets = [0, 1, 2, 3].map((i) => hex(0xa00 + i));
      const collection = hex(0xc0);
      await stack.sandbox.seed({
        entityReadyAfterMs: 100,
        twelvelabs: {
          apiKey: env.TWELVELABS_API_KEY,
          assets: [...assets, hex(0xff)].map((_id) => ({ _id })),
          entityCollections: [{ _id: collection }],
          entities: [
            // Across both chunks; within the second; with an asset outside the plan.
            { _id: hex(0xe1), entity_collection_id: collection, asset_ids: [assets[0]!, assets[2]!] },
            { _id: hex(0xe2), entity_collection_id: collection, asset_ids: [assets[2]!, assets[3]!] },
            { _id: hex(0xe3), entity_collection_id: collection, asset_ids: [assets[1]!, hex(0xff)] },
          ],
        },
      });
      const plan = Plan.parse({
        name: 'entity-delete',
        items: assets.map((assetId, i) => ({ id: `item-${i}`, twelvelabs: { assetId } })),
        options: { lastEntityAsset: 'delete-entity', failureThresholdMinItems: 2 },
      });
      const run = await startBulkDelete(
        client,
        { plan },
        { taskQueue: entityQueue, workflowId: 'replay-entity-delete', chunkSize: 2, window: 2 },
      );
      const result = await run.result();
      await save(client, 'entity-delete', [run.workflowId, ...result.chunkWorkflowIds]);
    });

    // An approved run under delete-entity whose two chunks read their shared entity at the same moment
    // (each entity delete waits for the other): both unlink their own asset instead, the second unlink is
    // refused, and the entity delete that both items' approved steps hold goes ahead.
    const raceQueue = uniqueTaskQueue('record-entity-race');
    const race = meetingAt(activitiesFor(env), 'deleteEntities', 2);
    await withWorker(stack.temporal, raceQueue, race.activities, async () => {
      const hex = (n: number): string => n.toString(16).padStart(24, '0');
      const assets = [0, 1, 2].map((i) => hex(0xb00 + i));
      const collection = hex(0xc1);
      await stack.sandbox.seed({
        entityReadyAfterMs: 100,
        twelvelabs: {
          apiKey: env.TWELVELABS_API_KEY,
          assets: assets.map((_id) => ({ _id })),
          entityCollections: [{ _id: collection }],
          entities: [{ _id: hex(0xe9), entity_collection_id: collection, asset_ids: assets.slice(1) }],
        },
      });
      const plan = Plan.parse({
        name: 'entity-delete-approved-race',
        items: assets.map((assetId, i) => ({ id: `item-${i}`, twelvelabs: { assetId } })),
        options: { lastEntityAsset: 'delete-entity', failureThreshold: 1, failureThresholdMinItems: 1 },
      });
      const run = await startBulkDelete(
        client,
        { plan },
        {
          taskQueue: raceQueue,
          workflowId: 'replay-entity-delete-approved-race',
          chunkSize: 1,
          window: 2,
          requireApproval: true,
        },
      );
      await run.executeUpdate(approveUpdate, { args: [{ digest: await digestToApprove(run) }] });
      const result = await run.result();
      await save(client, 'entity-delete-approved-race', [run.workflowId, ...result.chunkWorkflowIds]);
    });

    // A scheduled clean-up run that waits for approval: one selected asset's date is pushed ahead
    // meanwhile, and its chunk, reading the selection again, skips it.
    const cleanupQueue = uniqueTaskQueue('record-cleanup');
    const cleanupActivities = {
      ...activitiesFor(env),
      ...createPolicyActivities({ systems: loadSystemsConfig({ ...env }) }),
    };
    await withWorker(stack.temporal, cleanupQueue, cleanupActivities, async () => {
      const hex = (n: number): string => n.toString(16).padStart(24, '0');
      const assets = [0, 1, 2].map((i) => hex(0xc00 + i));
      const seed = {
        twelvelabs: {
          apiKey: env.TWELVELABS_API_KEY,
          assets: assets.map((_id, i) => ({
            _id,
            user_metadata: { delete_after: '2020-01-01', dam_id: `dam-${i}` },
          })),
        },
        entermedia: { key: env.ENTERMEDIA_KEY, assets: assets.map((_, i) => ({ id: `dam-${i}` })) },
      };
      await stack.sandbox.seed(seed);
      const workflowId = 'replay-cleanup-recheck';
      const run = await client.workflow.start(scheduledCleanupWorkflow, {
        taskQueue: cleanupQueue,
        workflowId,
        args: [
          {
            policy: {
              name: 'expired',
              select: { twelvelabsMetadata: { field: 'delete_after', entermediaAssetIdField: 'dam_id' } },
              requireApproval: true,
            },
          },
        ],
      });
      const child = client.workflow.getHandle(`${workflowId}/bulk-delete`);
      let digest: string | undefined;
      while (!digest) {
        digest = await digestToApprove(child).catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        });
      }
      const now = await stack.sandbox.state();
      now.twelvelabs.assets.find((a) => a._id === assets[0])!.user_metadata = {
        delete_after: '2099-01-01',
        dam_id: 'dam-0',
      };
      await stack.sandbox.seed(now);
      await child.executeUpdate(approveUpdate, { args: [{ digest }] });
      const result = await run.result();
      await save(client, 'cleanup-recheck', [
        workflowId,
        child.workflowId,
        ...(result.result?.chunkWorkflowIds ?? []),
      ]);

      // The same with a manifest: one of its items is taken out of it while the run waits for approval.
      await stack.sandbox.seed(seed);
      const manifest = join(mkdtempSync(join(tmpdir(), 'record-manifest-')), 'takedown.json');
      const manifestPlan = (ids: readonly number[]) =>
        JSON.stringify({
          name: 'takedown',
          items: ids.map((i) => ({ id: `t-${i}`, twelvelabs: { assetId: assets[i]! } })),
        });
      writeFileSync(manifest, manifestPlan([0, 1, 2]));
      const manifestId = 'replay-cleanup-manifest-recheck';
      const manifestRun = await client.workflow.start(scheduledCleanupWorkflow, {
        taskQueue: cleanupQueue,
        workflowId: manifestId,
        args: [{ policy: { name: 'takedown', select: { manifest }, requireApproval: true } }],
      });
      const manifestChild = client.workflow.getHandle(`${manifestId}/bulk-delete`);
      let manifestDigest: string | undefined;
      while (!manifestDigest) {
        manifestDigest = await digestToApprove(manifestChild).catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        });
      }
      writeFileSync(manifest, manifestPlan([1, 2]));
      await manifestChild.executeUpdate(approveUpdate, { args: [{ digest: manifestDigest }] });
      const manifestResult = await manifestRun.result();
      await save(client, 'cleanup-manifest-recheck', [
        manifestId,
        manifestChild.workflowId,
        ...(manifestResult.result?.chunkWorkflowIds ?? []),
      ]);
    });
  } finally {
    await stack.close();
  }
}

const hex = (n: number): string => n.toString(16).padStart(24, '0');

/** Waits for a scheduled clean-up's bulk delete to ask for approval, and answers its digest. */
async function cleanupDigest(client: Client, workflowId: string): Promise<string> {
  const child = client.workflow.getHandle(`${workflowId}/bulk-delete`);
  for (;;) {
    const digest = await digestToApprove(child).catch(() => undefined);
    if (digest) return digest;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs whose chunks or clean-up take a branch that only runs started before a patch take, recorded on a
 * worker without that patch (and without the later ones), since no history recorded by an earlier version
 * reaches that branch: a replay over them fails if that branch changes.
 */
async function recordPrePatch(stack: Stack): Promise<void> {
  const client = stack.temporal.client;
  /** Runs `fn` on a worker of the version just before `version` (or the current one), on a queue of its own. */
  const on = async (
    version: Version | undefined,
    activities: object,
    fn: (taskQueue: string) => Promise<void>,
  ): Promise<void> => {
    const taskQueue = uniqueTaskQueue('record-pre');
    await withWorker(stack.temporal, taskQueue, activities, () => fn(taskQueue), {
      inactivePatches: version ? patchesSince(version) : [],
    });
  };
  const name = (version: Version, what: string) => `before-${version}-${what}`;

  // A phase that fails for good (the DAM refuses the worker's key) in a chunk that walks its systems as
  // phases: its record is dropped, and every call it carried fails its item.
  {
    await stack.sandbox.reset();
    const { plan: generated, env } = await stack.sandbox.generate(40, 5);
    const withDam = generated.items.filter((i) => i.entermedia).slice(0, 10);
    const plan = Plan.parse({
      ...generated,
      name: 'dam-refused',
      items: withDam,
      options: { ...generated.options, failureThreshold: 0.2, failureThresholdMinItems: 2 },
    });
    const patch = 'v6'; // failed-phase-keeps-its-record
    await on(patch, activitiesFor({ ...env, ENTERMEDIA_KEY: 'wrong' }), async (taskQueue) => {
      const workflowId = `replay-${name(patch, 'dam-refused')}`;
      const run = await startBulkDelete(client, { plan }, { taskQueue, workflowId, chunkSize: 5, window: 2 });
      await run.result().catch(() => undefined);
      // Its two chunks of 5 items (the first chunk was not yet of failureThresholdMinItems items).
      const chunks = [0, 1].map((i) => `${workflowId}/chunk-0000${i}`);
      await save(client, name(patch, 'dam-refused'), [workflowId, ...chunks]);
    });
  }

  const env = { ...(await stack.sandbox.generate(1, 1)).env };
  const collection = hex(0xc0);
  const seedEntities = (
    assets: string[],
    entities: Array<{ id: number; assets: string[] }>,
    more: string[] = [],
  ) =>
    stack.sandbox.seed({
      entityReadyAfterMs: 100,
      twelvelabs: {
        apiKey: env.TWELVELABS_API_KEY,
        assets: [...assets, ...more].map((_id) => ({ _id })),
        entityCollections: [{ _id: collection }],
        entities: entities.map((e) => ({
          _id: hex(e.id),
          entity_collection_id: collection,
          asset_ids: e.assets,
        })),
      },
    });

  // Under delete-entity, entities whose assets span chunks, planned as before every item of the entity
  // carried its delete: the item of its greatest plan asset deletes it.
  {
    const assets = [0, 1, 2, 3].map((i) => hex(0xa00 + i));
    await seedEntities(
      assets,
      [
        { id: 0xe1, assets: [assets[0]!, assets[2]!] },
        { id: 0xe2, assets: [assets[2]!, assets[3]!] },
        { id: 0xe3, assets: [assets[1]!, hex(0xff)] },
      ],
      [hex(0xff)],
    );
    const plan = Plan.parse({
      name: 'entity-delete',
      items: assets.map((assetId, i) => ({ id: `item-${i}`, twelvelabs: { assetId } })),
      options: { lastEntityAsset: 'delete-entity', failureThresholdMinItems: 2 },
    });
    const patch = 'v14'; // entity-delete-by-whichever-chunk-is-last
    await on(patch, activitiesFor(env), async (taskQueue) => {
      const workflowId = `replay-${name(patch, 'entity-delete')}`;
      const run = await startBulkDelete(client, { plan }, { taskQueue, workflowId, chunkSize: 2, window: 2 });
      const result = await run.result();
      await save(client, name(patch, 'entity-delete'), [workflowId, ...result.chunkWorkflowIds]);
    });
  }

  // An approved run under delete-entity whose second unlink is refused: the entity's asset outside the plan
  // left it after discovery, so that unlinking the last plan asset would empty it. The current version
  // skips that item (its approved steps hold no entity delete); runs before it deleted the entity.
  // approved-run-adds-no-entity-delete: no recorded history reaches it, on either branch.
  for (const patch of [undefined, 'v14'] as const) {
    const assets = [1, 2].map((i) => hex(0xd00 + i));
    const outside = hex(0xdff);
    await seedEntities(assets, [{ id: 0xed, assets: [...assets, outside] }], [outside]);
    const plan = Plan.parse({
      name: 'approved-unlink-refused',
      items: assets.map((assetId, i) => ({ id: `item-${i}`, twelvelabs: { assetId } })),
      options: { lastEntityAsset: 'delete-entity', failureThreshold: 1, failureThresholdMinItems: 1 },
    });
    const real = activitiesFor(env) as Record<string, (...args: unknown[]) => Promise<unknown>>;
    let unlinks = 0;
    const activities = {
      ...real,
      // Just before the second chunk's unlink, the asset outside the plan leaves the entity.
      unlinkEntities: async (...args: unknown[]) => {
        if (++unlinks === 2) {
          const now = await stack.sandbox.state();
          const entity = now.twelvelabs.entities.find((e) => e._id === hex(0xed))!;
          entity.asset_ids = entity.asset_ids.filter((a) => a !== outside);
          await stack.sandbox.seed(now);
        }
        return real.unlinkEntities!(...args);
      },
    };
    const what = patch ? name(patch, 'approved-unlink-refused') : 'approved-unlink-refused';
    await on(patch, activities, async (taskQueue) => {
      const workflowId = `replay-${what}`;
      const run = await startBulkDelete(
        client,
        { plan },
        { taskQueue, workflowId, chunkSize: 1, window: 1, requireApproval: true },
      );
      await run.executeUpdate(approveUpdate, { args: [{ digest: await digestToApprove(run) }] });
      const result = await run.result();
      await save(client, what, [workflowId, ...result.chunkWorkflowIds]);
    });
  }

  // Two chunks of an approved run read their shared entity at the same moment (as recorded since v15), on
  // the version before an entity delete that the refused items' approved steps hold could go ahead: the
  // items are skipped.
  {
    const patch = 'v15'; // approved-entity-delete-its-items-hold
    const assets = [0, 1, 2].map((i) => hex(0xb00 + i));
    await seedEntities(assets, [{ id: 0xe9, assets: assets.slice(1) }]);
    const plan = Plan.parse({
      name: 'entity-delete-approved-race',
      items: assets.map((assetId, i) => ({ id: `item-${i}`, twelvelabs: { assetId } })),
      options: { lastEntityAsset: 'delete-entity', failureThreshold: 1, failureThresholdMinItems: 1 },
    });
    const race = meetingAt(activitiesFor(env), 'deleteEntities', 2);
    await on(patch, race.activities, async (taskQueue) => {
      const workflowId = `replay-${name(patch, 'entity-delete-approved-race')}`;
      const run = await startBulkDelete(
        client,
        { plan },
        { taskQueue, workflowId, chunkSize: 1, window: 2, requireApproval: true },
      );
      await run.executeUpdate(approveUpdate, { args: [{ digest: await digestToApprove(run) }] });
      const result = await run.result();
      await save(client, name(patch, 'entity-delete-approved-race'), [
        workflowId,
        ...result.chunkWorkflowIds,
      ]);
    });
  }

  // A scheduled clean-up started by the version before its chunks read the selection again, waiting for
  // approval across the upgrade, approved with the selection (as the command line sends it): on the
  // current version its chunk reads it again and skips the asset whose date was pushed ahead; on the
  // version before v17 (`before-v17-…`) the approval's selection is ignored.
  for (const later of [undefined, 'v17'] as const) {
    const cleanupActivities = {
      ...activitiesFor(env),
      ...createPolicyActivities({ systems: loadSystemsConfig({ ...env }) }),
    };
    const assets = [0, 1, 2].map((i) => hex(0xc10 + i));
    await stack.sandbox.seed({
      twelvelabs: {
        apiKey: env.TWELVELABS_API_KEY,
        assets: assets.map((_id, i) => ({
          _id,
          user_metadata: { delete_after: '2020-01-01', dam_id: `dam-${i}` },
        })),
      },
      entermedia: { key: env.ENTERMEDIA_KEY, assets: assets.map((_, i) => ({ id: `dam-${i}` })) },
    });
    const what = later ? name(later, 'cleanup-approved-across-upgrade') : 'cleanup-approved-across-upgrade';
    const workflowId = `replay-${what}`;
    const select = { twelvelabsMetadata: { field: 'delete_after', entermediaAssetIdField: 'dam_id' } };
    const taskQueue = uniqueTaskQueue('record-upgrade');
    const digest = await withWorker(
      stack.temporal,
      taskQueue,
      cleanupActivities,
      async () => {
        await client.workflow.start(scheduledCleanupWorkflow, {
          taskQueue,
          workflowId,
          args: [{ policy: { name: 'expired', select, requireApproval: true } }],
        });
        return cleanupDigest(client, workflowId);
      },
      { inactivePatches: patchesSince('v16') },
    );
    const now = await stack.sandbox.state();
    now.twelvelabs.assets.find((a) => a._id === assets[0])!.user_metadata = {
      delete_after: '2099-01-01',
      dam_id: 'dam-0',
    };
    await stack.sandbox.seed(now);
    await withWorker(
      stack.temporal,
      taskQueue,
      cleanupActivities,
      async () => {
        await client.workflow
          .getHandle(`${workflowId}/bulk-delete`)
          .executeUpdate(approveUpdate, { args: [{ digest, recheck: select }] });
        const result = await client.workflow.getHandle<typeof scheduledCleanupWorkflow>(workflowId).result();
        await save(client, what, [
          workflowId,
          `${workflowId}/bulk-delete`,
          ...(result.result?.chunkWorkflowIds ?? []),
        ]);
      },
      { inactivePatches: later ? patchesSince(later) : [] },
    );
  }

  // Scheduled clean-up runs of the version before their chunks read the selection again: a date pushed
  // ahead, or an item taken out of the manifest, while the run waited for approval, is deleted all the same.
  {
    const patch = 'v16'; // cleanup-rechecks-selection-before-delete, cleanup-rechecks-manifest-before-delete
    const cleanupActivities = {
      ...activitiesFor(env),
      ...createPolicyActivities({ systems: loadSystemsConfig({ ...env }) }),
    };
    const assets = [0, 1, 2].map((i) => hex(0xc00 + i));
    const seed = {
      twelvelabs: {
        apiKey: env.TWELVELABS_API_KEY,
        assets: assets.map((_id, i) => ({
          _id,
          user_metadata: { delete_after: '2020-01-01', dam_id: `dam-${i}` },
        })),
      },
      entermedia: { key: env.ENTERMEDIA_KEY, assets: assets.map((_, i) => ({ id: `dam-${i}` })) },
    };
    await on(patch, cleanupActivities, async (taskQueue) => {
      await stack.sandbox.seed(seed);
      const workflowId = `replay-${name(patch, 'cleanup-recheck')}`;
      const run = await client.workflow.start(scheduledCleanupWorkflow, {
        taskQueue,
        workflowId,
        args: [
          {
            policy: {
              name: 'expired',
              select: { twelvelabsMetadata: { field: 'delete_after', entermediaAssetIdField: 'dam_id' } },
              requireApproval: true,
            },
          },
        ],
      });
      const digest = await cleanupDigest(client, workflowId);
      const now = await stack.sandbox.state();
      now.twelvelabs.assets.find((a) => a._id === assets[0])!.user_metadata = {
        delete_after: '2099-01-01',
        dam_id: 'dam-0',
      };
      await stack.sandbox.seed(now);
      await client.workflow
        .getHandle(`${workflowId}/bulk-delete`)
        .executeUpdate(approveUpdate, { args: [{ digest }] });
      const result = await run.result();
      await save(client, name(patch, 'cleanup-recheck'), [
        workflowId,
        `${workflowId}/bulk-delete`,
        ...(result.result?.chunkWorkflowIds ?? []),
      ]);

      await stack.sandbox.seed(seed);
      const manifest = join(mkdtempSync(join(tmpdir(), 'record-manifest-')), 'takedown.json');
      const manifestPlan = (ids: readonly number[]) =>
        JSON.stringify({
          name: 'takedown',
          items: ids.map((i) => ({ id: `t-${i}`, twelvelabs: { assetId: assets[i]! } })),
        });
      writeFileSync(manifest, manifestPlan([0, 1, 2]));
      const manifestId = `replay-${name(patch, 'cleanup-manifest-recheck')}`;
      const manifestRun = await client.workflow.start(scheduledCleanupWorkflow, {
        taskQueue,
        workflowId: manifestId,
        args: [{ policy: { name: 'takedown', select: { manifest }, requireApproval: true } }],
      });
      const manifestDigest = await cleanupDigest(client, manifestId);
      writeFileSync(manifest, manifestPlan([1, 2]));
      await client.workflow
        .getHandle(`${manifestId}/bulk-delete`)
        .executeUpdate(approveUpdate, { args: [{ digest: manifestDigest }] });
      const manifestResult = await manifestRun.result();
      await save(client, name(patch, 'cleanup-manifest-recheck'), [
        manifestId,
        `${manifestId}/bulk-delete`,
        ...(manifestResult.result?.chunkWorkflowIds ?? []),
      ]);
    });
  }
}

await main();
