/**
 * The items' deletion, one item at a time through its systems: once its asset is unlinked from its
 * entities (every unlink goes when the activity starts, one call per entity for the items it holds) and
 * those are ready again, TwelveLabs (indexed assets, then the asset, read back), then its Uplynk
 * libraries, then the DAM. An item goes on to its next system as soon as its own calls there are
 * answered, so that a retry or a `Retry-After` holds back that item only, not every item of the chunk
 * behind a phase's slowest call. Calls that take many IDs still take many: read-backs up to a page of
 * assets, library removals per library for the items that reach it at about the same time (`Batcher`).
 */
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { phaseTallySignal } from '../workflows/definitions.js';
import { activityScope, throwIfCancelled } from './activity-scope.js';
import { Batcher } from './batcher.js';
import type { Activities, ItemAsset, ItemDeletion } from './contract.js';
import { deleteDamUnit } from './entermedia-activities.js';
import type { EnterMediaClient } from './entermedia-client.js';
import { allSettledOrThrow, groupBy, runPhase, type PhaseLog } from './phase-runner.js';
import { watchTail } from './phase-tail.js';
import {
  deleteAssetUnit,
  readBackAssets,
  unlinkEntity,
  untilReady,
  waitingBoard,
  DEFAULT_ENTITY_WAIT_MS,
  FirstLook,
  type AssetDeletion,
  type EntityRef,
} from './twelvelabs-activities.js';
import { TWELVELABS_PAGE_LIMIT, type TwelveLabsClient } from './twelvelabs-client.js';
import { currentUnit, inUnit } from './unit-context.js';
import { removeFromLibrary } from './uplynk-activities.js';
import type { UplynkClient } from './uplynk-client.js';

/** How long an asset deleted waits for others to be read back with it, at most. */
const READ_BACK_LINGER_MS = 100;
/** How long an item ready for a library waits for others to be removed with it, at most. */
const LIBRARY_LINGER_MS = 250;
/** Assets removed from one library in one batch at most (the client splits it further to fit a URL). */
const LIBRARY_BATCH = 500;
/** Assets unlinked from one entity in one call at most. */
const ENTITY_BATCH = 50;

/** How an item's unlink from one entity ended: failed (its entry says so), or why its wait gave up. */
interface Unlinked {
  failed: boolean;
  late?: string | undefined;
}

type ItemFlowActivities = Pick<Activities, 'deleteItems'>;

/** What earlier attempts of the phase answered for this item's call of `step` on `target`, if anything. */
function answeredBefore(log: PhaseLog, item: string) {
  const earlier = log.earlier(item);
  return (step: string, target: string) => earlier.find((e) => e.step === step && e.target === target);
}

export function createItemFlowActivities(deps: {
  /** Each client, or a non-retryable `MissingCredentialsError` when its system is not configured. */
  twelvelabs: () => TwelveLabsClient;
  uplynk: () => UplynkClient;
  entermedia: () => EnterMediaClient;
  /** Items in flight at once within one activity (the shared limiters bound each system's calls). */
  parallelism: number;
  /** The longest wait for an entity to be ready again. @default DEFAULT_ENTITY_WAIT_MS */
  entityWaitMs?: number;
  /** When entities settle after an unlink, as this worker saw lately (shared with `unlinkEntities`). */
  firstLook?: FirstLook;
  /** Where the phase's tallies go. @default the running activity's chunk workflow */
  tellTally?: TellTally;
}): ItemFlowActivities {
  const firstLook = deps.firstLook ?? new FirstLook();
  const entityWaitMs = deps.entityWaitMs ?? DEFAULT_ENTITY_WAIT_MS;
  return {
    async deleteItems({ items, tally, tail }) {
      if (items.length === 0) return { entries: [], failures: [] };
      const tell = deps.tellTally ?? tellChunk();
      const reporter = tally && tell ? tallyReporter(tally, tell) : undefined;
      // A system's client only if an item has a call there. One not configured fails the activity before
      // any call, without retry: no item is left half deleted for want of a key.
      const twelvelabs = items.some((i) => i.twelvelabs) ? deps.twelvelabs() : undefined;
      const uplynk = items.some((i) => i.libraries.length > 0) ? deps.uplynk() : undefined;
      const entermedia = items.some((i) => i.dam) ? deps.entermedia() : undefined;
      const scope = activityScope();
      // Batches not sent when the attempt ends are dropped with it; the next attempt starts its own.
      const attempt = new AbortController();
      const signal = AbortSignal.any([scope.signal, attempt.signal]);
      // Each batcher (one per library) and each queued call listens for it: not a leak.
      setMaxListeners(0, signal);

      // Each entity an item was unlinked from, polled once for all its items: undefined once ready, or
      // why it is not. Every entity is polled from the start, beside the items, first about when entities
      // settled after their unlink lately (`FirstLook`), so that an item finds it ready rather than
      // waiting for its polls; the polls go ahead of the items' calls in the system's queue.
      const board = waitingBoard();
      /** Polls an entity until it is ready again (`untilReady`), ahead of the items' calls. */
      const poll = (entity: EntityRef, log: PhaseLog, since?: number): Promise<string | undefined> =>
        inUnit(
          false,
          () =>
            untilReady(twelvelabs!, entity, {
              ...(since === undefined ? {} : { since }),
              firstLook,
              boundMs: entityWaitMs,
              board,
              log,
              signal,
            }),
          { rank: -1 },
        );
      const ready = new Map<string, Promise<string | undefined>>();
      const readyOf = (
        entity: EntityRef & { unlinkedAt?: string },
        log: PhaseLog,
      ): Promise<string | undefined> => {
        let wait = ready.get(entity.id);
        if (!wait) {
          wait = poll(entity, log, entity.unlinkedAt ? Date.parse(entity.unlinkedAt) : undefined);
          // Awaited by its items; one that fails for good fails them (and the attempt) there.
          wait.catch(() => undefined);
          ready.set(entity.id, wait);
        }
        return wait;
      };
      /**
       * Every unlink call made: they go beside the items, also for items no lane has reached, and the
       * phase answers only once each has answered (`drain`), so that none applied goes unrecorded.
       */
      const unlinkCalls: Array<Promise<unknown>> = [];
      /** One call unlinks these assets from the entity, which is then waited for until ready again. */
      const unlinkAndWait = async (entity: EntityRef, targets: ItemAsset[], log: PhaseLog) => {
        // After an attempt that failed or was lost, any unlink may have been applied unseen: read first.
        const call = inUnit(
          scope.attempt > 1,
          (ctx) => unlinkEntity(twelvelabs!, { entity, targets }, log, ctx),
          { rank: -1 },
        );
        unlinkCalls.push(call);
        const outcome = await call;
        const failed = new Set(outcome.failed);
        const late = outcome.changed.length > 0 ? await poll(entity, log) : undefined;
        return targets.map((t): Unlinked =>
          failed.has(t.assetId) ? { failed: true } : { failed: false, late },
        );
      };
      /** Each item's unlinks, started with the activity: each settles once its entity is ready again. */
      const unlinked = new Map<string, Promise<Unlinked[]>>();
      let readBacks: Batcher<{ item: string; target: string }, boolean> | undefined;
      const libraries = new Map<string, Batcher<ItemAsset, boolean>>();
      const prepare = (todo: readonly ItemDeletion[], log: PhaseLog) => {
        // Items that earlier attempts ended count in this attempt's tallies too.
        const left = new Set(todo.map((u) => u.item));
        const ended = items.filter((u) => !left.has(u.item));
        reporter?.resume(ended.length, ended.filter((u) => log.failedBefore(u.item)).length);
        readBacks = new Batcher({
          maxSize: TWELVELABS_PAGE_LIMIT,
          lingerMs: READ_BACK_LINGER_MS,
          signal,
          // Each deleted asset: still present (a `verify` failure of its item) or not.
          send: async (deleted) => {
            // Ranked as the item that sent the batch: ahead of the items that started after it.
            const present = await inUnit(false, () => readBackAssets(twelvelabs!, deleted, log), {
              rank: currentUnit()?.rank,
            });
            return deleted.map((d) => present.has(d.target));
          },
        });
        for (const unit of todo) {
          for (const entity of unit.twelvelabs?.entities ?? []) void readyOf(entity, log);
          if (unit.twelvelabs) readBacks.expect();
          for (const { libraryId } of unit.libraries) {
            let batcher = libraries.get(libraryId);
            if (!batcher) {
              batcher = new Batcher({
                maxSize: LIBRARY_BATCH,
                lingerMs: LIBRARY_LINGER_MS,
                signal,
                // Each asset: removal answered or not (a refusal fails its items in the log).
                send: async (targets) => {
                  const assets = groupBy(targets, (t) => t.assetId);
                  const removed = await inUnit(
                    false,
                    () => removeFromLibrary(uplynk!, libraryId, assets, log),
                    { rank: currentUnit()?.rank },
                  );
                  return targets.map((t) => removed.has(t.assetId));
                },
              });
              libraries.set(libraryId, batcher);
            }
            batcher.expect();
          }
        }
        // Every unlink goes at once, ahead of the items' calls (as the polls do), one call per entity for
        // the items it holds, so that an item finds its entities ready again when it gets there rather
        // than waiting for them in its lane.
        const waits = new Map<string, Array<Promise<Unlinked>>>();
        const waitsOf = (item: string) => waits.get(item) ?? waits.set(item, []).get(item)!;
        const toUnlink = new Map<string, { entity: EntityRef; targets: ItemAsset[] }>();
        for (const { item, twelvelabs: tl } of todo) {
          if (!tl?.unlinks?.length) continue;
          const answered = answeredBefore(log, item);
          if (answered('delete-asset', tl.assetId)) continue;
          for (const entity of tl.unlinks) {
            const done = answered('unlink-entity', `${entity.id}/${tl.assetId}`);
            if (!done) {
              const group = toUnlink.get(entity.id) ?? { entity, targets: [] };
              group.targets.push({ item, assetId: tl.assetId });
              toUnlink.set(entity.id, group);
            } else if (done.answer === 'unlinked') {
              // Unlinked by an earlier attempt: the entity may still be processing (one poll for all the
              // items it held).
              waitsOf(item).push(readyOf(entity, log).then((late) => ({ failed: false, late })));
            } else {
              waitsOf(item).push(Promise.resolve({ failed: done.answer === 'failed' }));
            }
          }
        }
        for (const { entity, targets } of toUnlink.values()) {
          // One unlink of an entity at a time: the next batch goes once the entity is ready again.
          let previous: Promise<unknown> = Promise.resolve();
          for (let i = 0; i < targets.length; i += ENTITY_BATCH) {
            const batch = targets.slice(i, i + ENTITY_BATCH);
            // Nothing more is sent once the attempt ended or the phase was asked to stop.
            const sent = previous.then(() => {
              throwIfCancelled(signal);
              return unlinkAndWait(entity, batch, log);
            });
            previous = sent.catch(() => undefined);
            batch.forEach((t, k) => waitsOf(t.item).push(sent.then((ended) => ended[k]!)));
          }
        }
        for (const [item, list] of waits) {
          const all = allSettledOrThrow(list);
          // Awaited by its item; one that fails for good fails it (and the attempt) there.
          all.catch(() => undefined);
          unlinked.set(item, all);
        }
      };

      // Items that share a library reach it about together, so that one call removes them all: the
      // units start (and so rank) in the order of their first library, in plan order within one.
      const byLibrary = [...items].sort((a, b) => {
        const x = a.libraries[0]?.libraryId ?? '';
        const y = b.libraries[0]?.libraryId ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
      try {
        return await runPhase({
          units: byLibrary,
          keyOf: (unit) => unit.item,
          parallelism: deps.parallelism,
          prepare,
          tail: watchTail(items.length, tail),
          drain: async () => {
            // No unlink is sent from now on and no wait goes on; those already sent are awaited.
            attempt.abort(new Error('the attempt ended'));
            await Promise.allSettled(unlinkCalls);
          },
          run: async (unit, log, ctx) => {
            const { item } = unit;
            // What the unit was expected to add to a batch and has not: told on the way out.
            let readBackOwed = unit.twelvelabs !== undefined;
            const librariesOwed = unit.libraries.map((l) => l.libraryId);
            // A unit an earlier attempt may have reached (its heartbeat lost with its worker): any of its
            // calls may have been applied unseen. Once this attempt finds the item's TwelveLabs asset still
            // there, no attempt got past it to the item's later systems: their calls are this attempt's own.
            let lostAtStart = ctx.lostAnswer;
            const answered = answeredBefore(log, item);
            /** Its unlinks (started with the activity) and its entities ready again: false once it failed. */
            const unlinkFirst = async (): Promise<boolean> => {
              const ended = await (unlinked.get(item) ?? Promise.resolve([]));
              if (ended.some((u) => u.failed)) return false;
              const late = ended.find((u) => u.late !== undefined)?.late;
              if (late === undefined) return true;
              log.failure({ item, system: 'twelvelabs', step: 'wait-entities', detail: late });
              return false;
            };
            /** Walks the item through its systems: true when it ended done, false when it failed. */
            const walk = async (): Promise<boolean> => {
              if (unit.twelvelabs) {
                const { assetId, known, entities = [] } = unit.twelvelabs;
                // The mission's order: every entity it was unlinked from is ready again before its deletes.
                const late = (await allSettledOrThrow(entities.map((e) => readyOf(e, log)))).find(Boolean);
                if (late !== undefined) {
                  log.failure({ item, system: 'twelvelabs', step: 'wait-entities', detail: late });
                  return false;
                }
                // An earlier attempt's answer stands; an asset it deleted is read back again.
                const before = answered('delete-asset', assetId);
                if (!before && !(await unlinkFirst())) return false;
                const deletion: AssetDeletion = before
                  ? before.answer === 'failed'
                    ? 'failed'
                    : before.answer === 'already-absent'
                      ? 'absent'
                      : 'deleted'
                  : await deleteAssetUnit(twelvelabs!, { item, assetId, known }, log, ctx, () => {
                      lostAtStart = false;
                    });
                if (deletion === 'failed') return false;
                if (deletion === 'deleted') {
                  readBackOwed = false;
                  if (await readBacks!.add({ item, target: assetId })) return false;
                }
              }
              throwIfCancelled(signal);
              const removals = unit.libraries.map(async ({ libraryId, assetId }) => {
                const batcher = libraries.get(libraryId)!;
                librariesOwed.splice(librariesOwed.indexOf(libraryId), 1);
                const before = answered('remove-from-library', `${libraryId}/${assetId}`);
                if (before) {
                  batcher.forget();
                  return before.answer !== 'failed';
                }
                return batcher.add({ item, assetId });
              });
              if ((await allSettledOrThrow(removals)).includes(false)) return false;
              throwIfCancelled(signal);
              if (!unit.dam || answered('delete-dam-asset', unit.dam.assetId)) return true;
              const { assetId } = unit.dam;
              // Its own unit of calls: a lost answer elsewhere says nothing about the DAM's.
              return inUnit(lostAtStart, (dam) => deleteDamUnit(entermedia!, { item, assetId }, log, dam), {
                waits: ctx.waits,
                rank: ctx.rank,
              });
            };
            try {
              // A throw ends nothing: the attempt fails (or stops), and a later one, or the record, says how.
              const done = await walk();
              reporter?.ended(!done);
            } finally {
              if (readBackOwed) readBacks!.forget();
              for (const libraryId of librariesOwed) libraries.get(libraryId)!.forget();
            }
          },
        });
      } finally {
        attempt.abort(new Error('the attempt ended'));
        reporter?.stop();
      }
    },
  };
}

/** Where a phase's tallies go: its chunk workflow (`phaseTallySignal`). */
export type TellTally = (tally: { phase: number; settled: number; failed: number }) => Promise<void>;

/** Signals the running activity's chunk; undefined without a Temporal client (a test's mock environment). */
function tellChunk(): TellTally | undefined {
  let client: Client;
  let workflowId: string | undefined;
  try {
    const context = Context.current();
    client = context.client;
    workflowId = context.info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
  if (workflowId === undefined) return undefined;
  const chunk = client.workflow.getHandle(workflowId);
  return (tally) => chunk.signal(phaseTallySignal, tally);
}

/**
 * Tells the activity's chunk how many of its items ended and failed: when the failures change, and once
 * `whenSettled` items ended. One tally in flight at a time; counts that change meanwhile go in the next.
 * A retried attempt starts from the items earlier attempts ended (`resume`), so that the chunk's count
 * of failures, which the run's threshold reads, does not drop back while it runs.
 */
export function tallyReporter(
  { phase, whenSettled }: { phase: number; whenSettled?: number | undefined },
  tell: TellTally,
) {
  let settled = 0;
  let failed = 0;
  let told = { settled: 0, failed: 0 };
  let sending = false;
  let stopped = false;
  const due = () =>
    failed !== told.failed ||
    (whenSettled !== undefined && told.settled < whenSettled && settled >= whenSettled);
  const send = (): void => {
    if (sending || stopped || !due()) return;
    told = { settled, failed };
    sending = true;
    tell({ phase, ...told })
      // A tally that did not arrive is not sent again: the chunk learns it all from the answer anyway.
      .catch(() => undefined)
      .finally(() => {
        sending = false;
        send();
      });
  };
  return {
    /** The items that earlier attempts of the phase ended, and how many of them failed. */
    resume(settledBefore: number, failedBefore: number): void {
      settled += settledBefore;
      failed += failedBefore;
      send();
    },
    ended(asFailed: boolean): void {
      settled++;
      if (asFailed) failed++;
      send();
    },
    stop(): void {
      stopped = true;
    },
  };
}
