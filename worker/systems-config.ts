import { z } from 'zod';
import type { SystemName } from '../plan/index.js';
import { missingVariables, type SystemsSettings } from '../activities/system-settings.js';
import { emptyIsUnset } from '../config/env-file.js';

/** The vendors' own base URLs, used when the environment names none. EnterMediaDB is self-hosted: no default. */
export const DEFAULT_BASE_URLS = {
  twelvelabs: 'https://api.twelvelabs.io/v1.3',
  uplynk: 'https://services.uplynk.com/api/v4',
} as const;

const BaseUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://host/path' })
  .refine(
    (url) => {
      // Not a URL at all: the check above says so.
      if (!URL.canParse(url)) return true;
      const parsed = new URL(url);
      return !parsed.search && !parsed.hash && !parsed.username && !parsed.password;
    },
    // Never quoted: a user:password@ may be a secret.
    'must have no query (?…), fragment (#…) or user:password@: the calls would drop them',
  );
/** A number as written in decimal: `Number()` would also take "0x10", "1e3" or "Infinity". */
const Decimal = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a decimal number, e.g. 16 or 2.5');
/**
 * Sent as given in a header, a query signature or a cookie: a line break or a control character (a secret
 * file's trailing newline) would fail every call with a transport error, and a space is no key's.
 */
const Secret = z
  .string()
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII, without spaces or line breaks (a trailing newline?)');
/** The EnterMediaDB key is a cookie value: one of these would end it, or the cookie. */
const CookieSecret = Secret.regex(/^[^;,"\\]+$/, 'must not hold ";", ",", \'"\' or "\\" (a cookie value)');
const Concurrency = Decimal.pipe(z.coerce.number<string>().int().min(1).max(1000));
const MaxRps = Decimal.pipe(z.coerce.number<string>().positive().max(100_000));

function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(emptyIsUnset, schema.optional());
}
function withDefault<T extends z.ZodType>(schema: T, value: z.output<T>) {
  return z.preprocess(emptyIsUnset, schema.default(value as never));
}

/** The environment variables of the three systems (DESIGN.md), as the worker reads them at start-up. */
export const SystemsEnv = z.object({
  TWELVELABS_BASE_URL: withDefault(BaseUrl, DEFAULT_BASE_URLS.twelvelabs),
  TWELVELABS_API_KEY: optional(Secret),
  /** Requests in flight per worker; chosen from bench/engine.md (8 and 16 left the worker waiting). @default 32 */
  TWELVELABS_CONCURRENCY: withDefault(Concurrency, 32),
  /** Unset: no limit of our own (the vendor's 429s are honoured either way). */
  TWELVELABS_MAX_RPS: optional(MaxRps),
  UPLYNK_BASE_URL: withDefault(BaseUrl, DEFAULT_BASE_URLS.uplynk),
  UPLYNK_OWNER_ID: optional(Secret),
  UPLYNK_API_KEY: optional(Secret),
  /** @default 16 */
  UPLYNK_CONCURRENCY: withDefault(Concurrency, 16),
  UPLYNK_MAX_RPS: optional(MaxRps),
  ENTERMEDIA_BASE_URL: optional(BaseUrl),
  ENTERMEDIA_KEY: optional(CookieSecret),
  /** @default 16 */
  ENTERMEDIA_CONCURRENCY: withDefault(Concurrency, 16),
  ENTERMEDIA_MAX_RPS: optional(MaxRps),
  /** Timeout of one HTTP request, below the activities' start-to-close timeout. @default 30000 */
  BULK_DELETE_HTTP_TIMEOUT_MS: withDefault(
    Decimal.pipe(z.coerce.number<string>().int().min(100).max(600_000)),
    30_000,
  ),
  /**
   * How many worker processes share the systems' rate limits: each keeps to its share of every
   * `*_MAX_RPS` (the vendors count per organization, not per process). @default 1
   */
  BULK_DELETE_WORKER_COUNT: withDefault(Decimal.pipe(z.coerce.number<string>().int().min(1).max(1000)), 1),
  /** How long one call may keep failing transiently before the attempt fails. @default 120000 */
  BULK_DELETE_CALL_RETRY_MS: withDefault(
    Decimal.pipe(z.coerce.number<string>().int().min(0).max(3_600_000)),
    120_000,
  ),
  /**
   * Units a phase works on at once per request slot: a unit waiting out a backoff holds no slot.
   * @default 4
   */
  BULK_DELETE_UNITS_PER_SLOT: withDefault(Decimal.pipe(z.coerce.number<string>().int().min(1).max(64)), 4),
  /** The longest wait for an entity to be ready again. @default 600000 */
  BULK_DELETE_ENTITY_WAIT_MS: withDefault(
    Decimal.pipe(z.coerce.number<string>().int().min(1000).max(86_400_000)),
    600_000,
  ),
});
export type SystemsEnv = z.infer<typeof SystemsEnv>;

/**
 * Reads and validates the systems' settings from the environment. Credentials may be missing (the
 * activities of that system then fail with `MissingCredentialsError`), but a malformed value is not.
 * @throws Error naming every malformed variable, never quoting a secret.
 */
export function loadSystemsConfig(env: NodeJS.ProcessEnv = process.env): SystemsSettings {
  const parsed = SystemsEnv.safeParse(env);
  if (!parsed.success) {
    // prettifyError names the path and the rule; zod 4 does not echo the input into the message.
    throw new Error(`bad systems configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const share = (maxRps: number | undefined) => perWorkerRate(maxRps, e.BULK_DELETE_WORKER_COUNT);
  return {
    twelvelabs: {
      baseUrl: e.TWELVELABS_BASE_URL,
      apiKey: e.TWELVELABS_API_KEY,
      concurrency: e.TWELVELABS_CONCURRENCY,
      maxRps: share(e.TWELVELABS_MAX_RPS),
    },
    uplynk: {
      baseUrl: e.UPLYNK_BASE_URL,
      ownerId: e.UPLYNK_OWNER_ID,
      apiKey: e.UPLYNK_API_KEY,
      concurrency: e.UPLYNK_CONCURRENCY,
      maxRps: share(e.UPLYNK_MAX_RPS),
    },
    entermedia: {
      baseUrl: e.ENTERMEDIA_BASE_URL,
      key: e.ENTERMEDIA_KEY,
      concurrency: e.ENTERMEDIA_CONCURRENCY,
      maxRps: share(e.ENTERMEDIA_MAX_RPS),
    },
    requestTimeoutMs: e.BULK_DELETE_HTTP_TIMEOUT_MS,
    callRetryBoundMs: e.BULK_DELETE_CALL_RETRY_MS,
    entityWaitMs: e.BULK_DELETE_ENTITY_WAIT_MS,
    unitsPerSlot: e.BULK_DELETE_UNITS_PER_SLOT,
  };
}

/**
 * One worker's share of an organization's request rate: the limiter keeps every calendar second within it
 * (activities/rate-limiter.ts, `paceOf`), so the shares of the workers add up to the limit at most.
 * @example perWorkerRate(100, 2) // 50
 */
export function perWorkerRate(maxRps: number | undefined, workers: number): number | undefined {
  if (maxRps === undefined) return undefined;
  return maxRps / Math.max(1, workers);
}

/**
 * One line per system saying where it points and whether it can be used, for the worker's start-up log.
 * Names missing variables, never their values or any secret.
 * @example "twelvelabs: https://api.twelvelabs.io/v1.3 (configured, 32 at once, no rate limit)"
 */
export function describeSystems(settings: SystemsSettings): string[] {
  const systems: SystemName[] = ['twelvelabs', 'uplynk', 'entermedia'];
  return systems.map((system) => {
    const s = settings[system];
    const missing = missingVariables(settings, system);
    const where = s.baseUrl ? withoutUserInfo(s.baseUrl) : '(no base URL)';
    if (missing.length > 0) return `${system}: ${where} (not configured: ${missing.join(', ')} unset)`;
    const rate = s.maxRps ? `at most ${s.maxRps} requests/s` : 'no rate limit';
    return `${system}: ${where} (configured, ${s.concurrency} at once, ${rate})`;
  });
}

/** A URL may carry `user:password@`; the log shows the rest only. */
function withoutUserInfo(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
