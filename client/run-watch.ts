/**
 * Follows a bulk delete run to its end: live progress from the `progress` query, then the report, the
 * summary table and the exit code. Shared by `run --wait`, `plan`, `status --follow` and `dev`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import type { Report } from '../plan/index.js';
import type { BulkDeleteResult, PlannedStep, Progress } from '../workflows/definitions.js';
import { PHASES, chunkProgressQuery, progressQuery } from '../workflows/definitions.js';
import { EXIT, type Io } from './command.js';
import { phaseHeartbeat, settledInPhase } from './pending-work.js';
import { ProgressRenderer } from './progress-view.js';
import { failureMessage, fetchReport } from './report-fetch.js';
import { warnWithoutWorker } from './worker-check.js';

/** How a run ended, as far as the command line is concerned. */
export interface RunOutcome {
  exitCode: number;
  report?: Report;
  result?: BulkDeleteResult;
  steps: PlannedStep[];
  /** Why the run failed as a workflow (not item failures), if it did. */
  error?: string;
  /** Why its report could not be archived in `BULK_DELETE_REPORT_STORE`, if so. */
  archiveFailure?: string;
}

/**
 * The exit code of a finished run: 3 when cancelled, 1 when it failed or any item failed, else 0 (every
 * item deleted, already absent or skipped).
 */
export function exitCodeOf(report: Pick<Report, 'status' | 'summary'>): number {
  if (report.status === 'cancelled') return EXIT.cancelled;
  if (report.status === 'failed' || report.summary.failed > 0) return EXIT.failed;
  return EXIT.ok;
}

/** Answers within `ms`, or undefined. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined),
    ]);
  } finally {
    timer.abort();
  }
}

/** The progress of a run, or undefined while no worker has answered yet. */
export async function queryProgress(
  client: Client,
  workflowId: string,
  ms = 5000,
): Promise<Progress | undefined> {
  let progress: Progress | undefined;
  const query = client.workflow.getHandle(workflowId).query(progressQuery);
  // Past `ms` nobody waits for it: a late failure (the connection closed meanwhile) must not crash.
  query.catch(() => undefined);
  try {
    progress = await within(query, ms);
  } catch {
    return undefined;
  }
  if (!progress) return undefined;
  // Items settle one by one inside the running chunks: add what each says so far.
  // Inside a phase, its activity's heartbeat tells the items settled so far (the chunk counts them when
  // the phase ends): the bar moves per item, not per phase.
  const chunks = await Promise.all(
    (progress.runningChunks ?? []).map(async (id) => {
      const query = client.workflow.getHandle(id).query(chunkProgressQuery);
      query.catch(() => undefined);
      const chunk = await within(query, ms).catch(() => undefined);
      if (!chunk || chunk.phase === 'discover' || chunk.phase === 'done') return chunk;
      const inPhase = settledInPhase(await phaseHeartbeat(client, id), chunk.settling);
      const room = Math.max(0, chunk.items - chunk.settled);
      return {
        ...chunk,
        settling: undefined,
        settled: chunk.settled + Math.min(room, inPhase.settled),
        failed: chunk.failed + Math.min(room, inPhase.failed),
      };
    }),
  );
  let phase = PHASES.indexOf(progress.phase);
  for (const chunk of chunks) {
    if (!chunk) continue;
    progress.itemsDone += chunk.settled;
    progress.itemsFailed += chunk.failed;
    phase = Math.max(phase, PHASES.indexOf(chunk.phase));
  }
  if (progress.status === 'running' && phase >= 0) progress.phase = PHASES[phase] ?? progress.phase;
  return progress;
}

export interface WatchOptions {
  /** Draw progress on stderr. @default true */
  progress?: boolean;
  /** Between two progress queries. @default 500 */
  pollMs?: number;
  /**
   * On Ctrl-C, say that the run goes on and how to follow or cancel it, then exit 130. Off where the
   * caller handles Ctrl-C itself (`dev`). @default true
   */
  explainInterrupt?: boolean;
}

/**
 * Until disposed, Ctrl-C (SIGINT) ends the command with what a user needs to know: the run goes on
 * without it, and the commands that follow or cancel it.
 */
export function explainInterrupt(workflowId: string, io: Io, queued: () => boolean): () => void {
  const handler = () => {
    io.err(
      `\ninterrupted: ${workflowId} goes on without this command (it runs on the workers, not here)` +
        (queued() ? ';\n  it is still queued: no worker has picked it up yet' : '') +
        `\n  follow it: npx bulk-delete status ${workflowId} --follow` +
        `\n  cancel it: npx bulk-delete cancel ${workflowId}`,
    );
    process.exit(130);
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/**
 * Waits for a run to end while drawing its progress; says once when it awaits approval and what to
 * type. Then fetches the report.
 */
export async function watchRun(
  client: Client,
  workflowId: string,
  io: Io,
  options: WatchOptions = {},
): Promise<RunOutcome> {
  const handle = client.workflow.getHandle(workflowId);
  const renderer = new ProgressRenderer(io);
  const showProgress = options.progress ?? true;
  const pollMs = options.pollMs ?? 500;
  let settled = false;
  const ended = handle.result().then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  void ended.then(() => (settled = true));

  let announcedDigest: string | undefined;
  let waitingNoted = false;
  let answered = false;
  // Said at once, not after the first progress query times out: no worker, no progress, ever.
  const workerPolls =
    !showProgress || (await warnWithoutWorker(client, (await handle.describe()).taskQueue, io));
  const stopExplaining =
    options.explainInterrupt === false ? undefined : explainInterrupt(workflowId, io, () => !answered);
  while (!settled) {
    const progress = await queryProgress(client, workflowId, Math.max(2000, pollMs * 4));
    if (settled) break;
    answered ||= progress !== undefined;
    if (progress && showProgress) {
      renderer.update(progress);
      if (progress.status === 'awaiting-approval' && progress.digest && progress.digest !== announcedDigest) {
        announcedDigest = progress.digest;
        renderer.note(
          `awaiting approval of the discovered steps (digest ${progress.digest}):\n` +
            `  bulk-delete approve ${workflowId} --digest ${progress.digest}\n` +
            `  ("bulk-delete plan" or "report" show the steps; "bulk-delete cancel ${workflowId}" stops it)`,
        );
      }
    } else if (!progress && showProgress && !waitingNoted) {
      waitingNoted = true;
      if (workerPolls) renderer.note('waiting for a worker to pick up the run ...');
    }
    await Promise.race([ended, sleep(pollMs)]);
  }
  const end = await ended;
  stopExplaining?.();
  if (showProgress) {
    const last = await queryProgress(client, workflowId, 2000);
    if (last) renderer.update(last);
    renderer.finish();
  }

  let error: string | undefined;
  let cancelled = false;
  if (!end.ok) {
    const failure = end.error;
    if (failure instanceof WorkflowFailedError) {
      cancelled = failure.cause instanceof CancelledFailure;
      const cause = failure.cause;
      error =
        cause instanceof TerminatedFailure
          ? `the run was terminated: ${cause.message}`
          : cancelled
            ? 'the run was cancelled'
            : `the run failed: ${failureMessage(cause ?? failure)}`;
    } else {
      throw failure;
    }
  }

  let fetched: Awaited<ReturnType<typeof fetchReport>> | undefined;
  try {
    fetched = await fetchReport(client, workflowId);
  } catch (fetchError) {
    error ??= `the report could not be read: ${(fetchError as Error).message}`;
  }
  const report = fetched?.report;
  const exitCode = cancelled ? EXIT.cancelled : report && !error ? exitCodeOf(report) : EXIT.failed;
  return {
    exitCode,
    report,
    result: fetched?.result,
    steps: fetched?.steps ?? [],
    error,
    ...(fetched?.archiveFailure ? { archiveFailure: fetched.archiveFailure } : {}),
  };
}
