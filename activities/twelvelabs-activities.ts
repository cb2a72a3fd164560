/**
 * The TwelveLabs phases: discover an asset's references; unlink assets from entities and wait until the
 * entities are ready; delete entities (after reading them again); delete indexed assets and force-delete
 * assets (after listing the indexed assets again), then read the assets back in batches.
 */
import type { Activities, DiscoveredAsset, IndexedAssetRef, ItemAsset, PlanRef } from './contract.js';
import { activityScope } from './activity-scope.js';
import { ErrorTypes } from './error-types.js';
import { CallError } from './http-errors.js';
import { allSettledOrThrow, Background, runPhase, settle, uniqueBy, type PhaseLog } from './phase-runner.js';
import { watchTail } from './phase-tail.js';
import { sleep } from './rate-limiter.js';
import {
  TWELVELABS_PAGE_LIMIT,
  type PageInfo,
  type TwelveLabsClient,
  type TwelveLabsEntity,
} from './twelvelabs-client.js';
import type { UnitContext } from './unit-context.js';

export type EntityRef = { id: string; collectionId: string };

/** The entities a phase waits for now, told to its heartbeat (`status` and the Web UI show it). */
export function waitingBoard() {
  const ids = new Set<string>();
  const show = (log: PhaseLog) => {
    if (ids.size === 0) return log.waiting(undefined);
    const shown: string[] = [];
    for (const id of ids) {
      if (shown.push(id) === 3) break;
    }
    log.waiting(
      `${ids.size} TwelveLabs entities still processing (${shown.join(', ')}${ids.size > 3 ? ', …' : ''})`,
    );
  };
  return {
    add(id: string, log: PhaseLog) {
      if (ids.has(id)) return;
      ids.add(id);
      show(log);
    },
    delete(id: string, log: PhaseLog) {
      if (ids.delete(id)) show(log);
    },
  };
}

export type WaitingBoard = ReturnType<typeof waitingBoard>;

/** The longest wait for an entity to be ready again after an unlink, unless configured. */
export const DEFAULT_ENTITY_WAIT_MS = 600_000;

/**
 * Polls one entity until it is ready again (or gone): first about when this worker saw entities settle
 * after an unlink lately (`firstLook`, which it teaches in turn), counted from `since` (the unlink's
 * answer; now by default), then less and less often. While it finds the entity processing, `board` shows
 * it in the phase's heartbeat. Answers undefined once ready, or why it gave up: still processing
 * `boundMs` after `since`, or a read refused or unreadable for this entity alone (an `item` failure). A
 * poll that fails for the whole batch, or past its retries, throws.
 */
export async function untilReady(
  client: TwelveLabsClient,
  entity: EntityRef,
  o: {
    since?: number;
    firstLook: FirstLook;
    boundMs: number;
    board: WaitingBoard;
    log: PhaseLog;
    signal: AbortSignal;
  },
): Promise<string | undefined> {
  const now = Date.now();
  const started = Math.min(o.since ?? now, now);
  try {
    for (let round = 0; ; round++) {
      const first = Math.max(0, started + o.firstLook.ms - Date.now());
      await sleep(round === 0 ? first : Math.min(2000, 150 * 1.5 ** round), o.signal);
      try {
        const seen = await client.getEntity(entity.collectionId, entity.id);
        if (seen.status !== 'processing') {
          o.firstLook.saw(round === 0, Date.now() - started);
          return undefined;
        }
      } catch (error) {
        if (error instanceof CallError && error.failure.disposition === 'absent') return undefined;
        // Refused or unreadable for good: its items fail (the others go on), as they would for a late one.
        if (error instanceof CallError && error.failure.disposition === 'item') {
          return `TwelveLabs entity ${entity.id} could not be read again: ${error.failure.message}`;
        }
        throw error;
      }
      o.board.add(entity.id, o.log);
      if (Date.now() - started > o.boundMs) {
        return `TwelveLabs entity ${entity.id} still processing after ${Math.round(o.boundMs / 1000)} s`;
      }
    }
  } finally {
    o.board.delete(entity.id, o.log);
  }
}

/**
 * What an entity's unlink did: the assets it may have unlinked (the entity may be processing now), and
 * those whose unlink failed (their entries say so). The others were not linked, or were refused.
 */
export interface UnlinkOutcome {
  changed: string[];
  failed: string[];
}

/**
 * One entity's unlink. A unit that may follow a lost answer reads the entity first and sends only the
 * assets still linked; so does any try after a 400, which is both "not linked" and "last asset".
 */
export async function unlinkEntity(
  client: TwelveLabsClient,
  unit: { entity: { id: string; collectionId: string }; targets: ItemAsset[] },
  log: PhaseLog,
  ctx: UnitContext,
): Promise<UnlinkOutcome> {
  const { entity } = unit;
  let targets = unit.targets;
  const outcome: UnlinkOutcome = { changed: [], failed: [] };
  const assetsOf = (list: readonly ItemAsset[]) => list.map((t) => t.assetId);
  const entryOf = (t: ItemAsset) => ({
    item: t.item,
    system: 'twelvelabs' as const,
    step: 'unlink-entity' as const,
    target: `${entity.id}/${t.assetId}`,
  });
  let read = ctx.lostAnswer;
  for (let round = 0; round < 3 && targets.length > 0; round++) {
    if (read) {
      let now: TwelveLabsEntity | undefined;
      const ok = await settle(
        log,
        targets.map(entryOf),
        async () => {
          now = await client.getEntity(entity.collectionId, entity.id);
          return undefined;
        },
        { lostAnswer: false },
      );
      // Failed (entries recorded), or the entity is gone (already-absent entries recorded).
      if (!ok) return { ...outcome, failed: assetsOf(targets) };
      if (!now) return outcome;
      const linked = new Set(now.asset_ids);
      for (const t of targets.filter((t) => !linked.has(t.assetId))) {
        if (ctx.lostAnswer) outcome.changed.push(t.assetId);
        log.entry(
          ctx.lostAnswer
            ? { ...entryOf(t), answer: 'unlinked', detail: 'an earlier answer was lost; no longer linked' }
            : { ...entryOf(t), answer: 'already-absent' },
        );
      }
      targets = targets.filter((t) => linked.has(t.assetId));
      if (targets.length === 0) return outcome;
      if (now.asset_ids.every((id) => targets.some((t) => t.assetId === id))) {
        // It would empty the entity: refused without a call; the planner decides again.
        for (const t of targets) {
          log.refuse({ ...entryOf(t), entity, assetId: t.assetId });
        }
        return outcome;
      }
    }
    try {
      await client.unlinkAssets(
        entity.collectionId,
        entity.id,
        targets.map((t) => t.assetId),
      );
      for (const t of targets) log.entry({ ...entryOf(t), answer: 'unlinked' });
      return { ...outcome, changed: [...outcome.changed, ...assetsOf(targets)] };
    } catch (error) {
      if (!(error instanceof CallError)) throw error;
      // A 400 after a try whose answer was lost may be that try's own doing: read again then too.
      if (error.failure.status === 400 && (!read || ctx.lostAnswer)) {
        read = true;
        continue;
      }
      const answered = await settle(log, targets.map(entryOf), () => Promise.reject(error), ctx);
      return answered ? outcome : { ...outcome, failed: assetsOf(targets) };
    }
  }
  for (const t of targets) {
    log.entry({
      ...entryOf(t),
      answer: 'failed',
      detail: 'still refused (400) after reading the entity again',
    });
  }
  return { ...outcome, failed: [...outcome.failed, ...assetsOf(targets)] };
}

type TwelveLabsActivities = Pick<
  Activities,
  'discoverAssets' | 'unlinkEntities' | 'deleteEntities' | 'deleteAssets'
>;

/** A listing of more pages than this is the vendor misbehaving, not a catalogue: stop rather than loop. */
const MAX_PAGES = 10_000;

/**
 * Every page of a listing: pages start at 1 and the walk stops on an empty page (what the official SDK's
 * pager does) or once `page` reaches `total_page`, whichever comes first. A listing still going after
 * `maxPages` fails its item: what it did not read (an indexed asset the forced delete would orphan, an
 * entity) is unknown, so nothing of the item goes on as if it were all.
 */
export async function allPages<T>(
  fetchPage: (page: number) => Promise<{ data: T[]; page_info: PageInfo }>,
  what: string,
  maxPages = MAX_PAGES,
): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const { data, page_info } = await fetchPage(page);
    items.push(...data);
    if (data.length === 0 || page >= page_info.total_page) return items;
  }
  throw new CallError({
    disposition: 'item',
    type: ErrorTypes.UnexpectedResponse,
    message: `TwelveLabs listed ${what} past ${maxPages} pages without an end: the rest is unknown, so the item goes no further`,
  });
}

export interface TwelveLabsActivityOptions {
  /** The client, or a non-retryable `MissingCredentialsError` thrown when the key is not set. */
  client: () => TwelveLabsClient;
  /** Units in flight at once within one activity (the shared limiter bounds the worker as a whole). */
  parallelism: number;
  /** The longest wait for an entity to be ready again after an unlink. @default DEFAULT_ENTITY_WAIT_MS */
  entityWaitMs?: number;
  /** The TwelveLabs assets of a plan that travels by reference. */
  planAssetIds?: (ref: PlanRef) => Promise<{ has(id: string): boolean }>;
  /** When entities settle after an unlink, as this worker saw lately (shared with `deleteItems`). */
  firstLook?: FirstLook;
}

export function createTwelveLabsActivities(deps: TwelveLabsActivityOptions): TwelveLabsActivities {
  const { parallelism } = deps;
  const entityWaitMs = deps.entityWaitMs ?? DEFAULT_ENTITY_WAIT_MS;
  const firstLook = deps.firstLook ?? new FirstLook();

  async function discoverOne(
    client: TwelveLabsClient,
    assetId: string,
    withIndexed: boolean,
  ): Promise<DiscoveredAsset> {
    try {
      // The asset itself (filename, status) only where the steps are shown for review (a dry run, an
      // approval run): a plain run makes no call that it does not need.
      const asset = withIndexed ? await client.getAsset(assetId) : undefined;
      const entities = await allPages(
        (page) => client.listEntities(assetId, page),
        `the entities of asset ${assetId}`,
      );
      const indexed = withIndexed
        ? await allPages(
            (page) => client.listIndexedAssets(assetId, page),
            `the indexed assets of asset ${assetId}`,
          )
        : [];
      return {
        assetId,
        exists: true,
        ...(asset?.filename ? { filename: asset.filename } : {}),
        ...(asset?.status ? { status: asset.status } : {}),
        // A listing can shift between pages while others delete; an ID seen twice is one reference.
        ...(withIndexed
          ? {
              indexedAssets: uniqueBy(
                indexed.map((ia) => ({
                  id: ia._id,
                  indexId: ia.index._id,
                  ...(ia.index.name ? { indexName: ia.index.name } : {}),
                })),
                (ia) => ia.id,
              ),
            }
          : {}),
        entities: uniqueBy(
          entities.map((e) => ({
            id: e._id,
            collectionId: e.entity_collection_id,
            assetIds: e.asset_ids,
            status: e.status,
            ...(e.name ? { name: e.name } : {}),
          })),
          (e) => e.id,
        ),
      };
    } catch (error) {
      if (!(error instanceof CallError) || error.failure.disposition === 'batch') throw error;
      if (error.failure.disposition === 'absent') {
        return { assetId, exists: false, indexedAssets: [], entities: [] };
      }
      // Unknown whether it exists (a refusal, or a read that kept failing past its bound): only this
      // asset's item fails; the others of the batch go on.
      return {
        assetId,
        exists: true,
        entities: [],
        error: { type: error.failure.type, message: error.failure.message },
      };
    }
  }

  /** Waits for one entity after its unlink (`untilReady`); if it stays processing, its items fail. */
  async function waitOne(
    client: TwelveLabsClient,
    entity: EntityRef & { targets: ItemAsset[] },
    log: PhaseLog,
    board: WaitingBoard,
    signal: AbortSignal,
  ): Promise<void> {
    const late = await untilReady(client, entity, { firstLook, boundMs: entityWaitMs, board, log, signal });
    if (late === undefined) return;
    for (const t of entity.targets) {
      log.failure({ item: t.item, system: 'twelvelabs', step: 'wait-entities', detail: late });
    }
  }

  return {
    async discoverAssets({ assetIds, indexedAssets, plan, tail }) {
      if (assetIds.length === 0) return [];
      const client = deps.client();
      let inPlan: { has(id: string): boolean } | undefined;
      if (plan && 'assetIds' in plan) inPlan = new Set(plan.assetIds);
      else if (plan && deps.planAssetIds) inPlan = await deps.planAssetIds(plan.ref);
      const unique = [...new Set(assetIds)];
      const found = new Map<string, DiscoveredAsset>();
      // Reads change nothing: a retried attempt reads again, so nothing needs to survive in a heartbeat.
      await runPhase({
        units: unique,
        keyOf: (id) => id,
        parallelism,
        resumable: false,
        tail: watchTail(unique.length, tail),
        run: async (assetId) => {
          const asset = await discoverOne(client, assetId, indexedAssets);
          if (inPlan) {
            for (const e of asset.entities) e.planAssetIds = e.assetIds.filter((id) => inPlan.has(id));
          }
          found.set(assetId, asset);
        },
      });
      return assetIds.map((id) => found.get(id)!);
    },

    async unlinkEntities({ unlinks, tail, wait = true }) {
      if (unlinks.length === 0) return { entries: [], failures: [] };
      const client = deps.client();
      const background = new Background(activityScope().signal);
      const board = waitingBoard();
      const waited = new Set<string>();
      // An entity settles once its wait ends, or with its unlink when that needed no wait (refused,
      // already absent, failed). Entities an earlier attempt unlinked settle with their waits.
      const settling = watchTail(unlinks.length, tail);
      const waitFor = (log: PhaseLog, entity: EntityRef, targets: ItemAsset[]) => {
        // Without a wait here, each item waits for its own entities before its first delete.
        if (!wait || waited.has(entity.id)) return;
        waited.add(entity.id);
        background.start(async (signal) => {
          await waitOne(client, { ...entity, targets }, log, board, signal);
          settling.settle();
        });
      };
      try {
        return await runPhase({
          units: unlinks,
          keyOf: (u) => u.entity.id,
          parallelism,
          run: async (unit, log, ctx) => {
            // Its wait starts now, beside the other units: no entity waits for the slowest unlink.
            const changed = new Set((await unlinkEntity(client, unit, log, ctx)).changed);
            if (changed.size > 0) {
              waitFor(
                log,
                unit.entity,
                unit.targets.filter((t) => changed.has(t.assetId)),
              );
            }
            if (!waited.has(unit.entity.id)) settling.settle();
          },
          finish: async (log, answer) => {
            // A resumed attempt also waits for entities unlinked before the heartbeat it resumed from,
            // and for those an answer lost before this attempt had unlinked.
            const byEntity = new Map(unlinks.map((u) => [u.entity.id, u]));
            for (const e of answer.entries) {
              if (e.answer !== 'unlinked') continue;
              const u = byEntity.get(e.target.split('/')[0]!);
              if (u) waitFor(log, u.entity, u.targets);
            }
            await background.settled();
          },
        });
      } finally {
        settling.close();
        background.stop();
      }
    },

    async deleteEntities({ deletes }) {
      if (deletes.length === 0) return { entries: [], failures: [] };
      const client = deps.client();
      return runPhase({
        units: deletes,
        keyOf: (d) => d.entity.id,
        parallelism,
        run: async ({ entity, targets, planAssetIds }, log, ctx) => {
          const entries = targets.map((t) => ({
            item: t.item,
            system: 'twelvelabs' as const,
            step: 'delete-entity' as const,
            target: entity.id,
          }));
          // Read again just before the irreversible call: the premise is that the plan takes all its assets.
          let now: TwelveLabsEntity | undefined;
          const ok = await settle(
            log,
            entries,
            async () => {
              now = await client.getEntity(entity.collectionId, entity.id);
              return undefined;
            },
            ctx,
          );
          if (!ok || !now) return;
          const plan = new Set(planAssetIds);
          const foreign = now.asset_ids.filter((id) => !plan.has(id));
          if (foreign.length > 0) {
            for (const t of targets) {
              log.refuse({ ...entries[0]!, item: t.item, entity, assetId: t.assetId, foreign });
            }
            return;
          }
          await settle(
            log,
            entries,
            async () => {
              await client.deleteEntity(entity.collectionId, entity.id);
              return { answer: 'deleted' };
            },
            ctx,
          );
        },
      });
    },

    async deleteAssets({ assets }) {
      if (assets.length === 0) return { entries: [], failures: [] };
      const client = deps.client();
      const background = new Background(activityScope().signal);
      // Read back what was answered as gone, 50 IDs a call, as soon as 50 answered: the read-backs run
      // beside the deletes still going on, not after the slowest of them.
      const queued = new Set<string>();
      let batch: Array<{ item: string; target: string }> = [];
      const flush = (log: PhaseLog) => {
        if (batch.length === 0) return;
        const mine = batch;
        batch = [];
        background.start(async () => void (await readBackAssets(client, mine, log)));
      };
      const readBack = (log: PhaseLog, e: { item: string; target: string }) => {
        if (queued.has(e.target)) return;
        queued.add(e.target);
        batch.push(e);
        if (batch.length >= TWELVELABS_PAGE_LIMIT) flush(log);
      };
      try {
        return await runPhase({
          units: uniqueBy(assets, (a) => a.assetId),
          keyOf: (a) => a.assetId,
          parallelism,
          run: async (unit, log, ctx) => {
            if ((await deleteAssetUnit(client, unit, log, ctx)) === 'deleted') {
              readBack(log, { item: unit.item, target: unit.assetId });
            }
          },
          finish: async (log, answer) => {
            // Also what an attempt before this one answered as gone (its read-backs did not survive it).
            for (const e of answer.entries) {
              if (e.step === 'delete-asset' && e.answer !== 'failed') readBack(log, e);
            }
            flush(log);
            await background.settled();
          },
        });
      } finally {
        background.stop();
      }
    },
  };
}

/** How an asset's deletion ended: deleted by this call (to be read back), found gone, or failed (logged). */
export type AssetDeletion = 'deleted' | 'absent' | 'failed';

/**
 * Deletes one asset: lists its indexed assets again (the second look before the forced delete, which
 * would orphan any left), deletes them side by side, then force-deletes the asset. What it answers, and
 * what failed, is in `log`.
 */
export async function deleteAssetUnit(
  client: TwelveLabsClient,
  { item, assetId, known }: ItemAsset & { known: readonly IndexedAssetRef[] },
  log: PhaseLog,
  ctx: UnitContext,
  /** Told when the listing answered: the asset was still there when this attempt looked. */
  onPresent?: () => void,
): Promise<AssetDeletion> {
  const base = { item, system: 'twelvelabs' as const };
  // A unit an earlier attempt may have left midway (its heartbeat lost): that attempt may have deleted
  // indexed assets this one no longer lists, and no entry of this record says so.
  const afterLostAttempt = ctx.lostAnswer;
  // Look again just before the forced delete, which would orphan any indexed asset left.
  let listed: Array<{ id: string; indexId: string }> = [];
  let assetGone = false;
  try {
    listed = (
      await allPages(
        (page) => client.listIndexedAssets(assetId, page),
        `the indexed assets of asset ${assetId}`,
      )
    ).map((ia) => ({
      id: ia._id,
      indexId: ia.index._id,
    }));
    onPresent?.();
  } catch (error) {
    if (!(error instanceof CallError)) throw error;
    if (error.failure.disposition === 'item') {
      log.failure({ ...base, step: 'list-indexed-assets', detail: error.failure.message });
      return 'failed';
    }
    if (error.failure.disposition !== 'absent') throw error;
    assetGone = true;
  }
  // An asset's indexed assets do not depend on each other: deleted side by side, so that the
  // asset waits for the slowest of them, not for their sum. Any refused keeps the asset.
  const indexedGone = await allSettledOrThrow(
    uniqueBy([...known, ...listed], (x) => x.id).map((ia) =>
      settle(
        log,
        [{ ...base, step: 'delete-indexed-asset', target: `${ia.indexId}/${ia.id}` }],
        async () => {
          await client.deleteIndexedAsset(ia.indexId, ia.id);
          return { answer: 'deleted' };
        },
        ctx,
      ),
    ),
  );
  if (indexedGone.includes(false)) return 'failed';
  if (assetGone) {
    // Read as gone just now: no delete to send. After a lost attempt, the record says what it
    // cannot know: that attempt's deletes of indexed assets died with it.
    log.entry(
      ctx.lostAnswer
        ? {
            ...base,
            step: 'delete-asset',
            target: assetId,
            answer: 'deleted',
            detail:
              'found gone on retry after an attempt was lost; indexed assets that attempt deleted are not in this record',
          }
        : { ...base, step: 'delete-asset', target: assetId, answer: 'already-absent' },
    );
    return 'absent';
  }
  const LOST_INDEXED = 'an earlier attempt was lost: any indexed assets it deleted are not in this record';
  const noted: PhaseLog = afterLostAttempt
    ? {
        ...log,
        entry: (e) =>
          log.entry(
            e.answer === 'failed'
              ? e
              : { ...e, detail: e.detail ? `${e.detail}; ${LOST_INDEXED}` : LOST_INDEXED },
          ),
      }
    : log;
  const gone = await settle(
    noted,
    [{ ...base, step: 'delete-asset', target: assetId }],
    async () => {
      await client.deleteAsset(assetId);
      return { answer: 'deleted' };
    },
    ctx,
  );
  return gone ? 'deleted' : 'failed';
}

/**
 * Reads deleted assets back in one call (`GET /assets?asset_ids=`, at most a page of IDs): each one still
 * present is a `verify` failure of its item, and so is each one of a read-back refused or unreadable for
 * good (an `item` failure: these items fail, not the phase's others). Answers the targets not read as gone.
 */
export async function readBackAssets(
  client: TwelveLabsClient,
  deleted: ReadonlyArray<{ item: string; target: string }>,
  log: PhaseLog,
): Promise<Set<string>> {
  let present: Set<string>;
  let why = (target: string) => `asset ${target} still reads as present after the delete`;
  try {
    present = new Set((await client.listAssets(deleted.map((e) => e.target))).map((a) => a._id));
  } catch (error) {
    if (!(error instanceof CallError) || error.failure.disposition !== 'item') throw error;
    const { message } = error.failure;
    present = new Set(deleted.map((e) => e.target));
    why = (target) => `asset ${target} could not be read back after the delete: ${message}`;
  }
  for (const e of deleted) {
    if (present.has(e.target)) {
      log.failure({ item: e.item, system: 'twelvelabs', step: 'verify', detail: why(e.target) });
    }
  }
  return present;
}

/**
 * When to look first at an entity just unlinked, learnt from the entities this worker saw settle: a vendor's
 * entities take about the same time, and each look is a call. It starts at 150 ms; an entity still
 * processing at the first look moves it halfway towards when that entity was seen ready (at most 1 s, so
 * that one slow entity or a retried poll does not hold the next ones back long). Entities ready at the
 * first look bring it 1% closer to 150 ms again, once a second at most, so that it follows a vendor that
 * speeds up. Once a second, not once an entity: a chunk unlinks its entities all at once and they are all
 * ready together, and two hundred of them each taking off 1% would send the next chunk's first looks back
 * to 150 ms, too early again (bench/engine.md: a third of the polls at 300 ms entities).
 */
export class FirstLook {
  static readonly MIN_MS = 150;
  static readonly MAX_MS = 1000;
  /** Entities ready at the first look lower it by 1% at most this often. */
  static readonly LOWER_EVERY_MS = 1000;
  ms = FirstLook.MIN_MS;
  private loweredAt = -Infinity;

  /** An entity was seen ready, at its first look or a later one, `elapsedMs` after its unlink. */
  saw(readyAtFirstLook: boolean, elapsedMs: number, now = Date.now()): void {
    if (!readyAtFirstLook) {
      this.ms = Math.min(FirstLook.MAX_MS, Math.max(this.ms, this.ms + (elapsedMs - this.ms) / 2));
    } else if (now - this.loweredAt >= FirstLook.LOWER_EVERY_MS) {
      this.loweredAt = now;
      this.ms = Math.max(FirstLook.MIN_MS, this.ms * 0.99);
    }
  }
}
