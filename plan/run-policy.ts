/**
 * The run's small decisions, pure so that they are tested without a server: the failure threshold, the
 * window of chunks, and the fold of chunk summaries.
 */
import type { PlanOptions } from './plan-schema.js';
import type { ReportSummary } from './report.js';

/** Items settled and failed so far: finished chunks plus what running chunks told. */
export interface Tally {
  settled: number;
  failed: number;
}

/** The tally of a run: its finished chunks' summary plus the running chunks' last tallies. */
export function runTally(finished: ReportSummary, running: Iterable<Tally>): Tally {
  let settled = finished.items;
  let failed = finished.failed;
  for (const t of running) {
    settled += t.settled;
    failed += t.failed;
  }
  return { settled, failed };
}

/**
 * Why the run must stop, or undefined: more than `failureThreshold` of the settled items failed, once at
 * least `failureThresholdMinItems` items settled (as S3 Batch Operations does).
 */
export function thresholdBreach(tally: Tally, options: PlanOptions): string | undefined {
  if (tally.settled < options.failureThresholdMinItems || tally.settled === 0) return undefined;
  if (tally.failed / tally.settled <= options.failureThreshold) return undefined;
  return `failure threshold: ${tally.failed} of ${tally.settled} settled items failed, more than ${Math.round(options.failureThreshold * 1000) / 10}%`;
}

/**
 * How many chunks may run at once: one until the first chunk finished or `failureThresholdMinItems` items
 * settled (so that a plan that fails everywhere stops after one chunk), then `window`.
 */
export function windowSize(options: {
  window: number;
  chunksDone: number;
  settled: number;
  failureThresholdMinItems: number;
}): number {
  if (options.chunksDone > 0 || options.settled >= options.failureThresholdMinItems) return options.window;
  return 1;
}
