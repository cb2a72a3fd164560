import { DEFAULT_CALL_RETRY, retryDelay } from '../activities/http-client.js';

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
  // heavy, and each system's account allows 100 requests in a calendar second (429 with a 1 s
  // `Retry-After` past it), with no limit configured on the worker: what docs/rehearsing.md rehearses.
  limited: { error5xx: 0.1, error429: 0.05, retryAfterSeconds: 1, drop: 0.02, maxRequestsPerSecond: 100 },
} as const;

const { error5xx, error429, retryAfterSeconds, drop } = FAULTS.heavy;

/** The heavy faults as the estimates draw them (`fault-tail.ts`, `fault-order.ts`): a try fails below `failed`. */
export const HEAVY_FAULTS = { tooMany: error429, failed: error5xx + error429 + drop } as const;

/**
 * Seconds a try failed by the heavy faults waits before the next, as `activities/http-client.ts` retries
 * one call (`retryDelay`): the `Retry-After` of a 429 as given, or else full jitter (`jitter` in [0, 1))
 * over a backoff that doubles from `baseMs` with each attempt up to `maxMs`. `pick` is the draw that
 * failed the try (below `HEAVY_FAULTS.failed`; below `HEAVY_FAULTS.tooMany` for a 429).
 */
export function waitAfterFailedTry(
  pick: number,
  jitter: number,
  attempt: number,
  baseMs = DEFAULT_CALL_RETRY.baseMs!,
  maxMs = DEFAULT_CALL_RETRY.maxMs!,
): number {
  const retryAfterMs = pick < HEAVY_FAULTS.tooMany ? retryAfterSeconds * 1000 : undefined;
  return retryDelay(attempt, retryAfterMs, { baseMs, maxMs }, jitter) / 1000;
}
