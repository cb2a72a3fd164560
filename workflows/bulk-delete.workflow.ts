import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities, PlanSummary } from '../activities/contract.js';
import {
  BulkDeleteFailed,
  BulkDeleteItems,
  BulkDeletePlan,
  BulkDeleteStatus,
  Plan,
  SYSTEMS,
  type PlanItem,
  type PlanOptions,
  type ReportSummary,
  type SystemName,
} from '../plan/index.js';
import { combineDigests } from '../plan/steps.js';
import { bulkDeleteChunkWorkflow } from './chunk.workflow.js';
import {
  approveUpdate,
  chunkProgressSignal,
  progressQuery,
  stopChunkSignal,
  type BulkDeleteInput,
  type BulkDeleteResult,
  type ChunkInput,
  type ChunkProgress,
  type ChunkResult,
  type Phase,
  type PhaseCount,
  type Progress,
} from './definitions.js';

const planReads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

/** History length at which a run continues as new, well below Temporal's 10,240-event warning. */
const HISTORY_LIMIT = 6000;

type Pass = 'discover' | 'execute' | 'skip' | 'done';

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
}

function emptySystems(counts: Record<SystemName, number>): Record<SystemName, PhaseCount> {
  return Object.fromEntries(SYSTEMS.map((s) => [s, { done: 0, failed: 0, remaining: counts[s] }])) as Record<
    SystemName,
    PhaseCount
  >;
}

function countSystems(items: readonly PlanItem[]): Record<SystemName, number> {
  return {
    twelvelabs: items.filter((i) => i.twelvelabs).length,
    uplynk: items.filter((i) => i.uplynk).length,
    entermedia: items.filter((i) => i.entermedia).length,
  };
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}

/**
 * Walks a deletion plan: discovers every reference, stops with the steps in a dry run, waits for an
 * approval quoting the steps' digest when asked, then deletes in the mission's order, chunk by chunk as
 * child workflows in a sliding window, and ends with a summary whose rows live in the chunks' results.
 */
export async function bulkDeleteWorkflow(
  input: BulkDeleteInput,
  carried?: CarriedState,
): Promise<BulkDeleteResult> {
  const info = workflowInfo();
  const workflowId = info.workflowId;

  // What the plan is: inline (validated again here, any client may start a run) or by reference.
  let summaryOfPlan: PlanSummary;
  let inlineItems: PlanItem[] | undefined;
  if (input.plan && !input.planRef) {
    const parsed = Plan.safeParse(input.plan);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `invalid plan: ${z.prettifyError(parsed.error)}`,
        'InvalidPlanError',
      );
    }
    inlineItems = parsed.data.items;
    summaryOfPlan = {
      name: parsed.data.name,
      items: parsed.data.items.length,
      options: parsed.data.options,
      systems: countSystems(parsed.data.items),
    };
  } else if (input.planRef && !input.plan) {
    summaryOfPlan = await planReads.readPlanSummary({ ref: input.planRef });
    if (summaryOfPlan.items !== input.planRef.items || summaryOfPlan.name !== input.planRef.name) {
      throw ApplicationFailure.nonRetryable(
        `plan ${input.planRef.uri} holds ${summaryOfPlan.items} items named "${summaryOfPlan.name}", the reference says ${input.planRef.items} named "${input.planRef.name}"`,
        'InvalidPlanError',
      );
    }
  } else {
    throw ApplicationFailure.nonRetryable(
      'the input needs exactly one of plan and planRef',
      'InvalidPlanError',
    );
  }
  const options: PlanOptions = summaryOfPlan.options;
  if (summaryOfPlan.items > options.maxItems) {
    throw ApplicationFailure.nonRetryable(
      `the plan has ${summaryOfPlan.items} items, more than options.maxItems (${options.maxItems}): nothing was deleted`,
      'PlanTooLargeError',
    );
  }
  const chunkSize = Math.max(1, Math.min(input.chunkSize ?? 100, 1000));
  const window = Math.max(1, Math.min(input.window ?? 4, 50));
  const chunkCount = Math.ceil(summaryOfPlan.items / chunkSize);
  const dryRun = input.dryRun ?? false;

  const state: CarriedState = carried ?? {
    pass: dryRun || input.requireApproval ? 'discover' : 'execute',
    nextChunk: 0,
    chunkDigests: [],
    approved: false,
    cancelled: false,
    summary: { items: 0, deleted: 0, alreadyAbsent: 0, skipped: 0, failed: 0 },
    systems: emptySystems(summaryOfPlan.systems),
    chunkWorkflowIds: [],
    chunksDone: 0,
  };
  const running = new Map<
    number,
    { handle: ChildWorkflowHandle<typeof bulkDeleteChunkWorkflow>; progress?: ChunkProgress }
  >();
  let status: Progress['status'] = state.pass === 'discover' ? 'discovering' : 'running';
  let phase: Phase = state.pass === 'discover' ? 'discover' : 'unlink';

  const progress = (): Progress => {
    const systems = Object.fromEntries(
      SYSTEMS.map((s) => {
        const base = state.systems[s];
        let done = base.done;
        let failed = base.failed;
        if (state.pass === 'execute') {
          for (const r of running.values()) {
            done += r.progress?.systems[s].done ?? 0;
            failed += r.progress?.systems[s].failed ?? 0;
          }
        }
        return [
          s,
          {
            done,
            failed,
            remaining: Math.max(0, base.remaining - (done - base.done) - (failed - base.failed)),
          },
        ];
      }),
    ) as Record<SystemName, PhaseCount>;
    return {
      plan: summaryOfPlan.name,
      status,
      phase,
      items: summaryOfPlan.items,
      itemsDone: state.summary.items,
      itemsFailed: state.summary.failed,
      systems,
      digest: state.digest,
      chunks: {
        total: chunkCount,
        done: state.chunksDone,
        running: running.size,
      },
    };
  };

  setHandler(progressQuery, progress);
  setHandler(chunkProgressSignal, (p) => {
    const entry = running.get(p.chunk);
    if (entry) entry.progress = p;
    phase = p.phase === 'done' ? phase : p.phase;
  });
  setHandler(
    approveUpdate,
    ({ digest }) => {
      state.approved = true;
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

  const publish = (): void => {
    upsertSearchAttributes([
      { key: BulkDeletePlan, value: summaryOfPlan.name },
      { key: BulkDeleteStatus, value: status },
      { key: BulkDeleteItems, value: summaryOfPlan.items },
      { key: BulkDeleteFailed, value: state.summary.failed },
    ]);
    const s = state.summary;
    setCurrentDetails(
      `**${summaryOfPlan.name}**: ${status}, phase ${phase}\n\n` +
        `${s.items}/${summaryOfPlan.items} items done: ${s.deleted} deleted, ${s.alreadyAbsent} already absent, ${s.skipped} skipped, ${s.failed} failed` +
        (state.digest ? `\n\ndigest \`${state.digest}\`` : ''),
    );
  };
  if (!carried) {
    upsertMemo({ plan: summaryOfPlan.name, items: summaryOfPlan.items, dryRun, chunkSize });
  }
  publish();

  // Cancellation: stop starting chunks, ask the running ones to stop after their calls in flight.
  CancellationScope.current()
    .cancelRequested.then(undefined, () => {
      state.cancelled = true;
      state.stopReason ??= 'cancelled by request';
    })
    .catch(() => undefined);

  const chunkInput = (chunk: number, mode: ChunkInput['mode']): ChunkInput => {
    const offset = chunk * chunkSize;
    return {
      parentWorkflowId: workflowId,
      chunk,
      mode,
      offset,
      limit: chunkSize,
      options,
      ...(inlineItems
        ? { items: inlineItems.slice(offset, offset + chunkSize) }
        : { planRef: input.planRef }),
      ...(mode === 'execute' && state.approved && state.chunkDigests[chunk] !== undefined
        ? { expectedDigest: state.chunkDigests[chunk] }
        : {}),
      ...(mode === 'skip' ? { skipReason: `not started: ${state.stopReason ?? 'the run stopped'}` } : {}),
    };
  };

  const fold = (chunk: number, mode: Exclude<Pass, 'done'>, result: ChunkResult): void => {
    if (mode === 'discover') {
      state.chunkDigests[chunk] = result.digest ?? '';
      state.chunkWorkflowIds[chunk] = `${workflowId}/discover-${pad(chunk)}`;
      return;
    }
    state.chunkWorkflowIds[chunk] = `${workflowId}/chunk-${pad(chunk)}`;
    const outcomes = new Map<string, string[]>();
    for (const row of result.rows) {
      outcomes.set(row.item, [...(outcomes.get(row.item) ?? []), row.outcome]);
      const sys = state.systems[row.system];
      if (row.outcome === 'failed') sys.failed++;
      else sys.done++;
      sys.remaining = Math.max(0, sys.remaining - 1);
    }
    for (const list of outcomes.values()) {
      state.summary.items++;
      if (list.includes('failed')) state.summary.failed++;
      else if (list.includes('skipped')) state.summary.skipped++;
      else if (list.includes('deleted')) state.summary.deleted++;
      else state.summary.alreadyAbsent++;
    }
    if (mode === 'execute' && !state.stopReason) {
      const processed = state.summary.items;
      if (
        processed >= options.failureThresholdMinItems &&
        state.summary.failed / processed > options.failureThreshold
      ) {
        state.stopReason = `failure threshold: ${state.summary.failed} of ${processed} processed items failed, more than ${options.failureThreshold * 100}%`;
      }
    }
  };

  const stopRunning = async (): Promise<void> => {
    for (const [, { handle }] of running) {
      await getExternalWorkflowHandle(handle.workflowId)
        .signal(stopChunkSignal, { reason: state.stopReason ?? 'stopped' })
        .catch(() => undefined);
    }
  };

  /**
   * Runs the chunks of a pass in a sliding window. Answers `continue` when the history is full and the
   * run must continue as new before starting more chunks, `stopped` when a stop left chunks unstarted.
   */
  const runPass = async (mode: Exclude<Pass, 'done'>): Promise<'done' | 'stopped' | 'continue'> => {
    const completions: Array<{ chunk: number; result?: ChunkResult; error?: unknown }> = [];
    let stopSent = false;
    const mustStop = (): boolean => mode !== 'skip' && state.stopReason !== undefined;
    for (;;) {
      if (mustStop() && !stopSent && running.size > 0) {
        stopSent = true;
        await CancellationScope.nonCancellable(stopRunning);
      }
      const historyFull =
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > (input.maxHistoryEvents ?? HISTORY_LIMIT);
      if (!mustStop() && !historyFull && state.nextChunk < chunkCount && running.size < window) {
        const chunk = state.nextChunk++;
        const id = `${workflowId}/${mode === 'discover' ? 'discover' : 'chunk'}-${pad(chunk)}`;
        const first = chunk * chunkSize + 1;
        const last = Math.min((chunk + 1) * chunkSize, summaryOfPlan.items);
        const handle = await CancellationScope.nonCancellable(() =>
          startChild(bulkDeleteChunkWorkflow, {
            workflowId: id,
            args: [chunkInput(chunk, mode)],
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            staticSummary: `${summaryOfPlan.name}: ${mode} items ${first}-${last}`,
          }),
        );
        running.set(chunk, { handle });
        handle.result().then(
          (result) => completions.push({ chunk, result }),
          (error: unknown) => completions.push({ chunk, error }),
        );
        continue;
      }
      if (running.size === 0) {
        if (state.nextChunk >= chunkCount) return 'done';
        return mustStop() ? 'stopped' : 'continue';
      }
      await CancellationScope.nonCancellable(() =>
        condition(() => completions.length > 0 || (mustStop() && !stopSent)),
      );
      while (completions.length > 0) {
        const { chunk, result, error } = completions.shift()!;
        running.delete(chunk);
        if (!result) {
          throw ApplicationFailure.nonRetryable(
            `chunk ${chunk} failed: ${error instanceof Error ? error.message : String(error)}`,
            'ChunkFailedError',
          );
        }
        fold(chunk, mode, result);
        state.chunksDone++;
      }
      publish();
    }
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
      // Nothing was executed: every chunk reports its items as skipped.
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
        phase = 'approval';
        publish();
        await CancellationScope.nonCancellable(() => condition(() => state.approved || state.cancelled));
        if (state.approved) {
          state.pass = 'execute';
          state.nextChunk = 0;
          state.chunksDone = 0;
          state.chunkWorkflowIds = [];
        } else {
          toSkipPass(true);
        }
      }
    }
  }
  if (state.pass === 'execute') {
    status = 'running';
    phase = 'unlink';
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

  // `failed` means the run stopped early (failure threshold); item failures alone leave it `completed`.
  const finalStatus = state.cancelled ? 'cancelled' : state.stopReason ? 'failed' : 'completed';
  status = finalStatus;
  phase = 'done';
  publish();
  const result: BulkDeleteResult = {
    workflowId,
    plan: summaryOfPlan.name,
    status: finalStatus,
    ...(state.stopReason ? { reason: state.stopReason } : {}),
    dryRun,
    ...(state.digest ? { digest: state.digest } : {}),
    summary: state.summary,
    chunkWorkflowIds: state.chunkWorkflowIds,
  };
  upsertMemo({ result: { ...result, chunkWorkflowIds: undefined, chunks: result.chunkWorkflowIds.length } });
  if (state.cancelled) {
    // The run shows as Canceled; its report is rebuilt from the memo and the chunks (see client/report-fetch.ts).
    throw new CancelledFailure(
      `cancelled after ${state.summary.items} of ${summaryOfPlan.items} items: ${state.stopReason ?? ''}`,
    );
  }
  return result;
}
