import { Agent } from 'undici';
import { z } from 'zod';
import type { SystemName } from '../plan/index.js';
import { activityScope, throwIfCancelled } from './activity-scope.js';
import {
  CallError,
  ErrorTypes,
  classifyError,
  classifyStatus,
  describeSite,
  RequestTimeoutError,
  transportStatus,
  type CallFailure,
  type CallSite,
} from './http-errors.js';
import { countCall, countRetry } from './metrics.js';
import { sleep, type RateLimiter } from './rate-limiter.js';
import { currentUnit } from './unit-context.js';

/** The HTTP methods the connectors use. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How one call is retried on transient failures (5xx, 429, timeouts, dropped connections). */
export interface CallRetryOptions {
  /** A call that keeps failing for this long fails the activity attempt (Temporal retries that). @default 120000 */
  boundMs: number;
  /** The first backoff; each next one doubles, with full jitter. @default 100 */
  baseMs?: number;
  /**
   * The longest backoff between two tries of one call while most of the system's tries succeed. A
   * `Retry-After` is waited as the vendor gives it, whatever this says. @default 2000
   */
  maxMs?: number;
  /**
   * The longest backoff once half or more of the system's recent tries failed (`FailureShare`): a vendor
   * that is down or drowning is asked less often. @default 10000
   */
  troubledMaxMs?: number;
}

/**
 * Backoffs grow from 100 ms to at most 2 s while most of a system's tries succeed. Vendors fail one call
 * at a time: a call that drew five faults in a row is unlucky, not a sign of overload, and under a 10 s cap
 * it waited up to 10 s while every other call went on (bench/engine.md, "A call's run of bad luck"). A
 * system that fails half of its tries or more is in trouble: its backoffs grow to 10 s, as before. Overload
 * is also what a 429 says: it slows the whole system (`RateLimiter.backOff`), and its `Retry-After` is
 * waited as given.
 */
export const DEFAULT_CALL_RETRY: CallRetryOptions = {
  boundMs: 120_000,
  baseMs: 100,
  maxMs: 2_000,
  troubledMaxMs: 10_000,
};

/**
 * The share of a system's recent tries that failed transiently (5xx, 429, timeouts, drops), as an
 * exponentially weighted average over about its last 50 tries. `troubled` once it reaches one half.
 */
export class FailureShare {
  private share = 0;

  /** One try ended: failed transiently, or answered (a success or a refusal). */
  note(failed: boolean): void {
    this.share += ((failed ? 1 : 0) - this.share) / 50;
  }

  get troubled(): boolean {
    return this.share >= 0.5;
  }
}

/** How one system is reached. */
export interface HttpClientOptions {
  system: SystemName;
  baseUrl: string;
  /** Sent with every request (API key header, cookie). */
  headers?: Record<string, string>;
  /**
   * How long one request may take, from its connection to its answer's last byte; shortened to stay
   * below the activity's start-to-close timeout.
   */
  timeoutMs: number;
  /** Shared by every activity of the worker for this system. */
  limiter: RateLimiter;
  /** Scrubbed from any vendor text that ends up in a message. */
  secrets: readonly string[];
  /**
   * Query parameters computed when the request actually starts (after any wait on the limiter), e.g.
   * Uplynk's signature, whose timestamp must be fresh.
   */
  signParams?: () => Record<string, string>;
  /** Per-call retry of transient failures. @default DEFAULT_CALL_RETRY */
  retry?: CallRetryOptions;
  /** Told of every retried failure (for metrics and logs). */
  onRetry?: (failure: CallFailure) => void;
}

/** One request, described by its route template (for messages) and its concrete path (for the wire). */
export interface HttpCall<S extends z.ZodType> {
  method: Method;
  /** The route template relative to the base, e.g. `/assets/{asset_id}`: what messages and stats show. */
  route: string;
  /** The concrete path relative to the base, IDs URL-encoded, e.g. `/assets/6298d673f1090f1100476d4c`. */
  path: string;
  /** The ID the call is about, for messages. */
  target?: string;
  searchParams?: URLSearchParams | Record<string, string | number | boolean>;
  json?: unknown;
  /** The documented shape of a successful body; a body that does not match is `UnexpectedResponseError`. */
  schema: S;
}

/** A system's HTTP client: one connection pool, the shared limiter, the activity's cancellation. */
export interface HttpClient {
  readonly system: SystemName;
  /**
   * Sends one request and answers its validated body. Throws `CallError` with a classified failure (and
   * no trace of the transport's error, which may carry headers and URLs) or the activity's cancellation.
   */
  call<S extends z.ZodType>(call: HttpCall<S>): Promise<z.infer<S>>;
}

/** An empty body (204) or `{}`: what the deletes answer. */
export const EmptyBody = z.union([z.literal(''), z.object({}).loose()]);

/**
 * Builds the client of one system: its own undici connection pool (keep-alive; idle sockets do not keep
 * the process alive), no retry of undici's own (this client retries per call, Temporal per attempt), no
 * redirects (they could carry credentials to another host; the vendors' APIs do not redirect).
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base = new URL(options.baseUrl);
  const origin = base.origin;
  // The base's path, ending with one slash, before each call's path (which has its leading slash cut).
  const basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const dispatcher = new Agent({ connect: { timeout: options.timeoutMs } });
  const headers: Record<string, string> = {
    'user-agent': 'bulk-delete',
    accept: 'application/json',
    ...options.headers,
  };
  const jsonHeaders = { ...headers, 'content-type': 'application/json' };
  const retry = { ...DEFAULT_CALL_RETRY, ...options.retry };
  // Shared by every call of this client: one per system in a worker.
  const failures = new FailureShare();
  /** Where a call went, for the messages of its failures (built only when one fails). */
  const siteOf = (call: HttpCall<z.ZodType>): CallSite => ({
    system: options.system,
    method: call.method,
    route: call.route,
    target: call.target,
  });

  return {
    system: options.system,
    async call<S extends z.ZodType>(call: HttpCall<S>): Promise<z.infer<S>> {
      const scope = activityScope();
      // Marked when a try failed in a way after which the vendor may have applied it and it is sent again.
      const unit = currentUnit();
      let firstFailureAt = 0;
      // True once a try of this call failed in a way after which the vendor may have applied it.
      let triedMayHaveApplied = false;
      /**
       * When the workflow asked the phase to stop, a call that will not be sent again ends here. If an
       * earlier try may have been applied, it ends as a failure that says so, for the ledger: a stop
       * must not hide a change. Otherwise the cancellation propagates (a worker shutting down, too).
       */
      const stopIfAsked = (last: CallFailure | undefined) => {
        if (!scope.signal.aborted) return;
        if (last && triedMayHaveApplied && scope.cancelRequested()) {
          throw new CallError({
            ...last,
            disposition: 'item',
            message: `stopped before it was sent again; an earlier try may have been applied (${last.message})`,
            mayHaveApplied: true,
          });
        }
        throwIfCancelled(scope.signal);
      };
      let failure: CallFailure | undefined;
      for (let attempt = 1; ; attempt++) {
        stopIfAsked(failure);
        try {
          const answer = await once(call, scope, unit);
          failures.note(false);
          options.limiter.answered(false);
          return answer;
        } catch (error) {
          if (!(error instanceof CallError)) {
            throwIfCancelled(scope.signal);
            throw error;
          }
          failure = error.failure;
          failures.note(failure.disposition === 'retry');
          // The vendor's rate, as its answers tell it (a failure without an answer tells nothing of it).
          if (failure.status !== undefined) options.limiter.answered(failure.status === 429);
        }
        // An answer (a 404, a refusal) is recorded even when a stop arrived meanwhile: the call was made.
        if (failure.disposition !== 'retry') {
          if (unit?.lostAnswer && failure.disposition === 'absent') failure.afterLostAnswer = true;
          // Refused after a try of this call whose answer was lost: that try may have done it (a vendor
          // may refuse a delete of what is gone with a 400, not a 404). The ledger must not say "failed"
          // alone for a change that may have been made.
          if (triedMayHaveApplied && failure.disposition === 'item' && !failure.mayHaveApplied) {
            failure = {
              ...failure,
              message: `${failure.message} (after a try whose answer was lost, which may have been applied)`,
              mayHaveApplied: true,
            };
          }
          throw new CallError(failure);
        }
        // A read changes nothing, whatever happened to its answer.
        if (call.method !== 'GET' && mayHaveApplied(failure)) {
          triedMayHaveApplied = true;
          if (unit) unit.lostAnswer = true;
        }
        stopIfAsked(failure);
        const now = Date.now();
        firstFailureAt ||= now;
        const failingMs = now - firstFailureAt;
        if (failingMs >= retry.boundMs) {
          throw new CallError({
            ...failure,
            message: `${failure.message} (still failing after ${attempt} tries in ${Math.round(failingMs / 1000)} s)`,
            mayHaveApplied: unit?.lostAnswer === true || mayHaveApplied(failure),
          });
        }
        // Full jitter: spreads the retries of many lanes that failed together. A `Retry-After` is the
        // vendor's own word on when to come back: waited as given (at least one base backoff), not stretched
        // by this call's earlier faults.
        const delay = retryDelay(attempt, failure.retryAfterMs, {
          baseMs: retry.baseMs,
          maxMs: failures.troubled ? retry.troubledMaxMs : retry.maxMs,
        });
        if (failure.retryAfterMs !== undefined && failingMs + failure.retryAfterMs > retry.boundMs) {
          // The vendor asks for a longer wait than this call has left: fail the attempt now (Temporal
          // retries it later) rather than send again before the vendor said to.
          throw new CallError({
            ...failure,
            message: `${failure.message} (Retry-After past this call's retry bound after ${attempt} tries)`,
            mayHaveApplied: unit?.lostAnswer === true || mayHaveApplied(failure),
          });
        }
        // A 429 is about the account: every lane of this system slows down, not only this one.
        if (failure.status === 429) options.limiter.backOff();
        options.onRetry?.(failure);
        const done = unit?.waits?.retry(failure.message.split('\n')[0] ?? failure.type);
        try {
          await sleep(Math.min(delay, Math.max(0, retry.boundMs - failingMs)), scope.signal);
        } catch (error) {
          stopIfAsked(failure);
          throw error;
        } finally {
          done?.();
        }
      }
    },
  };

  async function once<S extends z.ZodType>(
    call: HttpCall<S>,
    scope: ReturnType<typeof activityScope>,
    unit: ReturnType<typeof currentUnit>,
  ): Promise<z.infer<S>> {
    // A hung request must fail as our retryable timeout before Temporal times out the whole attempt.
    const timeoutMs =
      scope.startToCloseTimeoutMs === undefined
        ? options.timeoutMs
        : Math.max(100, Math.min(options.timeoutMs, Math.floor(scope.startToCloseTimeoutMs * 0.8)));
    // Told to the phase's heartbeat only while the limiter holds the call back.
    const queued =
      unit?.waits && options.limiter.saturated()
        ? unit.waits.queue(options.system, () => options.limiter.describe())
        : undefined;
    let answer: { status: number; headers: Record<string, string | string[] | undefined>; text: string };
    try {
      answer = await options.limiter.run(
        async () => {
          queued?.();
          const query = withSignature(call.searchParams, options.signParams);
          const json = call.json === undefined ? undefined : JSON.stringify(call.json);
          // Not the activity's cancellation: a request already sent finishes (bounded by its timeout), so
          // that its answer is recorded when the workflow stops the phase or the worker shuts down. Its own
          // deadline covers the whole request, from the connection to the body's last byte.
          const deadline = new AbortController();
          const timer = setTimeout(() => deadline.abort(new RequestTimeoutError(timeoutMs)), timeoutMs);
          try {
            const response = await dispatcher.request({
              origin,
              path: `${basePath}${call.path.replace(/^\//, '')}${query?.size ? `?${query.toString()}` : ''}`,
              method: call.method,
              headers: json === undefined ? headers : jsonHeaders,
              body: json,
              signal: deadline.signal,
            });
            return {
              status: response.statusCode,
              headers: response.headers,
              text: await response.body.text(),
            };
          } finally {
            clearTimeout(timer);
          }
        },
        scope.signal,
        unit?.rank,
      );
    } catch (error) {
      queued?.();
      // Stopped while waiting for the limiter: no request was sent.
      if (scope.signal.aborted && error === scope.signal.reason) throw error;
      // A request that failed while a stop arrived is still classified: it may have been applied.
      const failure = classifyError(siteOf(call), error);
      countCall(options.system, transportStatus(error));
      if (failure?.disposition === 'retry') countRetry(options.system, failure.type);
      if (failure === undefined) throw error;
      throw new CallError(failure);
    }
    countCall(options.system, answer.status);
    let body: unknown = answer.text;
    let notJson = false;
    if (answer.text !== '') {
      try {
        body = JSON.parse(answer.text);
      } catch {
        notJson = true;
      }
    }
    if (answer.status < 200 || answer.status > 299) {
      const failure = classifyStatus(siteOf(call), answer.status, body, answer.headers, options.secrets);
      if (failure.disposition === 'retry') countRetry(options.system, failure.type);
      throw new CallError(failure);
    }
    if (notJson) {
      countRetry(options.system, ErrorTypes.ResponseNotJson);
      throw new CallError({
        disposition: 'retry',
        type: ErrorTypes.ResponseNotJson,
        message: `${describeSite(siteOf(call))} answered ${answer.status} with a body that is not JSON`,
        status: answer.status,
      });
    }
    const parsed = call.schema.safeParse(body);
    if (!parsed.success) {
      throw new CallError({
        disposition: 'item',
        type: ErrorTypes.UnexpectedResponse,
        message: `${describeSite(siteOf(call))} answered a body of an unexpected shape:\n${z.prettifyError(parsed.error)}`,
        status: answer.status,
        // A success status: the vendor took the call, whatever its body says.
        ...(call.method === 'GET' ? {} : { mayHaveApplied: true }),
      });
    }
    return parsed.data;
  }
}

/**
 * How long a call waits before its next try, after `attempt` tries failed: the last failure's
 * `Retry-After` as given (at least `baseMs`), or else a full-jitter backoff of up to `baseMs` × 2^attempt,
 * capped at `maxMs`. `random` is in [0, 1).
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  { baseMs = DEFAULT_CALL_RETRY.baseMs!, maxMs = DEFAULT_CALL_RETRY.maxMs! }: Partial<CallRetryOptions> = {},
  random = Math.random(),
): number {
  if (retryAfterMs !== undefined) return Math.max(retryAfterMs, baseMs);
  return random * Math.min(maxMs, baseMs * 2 ** attempt);
}

/**
 * True for a failure after which the vendor may have applied the call: the answer was lost (dropped
 * connection, timeout, a body cut short), a success status whose body could not be read (the vendor took
 * the call), or a 5xx other than 503 (a gateway may answer it after the service acted). 429 and 503 are
 * refusals before anything was done.
 */
function mayHaveApplied(failure: CallFailure): boolean {
  if (failure.status === undefined) return true;
  if (failure.status >= 200 && failure.status <= 299) return true;
  return failure.status >= 500 && failure.status !== 503;
}

function withSignature(
  params: HttpCall<z.ZodType>['searchParams'],
  sign: (() => Record<string, string>) | undefined,
): URLSearchParams | undefined {
  if (params === undefined && sign === undefined) return undefined;
  const out = new URLSearchParams();
  if (params instanceof URLSearchParams) params.forEach((value, key) => out.append(key, value));
  else if (params) for (const [key, value] of Object.entries(params)) out.append(key, String(value));
  if (sign) for (const [key, value] of Object.entries(sign())) out.append(key, value);
  return out;
}
