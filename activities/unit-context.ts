/**
 * What the calls of one unit of a phase (an asset, an entity, a library group) share: whether an answer
 * was lost on the way. A delete whose first answer was lost and whose retry finds the target gone most
 * likely did it itself, and the ledger must say `deleted`, not `already absent`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface UnitContext {
  /** True once a call of this unit may have been applied without us seeing the answer. */
  lostAnswer: boolean;
  /** What the phase's calls wait for, told to its heartbeat. */
  waits?: WaitBoard;
  /**
   * When the unit started, among all units of the worker: when a system's calls queue, those of units
   * that started earlier go first (`RateLimiter.run`), so that items finish one after another rather
   * than all together at the end.
   */
  rank?: number;
}

const calls = (n: number) => `${n} call${n === 1 ? '' : 's'}`;

/**
 * What the calls of a phase wait for: a backoff or a `Retry-After` (and why the last one waits), or a
 * request slot or start time of a system's limiter (and what that limiter allows).
 */
export class WaitBoard {
  private retrying = 0;
  private lastReason = '';
  private readonly queued = new Map<string, { count: number; limit: () => string }>();

  /** A call starts waiting to be sent again; answers the function that ends the wait. */
  retry(why: string): () => void {
    this.retrying++;
    this.lastReason = why;
    return () => void this.retrying--;
  }

  /**
   * A call waits for its system's limiter (`limit` says what it allows, asked only when a heartbeat tells
   * it); answers the end of the wait.
   */
  queue(system: string, limit: () => string): () => void {
    const q = this.queued.get(system) ?? { count: 0, limit };
    q.count++;
    q.limit = limit;
    this.queued.set(system, q);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      q.count--;
    };
  }

  /**
   * e.g. "40 calls queued for twelvelabs (at most 10 requests/s); 2 calls waiting to be sent again
   * (last: TwelveLabs DELETE /assets/{asset_id} answered 503)".
   */
  describe(): string | undefined {
    const parts: string[] = [];
    for (const [system, q] of this.queued) {
      if (q.count > 0) parts.push(`${calls(q.count)} queued for ${system} (${q.limit()})`);
    }
    if (this.retrying > 0) {
      parts.push(`${calls(this.retrying)} waiting to be sent again (last: ${this.lastReason})`);
    }
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
}

const storage = new AsyncLocalStorage<UnitContext>();

let started = 0;

/**
 * Runs `fn` as one unit; `lostAnswer` starts true for a unit that an earlier attempt left in flight.
 * `rank` orders its calls among queued ones; by default the unit ranks after every unit started before.
 */
export function inUnit<T>(
  lostAnswer: boolean,
  fn: (unit: UnitContext) => Promise<T>,
  { waits, rank = started++ }: { waits?: WaitBoard | undefined; rank?: number | undefined } = {},
): Promise<T> {
  const unit: UnitContext = { lostAnswer, rank, ...(waits ? { waits } : {}) };
  return storage.run(unit, () => fn(unit));
}

/** The unit the current call belongs to, if any. */
export function currentUnit(): UnitContext | undefined {
  return storage.getStore();
}
