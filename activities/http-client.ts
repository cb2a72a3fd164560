import got, { type Got, type Method } from 'got';
import { z } from 'zod';
import type { SystemName } from '../plan/index.js';
import { activityScope, throwIfCancelled } from './activity-scope.js';
import { CallError, ErrorTypes, classifyError, describeSite, type CallSite } from './http-errors.js';
import { countCall, countRetry, statusOf } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';

/** How one system is reached. */
export interface HttpClientOptions {
  system: SystemName;
  baseUrl: string;
  /** Sent with every request (API key header, cookie). */
  headers?: Record<string, string>;
  /** got's `timeout.request`: stays below the activity's start-to-close timeout. */
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

/** A system's HTTP client: one got instance, the shared limiter, the activity's cancellation. */
export interface HttpClient {
  readonly system: SystemName;
  /**
   * Sends one request and answers its validated body. Throws `CallError` with a classified failure (and
   * no trace of got's error, which carries headers and URLs) or the activity's cancellation.
   */
  call<S extends z.ZodType>(call: HttpCall<S>): Promise<z.infer<S>>;
}

/** An empty body (204) or `{}`: what the deletes answer. */
export const EmptyBody = z.union([z.literal(''), z.object({}).loose()]);

/** Builds the got instance of one system (Temporal alone retries, so got's retry is off). */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const instance: Got = got.extend({
    prefixUrl: options.baseUrl,
    responseType: 'json',
    retry: { limit: 0 },
    timeout: { request: options.timeoutMs },
    headers: { 'user-agent': 'bulk-delete', ...options.headers },
    // Redirects could carry credentials to another host; the vendors' APIs do not redirect.
    followRedirect: false,
  });

  return {
    system: options.system,
    async call<S extends z.ZodType>(call: HttpCall<S>): Promise<z.infer<S>> {
      const scope = activityScope();
      const site: CallSite = {
        system: options.system,
        method: call.method,
        route: call.route,
        target: call.target,
      };
      throwIfCancelled(scope.signal);
      // A hung request must fail as our retryable timeout before Temporal times out the whole attempt.
      const timeoutMs =
        scope.startToCloseTimeoutMs === undefined
          ? options.timeoutMs
          : Math.max(100, Math.min(options.timeoutMs, Math.floor(scope.startToCloseTimeoutMs * 0.8)));
      let body: unknown;
      try {
        const response = await options.limiter.run(
          () =>
            instance(call.path.replace(/^\//, ''), {
              method: call.method,
              searchParams: withSignature(call.searchParams, options.signParams),
              json: call.json,
              signal: scope.signal,
              timeout: { request: timeoutMs },
            }),
          scope.signal,
        );
        body = response.body;
        countCall(options.system, response.statusCode);
      } catch (error) {
        throwIfCancelled(scope.signal);
        const failure = classifyError(site, error, options.secrets);
        countCall(options.system, statusOf(error));
        if (failure?.disposition === 'retry') countRetry(options.system, failure.type);
        if (failure === undefined) throw error;
        // The vendor's Retry-After holds for the account: keep this worker's other calls back too.
        if (failure.retryAfterMs !== undefined) options.limiter.pauseFor(failure.retryAfterMs);
        throw new CallError(failure);
      }
      const parsed = call.schema.safeParse(body);
      if (!parsed.success) {
        throw new CallError({
          disposition: 'item',
          type: ErrorTypes.UnexpectedResponse,
          message: `${describeSite(site)} answered a body of an unexpected shape:\n${z.prettifyError(parsed.error)}`,
        });
      }
      return parsed.data;
    },
  };
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
