/**
 * What the calls of one unit of a phase (an asset, an entity, a library group) share: whether an answer
 * was lost on the way. A delete whose first answer was lost and whose retry finds the target gone most
 * likely did it itself, and the ledger must say `deleted`, not `already absent`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface UnitContext {
  /** True once a call of this unit may have been applied without us seeing the answer. */
  lostAnswer: boolean;
  /** The phase's count of calls waiting to be sent again, told to its heartbeat. */
  retries?: RetryBoard;
}

/** Calls of a phase waiting out a backoff or a `Retry-After`, and why the last one waits. */
export class RetryBoard {
  private waiting = 0;
  private last = '';

  /** A call starts waiting to be sent again; answers the function that ends the wait. */
  begin(why: string): () => void {
    this.waiting++;
    this.last = why;
    return () => void this.waiting--;
  }

  /** e.g. "2 calls waiting to be sent again (last: TwelveLabs DELETE /assets/{asset_id} answered 503)". */
  describe(): string | undefined {
    if (this.waiting === 0) return undefined;
    return `${this.waiting} call${this.waiting === 1 ? '' : 's'} waiting to be sent again (last: ${this.last})`;
  }
}

const storage = new AsyncLocalStorage<UnitContext>();

/** Runs `fn` as one unit; `lostAnswer` starts true for a unit that an earlier attempt left in flight. */
export function inUnit<T>(
  lostAnswer: boolean,
  fn: (unit: UnitContext) => Promise<T>,
  retries?: RetryBoard,
): Promise<T> {
  const unit: UnitContext = { lostAnswer, ...(retries ? { retries } : {}) };
  return storage.run(unit, () => fn(unit));
}

/** The unit the current call belongs to, if any. */
export function currentUnit(): UnitContext | undefined {
  return storage.getStore();
}
