import {
  ApplicationFailure,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities, DiscoveredAsset, ItemResult } from '../activities/contract.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../activities/error-types.js';
import { SYSTEMS, type LastEntityAsset, type PlanItem, type SystemName } from '../plan/index.js';
import { OutcomeBook, planChunkSteps, systemsOf, type ChunkSteps } from '../plan/steps.js';
import {
  chunkProgressSignal,
  stopChunkSignal,
  type ChunkInput,
  type ChunkResult,
  type Phase,
} from './definitions.js';

/** Calls to the three systems: batches that heartbeat and resume, retried on 5xx, 429, timeouts and drops. */
const calls = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** Polls entity status through the retry policy: the activity fails (BENIGN) while an entity is processing. */
const polling = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 1.5, maximumInterval: '5 seconds' },
});

/** Reading the plan file: local I/O, quick to retry. */
const planReads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

function errorMessage(error: unknown): { detail: string; errorType?: string } {
  // An activity failure wraps the ApplicationFailure that carries the vendor's message.
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof ApplicationFailure)
    return { detail: current.message, errorType: current.type ?? undefined };
  return { detail: current instanceof Error ? current.message : String(current) };
}

/**
 * Deletes one chunk of a plan in the mission's order and answers one report row per item and system.
 * Stops at the next step boundary when the parent signals `stopChunk` (cancel, failure threshold).
 */
export async function bulkDeleteChunkWorkflow(input: ChunkInput): Promise<ChunkResult> {
  let stopReason: string | undefined;
  setHandler(stopChunkSignal, ({ reason }) => {
    stopReason ??= reason;
  });

  const items: PlanItem[] =
    input.items ??
    (input.planRef
      ? await planReads.readPlanPage({ ref: input.planRef, offset: input.offset, limit: input.limit })
      : []);
  const book = new OutcomeBook(() => new Date().toISOString());

  if (input.mode === 'skip') {
    for (const item of items) {
      for (const system of systemsOf(item))
        book.settle(item.id, system, 'skipped', 'not-started', input.skipReason ?? 'not started');
    }
    return { rows: book.rowsFor(items) };
  }

  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  const totals = Object.fromEntries(
    SYSTEMS.map((system) => [system, items.filter((item) => systemsOf(item).includes(system)).length]),
  ) as Record<SystemName, number>;
  let lastPhase: Phase = 'discover';
  const report = async (phase: Phase): Promise<void> => {
    lastPhase = phase;
    const systems = Object.fromEntries(
      SYSTEMS.map((system) => {
        let done = 0;
        let failed = 0;
        for (const row of book.rowsFor(items)) {
          if (row.system !== system) continue;
          if (row.outcome === 'failed') failed++;
          else done++;
        }
        return [system, { total: totals[system], done, failed }];
      }),
    ) as Record<SystemName, { total: number; done: number; failed: number }>;
    try {
      await parent.signal(chunkProgressSignal, { chunk: input.chunk, phase, systems });
    } catch {
      // Progress is informative only: a parent that is gone must not fail the deletion.
    }
  };

  // Discover.
  const tlItems = items.filter((item) => item.twelvelabs);
  let discovered: DiscoveredAsset[] = [];
  if (tlItems.length > 0) {
    try {
      discovered = await calls.discoverTwelveLabsAssets.executeWithOptions(
        { summary: `discover ${tlItems.length} assets` },
        [{ assetIds: tlItems.map((item) => item.twelvelabs!.assetId) }],
      );
    } catch (error) {
      const { detail, errorType } = errorMessage(error);
      discovered = tlItems.map((item) => ({
        assetId: item.twelvelabs!.assetId,
        exists: false,
        indexedAssets: [],
        entities: [],
        error: { type: errorType ?? 'DiscoveryError', message: detail },
      }));
    }
  }
  const steps = planChunkSteps(items, discovered, input.options.lastEntityAsset);
  if (input.mode === 'discover') return { rows: [], steps: steps.planned, digest: steps.digest };

  if (input.expectedDigest !== undefined && input.expectedDigest !== steps.digest) {
    const why = `the references changed after approval (steps digest ${steps.digest.slice(0, 12)}, approved ${input.expectedDigest.slice(0, 12)}): nothing of this chunk was deleted; run the plan again`;
    for (const item of items)
      for (const system of systemsOf(item)) book.settle(item.id, system, 'skipped', 'approval', why);
    return { rows: book.rowsFor(items) };
  }

  settleDiscovery(items, steps, book);
  await report('discover');

  await runPhases(steps, input.options.lastEntityAsset, book, () => stopReason, report);

  // Exactly one outcome per item and system, whatever happened above.
  for (const item of items) {
    for (const system of systemsOf(item)) {
      if (!book.has(item.id, system)) {
        if (book.isStopped(item.id))
          book.settle(item.id, system, 'skipped', 'stopped', book.stopReason(item.id));
        else
          book.settle(
            item.id,
            system,
            'skipped',
            'stopped',
            `stopped after step ${lastPhase}, before this system's deletion: ${stopReason ?? 'unknown'}`,
          );
      }
    }
  }
  await report('done');
  return { rows: book.rowsFor(items), digest: steps.digest };
}

function settleDiscovery(items: readonly PlanItem[], steps: ChunkSteps, book: OutcomeBook): void {
  for (const item of items) {
    const skip = steps.skipped.get(item.id);
    if (skip !== undefined) {
      for (const system of systemsOf(item)) book.settle(item.id, system, 'skipped', 'plan', skip);
      continue;
    }
    const failed = steps.discoveryFailed.get(item.id);
    if (failed !== undefined) {
      book.settle(item.id, 'twelvelabs', 'failed', 'discover', failed);
      continue;
    }
    if (steps.absent.has(item.id)) {
      book.settle(
        item.id,
        'twelvelabs',
        'already-absent',
        'discover',
        `asset ${item.twelvelabs?.assetId} not found`,
      );
    }
  }
}

async function runPhases(
  steps: ChunkSteps,
  lastEntityAsset: LastEntityAsset,
  book: OutcomeBook,
  stopped: () => string | undefined,
  report: (phase: Phase) => Promise<void>,
): Promise<void> {
  const live = (item: string): boolean => !book.isStopped(item) && !book.has(item, 'twelvelabs');
  const failAll = (itemIds: readonly string[], system: SystemName, step: string, error: unknown): void => {
    const message = errorMessage(error);
    for (const item of itemIds) book.fail(item, system, step, message);
  };

  // Unlink the plan's assets from their entities, then wait until each entity is ready again.
  const unlinks = steps.unlinks
    .map((u) => {
      const keep = u.items.map((item, i) => [item, u.assetIds[i]!] as const).filter(([item]) => live(item));
      return { ...u, items: keep.map(([item]) => item), assetIds: keep.map(([, asset]) => asset) };
    })
    .filter((u) => u.items.length > 0);
  const touched = new Map<string, { id: string; collectionId: string; items: string[] }>();
  type Unlink = (typeof unlinks)[number];
  /** One unlink call for the groups; answers the groups refused because they would empty their entity. */
  const unlinkRound = async (groups: Unlink[]): Promise<Unlink[]> => {
    const refused: Unlink[] = [];
    try {
      const results = await calls.unlinkEntityAssets.executeWithOptions(
        { summary: `unlink assets from ${groups.length} entities` },
        [{ unlinks: groups.map(({ id, collectionId, assetIds }) => ({ id, collectionId, assetIds })) }],
      );
      const byEntity = new Map(results.map((r) => [r.key, r]));
      for (const u of groups) {
        const result = byEntity.get(u.id);
        if (result?.outcome === 'failed' && result.errorType === 'EntityLastAssetError') {
          refused.push(u);
        } else if (!result || result.outcome === 'failed') {
          for (const item of u.items) {
            book.fail(item, 'twelvelabs', 'unlink', result ?? { detail: 'no answer for this entity' });
          }
        } else {
          touched.set(u.id, u);
        }
      }
    } catch (error) {
      failAll(
        groups.flatMap((u) => u.items),
        'twelvelabs',
        'unlink',
        error,
      );
    }
    return refused;
  };
  const lateEntityDeletes: Array<{ id: string; collectionId: string; items: string[] }> = [];
  if (unlinks.length > 0 && !stopped()) {
    // Another chunk may have unlinked an entity's other assets since discovery: an unlink that would now
    // empty the entity is refused, and the lastEntityAsset option decides again, with the greatest asset ID
    // as the last one (as planChunkSteps does).
    const refused = await unlinkRound(unlinks);
    const retry: Unlink[] = [];
    for (const u of refused) {
      const pairs = u.items
        .map((item, i) => [item, u.assetIds[i]!] as const)
        .sort(([, a], [, b]) => (a < b ? -1 : 1));
      const [lastItem, lastAsset] = pairs[pairs.length - 1]!;
      const rest = pairs.slice(0, -1);
      if (lastEntityAsset === 'delete-entity') {
        lateEntityDeletes.push({ id: u.id, collectionId: u.collectionId, items: u.items });
        for (const item of u.items)
          steps.notes.set(item, [
            ...(steps.notes.get(item) ?? []),
            `entity ${u.id} deleted: the plan takes all its assets`,
          ]);
        continue;
      }
      if (lastEntityAsset === 'skip-item') {
        for (const system of ['twelvelabs', 'uplynk', 'entermedia'] as const) {
          book.settle(
            lastItem,
            system,
            'skipped',
            'plan',
            `its asset ${lastAsset} is the last asset of entity ${u.id} (lastEntityAsset: skip-item)`,
          );
        }
      } else {
        steps.notes.set(lastItem, [
          ...(steps.notes.get(lastItem) ?? []),
          `last asset of entity ${u.id}: unlinked by the forced asset delete`,
        ]);
      }
      if (rest.length > 0) {
        retry.push({ ...u, items: rest.map(([item]) => item), assetIds: rest.map(([, asset]) => asset) });
      }
    }
    if (retry.length > 0) {
      for (const u of await unlinkRound(retry)) {
        for (const item of u.items) {
          book.fail(item, 'twelvelabs', 'unlink', {
            detail: `entity ${u.id} refused the unlink twice as its last assets`,
            errorType: 'EntityLastAssetError',
          });
        }
      }
    }
  }
  const entityDeletes = [...steps.entityDeletes, ...lateEntityDeletes]
    .map((e) => ({ ...e, items: e.items.filter(live) }))
    .filter((e) => e.items.length > 0);
  if (entityDeletes.length > 0 && !stopped()) {
    await intermediateStep({
      targets: entityDeletes.map((e) => ({ key: e.id, items: e.items })),
      system: 'twelvelabs',
      step: 'delete-entity',
      book,
      call: () =>
        calls.deleteEntities.executeWithOptions({ summary: `delete ${entityDeletes.length} entities` }, [
          { entities: entityDeletes.map(({ id, collectionId }) => ({ id, collectionId })) },
        ]),
    });
  }
  await report('unlink');
  if (touched.size > 0 && !stopped()) {
    try {
      await polling.waitEntitiesReady.executeWithOptions(
        { summary: `wait until ${touched.size} entities are ready` },
        [{ entities: [...touched.values()].map(({ id, collectionId }) => ({ id, collectionId })) }],
      );
    } catch (error) {
      failAll(
        [...touched.values()].flatMap((t) => t.items),
        'twelvelabs',
        'wait-entities',
        error,
      );
    }
    await report('wait-entities');
  }

  // Delete indexed assets, then force-delete the assets.
  const indexed = steps.indexedAssets.filter((ia) => live(ia.item));
  if (indexed.length > 0 && !stopped()) {
    await intermediateStep({
      targets: indexed.map((ia) => ({ key: ia.id, items: [ia.item] })),
      system: 'twelvelabs',
      step: 'delete-indexed-assets',
      book,
      call: () =>
        calls.deleteIndexedAssets.executeWithOptions({ summary: `delete ${indexed.length} indexed assets` }, [
          { indexedAssets: indexed.map(({ id, indexId }) => ({ id, indexId })) },
        ]),
    });
    await report('delete-indexed-assets');
  }
  const assets = steps.assets.filter((a) => live(a.item));
  if (assets.length > 0 && !stopped()) {
    await deleteAndVerify({
      targets: assets.map((a) => ({ key: a.assetId, item: a.item })),
      system: 'twelvelabs',
      step: 'delete-asset',
      book,
      notes: (item) => steps.notes.get(item) ?? [],
      remove: (assetIds) =>
        calls.deleteTwelveLabsAssets.executeWithOptions(
          { summary: `force-delete ${assetIds.length} assets` },
          [{ assetIds }],
        ),
      find: (assetIds) => calls.findTwelveLabsAssets({ assetIds }),
    });
    await report('delete-assets');
  }

  // Remove library membership in Uplynk, grouped per library.
  const libraries = steps.libraries
    .map((l) => {
      const keep = l.items
        .map((item, i) => [item, l.assetIds[i]!] as const)
        .filter(([item]) => !book.isStopped(item));
      return {
        libraryId: l.libraryId,
        items: keep.map(([item]) => item),
        assetIds: keep.map(([, asset]) => asset),
      };
    })
    .filter((l) => l.items.length > 0);
  if (libraries.length > 0 && !stopped()) {
    const uplynkItems = [...new Set(libraries.flatMap((l) => l.items))];
    try {
      const results = await calls.removeFromUplynkLibraries.executeWithOptions(
        { summary: `remove assets from ${libraries.length} Uplynk libraries` },
        [{ removals: libraries.map(({ libraryId, assetIds }) => ({ libraryId, assetIds })) }],
      );
      const byPair = new Map(results.map((r) => [r.key, r]));
      const perItem = new Map<string, ItemResult[]>();
      for (const l of libraries) {
        l.items.forEach((item, i) => {
          const result = byPair.get(`${l.libraryId}/${l.assetIds[i]}`) ?? {
            key: `${l.libraryId}/${l.assetIds[i]}`,
            outcome: 'failed' as const,
            detail: 'no answer for this library',
          };
          perItem.set(item, [...(perItem.get(item) ?? []), result]);
        });
      }
      for (const item of uplynkItems) {
        const answers = perItem.get(item) ?? [];
        const failed = answers.find((r) => r.outcome === 'failed');
        if (failed) {
          book.fail(item, 'uplynk', 'remove-from-libraries', {
            ...failed,
            detail: `library ${failed.key}: ${failed.detail}`,
          });
        } else {
          const removed = answers.filter((r) => r.outcome === 'deleted').map((r) => r.key.split('/')[0]);
          const absent = answers
            .filter((r) => r.outcome === 'already-absent')
            .map((r) => r.key.split('/')[0]);
          const detail = [
            removed.length ? `removed from ${removed.join(', ')}` : '',
            absent.length ? `library gone: ${absent.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ');
          book.settle(
            item,
            'uplynk',
            removed.length ? 'deleted' : 'already-absent',
            'remove-from-libraries',
            detail,
          );
        }
      }
    } catch (error) {
      failAll(uplynkItems, 'uplynk', 'remove-from-libraries', error);
    }
    await report('remove-from-libraries');
  }

  // Delete in EnterMediaDB.
  const dam = steps.damAssets.filter((d) => !book.isStopped(d.item));
  if (dam.length > 0 && !stopped()) {
    await deleteAndVerify({
      targets: dam.map((d) => ({ key: d.assetId, item: d.item })),
      system: 'entermedia',
      step: 'delete-dam-asset',
      book,
      remove: (assetIds) =>
        calls.deleteEnterMediaAssets.executeWithOptions(
          { summary: `delete ${assetIds.length} EnterMediaDB assets` },
          [{ assetIds }],
        ),
      find: (assetIds) => calls.findEnterMediaAssets({ assetIds }),
    });
    await report('delete-dam');
  }
}

/**
 * A step before the final delete of a system: one batch call whose failures (per target, or of the whole
 * batch) fail the items behind them, so that their later steps are not attempted.
 */
async function intermediateStep(o: {
  targets: Array<{ key: string; items: string[] }>;
  system: SystemName;
  step: string;
  book: OutcomeBook;
  call: () => Promise<ItemResult[]>;
}): Promise<void> {
  let results: ItemResult[];
  try {
    results = await o.call();
  } catch (error) {
    const message = errorMessage(error);
    for (const target of o.targets)
      for (const item of target.items) o.book.fail(item, o.system, o.step, message);
    return;
  }
  const byKey = new Map(results.map((r) => [r.key, r]));
  for (const target of o.targets) {
    const result = byKey.get(target.key);
    if (result && result.outcome !== 'failed') continue;
    for (const item of target.items) {
      o.book.fail(item, o.system, o.step, result ?? { detail: `no answer for ${target.key}` });
    }
  }
}

/**
 * The final delete of a system: one batch call, then a read of what was answered as gone. An item is
 * settled `deleted` or `already-absent` only if the read no longer finds it; if the read itself fails, the
 * delete's answer stands and the row says it was not verified.
 */
async function deleteAndVerify(o: {
  targets: Array<{ key: string; item: string }>;
  system: SystemName;
  step: string;
  book: OutcomeBook;
  notes?: (item: string) => string[];
  remove: (keys: string[]) => Promise<ItemResult[]>;
  find: (keys: string[]) => Promise<string[]>;
}): Promise<void> {
  let results: ItemResult[];
  try {
    results = await o.remove(o.targets.map((t) => t.key));
  } catch (error) {
    const message = errorMessage(error);
    for (const target of o.targets) o.book.fail(target.item, o.system, o.step, message);
    return;
  }
  const byKey = new Map(results.map((r) => [r.key, r]));
  const gone = o.targets.filter((t) => byKey.has(t.key) && byKey.get(t.key)?.outcome !== 'failed');
  let present = new Set<string>();
  let unverified = '';
  if (gone.length > 0) {
    try {
      present = new Set(await o.find(gone.map((t) => t.key)));
    } catch (error) {
      unverified = `not verified: ${errorMessage(error).detail}`;
    }
  }
  for (const target of o.targets) {
    const result = byKey.get(target.key);
    if (!result || result.outcome === 'failed') {
      o.book.fail(target.item, o.system, o.step, result ?? { detail: `no answer for ${target.key}` });
    } else if (present.has(target.key)) {
      o.book.settle(
        target.item,
        o.system,
        'failed',
        'verify',
        `${target.key} still reads as present after the delete`,
      );
    } else {
      const detail = [result.detail, ...(o.notes?.(target.item) ?? []), unverified]
        .filter(Boolean)
        .join('; ');
      o.book.settle(target.item, o.system, result.outcome, o.step, detail);
    }
  }
}
