/**
 * A per-system limit that every activity of a worker process shares: at most `concurrency` requests in
 * flight and, optionally, at most `maxRps` request starts per second. Vendors count their rate limits per
 * account, not per activity, so one limiter per system lives in the worker's deps, never per call.
 */
import { WaiterQueue, type QueuedWaiter } from './waiter-queue.js';

/** Settings of one system's limiter. */
export interface RateLimiterOptions {
  /** Requests in flight at once across the whole worker process. */
  concurrency: number;
  /**
   * Request starts in any calendar second across the whole worker process, at most (the vendors and the
   * sandbox count per calendar second); unset means no rate limit.
   */
  maxRps?: number | undefined;
}

/** Bounds concurrency and request rate for one system. */
export interface RateLimiter {
  readonly concurrency: number;
  readonly maxRps: number | undefined;
  /**
   * Runs `fn` once a slot is free and the rate allows another start. Waiting ends early with the signal's
   * reason when `signal` aborts, so a cancelled activity does not sit in the queue. Waiting calls get their
   * slot by `rank`, lowest first (calls without one last), in arrival order among equals.
   */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal, rank?: number): Promise<T>;
  /**
   * The vendor said "too many" (429): halve the requests in flight for this system (at most once a
   * second, never below a quarter of `concurrency`), then let them grow back by one per round of
   * successes (additive increase, multiplicative decrease): all lanes slow down together, none stops.
   */
  backOff(): void;
  /**
   * Counts one answer of this system, `tooMany` for a 429. The vendor's rate is learnt from them: a
   * calendar second in which 429s were at least `RATE_LEARNING.exceededShare` of the answers (and at
   * least `minTooMany`) says the account's rate is exceeded, whatever the worker was told; from then on
   * starts are paced at `backTo` of the answers that got through in that second. Each second with fewer
   * than `calmShare` 429s raises that pace by `growth`; `forgetAfterCalm` such seconds in a row forget it.
   * Scattered 429s (a share below `exceededShare`) leave the pace alone: the concurrency's halving
   * (`backOff`) answers them. A configured `maxRps` stays a ceiling.
   */
  answered(tooMany: boolean): void;
  /** Requests allowed in flight now (at most `concurrency`). */
  readonly allowed: number;
  /** True when a call asking now would wait: every slot taken, others queued, or a rate to keep. */
  saturated(): boolean;
  /** What it allows now, e.g. "32 in flight, at most 10 requests/s" or "8 of 32 in flight after a 429". */
  describe(): string;
  /**
   * Changes the request starts allowed per second from now on; 0 holds every start until a later call
   * raises it. Starts already waiting are paced at the new rate. Only for a limiter built with `maxRps`
   * (worker/rate-shares.ts moves it as the worker's share of the organization's limit changes).
   */
  setMaxRps(maxRps: number): void;
  /**
   * What this system asked of the limiter since the last call: the requests started, and how long starts
   * were held back by the rate: while they are, more rate would be used. Resets the
   * counts.
   */
  takeDemand(): { started: number; heldBackMs: number };
}

interface Waiter extends QueuedWaiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal | undefined;
  onAbort?: () => void;
}

/**
 * How a limiter paces `maxRps` starts a calendar second: evenly, `interval` ms apart, two a second below
 * `maxRps`; a start that a late timer delayed may be followed by the next up to `tolerance` ms early, so
 * that a busy event loop does not lose the rate (a generic cell rate algorithm). A calendar second then
 * sees at most floor((1000 + tolerance) / interval) + 1 = floor(maxRps) - 1 starts: one a second is left
 * for the jitter between a start here and its arrival at the vendor, and for rate changes.
 * @example paceOf(50) // { interval: 1000 / 48, tolerance: 500 / 48 }
 */
export function paceOf(maxRps: number): { interval: number; tolerance: number } {
  if (maxRps >= 3) {
    const interval = 1000 / (Math.floor(maxRps) - 2);
    return { interval, tolerance: interval / 2 };
  }
  // Below 3 a second: one start a second at most, none early.
  return { interval: 1000 / Math.min(1, maxRps), tolerance: 0 };
}

/** How a limiter learns a vendor's rate from its 429s (`RateLimiter.answered`). */
export const RATE_LEARNING = {
  /** A second whose answers were at least this share 429... */
  exceededShare: 0.25,
  /** ...and at least this many, says the rate is exceeded. */
  minTooMany: 5,
  /** The pace then: this share of the answers that got through in that second. */
  backTo: 0.9,
  /** A second with fewer 429s than this share is calm: the pace grows by `growth` (at least 1/s). */
  calmShare: 0.1,
  growth: 0.05,
  /** Calm seconds in a row after which the learnt pace is forgotten. */
  forgetAfterCalm: 30,
} as const;

/**
 * A limiter that spaces request starts evenly (`paceOf(maxRps)`) rather than in bursts: the vendors and
 * the sandbox count per calendar second, and an even pace never crosses a second's budget.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  }
  if (options.maxRps !== undefined && !(options.maxRps > 0)) {
    throw new RangeError(`maxRps must be positive, got ${options.maxRps}`);
  }
  // Built with a rate (configured, or leased by worker/rate-shares.ts through `setMaxRps`).
  const configuredPace = options.maxRps !== undefined;
  let maxRps = options.maxRps;
  // The pace learnt from 429s (`answered`), when the vendor said its rate was exceeded.
  let learnt: number | undefined;
  // The rate starts keep: the lower of the two; undefined for none.
  let pace = maxRps;
  let paced = pace !== undefined;
  let { interval, tolerance } = pace ? paceOf(pace) : { interval: 0, tolerance: 0 };
  // This calendar second's answers and 429s, and the calm seconds in a row since the pace was learnt.
  let second = 0;
  let answers = 0;
  let tooManyAnswers = 0;
  let calmSeconds = 0;
  let started = 0;
  let heldBackMs = 0;
  // Starts pass the gate one at a time: at most one waits for its time at once, since this time.
  let heldBackSince: number | undefined;
  // Starts waiting for their time wake when the rate changes, to be paced anew.
  let rateChanged: Array<() => void> = [];
  let active = 0;
  const queue = new WaiterQueue<Waiter>();
  // The congestion window: starts wide open, halves on a 429, grows back by 1/window per completed request.
  let window = options.concurrency;
  let lastBackOff = 0;
  const open = () => Math.max(1, Math.floor(window));

  function release(): void {
    active--;
    window = Math.min(options.concurrency, window + 1 / window);
    // As many as the window now allows: once it has grown back past the calls in flight after a 429,
    // one completion may open two slots, and the calls in flight must grow with it.
    while (active < open()) {
      const next = queue.shift();
      if (!next) return;
      active++;
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve();
    }
  }

  function acquireSlot(signal?: AbortSignal, rank = Infinity): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (active < open() && queue.size === 0) {
      active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { rank, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          queue.remove(waiter);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      queue.push(waiter);
    });
  }

  // Starts pass one at a time through a chain; each waits for its theoretical time (`interval` after the
  // previous one's), less at most `tolerance` when timers fired late: a late start catches up a little,
  // never enough to crowd a calendar second.
  let gate: Promise<void> = Promise.resolve();
  let nextStartAt = -Infinity;

  function awaitStartTime(signal?: AbortSignal): Promise<void> {
    if (!paced) {
      started++;
      return Promise.resolve();
    }
    const turn = gate.then(async () => {
      for (;;) {
        const wait = pace === 0 ? Infinity : nextStartAt - tolerance - Date.now();
        if (wait <= 0) break;
        heldBackSince = Date.now();
        await (wait === Infinity
          ? new Promise<void>((resolve) => rateChanged.push(resolve))
          : sleepUntilRateChange(wait));
        if (heldBackSince !== undefined) heldBackMs += Date.now() - heldBackSince;
        heldBackSince = undefined;
      }
      nextStartAt = Math.max(nextStartAt, Date.now()) + interval;
      started++;
    });
    gate = turn;
    return signal ? abortable(turn, signal) : turn;
  }

  /** Sets the pace from the configured (or leased) rate and the learnt one; starts waiting are paced anew. */
  function repace(): void {
    const next = maxRps === undefined ? learnt : learnt === undefined ? maxRps : Math.min(maxRps, learnt);
    if (next === pace) return;
    pace = next;
    paced = pace !== undefined;
    ({ interval, tolerance } = pace ? paceOf(pace) : { interval: 0, tolerance: 0 });
    const waiting = rateChanged;
    rateChanged = [];
    for (const wake of waiting) wake();
  }

  /** What the last calendar second's answers say of the vendor's rate. */
  function learnFrom(answered: number, tooMany: number): void {
    const L = RATE_LEARNING;
    if (tooMany >= L.minTooMany && tooMany >= answered * L.exceededShare) {
      learnt = Math.max(1, (answered - tooMany) * L.backTo);
      calmSeconds = 0;
    } else if (learnt !== undefined && tooMany < answered * L.calmShare) {
      calmSeconds++;
      learnt = calmSeconds >= L.forgetAfterCalm ? undefined : learnt + Math.max(1, learnt * L.growth);
    }
    repace();
  }

  function sleepUntilRateChange(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        rateChanged = rateChanged.filter((r) => r !== done);
        resolve();
      }
      rateChanged.push(done);
    });
  }

  return {
    concurrency: options.concurrency,
    get maxRps() {
      return maxRps;
    },
    async run<T>(fn: () => Promise<T>, signal?: AbortSignal, rank?: number): Promise<T> {
      await acquireSlot(signal, rank);
      try {
        await awaitStartTime(signal);
        return await fn();
      } finally {
        release();
      }
    },
    backOff(): void {
      // 429s that answer requests sent within the same second are one signal, not several; and the
      // window never closes below a quarter of the concurrency, so that scattered 429s slow a system
      // without stopping it (the refused call itself waits its Retry-After).
      if (Date.now() - lastBackOff < 1000) return;
      lastBackOff = Date.now();
      window = Math.max(1, options.concurrency / 4, window / 2);
    },
    answered(tooMany: boolean): void {
      const now = Math.floor(Date.now() / 1000);
      if (now !== second) {
        // Only a second just ended tells the rate; answers older than that tell nothing now.
        if (now === second + 1 && answers > 0) learnFrom(answers, tooManyAnswers);
        second = now;
        answers = 0;
        tooManyAnswers = 0;
      }
      answers++;
      if (tooMany) tooManyAnswers++;
    },
    get allowed() {
      return open();
    },
    saturated(): boolean {
      return active >= open() || queue.size > 0 || paced;
    },
    describe(): string {
      const slots =
        open() < options.concurrency
          ? `${open()} of ${options.concurrency} in flight after a 429`
          : `${options.concurrency} in flight`;
      if (pace === undefined) return slots;
      const learning = learnt !== undefined && pace === learnt ? ' (learnt from its 429s)' : '';
      return `${slots}, at most ${Math.round(pace)} requests/s${learning}`;
    },
    setMaxRps(rps: number): void {
      if (!configuredPace) throw new RangeError('setMaxRps needs a limiter built with maxRps');
      if (!(rps >= 0) || !Number.isFinite(rps)) throw new RangeError(`maxRps must be 0 or more, got ${rps}`);
      if (rps === maxRps) return;
      maxRps = rps;
      repace();
    },
    takeDemand() {
      const now = Date.now();
      if (heldBackSince !== undefined) {
        heldBackMs += now - heldBackSince;
        heldBackSince = now;
      }
      const demand = { started, heldBackMs };
      started = 0;
      heldBackMs = 0;
      return demand;
    },
  };
}

/** The signal's reason (Temporal's CancelledFailure for an activity) as the error to reject with. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/**
 * `promise`, or the signal's reason as soon as it aborts. The turn it stood for still passes (a wasted
 * slot at worst), so that the chain of starts is never broken.
 */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      if (signal) reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
