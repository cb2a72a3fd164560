/**
 * A phase activity tells its chunk when most of its units are done and it still runs a while
 * (`phaseTailSignal`): what is left waits on retries, a `Retry-After` or entities settling, and the
 * chunk lends its place in the run's window to a new chunk meanwhile (bench/engine.md, "Waiting chunks lend their place").
 */
import { phaseTailSignal } from '../workflows/definitions.js';
import { currentContext } from './activity-scope.js';
import type { PhaseTail } from './contract.js';

/** The share of a phase's units done after which the phase only waits on its last ones. */
export const MOSTLY_DONE = 0.9;

/**
 * How long a phase must still run once most of its units are done before it tells: a phase that ends
 * about with its bulk (no faults) tells nothing, so that its chunk keeps its place and sends no signal.
 */
export const TAIL_GRACE_MS = 500;

/** Counts a phase's units as they settle, and tells the chunk when it still runs `graceMs` after most have. */
export class TailWatch {
  private settledCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly at: number;

  /**
   * @param total the phase's units.
   * @param tell what to do once most have settled and the phase still runs (nothing when undefined).
   */
  constructor(
    total: number,
    private readonly tell: (() => void) | undefined,
    private readonly graceMs = TAIL_GRACE_MS,
  ) {
    this.at = Math.max(1, Math.ceil(total * MOSTLY_DONE));
  }

  /** One more unit settled (or `count` more, e.g. those an earlier attempt finished). */
  settle(count = 1): void {
    this.settledCount += count;
    if (this.closed || this.timer || this.tell === undefined || this.settledCount < this.at) return;
    const tell = this.tell;
    this.timer = setTimeout(() => {
      if (!this.closed) tell();
    }, this.graceMs);
  }

  /** The phase ended (or its attempt did): nothing more is told. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

/**
 * Sends `phaseTailSignal` to the workflow that scheduled the running activity, for `tail` (none when
 * the chunk did not ask, or outside an activity). A signal that does not arrive is not sent again: the
 * chunk then keeps its place until the phase ends, as it did before.
 */
export function tailTeller(tail: PhaseTail | undefined): (() => void) | undefined {
  if (tail === undefined) return undefined;
  const context = currentContext();
  if (context === undefined) return undefined;
  const workflowId = context.info.workflowExecution?.workflowId;
  if (workflowId === undefined) return undefined;
  const chunk = context.client.workflow.getHandle(workflowId);
  return () => {
    chunk.signal(phaseTailSignal, { phase: tail.phase }).catch(() => undefined);
  };
}

/** A watch over `total` units that tells the chunk of `tail`, if it asked. */
export function watchTail(total: number, tail: PhaseTail | undefined): TailWatch {
  return new TailWatch(total, tailTeller(tail));
}
