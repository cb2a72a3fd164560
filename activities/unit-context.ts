/**
 * What the calls of one unit of a phase (an asset, an entity, a library group) share: whether an answer
 * was lost on the way. A delete whose first answer was lost and whose retry finds the target gone most
 * likely did it itself, and the ledger must say `deleted`, not `already absent`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface UnitContext {
  /** True once a call of this unit may have been applied without us seeing the answer. */
  lostAnswer: boolean;
}

const storage = new AsyncLocalStorage<UnitContext>();

/** Runs `fn` as one unit; `lostAnswer` starts true for a unit that an earlier attempt left in flight. */
export function inUnit<T>(lostAnswer: boolean, fn: (unit: UnitContext) => Promise<T>): Promise<T> {
  const unit: UnitContext = { lostAnswer };
  return storage.run(unit, () => fn(unit));
}

/** The unit the current call belongs to, if any. */
export function currentUnit(): UnitContext | undefined {
  return storage.getStore();
}
