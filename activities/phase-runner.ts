/**
 * How a phase activity walks its units (an asset, an entity, a library group): a bounded number at once,
 * each unit's calls retried on their own inside the HTTP client, answers kept once in memory, and a
 * heartbeat at most once a second with a compact cursor (the keys of the units done and in flight, and
 * the entries so far) from which a retried attempt resumes without repeating a call.
 */
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { ItemFailure, LedgerEntry, type PhaseAnswer, type Refusal } from '../plan/index.js';
import { activityScope, type ActivityScope } from './activity-scope.js';
import { CallError, toApplicationFailure } from './http-errors.js';
import { inUnit, WaitBoard, type UnitContext } from './unit-context.js';
import type { TailWatch } from './phase-tail.js';

const RefusalSchema = z.object({
  item: z.string(),
  step: LedgerEntry.shape.step,
  target: z.string(),
  entity: z.object({ id: z.string(), collectionId: z.string() }),
  assetId: z.string(),
  foreign: z.array(z.string()).optional(),
});

const Cursor = z.object({
  v: z.literal(2),
  done: z.array(z.string()),
  inFlight: z.array(z.string()),
  entries: z.array(LedgerEntry),
  failures: z.array(ItemFailure),
  refused: z.array(RefusalSchema),
  /** What the phase waits for now, if it waits (shown by `status` and the Web UI). */
  waiting: z.string().optional(),
});
type Cursor = z.infer<typeof Cursor>;

/** How often a running phase heartbeats. */
const HEARTBEAT_MS = 1000;

let lastMs = NaN;
let lastIso = '';
/** Now as an ISO string; calls within the same millisecond share one (a phase records thousands a second). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** A phase's answer so far, shared by its units. */
export interface PhaseLog {
  entry(e: Omit<LedgerEntry, 'at'>): void;
  failure(f: Omit<ItemFailure, 'at'>): void;
  refuse(r: Refusal): void;
  /** Says what the phase waits for (an entity to be ready, a rate limit), for the heartbeat. */
  waiting(what: string | undefined): void;
  /** The entries of this item that earlier attempts of the phase recorded (from their last heartbeat). */
  earlier(item: string): readonly LedgerEntry[];
  /** True when earlier attempts of the phase recorded a failure of this item (a failed entry or step). */
  failedBefore(item: string): boolean;
}

/**
 * Runs `run` for every unit not done by an earlier attempt, at most `parallelism` at once. A unit that an
 * earlier attempt left in flight, or any unit of an attempt after a lost heartbeat, runs with `lostAnswer`
 * set, so that a "not found" reads as "deleted" (that attempt's doing, or gone before: the record cannot
 * tell). A call failing past its bound stops new units, lets those in flight finish, heartbeats, and fails
 * the attempt for Temporal to retry.
 */
export async function runPhase<U>(options: {
  units: readonly U[];
  keyOf: (unit: U) => string;
  parallelism: number;
  run: (unit: U, log: PhaseLog, ctx: UnitContext) => Promise<void>;
  /** False for phases that only read: a retried attempt starts over rather than resuming. @default true */
  resumable?: boolean;
  /** Runs once every unit is done, inside the same attempt (e.g. batched read-backs). */
  finish?: (log: PhaseLog, answer: PhaseAnswer) => Promise<void>;
  /** Runs once before the units, with those this attempt runs (the ones no earlier attempt finished). */
  prepare?: (todo: readonly U[], log: PhaseLog) => void;
  /** Counts each unit done (those of earlier attempts too), to tell the chunk when most are. */
  tail?: TailWatch;
  /**
   * Awaited once the lanes ended, whatever ended them (a stop, a failure), before the phase answers:
   * calls started beside the units (e.g. unlinks sent with the activity's start, for units no lane
   * reached) answer into the record, not after it was sent.
   */
  drain?: () => Promise<void>;
}): Promise<PhaseAnswer> {
  const scope = activityScope();
  const cursor =
    options.resumable === false ? resume({ ...scope, heartbeatDetails: undefined }) : resume(scope);
  const done = new Set(cursor.done);
  const previouslyInFlight = new Set(cursor.inFlight);
  // A retry whose last heartbeat may be older than the last calls of the attempt before it: any unit not
  // recorded as done may have had calls applied.
  const uncertain = scope.attempt > 1;
  const inFlight = new Set<string>();
  const earlier = groupBy(cursor.entries, (e) => e.item);
  const failedEarlier = new Set(cursor.failures.map((f) => f.item));
  const log: PhaseLog = {
    entry: (e) => cursor.entries.push({ ...e, at: isoNow() }),
    failure: (f) => cursor.failures.push({ ...f, at: isoNow() }),
    refuse: (r) => cursor.refused.push(r),
    waiting: (what) => {
      if (what === undefined) delete cursor.waiting;
      else cursor.waiting = what;
    },
    earlier: (item) => earlier.get(item) ?? [],
    failedBefore: (item) =>
      failedEarlier.has(item) || (earlier.get(item) ?? []).some((e) => e.answer === 'failed'),
  };
  const waits = new WaitBoard();
  // A snapshot: the SDK may encode the details later, while the units go on adding entries.
  const beat = () => {
    const waiting = [cursor.waiting, waits.describe()].filter(Boolean).join('; ');
    scope.heartbeat({
      ...cursor,
      ...(waiting ? { waiting } : {}),
      done: [...done],
      inFlight: [...inFlight],
      entries: [...cursor.entries],
      failures: [...cursor.failures],
      refused: [...cursor.refused],
    } satisfies Cursor);
  };
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();

  const todo = options.units.filter((u) => !done.has(options.keyOf(u)));
  options.prepare?.(todo, log);
  options.tail?.settle(options.units.length - todo.length);
  const errors: unknown[] = [];
  let next = 0;
  async function lane(): Promise<void> {
    while (next < todo.length && errors.length === 0 && !scope.signal.aborted) {
      const unit = todo[next++] as U;
      const key = options.keyOf(unit);
      inFlight.add(key);
      try {
        await inUnit(uncertain || previouslyInFlight.has(key), (ctx) => options.run(unit, log, ctx), {
          waits,
        });
        done.add(key);
        options.tail?.settle();
      } catch (error) {
        errors.push(error);
      } finally {
        inFlight.delete(key);
      }
    }
  }
  try {
    const lanes = Math.max(1, Math.min(options.parallelism, todo.length));
    await Promise.all(Array.from({ length: lanes }, () => lane()));
    if (errors.length === 0 && !scope.signal.aborted && options.finish) {
      await options.finish(log, answerOf(cursor));
    }
  } catch (error) {
    // A wait or read-back cut short by cancellation is answered below like the rest of the phase; any
    // other failure of it is one more error of the attempt, classified like the units' errors.
    if (!scope.signal.aborted) errors.push(error);
  } finally {
    await options.drain?.();
    clearInterval(timer);
    options.tail?.close();
  }
  // The workflow asked this phase to stop (cancel, failure threshold): the calls in flight have finished;
  // it answers what was done, and the workflow stops the items not reached. A worker shutting down is
  // different: the attempt fails, and the next one resumes from the heartbeat.
  if (scope.signal.aborted && scope.cancelRequested()) return { ...answerOf(cursor), stopped: true };
  // A last heartbeat only for an attempt that fails (below): Temporal flushes it before the failure, for
  // the next attempt to resume from. An answer carries the whole record itself; the SDK drops a
  // heartbeat still pending when an activity completes, and one it is still encoding reaches the server
  // after the completion ("Activity heartbeat failed ... UnknownActivity" in the worker's log).
  if (scope.signal.aborted || errors.length > 0) beat();
  if (scope.signal.aborted) throw scope.signal.reason ?? new Error('activity cancelled');
  if (errors.length > 0) {
    const batchWide = errors.find((e) => e instanceof CallError && e.failure.disposition === 'batch');
    const chosen = batchWide ?? errors[0];
    if (!(chosen instanceof CallError)) throw chosen;
    // Not retried: what the phase did before it fails travels with the failure, so that the record keeps
    // every change made (a retried attempt resumes from the heartbeat instead).
    const retried = chosen.failure.disposition === 'retry';
    throw toApplicationFailure(chosen.failure, retried ? [] : [{ phaseAnswer: answerOf(cursor) }]);
  }
  return answerOf(cursor);
}

function answerOf(cursor: Cursor): PhaseAnswer {
  return {
    entries: cursor.entries,
    failures: cursor.failures,
    ...(cursor.refused.length ? { refused: cursor.refused } : {}),
  };
}

/** The previous attempt's cursor; details of another shape (an older version) start the phase over. */
function resume(scope: ActivityScope): Cursor {
  const empty: Cursor = { v: 2, done: [], inFlight: [], entries: [], failures: [], refused: [] };
  if (scope.heartbeatDetails === undefined || scope.heartbeatDetails === null) return empty;
  const parsed = Cursor.safeParse(scope.heartbeatDetails);
  if (parsed.success) {
    // What that attempt waited for ended with it (its worker may be gone): this one tells its own.
    const { waiting: _ended, ...resumed } = parsed.data;
    return resumed;
  }
  scope.warn('ignoring heartbeat details of an unexpected shape; starting the phase over');
  return empty;
}

/**
 * Work a phase starts beside its units and awaits at its end (an entity's wait after its unlink, a
 * read-back once 50 deletes answered), so that one slow item does not hold every other behind a
 * barrier. The tasks never hold a unit's lane; their errors fail the attempt when awaited, and `stop`
 * ends the ones still running when the attempt ends without awaiting them (a unit failed for good).
 */
export class Background {
  private readonly tasks: Array<Promise<void>> = [];
  private readonly errors: unknown[] = [];
  private readonly stopper = new AbortController();
  /** Aborts when the activity is cancelled or the attempt ends. */
  readonly signal: AbortSignal;

  constructor(parent: AbortSignal) {
    this.signal = AbortSignal.any([parent, this.stopper.signal]);
    // Every task waiting on a backoff or a request slot listens for it: not a leak.
    setMaxListeners(0, this.signal);
  }

  start(task: (signal: AbortSignal) => Promise<void>): void {
    this.tasks.push(task(this.signal).catch((error: unknown) => void this.errors.push(error)));
  }

  /** Awaits every task, including those started meanwhile; throws the first error, if any. */
  async settled(): Promise<void> {
    for (let seen = 0; seen < this.tasks.length;) {
      const end = this.tasks.length;
      await Promise.all(this.tasks.slice(seen, end));
      seen = end;
    }
    if (this.errors.length > 0 && !this.signal.aborted) throw this.errors[0];
  }

  stop(): void {
    this.stopper.abort(new Error('the attempt ended'));
  }
}

/**
 * Like `Promise.all`, but waits for every call to answer before throwing the first error: no call of a
 * unit may still be running, and recording, once the unit ends.
 */
export async function allSettledOrThrow<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The first item of each key, in their order. */
export function uniqueBy<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(keyOf(item))) seen.set(keyOf(item), item);
  return [...seen.values()];
}

/** The items of each key, in their order. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
}

/**
 * Why a target found gone after an answer of its unit was lost reads `deleted`, and what the record
 * cannot tell: whether the call whose answer was lost deleted it, or it was gone before.
 */
export const LOST_ANSWER_GONE =
  'an answer was lost (a dropped call, or an attempt lost with its worker), and either that call deleted it or it was already absent';

/**
 * Runs one call of a unit and turns what it threw into the ledger's words: a 404 is `already-absent`
 * (or `deleted` when an earlier answer of this unit was lost), a per-item failure (4xx) is a `failed`
 * entry for each target; retryable and batch-wide failures propagate (they fail the attempt).
 */
export async function settle(
  log: PhaseLog,
  targets: ReadonlyArray<Omit<LedgerEntry, 'at' | 'answer' | 'detail' | 'mayHaveApplied'>>,
  call: () => Promise<{ answer: LedgerEntry['answer']; detail?: string } | undefined>,
  ctx: UnitContext,
): Promise<boolean> {
  try {
    const result = await call();
    if (result) for (const t of targets) log.entry({ ...t, ...result });
    return true;
  } catch (error) {
    if (!(error instanceof CallError)) throw error;
    const { failure } = error;
    if (failure.disposition === 'absent') {
      const lost = failure.afterLostAnswer === true || ctx.lostAnswer;
      for (const t of targets) {
        log.entry(
          lost
            ? { ...t, answer: 'deleted', detail: `found gone on retry: ${LOST_ANSWER_GONE}` }
            : { ...t, answer: 'already-absent' },
        );
      }
      return true;
    }
    if (failure.disposition === 'item') {
      for (const t of targets) {
        log.entry({
          ...t,
          answer: 'failed',
          detail: `${failure.type}: ${failure.message}`,
          ...(failure.mayHaveApplied ? { mayHaveApplied: true } : {}),
        });
      }
      return false;
    }
    throw error;
  }
}
