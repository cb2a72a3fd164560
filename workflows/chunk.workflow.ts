import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  patched,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities, EntityRef, ItemAsset, ItemDeletion } from '../activities/contract.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../activities/error-types.js';
import type { createPolicyActivities } from '../activities/policy-activities.js';
import {
  CallStep as CallSteps,
  ItemBook,
  planChunk,
  replanForeignEntity,
  replanRefusedUnlink,
  replanRefusedUnlinkApproved,
  rowsOf,
  summarize,
  systemsOf,
  type CallStep,
  type ChunkPlan,
  type DiscoveredAsset,
  type DiscoveredEntity,
  type ItemFinal,
  type PhaseAnswer,
  type PlanItem,
  type PlanOptions,
  type PlannedCall,
  type Refusal,
} from '../plan/engine.js';
import {
  chunkProgressQuery,
  chunkTallySignal,
  chunkWaitingSignal,
  phaseTailSignal,
  phaseTallySignal,
  stopChunkSignal,
  tallyAckSignal,
  type ChunkInput,
  type ChunkResult,
  type Phase,
} from './definitions.js';

/**
 * Calls to the three systems. Each call is retried inside the activity; an attempt fails only when one
 * call keeps failing past its bound, and Temporal then retries it from its heartbeat. No attempt count
 * gives up on a phase that is making progress: the schedule-to-close timeout, sized to the phase, does.
 */
const calls = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  // A phase asked to stop answers what its calls did; the chunk waits for that answer.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** A scheduled clean-up's selection read again before the first irreversible call (`input.recheck`). */
const selectionChecks = proxyActivities<Pick<ReturnType<typeof createPolicyActivities>, 'recheckSelection'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** Reading the plan file: local I/O, quick to retry. */
const planReads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

/** A phase of `units` calls may take this long in all, retries included. */
function phaseOptions(summary: string, units: number) {
  const minutes = Math.min(24 * 60, 30 + Math.ceil(units / 10));
  return { summary, scheduleToCloseTimeout: `${minutes} minutes` } as const;
}

function errorMessage(error: unknown): string {
  // An activity failure wraps the ApplicationFailure that carries the vendor's message.
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof ApplicationFailure && current.type) return `${current.type}: ${current.message}`;
  return current instanceof Error ? current.message : String(current);
}

/**
 * Deletes one chunk of a plan: discovers, plans every item's calls (plan/planner.ts), then walks the
 * phases in the mission's order. Each phase hands out only the calls of items still live, records what
 * the activity answered in the ledger, and re-plans on refusals. Before each phase it checks whether the
 * run must stop (cancel, failure threshold). Answers how each item ended and the ledger.
 */
export async function bulkDeleteChunkWorkflow(input: ChunkInput): Promise<ChunkResult> {
  let stopReason: string | undefined;
  let phase: Phase = 'discover';
  let counts = (): { settled: number; failed: number } => ({ settled: 0, failed: 0 });
  // The phase running now: a stop cancels it, and its activity answers what its calls did.
  const running: RunningPhase = {};
  let settling = (): Record<string, string[]> | undefined => undefined;
  const stop = (reason: string) => {
    stopReason ??= reason;
    // Chunks that ran before this change let a stopped phase run on (and retry) to its end.
    if (patched('stop-cancels-running-phase')) running.scope?.cancel();
  };
  setHandler(stopChunkSignal, ({ reason }) => stop(reason));
  let acked = 0;
  setHandler(tallyAckSignal, ({ seq, stop: reason }) => {
    acked = Math.max(acked, seq);
    if (reason) stop(reason);
  });

  const items: PlanItem[] =
    input.items ??
    (input.planRef
      ? await planReads.readPlanPage({ ref: input.planRef, offset: input.offset, limit: input.limit })
      : []);
  setHandler(chunkProgressQuery, () => {
    const units = settling();
    return {
      chunk: input.chunk,
      phase,
      items: items.length,
      ...counts(),
      ...(units ? { settling: units } : {}),
    };
  });
  const now = () => new Date().toISOString();

  if (input.mode === 'skip' || input.mode === 'observe') {
    const finals = notStarted(items, input.reason ?? 'not started', now());
    if (input.mode === 'observe') {
      // What cannot be read (the read itself failing for good) is reported as unknown, never as nothing.
      const seen = await calls.observeItems
        .executeWithOptions(phaseOptions(`read the state of ${items.length} items`, items.length), [
          { items },
        ])
        .catch(() => []);
      const byItem = new Map(seen.map((s) => [s.item, s.observed]));
      for (const f of finals) Object.assign(f, { state: 'observed', observed: byItem.get(f.item) ?? {} });
    }
    return { items: finals, ledger: [], summary: summarize(rowsOf(finals, [])) };
  }

  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  // While its running phase only waits on its last units, the chunk lends its place in the parent's
  // window. Chunks that ran before this change kept it to their end.
  const lender = patched('waiting-chunks-lend-their-place')
    ? new Lender((waiting) =>
        parent.signal(chunkWaitingSignal, { chunk: input.chunk, waiting }).catch(() => undefined),
      )
    : undefined;
  if (lender) setHandler(phaseTailSignal, ({ phase: no }) => lender.tail(no));

  // Discover. A plain run lists indexed assets only just before the forced delete (its second look); a
  // dry run and an approved run list them now, since the steps and their digest show them.
  const assets = items.flatMap((item) => (item.twelvelabs ? [item.twelvelabs.assetId] : []));
  const withIndexed = input.mode === 'discover' || input.expectedDigest !== undefined;
  let discovered: DiscoveredAsset[] = [];
  if (assets.length > 0) {
    lender?.started(0);
    try {
      discovered = await calls.discoverAssets.executeWithOptions(
        phaseOptions(`discover ${assets.length} TwelveLabs assets`, assets.length),
        [
          {
            assetIds: assets,
            indexedAssets: withIndexed,
            ...(lender ? { tail: { phase: 0 } } : {}),
            ...(input.planRef
              ? { plan: { ref: input.planRef } }
              : input.planAssetIds
                ? { plan: { assetIds: input.planAssetIds } }
                : {}),
          },
        ],
      );
    } catch (error) {
      // Discovery answers per asset; only what stops every asset (credentials, 401) ends up here.
      const message = errorMessage(error);
      discovered = assets.map((assetId) => ({
        assetId,
        exists: true,
        entities: [],
        error: { type: 'DiscoveryFailed', message: `asset ${assetId} not read: ${message}` },
      }));
    }
  }
  // Under delete-entity, every item of an entity the plan empties deletes it, and a chunk deletes it only
  // if, read again, it holds nothing but this chunk's live items' assets: the chunk that reaches it last.
  // Chunks planned before this change had the item of its last asset delete it, judged against the whole
  // plan's assets (an entity still holding another chunk's failed item's asset could be deleted).
  const entityDeleteByEveryItem = patched('entity-delete-by-whichever-chunk-is-last');
  const plan = planChunk(items, discovered, input.options.lastEntityAsset, { entityDeleteByEveryItem });
  if (input.mode === 'discover') {
    await lender?.stop();
    return { items: [], ledger: [], summary: summarize([]), steps: plan.steps, digest: plan.digest };
  }
  const book = new ItemBook(plan, now);
  /** The book's counts plus what the running phase told of its items so far (`phaseTallySignal`). */
  const total = () => {
    const c = book.counts();
    const t = running.tally;
    return t ? { settled: c.settled + t.settled, failed: c.failed + t.failed } : c;
  };
  counts = total;
  settling = () => (running.steps ? settlingUnits(book, running.steps, running.byItem) : undefined);
  if (input.expectedDigest !== undefined && input.expectedDigest !== plan.digest) {
    book.stopAll(
      `the references changed after approval (steps digest ${plan.digest.slice(0, 12)}, approved ${input.expectedDigest.slice(0, 12)}): nothing of this chunk was deleted; "bulk-delete retry" of this run discovers these items again and waits for their approval`,
    );
    await lender?.stop();
    return finish(book, plan);
  }

  let seq = 0;
  let lastFailed = book.counts().failed;
  if (input.gated) {
    // Discovered beside the first chunk: no irreversible call before the parent says go (or stop).
    phase = 'discover';
    const sent = ++seq;
    await parent.signal(chunkTallySignal, {
      chunk: input.chunk,
      seq: sent,
      settled: 0,
      failed: 0,
      gated: true,
    });
    await condition(() => acked >= sent || stopReason !== undefined);
    if (stopReason !== undefined) {
      await lender?.stop();
      const finals = notStarted(items, `not started: ${stopReason}`, now());
      return { items: finals, ledger: [], summary: summarize(rowsOf(finals, [])), digest: plan.digest };
    }
  }
  if (input.recheck) {
    // A scheduled clean-up's items: what the selection saw may have changed since (a date pushed ahead
    // while the run awaited approval or the chunks before this one ran). Only runs that carry `recheck`
    // come here (workflows/scheduled-cleanup.workflow.ts starts them behind a patch).
    const live = items.filter((item) => book.live(item.id));
    const skip =
      live.length === 0
        ? []
        : await selectionChecks.recheckSelection
            .executeWithOptions(phaseOptions(`read ${live.length} selected assets again`, live.length), [
              { items: live, select: input.recheck },
            ])
            .catch((error: unknown) => {
              // The chunk itself cancelled: as for its other activities. Else nothing goes unconfirmed.
              if (isCancellation(error)) throw error;
              return live.map((item) => ({
                item: item.id,
                reason: `not confirmed as still selected: ${errorMessage(error)}`,
              }));
            });
    book.apply({ skip, calls: [], notes: [] });
  }

  // Runs started before this change told their tally only between phases.
  const withinPhase = patched('tally-within-a-phase');
  const minItems = input.options.failureThresholdMinItems;
  // The first chunk's tally opens the window once enough items settled, if before its end.
  const opensWindow = withinPhase && input.chunk === 0 && !input.gated && input.mode === 'execute';
  let windowTold = false;
  if (withinPhase) {
    setHandler(phaseTallySignal, ({ phase: no, settled, failed }) => {
      // A tally of a phase that already answered is in the book: only the running phase's counts.
      if (running.no !== no || !running.scope) return;
      running.tally = { settled, failed };
    });
  }
  /** Tells the parent when failures changed and waits for its verdict before the next irreversible call. */
  const tally = async (): Promise<void> => {
    // Without tallies within a phase (runs before that change) nothing is told mid-phase: the book's.
    const now = total();
    const gate = opensWindow && !windowTold && now.settled >= minItems;
    if (now.failed === lastFailed && !gate) return;
    lastFailed = now.failed;
    if (gate) windowTold = true;
    const sent = ++seq;
    try {
      await parent.signal(chunkTallySignal, { chunk: input.chunk, seq: sent, ...now });
      await condition(() => acked >= sent || stopReason !== undefined, '1 minute');
    } catch {
      // A parent that is gone cannot stop us; the chunk's own record still tells what it did.
    }
  };
  // While a phase runs, its tallies go to the parent as they come (one at a time), so that the run's
  // threshold can stop it and the first chunk can open the window before the phase ends.
  let walking = true;
  let told = running.tally;
  let telling = Promise.resolve();
  const tellOnce = (): Promise<void> => (telling = telling.then(tally));
  const teller = withinPhase
    ? (async () => {
        for (;;) {
          await condition(() => running.tally !== told || !walking);
          if (!walking) return;
          told = running.tally;
          await tellOnce();
        }
      })()
    : undefined;
  // What `deleteItems` tells while it runs: its failures as they come, and once enough items settled
  // for the first chunk to open the window.
  const tallyFor = (no: number): TallyRequest | undefined =>
    withinPhase
      ? {
          phase: no,
          ...(opensWindow && !windowTold
            ? { whenSettled: Math.max(1, minItems - book.counts().settled) }
            : {}),
        }
      : undefined;
  const walker = new PhaseWalker(
    book,
    discovered,
    input.options,
    items,
    running,
    () => stopReason,
    tallyFor,
    lender,
    input.expectedDigest !== undefined ? approvedEntityDeletes(plan) : undefined,
    entityDeleteByEveryItem,
  );

  for (const step of walker.steps()) {
    await (withinPhase ? tellOnce() : tally());
    if (stopReason !== undefined) {
      book.stopAll(stopReason);
      break;
    }
    phase = step.phase;
    await step.run();
  }
  phase = 'done';
  walking = false;
  await teller;
  await lender?.stop();
  await (withinPhase ? tellOnce() : tally());
  return finish(book, plan);
}

/** Each item and entity (`item entityId`) whose delete the chunk's plan holds. */
function approvedEntityDeletes(plan: ChunkPlan): Set<string> {
  return new Set(
    plan.items.flatMap((p) =>
      p.calls.filter((c) => c.step === 'delete-entity').map((c) => `${p.item} ${c.entity?.id ?? c.target}`),
    ),
  );
}

/** Every item stopped before any call, with why. */
function notStarted(items: readonly PlanItem[], reason: string, at: string): ItemFinal[] {
  return items.map((item) => ({
    item: item.id,
    systems: systemsOf(item),
    state: 'stopped',
    step: 'not-started',
    detail: reason,
    absent: [],
    notes: [],
    at,
  }));
}

function finish(book: ItemBook, plan: ChunkPlan): ChunkResult {
  const items = book.finals();
  return { items, ledger: book.ledger, summary: summarize(rowsOf(items, book.ledger)), digest: plan.digest };
}

/** The phase running now: a stop cancels its scope; its steps tell which items it settles. */
interface RunningPhase {
  scope?: CancellationScope;
  steps?: readonly CallStep[];
  /** True when the phase's units are items (`deleteItems`), not the targets of calls. */
  byItem?: boolean | undefined;
  /** The running phase's number, which its tallies quote. */
  no?: number;
  /** What the running phase told of its items so far (`phaseTallySignal`). */
  tally?: { settled: number; failed: number } | undefined;
}

/** What `deleteItems` is asked to tell while it runs. */
type TallyRequest = NonNullable<Parameters<Activities['deleteItems']>[0]['tally']>;

/** The calls that `deleteItems` makes, each item through its systems in this order. */
const ITEM_STEPS: readonly CallStep[] = [
  'delete-indexed-asset',
  'delete-asset',
  'remove-from-library',
  'delete-dam-asset',
];

/** The unit of a phase activity that carries a call (the activities' `keyOf`): entity, asset, library. */
function unitOf(call: PlannedCall): string {
  switch (call.step) {
    case 'unlink-entity':
    case 'delete-entity':
      return call.entity?.id ?? call.target;
    case 'remove-from-library':
      return call.libraryId ?? call.target;
    default:
      return call.assetId ?? call.target;
  }
}

/**
 * For `chunkProgressQuery`: the items whose last calls are in the running phase, each with the units of
 * its calls. The client counts an item settled once its phase heartbeat lists all those units as done,
 * so that progress moves per item, not per phase. Display only: nothing here decides a call.
 */
function settlingUnits(book: ItemBook, steps: readonly CallStep[], byItem = false): Record<string, string[]> {
  const inPhase = new Set(steps);
  const units = new Map<string, Set<string> | null>();
  for (const step of CallSteps.options) {
    for (const call of book.pending(step)) {
      const seen = units.get(call.item);
      if (seen === null) continue;
      if (!inPhase.has(step)) units.set(call.item, null);
      else units.set(call.item, (seen ?? new Set()).add(byItem ? call.item : unitOf(call)));
    }
  }
  const out: Record<string, string[]> = {};
  for (const [item, set] of units) if (set) out[item] = [...set];
  return out;
}

/** Groups a list by a key, keeping first-seen order. */
function groupBy<T, K>(list: readonly T[], keyOf: (x: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const x of list) {
    const key = keyOf(x);
    const group = out.get(key);
    if (group) group.push(x);
    else out.set(key, [x]);
  }
  return out;
}

const target = (c: PlannedCall): ItemAsset => ({ item: c.item, assetId: c.assetId! });

/** The chunk's phases as small named steps over the item book. */
class PhaseWalker {
  /** Each entity as discovery saw it. */
  private readonly entities = new Map<string, DiscoveredEntity>();
  /** Phases started so far. */
  private started = 0;
  /** True once the unlinks leave each entity's wait to the items that were unlinked from it. */
  private itemsWait = false;
  /** True when each item unlinks its asset from its entities in `deleteItems`. */
  private unlinksInItems = false;

  constructor(
    private readonly book: ItemBook,
    discovered: readonly DiscoveredAsset[],
    private readonly options: PlanOptions,
    private readonly items: readonly PlanItem[],
    private readonly running: RunningPhase,
    private readonly stopReason: () => string | undefined,
    /** What `deleteItems` tells while it runs, for the phase of this number (undefined: nothing). */
    private readonly tallyFor: (no: number) => TallyRequest | undefined,
    /** Told when each phase starts; absent in chunks that keep their place to their end. */
    private readonly lender?: Lender,
    /**
     * When the run was approved by its steps' digest (re-planning adds no call outside them): each item
     * and entity (`item entityId`) whose delete those steps hold.
     */
    private readonly approved?: ReadonlySet<string>,
    /**
     * True when an entity delete counts only this chunk's live items' assets as the plan's (the planner's
     * `entityDeleteByEveryItem`); false in chunks planned before, which counted the whole plan's.
     */
    private readonly chunkOwnsEntityDeletes = false,
  ) {
    for (const d of discovered) for (const e of d.entities) this.entities.set(e.id, e);
  }

  /** Each phase, lazily: a phase is skipped when no live item has a call in it. */
  *steps(): Generator<{ phase: Phase; run: () => Promise<void> }> {
    // With `force-unlink`, a refused unlink needs no other call (the forced delete empties the entity):
    // each item unlinks its asset in `deleteItems`, first thing, and goes on once its entities are ready
    // again, without waiting for the chunk's slowest unlink. Chunks that ran before this change unlinked
    // in a phase of their own.
    this.unlinksInItems =
      this.options.lastEntityAsset === 'force-unlink' &&
      this.book.has('unlink-entity') &&
      patched('items-unlink-in-their-flow');
    // Unlinks and entity deletes re-plan each other (a refused unlink may become an entity delete, an
    // entity that gained foreign assets becomes unlinks): a few rounds settle every entity.
    for (let round = 0; round < 3 && !this.unlinksInItems; round++) {
      if (this.book.has('unlink-entity')) yield { phase: 'unlink', run: () => this.unlink() };
      if (this.book.has('delete-entity'))
        yield { phase: 'delete-entities', run: () => this.deleteEntities() };
      if (!this.book.has('unlink-entity') && !this.book.has('delete-entity')) break;
    }
    // Each item through TwelveLabs, Uplynk and the DAM in one activity, going on to its next system once its
    // own calls are answered. Chunks that ran before this change walked the three as phases in series.
    if (patched('items-flow-through-systems')) {
      if (ITEM_STEPS.some((step) => this.book.has(step)))
        yield { phase: 'delete-items', run: () => this.deleteItems() };
      return;
    }
    if (this.book.has('delete-asset') || this.book.has('delete-indexed-asset'))
      yield { phase: 'delete-assets', run: () => this.deleteAssets() };
    if (this.book.has('remove-from-library'))
      yield { phase: 'remove-from-libraries', run: () => this.removeFromLibraries() };
    if (this.book.has('delete-dam-asset')) yield { phase: 'delete-dam', run: () => this.deleteDam() };
  }

  /** Runs one activity; if it fails for good, every call it carried fails its item. */
  private async phase(
    steps: readonly CallStep[],
    run: (no: number) => Promise<PhaseAnswer>,
    byItem = false,
  ): Promise<PhaseAnswer> {
    let answer: PhaseAnswer;
    const scope = new CancellationScope();
    const no = ++this.started;
    this.lender?.started(no);
    this.running.scope = scope;
    this.running.steps = steps;
    this.running.byItem = byItem;
    this.running.no = no;
    try {
      answer = await scope.run(() => run(no));
    } catch (error) {
      if (isCancellation(error)) {
        // Cancelled before its activity ran again (between retries): its last heartbeat has what it did.
        answer = { ...answerFromDetails(error), stopped: true };
        this.book.record(answer, []);
        this.book.stopAll(this.stopReason() ?? 'stopped');
        return answer;
      }
      const detail = errorMessage(error);
      const at = new Date().toISOString();
      // What the activity did before it failed for good, when the failure carries it (runs before this
      // change dropped it): its changes stay in the record, and each item fails at its first call left.
      const done = patched('failed-phase-keeps-its-record') ? answerOfFailure(error) : undefined;
      const answered = new Set((done?.entries ?? []).map((e) => `${e.step} ${e.target}`));
      answer = {
        entries: done?.entries ?? [],
        failures: [
          ...(done?.failures ?? []),
          ...steps
            .flatMap((s) => this.book.pending(s))
            .filter((c) => !answered.has(`${c.step} ${c.target}`))
            .map((c) => ({ item: c.item, system: c.system, step: c.step, detail, at })),
        ],
      };
    } finally {
      this.running.scope = undefined;
      this.running.steps = undefined;
      this.running.byItem = undefined;
      // Its items are in the book once it answered: its tally would count them twice.
      this.running.tally = undefined;
    }
    // A phase that stopped made only the calls it answered: the rest of its items stop here.
    this.book.record(answer, answer.stopped ? [] : steps);
    if (answer.stopped) this.book.stopAll(this.stopReason() ?? 'stopped');
    return answer;
  }

  private async unlink(): Promise<void> {
    const pending = this.book.pending('unlink-entity');
    const unlinks = [...groupBy(pending, (c) => c.entity!.id).values()].map((group) => ({
      entity: group[0]!.entity!,
      targets: group.map(target),
    }));
    // Each item waits for its own entities in `deleteItems`, so that no item waits for the slowest entity
    // of its chunk. Chunks that unlinked before this change waited for every entity here.
    this.itemsWait ||= patched('items-wait-for-their-own-entities');
    const wait = this.itemsWait ? { wait: false } : {};
    const answer = await this.phase(['unlink-entity'], (no) =>
      calls.unlinkEntities.executeWithOptions(
        phaseOptions(
          `unlink assets from ${unlinks.length} entities${this.itemsWait ? '' : ' and wait until ready'}`,
          pending.length,
        ),
        [{ unlinks, ...wait, ...this.tailOf(no) }],
      ),
    );
    for (const group of groupRefusals(answer.refused)) {
      const replan = replanRefusedUnlink(group.targets, group.entity, this.options.lastEntityAsset);
      // An approved run makes no entity delete its approved steps do not hold: the items are skipped.
      // Chunks that ran before this change deleted the entity. When every refused item's approved steps
      // hold the entity's delete (the plan empties it, across chunks), the delete goes ahead: two chunks
      // that read it at the same moment each unlinked their own asset, and the second unlink was refused.
      // Runs before that change skipped those items too.
      const adds = replan.calls.some((c) => c.step === 'delete-entity');
      const approved = this.approved;
      const held =
        approved !== undefined && group.targets.every((t) => approved.has(`${t.item} ${group.entity.id}`));
      this.book.apply(
        this.approved &&
          adds &&
          !(held && patched('approved-entity-delete-its-items-hold')) &&
          patched('approved-run-adds-no-entity-delete')
          ? replanRefusedUnlinkApproved(group.targets, group.entity, this.options.lastEntityAsset)
          : replan,
      );
    }
  }

  private async deleteEntities(): Promise<void> {
    const pending = this.book.pending('delete-entity');
    const deletes = [...groupBy(pending, (c) => c.entity!.id).values()].map((group) => ({
      entity: group[0]!.entity!,
      targets: group.map(target),
      planAssetIds: this.entityDeleteAssets(group),
    }));
    const answer = await this.phase(['delete-entity'], () =>
      calls.deleteEntities.executeWithOptions(
        phaseOptions(`delete ${deletes.length} entities`, deletes.length),
        [{ deletes }],
      ),
    );
    for (const group of groupRefusals(answer.refused)) {
      this.book.apply(
        replanForeignEntity(group.targets, group.entity, group.foreign, this.chunkOwnsEntityDeletes),
      );
    }
  }

  /**
   * The assets an entity may hold, read again just before its delete, for the delete to go ahead; any
   * other asset in it refuses the delete, and this chunk's assets are unlinked from it instead.
   *
   * Only this chunk's live items' assets that discovery saw in the entity: another chunk's asset, whether
   * its item is still to come or failed there, keeps the entity, so that an item that failed is never
   * touched again (its asset stays linked), and the last chunk to reach the entity deletes it. Chunks
   * planned before this change counted the whole plan's assets, less this chunk's items no longer live.
   */
  private entityDeleteAssets(group: readonly PlannedCall[]): string[] {
    const seen = this.entities.get(group[0]!.entity!.id);
    const mine = new Set(this.items.flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : [])));
    const notLive = new Set(
      this.items.filter((i) => i.twelvelabs && !this.book.live(i.id)).map((i) => i.twelvelabs!.assetId),
    );
    if (!this.chunkOwnsEntityDeletes) {
      const planned = seen?.planAssetIds ?? seen?.assetIds.filter((id) => mine.has(id)) ?? [];
      return planned.filter((id) => !notLive.has(id));
    }
    const inEntity = new Set([...(seen?.assetIds ?? []), ...group.map((c) => c.assetId!)]);
    return [...mine].filter((id) => inEntity.has(id) && !notLive.has(id)).sort();
  }

  private async deleteItems(): Promise<void> {
    const byItem = new Map<string, ItemDeletion>();
    const of = (item: string): ItemDeletion => {
      let deletion = byItem.get(item);
      if (!deletion) byItem.set(item, (deletion = { item, libraries: [] }));
      return deletion;
    };
    const known = this.knownIndexedAssets();
    const entities = this.unlinkedFrom();
    for (const c of this.book.pending('delete-asset')) {
      const waits = entities.get(c.item);
      of(c.item).twelvelabs = {
        assetId: c.assetId!,
        known: known(c.item),
        ...(waits ? { entities: waits } : {}),
      };
    }
    if (this.unlinksInItems) {
      for (const c of this.book.pending('unlink-entity')) {
        const twelvelabs = of(c.item).twelvelabs;
        // Every live item with an unlink has its forced delete too.
        if (twelvelabs) (twelvelabs.unlinks ??= []).push(c.entity!);
      }
    }
    for (const c of this.book.pending('remove-from-library')) {
      of(c.item).libraries.push({ libraryId: c.libraryId!, assetId: c.assetId! });
    }
    for (const c of this.book.pending('delete-dam-asset')) of(c.item).dam = { assetId: c.assetId! };
    const items = [...byItem.values()];
    const answer = await this.phase(
      this.unlinksInItems ? ['unlink-entity', ...ITEM_STEPS] : ITEM_STEPS,
      (no) => {
        const tally = this.tallyFor(no);
        return calls.deleteItems.executeWithOptions(
          phaseOptions(
            `${this.unlinksInItems ? 'unlink from their entities and ' : ''}delete ${items.length} items in TwelveLabs, then Uplynk, then EnterMediaDB, each item on its own`,
            items.length,
          ),
          [{ items, ...(tally ? { tally } : {}), ...this.tailOf(no) }],
        );
      },
      true,
    );
    // An unlink that would have emptied its entity was left to the forced delete: the planner notes it.
    for (const group of groupRefusals(answer.refused)) {
      this.book.apply(replanRefusedUnlink(group.targets, group.entity, this.options.lastEntityAsset));
    }
  }

  /** Asks the phase's activity to tell when most of its units are done, if the chunk lends its place. */
  private tailOf(no: number): { tail?: { phase: number } } {
    return this.lender ? { tail: { phase: no } } : {};
  }

  /** Each item's entities it was unlinked from (and when), when their waits were left to the items. */
  private unlinkedFrom(): Map<string, Array<EntityRef & { unlinkedAt: string }>> {
    const out = new Map<string, Array<EntityRef & { unlinkedAt: string }>>();
    if (!this.itemsWait) return out;
    for (const e of this.book.ledger) {
      if (e.step !== 'unlink-entity' || e.answer !== 'unlinked') continue;
      // Every unlink is of an entity discovery saw (re-plans keep the entity).
      const entity = this.entities.get(e.target.split('/')[0]!);
      if (!entity) continue;
      const list = out.get(e.item) ?? [];
      if (!list.some((x) => x.id === entity.id)) {
        list.push({ id: entity.id, collectionId: entity.collectionId, unlinkedAt: e.at });
      }
      out.set(e.item, list);
    }
    return out;
  }

  /** Each item's indexed assets still to delete, as discovery saw them (the activity looks again). */
  private knownIndexedAssets(): (item: string) => Array<{ id: string; indexId: string }> {
    const indexed = groupBy(this.book.pending('delete-indexed-asset'), (c) => c.item);
    return (item) =>
      (indexed.get(item) ?? []).map((ia) => ({ id: ia.indexedAssetId!, indexId: ia.indexId! }));
  }

  private async deleteAssets(): Promise<void> {
    const known = this.knownIndexedAssets();
    const assets = this.book.pending('delete-asset').map((c) => ({ ...target(c), known: known(c.item) }));
    await this.phase(['delete-indexed-asset', 'delete-asset'], () =>
      calls.deleteAssets.executeWithOptions(
        phaseOptions(`delete the indexed assets of ${assets.length} assets, then the assets`, assets.length),
        [{ assets }],
      ),
    );
  }

  private async removeFromLibraries(): Promise<void> {
    const pending = this.book.pending('remove-from-library');
    const removals = [...groupBy(pending, (c) => c.libraryId!)].map(([libraryId, group]) => ({
      libraryId,
      targets: group.map(target),
    }));
    await this.phase(['remove-from-library'], () =>
      calls.removeFromLibraries.executeWithOptions(
        phaseOptions(
          `remove ${pending.length} assets from ${removals.length} Uplynk libraries`,
          pending.length,
        ),
        [{ removals }],
      ),
    );
  }

  private async deleteDam(): Promise<void> {
    const assets = this.book.pending('delete-dam-asset').map(target);
    await this.phase(['delete-dam-asset'], () =>
      calls.deleteDamAssets.executeWithOptions(
        phaseOptions(`delete ${assets.length} EnterMediaDB assets`, assets.length),
        [{ assets }],
      ),
    );
  }
}

/**
 * Tells the parent (`chunkWaitingSignal`) when the chunk starts or stops waiting on the last units of its
 * running phase: from its activity's `phaseTailSignal` to the start of the next phase. One signal in
 * flight at a time, in order; a change that reverts before it is sent is not sent.
 */
class Lender {
  private phase: number | undefined;
  private waiting = false;
  private told = false;
  private stopped = false;
  private readonly telling: Promise<void>;

  constructor(private readonly tell: (waiting: boolean) => Promise<void>) {
    this.telling = this.loop();
  }

  /** The phase of this number starts: the chunk is busy until its activity says it is mostly done. */
  started(no: number): void {
    this.phase = no;
    this.waiting = false;
  }

  /** The activity of the phase of this number has most of its units done. */
  tail(no: number): void {
    if (no === this.phase) this.waiting = true;
  }

  /** Tells nothing more; resolves once the signal in flight, if any, was sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.telling;
  }

  private async loop(): Promise<void> {
    for (;;) {
      await condition(() => this.stopped || this.waiting !== this.told);
      if (this.stopped) return;
      this.told = this.waiting;
      await this.tell(this.told);
    }
  }
}

/** A phase answer (or a heartbeat's cursor) that a failure carries; details may be of any shape. */
function answerIn(carried: unknown): PhaseAnswer | undefined {
  const answer = carried as Partial<PhaseAnswer> | null | undefined;
  if (!Array.isArray(answer?.entries)) return undefined;
  return {
    entries: answer.entries,
    failures: Array.isArray(answer.failures) ? answer.failures : [],
    ...(Array.isArray(answer.refused) ? { refused: answer.refused } : {}),
  };
}

/** The entries and failures in the last heartbeat of a cancelled phase activity, if it had any. */
function answerFromDetails(error: unknown): PhaseAnswer {
  let current: unknown = error;
  while (current instanceof Error && !(current instanceof CancelledFailure) && current.cause)
    current = current.cause;
  const details = current instanceof CancelledFailure ? current.details[0] : undefined;
  return answerIn(details) ?? { entries: [], failures: [] };
}

/**
 * The answer a phase activity gave before it failed for good: in its failure's details when it was not
 * retried, or in its last heartbeat when its time ran out.
 */
function answerOfFailure(error: unknown): PhaseAnswer | undefined {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const found =
      current instanceof ApplicationFailure
        ? answerIn(
            current.details?.find(
              (d): d is { phaseAnswer: unknown } => typeof d === 'object' && d !== null && 'phaseAnswer' in d,
            )?.phaseAnswer,
          )
        : current instanceof TimeoutFailure
          ? answerIn(current.lastHeartbeatDetails)
          : undefined;
    if (found) return found;
  }
  return undefined;
}

/** Refusals grouped per entity, each call once (a resumed attempt may tell the same refusal twice). */
function groupRefusals(refused: readonly Refusal[] | undefined) {
  const out = new Map<
    string,
    { entity: Refusal['entity']; targets: Array<{ item: string; assetId: string }>; foreign: string[] }
  >();
  const once = new Map((refused ?? []).map((r) => [`${r.item} ${r.step} ${r.target}`, r]));
  for (const r of once.values()) {
    const g = out.get(r.entity.id) ?? { entity: r.entity, targets: [], foreign: r.foreign ?? [] };
    g.targets.push({ item: r.item, assetId: r.assetId });
    out.set(r.entity.id, g);
  }
  return [...out.values()];
}
