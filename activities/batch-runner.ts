/**
 * How batch activities walk their items: a bounded number at once, a heartbeat after each with every
 * result so far, a retry that resumes from the last heartbeat, and a prompt stop on cancellation.
 */
import { z } from 'zod';
import { activityScope, type ActivityScope } from './activity-scope.js';
import type { ItemResult } from './contract.js';
import { CallError, failedResult, toApplicationFailure } from './http-errors.js';

/** An `ItemResult` as it comes back in heartbeat details. */
export const ItemResultSchema: z.ZodType<ItemResult> = z.object({
  key: z.string(),
  outcome: z.enum(['deleted', 'already-absent', 'failed']),
  detail: z.string(),
  errorType: z.string().optional(),
});

/**
 * Runs one item's calls and answers its result: a per-item failure (4xx) becomes a `failed` result, and
 * `onAbsent` says what a 404 means for this step. Retryable and batch-wide failures propagate.
 */
export async function settleItem(
  key: string,
  work: () => Promise<ItemResult>,
  onAbsent: (message: string) => ItemResult,
): Promise<ItemResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CallError) {
      if (error.failure.disposition === 'absent') return onAbsent(error.failure.message);
      if (error.failure.disposition === 'item') return failedResult(key, error.failure);
    }
    throw error;
  }
}

/** What a batch activity heartbeats: every result so far. A retry reads it back as `heartbeatDetails`. */
export interface BatchHeartbeat<R> {
  done: R[];
}

/** The results of a batch so far, seeded from the previous attempt's last heartbeat. */
export interface BatchProgress<R> {
  /** True when an earlier attempt (or this one) already settled this key. */
  has(key: string): boolean;
  get(key: string): R | undefined;
  /** Adds settled results and heartbeats all of them. */
  record(results: readonly R[]): void;
  /** Heartbeats without news, so that a batch waiting on the shared limiter does not look dead. */
  keepAlive(): void;
  readonly size: number;
}

/**
 * Reads the previous attempt's heartbeat (validated: details that do not parse, e.g. from an older
 * version of the activity, are ignored and the batch starts over, which is safe since every step is
 * idempotent) and answers the progress to continue from.
 */
export function resumeProgress<R>(
  scope: ActivityScope,
  resultSchema: z.ZodType<R>,
  keyOf: (result: R) => string,
): BatchProgress<R> {
  const done = new Map<string, R>();
  if (scope.heartbeatDetails !== undefined && scope.heartbeatDetails !== null) {
    const parsed = z.object({ done: z.array(resultSchema) }).safeParse(scope.heartbeatDetails);
    if (parsed.success) for (const result of parsed.data.done) done.set(keyOf(result), result);
    else scope.warn('ignoring heartbeat details of an unexpected shape; starting the batch over');
  }
  const beat = () => scope.heartbeat({ done: [...done.values()] } satisfies BatchHeartbeat<R>);
  return {
    has: (key) => done.has(key),
    get: (key) => done.get(key),
    record(results) {
      for (const result of results) done.set(keyOf(result), result);
      beat();
    },
    keepAlive: beat,
    get size() {
      return done.size;
    },
  };
}

/** How often a running batch heartbeats even without news. */
const KEEP_ALIVE_MS = 1000;

/**
 * Runs `run` over `units`, at most `parallelism` at once. Stops starting new units as soon as one fails
 * or the activity is cancelled; waits for those in flight (so that their results reach the heartbeat),
 * then throws: the cancellation, else a batch-wide failure (auth) before a retryable one, as the
 * ApplicationFailure that Temporal acts on.
 */
export async function runBatch<U>(options: {
  units: readonly U[];
  parallelism: number;
  scope: ActivityScope;
  progress?: { keepAlive(): void };
  run: (unit: U) => Promise<void>;
}): Promise<void> {
  const { units, scope } = options;
  const errors: unknown[] = [];
  let next = 0;
  const timer = options.progress
    ? setInterval(() => options.progress?.keepAlive(), KEEP_ALIVE_MS)
    : undefined;
  timer?.unref();
  async function lane(): Promise<void> {
    while (next < units.length && errors.length === 0 && !scope.signal.aborted) {
      const unit = units[next++] as U;
      try {
        await options.run(unit);
      } catch (error) {
        errors.push(error);
      }
    }
  }
  try {
    const lanes = Math.max(1, Math.min(options.parallelism, units.length));
    await Promise.all(Array.from({ length: lanes }, () => lane()));
  } finally {
    if (timer) clearInterval(timer);
  }
  if (scope.signal.aborted) throw scope.signal.reason ?? new Error('activity cancelled');
  if (errors.length === 0) return;
  const batchWide = errors.find((e) => e instanceof CallError && e.failure.disposition === 'batch');
  const chosen = batchWide ?? errors[0];
  throw chosen instanceof CallError ? toApplicationFailure(chosen.failure) : chosen;
}

/** One result per key, in the order asked; a key without a result (which should not happen) fails. */
export function inOrder(keys: readonly string[], get: (key: string) => ItemResult | undefined): ItemResult[] {
  return keys.map(
    (key) => get(key) ?? { key, outcome: 'failed', detail: 'no result recorded', errorType: 'InternalError' },
  );
}

/** The first item of each key, in their order. */
export function uniqueBy<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(keyOf(item))) seen.set(keyOf(item), item);
  return [...seen.values()];
}

/**
 * One delete per target (each key once), as a batch that resumes from the previous attempt's heartbeat:
 * targets already settled are not deleted again. A 404 settles as already absent. Answers one result per
 * target, in the order given.
 */
export async function deleteEach<T>(options: {
  targets: readonly T[];
  keyOf: (target: T) => string;
  parallelism: number;
  remove: (target: T) => Promise<ItemResult>;
}): Promise<ItemResult[]> {
  const { targets, keyOf } = options;
  const scope = activityScope();
  const progress = resumeProgress(scope, ItemResultSchema, (r) => r.key);
  await runBatch({
    units: uniqueBy(targets, keyOf).filter((target) => !progress.has(keyOf(target))),
    parallelism: options.parallelism,
    scope,
    progress,
    run: async (target) => {
      const key = keyOf(target);
      progress.record([
        await settleItem(
          key,
          () => options.remove(target),
          (message) => ({ key, outcome: 'already-absent', detail: `already absent: ${message}` }),
        ),
      ]);
    },
  });
  return inOrder(targets.map(keyOf), (key) => progress.get(key));
}

const FoundSchema = z.object({ key: z.string(), found: z.boolean() });

/**
 * Reads back each ID (once) in a batch that resumes from the heartbeat, and answers the IDs still present.
 * `exists` answers whether the system still has it; a 404 means gone. An ID whose read fails without
 * retry (e.g. 403) counts as present, so that nothing claims a deletion it cannot see.
 */
export async function findEach(options: {
  ids: readonly string[];
  parallelism: number;
  /** For the warning when an ID cannot be checked, e.g. "TwelveLabs asset". */
  what: string;
  exists: (id: string) => Promise<boolean>;
}): Promise<string[]> {
  const scope = activityScope();
  const progress = resumeProgress(scope, FoundSchema, (r) => r.key);
  const unique = [...new Set(options.ids)];
  await runBatch({
    units: unique.filter((id) => !progress.has(id)),
    parallelism: options.parallelism,
    scope,
    progress,
    run: async (id) => {
      let found = true;
      try {
        found = await options.exists(id);
      } catch (error) {
        if (!(error instanceof CallError)) throw error;
        if (error.failure.disposition === 'absent') found = false;
        else if (error.failure.disposition === 'item') {
          scope.warn(`cannot verify a ${options.what}; counting it as still present`, {
            id,
            error: error.failure.message,
          });
        } else throw error;
      }
      progress.record([{ key: id, found }]);
    },
  });
  return unique.filter((id) => progress.get(id)?.found);
}
