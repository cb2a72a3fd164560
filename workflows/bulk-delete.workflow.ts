import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities, PlanSummary } from '../activities/contract.js';
import {
  BulkDeleteFailed,
  BulkDeleteItems,
  BulkDeletePlan,
  BulkDeleteStatus,
  Plan,
  PlanAllowingSharedAssets,
  SYSTEMS,
  addSummary,
  combineDigests,
  emptySummary,
  rowsOf,
  runTally,
  thresholdBreach,
  windowSize,
  type PlanItem,
  type ReportSummary,
  type SystemName,
  type Tally,
} from '../plan/engine.js';
import { bulkDeleteChunkWorkflow } from './chunk.workflow.js';
import {
  approveUpdate,
  chunkTallySignal,
  chunkWaitingSignal,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_WINDOW,
  MAX_CHUNK_SIZE,
  MAX_WINDOW,
  progressQuery,
  stopChunkSignal,
  tallyAckSignal,
  type BulkDeleteInput,
  type BulkDeleteResult,
  type ChunkInput,
  type ChunkResult,
  type PhaseCount,
  type Progress,
} from './definitions.js';

const planReads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

/** Archiving the report at the end: bounded, a failure is logged and never fails the run. */
const archiving = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
});

/** History length at which a run continues as new, well below Temporal's 10,240-event warning. */
const HISTORY_LIMIT = 6000;
/** How long a run that needs approval waits for it. */
const DEFAULT_APPROVAL_TIMEOUT_MS = 7 * 24 * 3600 * 1000;

type Pass = 'discover' | 'execute' | 'skip' | 'done';
type ChunkMode = ChunkInput['mode'];

/** What a run hands to the next one when it continues as new. */
export interface CarriedState {
  pass: Pass;
  nextChunk: number;
  chunkDigests: string[];
  digest?: string;
  approved: boolean;
  stopReason?: string;
  cancelled: boolean;
  summary: ReportSummary;
  systems: Record<SystemName, PhaseCount>;
  chunkWorkflowIds: string[];
  /** Chunks of the current pass that have finished. */
  chunksDone: number;
  /** Items of the first chunk; the others have `chunkSize`. Absent in runs before it could differ. */
  firstChunkSize?: number;
}

/**
 * The first chunk's size in runs before its items flowed through their systems one by one: it shows the
 * failure rate while the other chunks of the window wait, so it is small and shows it soon. Never below
 * `failureThresholdMinItems`, so that it can show it.
 */
const FIRST_CHUNK_ITEMS = 50;

/**
 * The first chunk's size: `failureThresholdMinItems` items, the fewest that show the failure rate. Its
 * items flow through their systems one by one, so the chunk ends with its slowest item: the fewer items,
 * the sooner the other chunks of the window go on (bench/engine.md, "Each item through its systems").
 * Runs started before this change kept 50.
 */
function firstChunkItems(chunkSize: number, minItems: number): number {
  if (patched('first-chunk-of-min-items')) return Math.min(chunkSize, minItems);
  return Math.min(chunkSize, Math.max(FIRST_CHUNK_ITEMS, minItems));
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}

function countSystems(items: readonly PlanItem[]): Record<SystemName, number> {
  return {
    twelvelabs: items.filter((i) => i.twelvelabs).length,
    uplynk: items.filter((i) => i.uplynk).length,
    entermedia: items.filter((i) => i.entermedia).length,
  };
}

/** The plan: inline (validated again here, any client may start a run) or by reference. */
async function loadPlan(input: BulkDeleteInput): Promise<{ summary: PlanSummary; items?: PlanItem[] }> {
  if (input.plan && !input.planRef) {
    // Two items sharing an asset are refused (the command line refuses them too); runs started before
    // are replayed as they were checked.
    const schema = patched('plan-refuses-shared-assets') ? Plan : PlanAllowingSharedAssets;
    const parsed = schema.safeParse(input.plan);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `invalid plan: ${z.prettifyError(parsed.error)}`,
        'InvalidPlanError',
      );
    }
    const { name, items, options } = parsed.data;
    return { summary: { name, items: items.length, options, systems: countSystems(items) }, items };
  }
  if (input.planRef && !input.plan) {
    const summary = await planReads.readPlanSummary({ ref: input.planRef });
    if (summary.items !== input.planRef.items || summary.name !== input.planRef.name) {
      throw ApplicationFailure.nonRetryable(
        `plan ${input.planRef.uri} holds ${summary.items} items named "${summary.name}", the reference says ${input.planRef.items} named "${input.planRef.name}"`,
        'InvalidPlanError',
      );
    }
    return { summary };
  }
  throw ApplicationFailure.nonRetryable(
    'the input needs exactly one of plan and planRef',
    'InvalidPlanError',
  );
}

/** Adds a finished chunk's items to the run's counts per system. */
function foldSystems(state: CarriedState, result: ChunkResult): void {
  for (const row of rowsOf(result.items, result.ledger)) {
    const sys = state.systems[row.system];
    if (row.outcome === 'failed') sys.failed++;
    else sys.done++;
    sys.remaining = Math.max(0, sys.remaining - 1);
  }
}

/**
 * Walks a deletion plan: discovers every reference, stops with the steps in a dry run, waits (bounded)
 * for an approval quoting the steps' digest when asked, then deletes chunk by chunk as child workflows in
 * a sliding window, and ends with a summary; the items and the ledger live in the chunks' results.
 */
export async function bulkDeleteWorkflow(
  input: BulkDeleteInput,
  carried?: CarriedState,
): Promise<BulkDeleteResult> {
  const { workflowId } = workflowInfo();
  // How long the run waited for a worker: the first task's time (the workflow's clock) less the time the
  // execution started (`runStartTime` is the first task's time too, so it cannot tell).
  const queuedMs = Date.now() - workflowInfo().startTime.getTime();
  const { summary: planSummary, items: inlineItems } = await loadPlan(input);
  const { options } = planSummary;
  if (planSummary.items > options.maxItems) {
    throw ApplicationFailure.nonRetryable(
      `the plan has ${planSummary.items} items, more than options.maxItems (${options.maxItems}): nothing was deleted`,
      'PlanTooLargeError',
    );
  }
  const chunkSize = Math.max(1, Math.min(input.chunkSize ?? DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE));
  const window = Math.max(1, Math.min(input.window ?? DEFAULT_WINDOW, MAX_WINDOW));
  const dryRun = input.dryRun ?? false;
  const inlineAssetIds = (inlineItems ?? []).flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : []));

  const state: CarriedState = carried ?? {
    pass: dryRun || input.requireApproval ? 'discover' : 'execute',
    nextChunk: 0,
    chunkDigests: [],
    approved: false,
    cancelled: false,
    summary: emptySummary(),
    systems: Object.fromEntries(
      SYSTEMS.map((s) => [s, { done: 0, failed: 0, remaining: planSummary.systems[s] }]),
    ) as Record<SystemName, PhaseCount>,
    chunkWorkflowIds: [],
    chunksDone: 0,
    // Runs before this change split the plan in equal chunks: a run carried from one keeps doing so.
    ...(window > 1 && planSummary.items > chunkSize && patched('small-first-chunk')
      ? { firstChunkSize: firstChunkItems(chunkSize, options.failureThresholdMinItems) }
      : {}),
  };
  const firstChunkSize = state.firstChunkSize ?? chunkSize;
  /** Where a chunk's items start in the plan, and how many it takes at most. */
  const bounds = (chunk: number): { offset: number; limit: number } =>
    chunk === 0
      ? { offset: 0, limit: firstChunkSize }
      : { offset: firstChunkSize + (chunk - 1) * chunkSize, limit: chunkSize };
  const chunkCount =
    planSummary.items === 0 ? 0 : 1 + Math.ceil(Math.max(0, planSummary.items - firstChunkSize) / chunkSize);
  if (!carried && input.startWithinMs !== undefined && queuedMs > input.startWithinMs) {
    state.pass = 'skip';
    state.stopReason = `no worker picked the run up within ${Math.round(input.startWithinMs / 1000)} s (it waited ${Math.round(queuedMs / 1000)} s): nothing was deleted; start it again`;
  }
  /** Running chunks: their last tally, and whether they wait on their phase's last units (lending their place). */
  const running = new Map<number, { id: string; tally: Tally; waiting?: boolean }>();
  let status: Progress['status'] = state.pass === 'discover' ? 'discovering' : 'running';

  const progress = (): Progress => {
    return {
      plan: planSummary.name,
      status,
      ...(dryRun ? { dryRun } : {}),
      phase:
        state.pass === 'done'
          ? 'done'
          : status === 'awaiting-approval'
            ? 'approval'
            : state.pass === 'discover'
              ? 'discover'
              : 'unlink',
      items: planSummary.items,
      // Finished chunks only: the client adds each running chunk's own progress (`chunkProgressQuery`).
      itemsDone: state.summary.items,
      itemsFailed: state.summary.failed,
      systems: state.systems,
      ...(state.digest ? { digest: state.digest } : {}),
      chunks: {
        total: chunkCount,
        done: state.chunksDone,
        running: running.size,
        waiting: [...running.values()].filter((r) => r.waiting).length,
      },
      runningChunks: [...running.values()].map((r) => r.id),
    };
  };
  setHandler(progressQuery, progress);
  setHandler(
    approveUpdate,
    ({ digest, recheck }) => {
      state.approved = true;
      // A scheduled clean-up's bulk delete started before its chunks read the selection again (it carries
      // no `recheck`) and approved since: its chunks read it again all the same, as the approver's command
      // line sends it. Runs approved before this change deleted what the selection saw.
      if (
        recheck &&
        !input.recheck &&
        workflowInfo().parent &&
        patched('approval-brings-the-selection-to-read-again')
      ) {
        input.recheck = recheck;
      }
      return { approved: true as const, digest };
    },
    {
      validator: ({ digest }) => {
        if (!input.requireApproval) throw new Error('this run does not wait for approval');
        if (state.approved) throw new Error('this run is already approved');
        if (state.digest === undefined)
          throw new Error('discovery is not finished: there is no digest to approve yet');
        if (digest !== state.digest) {
          throw new Error(
            `digest ${digest} does not match the discovered steps: not approved; review them again (plan, report) and quote the digest shown there`,
          );
        }
      },
    },
  );

  const stopRunning = async (): Promise<void> => {
    for (const { id } of running.values()) {
      await getExternalWorkflowHandle(id)
        .signal(stopChunkSignal, { reason: state.stopReason ?? 'stopped' })
        .catch(() => undefined);
    }
  };
  /** Gated chunks (started beside the first one) waiting for the window to open: chunk → their ask. */
  const gated = new Map<number, number>();
  const windowOpen = (): boolean =>
    windowSize({
      window,
      chunksDone: state.chunksDone,
      settled: runTally(
        state.summary,
        [...running.values()].map((r) => r.tally),
      ).settled,
      failureThresholdMinItems: options.failureThresholdMinItems,
    }) === window;
  /** Answers a chunk's tally (or its gated ask): counted, and whether the run must stop. */
  const ack = async (chunk: number, seq: number): Promise<void> => {
    const id = running.get(chunk)?.id ?? `${workflowId}/chunk-${pad(chunk)}`;
    await getExternalWorkflowHandle(id)
      .signal(tallyAckSignal, { seq, ...(state.stopReason ? { stop: state.stopReason } : {}) })
      .catch(() => undefined);
  };
  /** Answers the gated chunks once the first chunk has shown the failure rate, or the run stops. */
  const releaseGates = async (): Promise<void> => {
    if (gated.size === 0 || (!windowOpen() && state.stopReason === undefined)) return;
    const asks = [...gated];
    gated.clear();
    for (const [chunk, seq] of asks) await ack(chunk, seq);
  };
  setHandler(chunkWaitingSignal, ({ chunk, waiting }) => {
    const entry = running.get(chunk);
    if (entry) entry.waiting = waiting;
  });
  // A chunk tells its failures before its next irreversible phase and waits for this verdict.
  setHandler(chunkTallySignal, async ({ chunk, seq, settled, failed, gated: asks }) => {
    if (asks) {
      gated.set(chunk, seq);
      await releaseGates();
      return;
    }
    const entry = running.get(chunk);
    if (entry) entry.tally = { settled, failed };
    if (state.pass === 'execute' && !state.stopReason) {
      const breach = thresholdBreach(
        runTally(
          state.summary,
          [...running.values()].map((r) => r.tally),
        ),
        options,
      );
      if (breach) state.stopReason = breach;
    }
    await ack(chunk, seq);
    await releaseGates();
  });

  const publish = (): void => {
    upsertSearchAttributes([
      { key: BulkDeletePlan, value: planSummary.name },
      { key: BulkDeleteStatus, value: status },
      { key: BulkDeleteItems, value: planSummary.items },
      { key: BulkDeleteFailed, value: state.summary.failed },
    ]);
    const s = state.summary;
    setCurrentDetails(
      `**${planSummary.name}**: ${status}\n\n` +
        `${s.items}/${planSummary.items} items settled: ${s.deleted} deleted, ${s.alreadyAbsent} already absent, ${s.partial} partial, ${s.skipped} skipped, ${s.failed} failed` +
        (state.stopReason ? `\n\nstopped: ${state.stopReason}` : '') +
        (state.digest ? `\n\ndigest \`${state.digest}\`` : ''),
    );
  };
  if (!carried) upsertMemo({ plan: planSummary.name, items: planSummary.items, dryRun, chunkSize });
  publish();

  // Cancellation: stop starting chunks, ask the running ones to stop after their calls in flight.
  CancellationScope.current()
    .cancelRequested.then(undefined, () => {
      state.cancelled = true;
      state.stopReason ??= 'cancelled by request';
    })
    .catch(() => undefined);

  const chunkInput = (chunk: number, mode: ChunkMode): ChunkInput => {
    const { offset, limit } = bounds(chunk);
    return {
      parentWorkflowId: workflowId,
      chunk,
      mode,
      offset,
      limit,
      options,
      ...(inlineItems
        ? {
            items: inlineItems.slice(offset, offset + limit),
            ...(chunkCount > 1 && mode !== 'skip' ? { planAssetIds: inlineAssetIds } : {}),
          }
        : { planRef: input.planRef }),
      ...(mode === 'execute' && state.approved && state.chunkDigests[chunk] !== undefined
        ? { expectedDigest: state.chunkDigests[chunk] }
        : {}),
      ...(mode === 'skip' ? { reason: `not started: ${state.stopReason ?? 'the run stopped'}` } : {}),
      ...(mode === 'execute' && input.recheck ? { recheck: input.recheck } : {}),
    };
  };

  const startChunk = async (chunk: number, mode: ChunkMode, reason?: string, gated = false) => {
    const id = `${workflowId}/${mode === 'discover' || mode === 'observe' ? mode : 'chunk'}-${pad(chunk)}`;
    const { offset, limit } = bounds(chunk);
    const first = offset + 1;
    const last = Math.min(offset + limit, planSummary.items);
    const handle = await CancellationScope.nonCancellable(() =>
      startChild(bulkDeleteChunkWorkflow, {
        workflowId: id,
        args: [{ ...chunkInput(chunk, mode), ...(reason ? { reason } : {}), ...(gated ? { gated } : {}) }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `${planSummary.name}: ${mode} items ${first}-${last}`,
      }),
    );
    return { id, handle };
  };

  const fold = (chunk: number, mode: Exclude<Pass, 'done'>, id: string, result: ChunkResult): void => {
    state.chunkWorkflowIds[chunk] = id;
    if (mode === 'discover') {
      state.chunkDigests[chunk] = result.digest ?? '';
      return;
    }
    addSummary(state.summary, result.summary);
    foldSystems(state, result);
    if (mode === 'execute' && !state.stopReason) {
      // The chunk's items are in the summary now, not in its tally as well. Runs before this change
      // counted them twice here: a 5-item plan that failed 4 read as 8 of 10 and stopped, and a chunk
      // that failed more than the others weighed double.
      const once = patched('threshold-counts-a-finished-chunk-once');
      state.stopReason = thresholdBreach(
        runTally(
          state.summary,
          [...running.entries()].filter(([c]) => !once || c !== chunk).map(([, r]) => r.tally),
        ),
        options,
      );
    }
  };

  /**
   * Runs the chunks of a pass in a sliding window. Answers `continue` when the history is full and the
   * run must continue as new before starting more chunks, `stopped` when a stop left chunks unstarted.
   */
  const runPass = async (mode: Exclude<Pass, 'done'>): Promise<'done' | 'stopped' | 'continue'> => {
    const completions: Array<{ chunk: number; id: string; result?: ChunkResult; error?: unknown }> = [];
    let stopSent = false;
    const mustStop = (): boolean => mode !== 'skip' && state.stopReason !== undefined;
    // Chunks that wait on the last units of their phase lend their place in the window to new ones, up
    // to twice the window in all. Runs before this change kept the window to chunks started.
    const lends = patched('waiting-chunks-lend-their-place');
    // The first chunk (`failureThresholdMinItems` items) runs beside the window, not in it: while it shows
    // the failure rate, a whole window of chunks discovers beside it, rather than the window less one
    // whose next chunk could start only once it ended. Runs before this change counted it in the window.
    const beside = patched('first-chunk-beside-the-window') ? 1 : 0;
    const busy = (): number => [...running.values()].filter((r) => !r.waiting).length;
    const canLend = (limit: number): boolean =>
      state.nextChunk < chunkCount &&
      running.size < 2 * limit &&
      busy() < limit &&
      !workflowInfo().continueAsNewSuggested &&
      workflowInfo().historyLength <= (input.maxHistoryEvents ?? HISTORY_LIMIT);
    for (;;) {
      if (mustStop() && !stopSent && running.size > 0) {
        stopSent = true;
        await CancellationScope.nonCancellable(stopRunning);
      }
      const historyFull =
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > (input.maxHistoryEvents ?? HISTORY_LIMIT);
      const open = mode !== 'execute' || windowOpen();
      // Until the first chunk has shown the failure rate, the others of the window may discover (reads
      // only) beside it, gated before their first irreversible call. Runs before this change did not.
      const gate = !open && running.size < window + beside && patched('discover-beside-first-chunk');
      const limit = open ? window : 1;
      const lend = lends && open;
      const room = lend ? canLend(limit) : gate || running.size < limit;
      if (!mustStop() && !historyFull && state.nextChunk < chunkCount && room) {
        const chunk = state.nextChunk++;
        const { id, handle } = await startChunk(chunk, mode, undefined, gate && running.size > 0);
        running.set(chunk, { id, tally: { settled: 0, failed: 0 } });
        handle.result().then(
          (result) => completions.push({ chunk, id, result }),
          (error: unknown) => completions.push({ chunk, id, error }),
        );
        continue;
      }
      if (running.size === 0) {
        if (state.nextChunk >= chunkCount) return 'done';
        return mustStop() ? 'stopped' : 'continue';
      }
      await CancellationScope.nonCancellable(() =>
        condition(
          () =>
            completions.length > 0 || (mustStop() && !stopSent) || (lend && !mustStop() && canLend(limit)),
        ),
      );
      // Woken only because a chunk lent its place: start the next chunk.
      if (completions.length === 0 && !(mustStop() && !stopSent)) continue;
      while (completions.length > 0) {
        const { chunk, id, result, error } = completions.shift()!;
        if (result) fold(chunk, mode, id, result);
        else await observeLost(chunk, mode, id, error);
        running.delete(chunk);
        gated.delete(chunk);
        state.chunksDone++;
      }
      await releaseGates();
      publish();
    }
  };

  /** A chunk whose record was lost: read its items' state in every system and report what is seen. */
  const observeLost = async (chunk: number, mode: Exclude<Pass, 'done'>, id: string, error: unknown) => {
    if (mode === 'discover') {
      state.stopReason ??= `discovery of chunk ${chunk} failed: ${error instanceof Error ? error.message : String(error)}`;
      return;
    }
    const why = `chunk ${id} ended without its record (${error instanceof Error ? error.message : String(error)})`;
    const { id: observeId, handle } = await startChunk(chunk, 'observe', why);
    const result = await CancellationScope.nonCancellable(() => handle.result());
    fold(chunk, mode, observeId, result);
  };

  /** Continues as new when a pass could not finish in this run's history. */
  const continueIfNeeded = async (outcome: 'done' | 'stopped' | 'continue'): Promise<void> => {
    if (outcome !== 'continue') return;
    await condition(allHandlersFinished);
    await continueAsNew<typeof bulkDeleteWorkflow>(input, state);
  };

  const toSkipPass = (restart: boolean): void => {
    state.pass = 'skip';
    if (restart) {
      // Nothing was executed: every chunk reports its items as not started.
      state.nextChunk = 0;
      state.chunksDone = 0;
      state.chunkWorkflowIds = [];
    }
  };

  if (state.pass === 'discover') {
    await continueIfNeeded(await runPass('discover'));
    if (state.stopReason) {
      toSkipPass(true);
    } else {
      state.digest = combineDigests(state.chunkDigests);
      if (dryRun) {
        state.pass = 'done';
      } else {
        status = 'awaiting-approval';
        publish();
        const timeoutMs = input.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
        const answered = await CancellationScope.nonCancellable(() =>
          condition(() => state.approved || state.cancelled, timeoutMs),
        );
        if (state.approved) {
          state.pass = 'execute';
          state.nextChunk = 0;
          state.chunksDone = 0;
          state.chunkWorkflowIds = [];
        } else {
          if (!answered) {
            state.stopReason = `not approved within ${Math.round(timeoutMs / 1000)} s (approvalTimeout): nothing was deleted`;
          }
          toSkipPass(true);
        }
      }
    }
  }
  if (state.pass === 'execute') {
    status = 'running';
    publish();
    await continueIfNeeded(await runPass('execute'));
    if (state.stopReason) toSkipPass(false);
    else state.pass = 'done';
  }
  if (state.pass === 'skip') {
    status = 'stopping';
    publish();
    await CancellationScope.nonCancellable(async () => continueIfNeeded(await runPass('skip')));
    state.pass = 'done';
  }
  status = state.cancelled ? 'cancelled' : state.stopReason ? 'failed' : 'completed';
  return await end(state, { workflowId, plan: planSummary.name, dryRun, items: planSummary.items });
}

/**
 * Ends the run: Completed when it walked the whole plan (some items may have failed below the
 * threshold), Failed when it stopped early (threshold, start deadline, approval timeout), Canceled when
 * asked to. The summary is in the memo, the result or the failure's details. Before it ends, the report
 * and the receipt are archived (`archiveRun`); histories recorded before that step replay without it.
 */
async function end(
  state: CarriedState,
  run: { workflowId: string; plan: string; dryRun: boolean; items: number },
): Promise<BulkDeleteResult> {
  const status = state.cancelled ? 'cancelled' : state.stopReason ? 'failed' : 'completed';
  const result: BulkDeleteResult = {
    workflowId: run.workflowId,
    plan: run.plan,
    status,
    ...(state.stopReason ? { reason: state.stopReason } : {}),
    dryRun: run.dryRun,
    ...(state.digest ? { digest: state.digest } : {}),
    summary: state.summary,
    chunkWorkflowIds: state.chunkWorkflowIds,
  };
  upsertSearchAttributes([
    { key: BulkDeleteStatus, value: status },
    { key: BulkDeleteFailed, value: state.summary.failed },
  ]);
  const s = state.summary;
  setCurrentDetails(
    `**${run.plan}**: ${status}\n\n${s.items}/${run.items} items: ${s.deleted} deleted, ${s.alreadyAbsent} already absent, ${s.partial} partial, ${s.skipped} skipped, ${s.failed} failed` +
      (state.stopReason ? `\n\n${state.stopReason}` : ''),
  );
  const memo = {
    ...result,
    chunkWorkflowIds: undefined,
    chunks: result.chunkWorkflowIds.length,
    // Chunks whose record was lost and whose items were read afterwards (`<id>/observe-NNNNN`).
    observedChunks: result.chunkWorkflowIds.flatMap((id, i) => (id.includes('/observe-') ? [i] : [])),
  };
  upsertMemo({ result: memo });
  if (patched('archive-run-report')) await archive({ ...memo, workflowId: run.workflowId });
  if (state.cancelled) {
    // The run shows as Canceled; its report is rebuilt from the memo and the chunks (client/report-fetch.ts).
    throw new CancelledFailure(`cancelled after ${s.items} of ${run.items} items: ${state.stopReason ?? ''}`);
  }
  if (state.stopReason) {
    throw ApplicationFailure.nonRetryable(
      `${run.plan} stopped: ${state.stopReason}`,
      'RunStoppedError',
      memo,
    );
  }
  return result;
}

/**
 * Archives the report and the receipt of a run that is ending. Not even a cancellation stops it; a
 * failure is logged and said in the memo (`archive`), and the run ends as it would have.
 */
async function archive(memo: {
  workflowId: string;
  plan: string;
  status: BulkDeleteResult['status'];
  dryRun: boolean;
  chunks: number;
  observedChunks: number[];
}): Promise<void> {
  try {
    await CancellationScope.nonCancellable(() =>
      archiving.archiveRun({
        workflowId: memo.workflowId,
        plan: memo.plan,
        status: memo.status,
        dryRun: memo.dryRun,
        chunks: memo.chunks,
        observedChunks: memo.observedChunks,
      }),
    );
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    log.warn('the report was not archived; the run ends as it would have', { error: message });
    upsertMemo({ archive: `failed: ${message}` });
  }
}
