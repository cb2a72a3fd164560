import { DEFAULT_CALL_RETRY } from '../activities/http-client.js';

/**
 * The faults `bench/contenders.ts --faults=NAME` asks the sandbox for, on all three systems, as a share
 * of tries. `heavy` is the issue's: 10% 5xx, 5% 429 with a 1 s `Retry-After`, 2% dropped connections.
 */
export const FAULTS = {
  none: {},
  heavy: { error5xx: 0.1, error429: 0.05, retryAfterSeconds: 1, drop: 0.02 },
  // heavy's two parts on their own, to see what each costs
  '5xx-drops': { error5xx: 0.1, drop: 0.02 },
  '429': { error429: 0.05, retryAfterSeconds: 1 },
} as const;

const { error5xx, error429, retryAfterSeconds, drop } = FAULTS.heavy;

/** The heavy faults as the estimates draw them (`fault-tail.ts`, `fault-order.ts`): a try fails below `failed`. */
export const HEAVY_FAULTS = { tooMany: error429, failed: error5xx + error429 + drop } as const;

/**
 * Seconds a try failed by the heavy faults waits before the next, as `activities/http-client.ts` retries
 * one call: full jitter (`jitter` in [0, 1)) over a backoff that doubles from `baseMs` with each attempt
 * up to `maxMs`, and at least the `Retry-After` of a 429. `pick` is the draw that failed the try (below
 * `HEAVY_FAULTS.failed`; below `HEAVY_FAULTS.tooMany` for a 429).
 */
export function waitAfterFailedTry(
  pick: number,
  jitter: number,
  attempt: number,
  baseMs = DEFAULT_CALL_RETRY.baseMs!,
  maxMs = DEFAULT_CALL_RETRY.maxMs!,
): number {
  const backoff = jitter * Math.min(maxMs / 1000, (baseMs / 1000) * 2 ** attempt);
  return pick < HEAVY_FAULTS.tooMany ? Math.max(retryAfterSeconds, backoff) : backoff;
}
