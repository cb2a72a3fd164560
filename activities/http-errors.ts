/**
 * The one place that decides what an HTTP answer or a transport error means for a deletion: the target is
 * already gone, this item failed for good, the whole batch cannot go on, or Temporal should retry.
 *
 * Messages are built here from the method, the route template, the status and the vendor's own message;
 * the transport's errors are never passed on (not even as a cause), because they may carry request headers
 * (the API key, the EnterMediaDB cookie) and URLs (Uplynk's `msg` and `sig`).
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { z } from 'zod';
import type { SystemName } from '../plan/index.js';
import { ErrorTypes, type ErrorType } from './error-types.js';

export { ErrorTypes, NON_RETRYABLE_ERROR_TYPES, type ErrorType } from './error-types.js';

/** What a failure means for the batch it happened in. */
export type Disposition =
  /** 404: the target is gone (success for a delete). */
  | 'absent'
  /** This item failed for good; the others go on. */
  | 'item'
  /** Nothing in this batch can succeed (auth, credentials): fail the activity without retry. */
  | 'batch'
  /** Transient: fail the attempt so that Temporal retries it. */
  | 'retry';

/** A call, described without secrets: which system, which route template, on which target. */
export interface CallSite {
  system: SystemName;
  method: string;
  /** The route template relative to the system's base, e.g. `/assets/{asset_id}`. */
  route: string;
  /** The ID the call is about, shown in messages (IDs are not secret). */
  target?: string | undefined;
}

/** A classified failure of one call. */
export interface CallFailure {
  disposition: Disposition;
  type: ErrorType;
  /** Method, route, target, status and the vendor's message; never a secret. */
  message: string;
  status?: number | undefined;
  /** The vendor's error code, e.g. `resource_not_exist`, when it sent one. */
  vendorCode?: string | undefined;
  /** From `Retry-After` on a 429 (or 503). */
  retryAfterMs?: number | undefined;
  /** A failure past the retry bound after which the vendor may still have applied the call. */
  mayHaveApplied?: boolean | undefined;
  /** A 404 that answered a retry of a call whose earlier answer was lost: most likely that call did it. */
  afterLostAnswer?: boolean | undefined;
}

/** An error that carries a classified failure and nothing else: safe to log, throw and serialize. */
export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(readonly failure: CallFailure) {
    super(failure.message);
  }
}

const SYSTEM_LABELS: Record<SystemName, string> = {
  twelvelabs: 'TwelveLabs',
  uplynk: 'Uplynk',
  entermedia: 'EnterMediaDB',
};

const AUTH_TYPES: Record<SystemName, ErrorType> = {
  twelvelabs: ErrorTypes.TwelveLabsAuth,
  uplynk: ErrorTypes.UplynkAuth,
  entermedia: ErrorTypes.EnterMediaAuth,
};

const AUTH_HINTS: Record<SystemName, string> = {
  twelvelabs: 'check TWELVELABS_API_KEY',
  uplynk: "check UPLYNK_OWNER_ID, UPLYNK_API_KEY and the worker's clock (signatures expire after 5 minutes)",
  entermedia: 'check ENTERMEDIA_KEY',
};

const BASE_URL_VARIABLES: Record<SystemName, string> = {
  twelvelabs: 'TWELVELABS_BASE_URL',
  uplynk: 'UPLYNK_BASE_URL',
  entermedia: 'ENTERMEDIA_BASE_URL',
};

/**
 * Why a 404 is not read as "already absent": it is not the vendor's own answer for a missing resource, so
 * it may come from a route that does not exist on the server (a base URL with a wrong path or version, a
 * proxy in between), where every target of the run would otherwise read as gone and none be deleted.
 */
const NOT_FOUND_HINTS: Record<SystemName, string> = {
  twelvelabs:
    "not TwelveLabs' resource_not_exist: the route may not exist on this server, check TWELVELABS_BASE_URL; not read as already absent",
  uplynk:
    'not an Uplynk error body: the route may not exist on this server, check UPLYNK_BASE_URL; not read as already absent',
  entermedia:
    'EnterMediaDB answers an unknown asset with rowsedited "0", not 404: the route does not exist on this server, check ENTERMEDIA_BASE_URL; not read as already absent',
};

/**
 * A 404 that is the vendor's word that the resource is gone (API.md): TwelveLabs' `resource_not_exist`,
 * Uplynk's error body (an unknown library). EnterMediaDB documents no 404: it answers an unknown asset with
 * `rowsedited` "0", so a 404 there is never an absence.
 */
function vendorSaysGone(system: SystemName, body: unknown, code: string | undefined): boolean {
  if (system === 'twelvelabs') return code === 'resource_not_exist';
  if (system === 'uplynk') return UplynkErrorBody.safeParse(body).success;
  return false;
}

// The error bodies of the three vendors (API.md); anything else is shown as text.
const TwelveLabsErrorBody = z.object({ code: z.string().optional(), message: z.string() });
const WrappedTwelveLabsErrorBody = z.object({ error: TwelveLabsErrorBody });
const UplynkErrorBody = z.object({
  '@type': z.literal('Error'),
  code: z.union([z.string(), z.number()]).optional(),
  title: z.string().optional(),
  // Not in API.md's shape, but Uplynk puts the specifics here when it has any.
  description: z.string().optional(),
});
const EnterMediaErrorBody = z.object({
  response: z.object({ status: z.string(), message: z.string().optional() }),
});

const MAX_VENDOR_MESSAGE = 300;

/**
 * The vendor's code and message from an error body of any of the three shapes, scrubbed of the given
 * secrets (a vendor might echo what it was sent) and cut to a readable length.
 */
export function vendorMessage(
  body: unknown,
  secrets: readonly string[] = [],
): { code?: string | undefined; message?: string | undefined } {
  let code: string | undefined;
  let message: string | undefined;
  const direct = TwelveLabsErrorBody.safeParse(body);
  const wrapped = WrappedTwelveLabsErrorBody.safeParse(body);
  const uplynk = UplynkErrorBody.safeParse(body);
  const entermedia = EnterMediaErrorBody.safeParse(body);
  if (wrapped.success) ({ code, message } = wrapped.data.error);
  else if (direct.success) ({ code, message } = direct.data);
  else if (uplynk.success) {
    code = uplynk.data.code === undefined ? undefined : String(uplynk.data.code);
    message = uplynk.data.description ?? uplynk.data.title;
  } else if (entermedia.success)
    message = entermedia.data.response.message ?? entermedia.data.response.status;
  else if (typeof body === 'string' && body.trim() !== '') message = body.trim();
  else if (Buffer.isBuffer(body) && body.length > 0) message = body.toString('utf8').trim();
  if (message !== undefined) {
    message = redact(message, secrets);
    if (message.length > MAX_VENDOR_MESSAGE) message = `${message.slice(0, MAX_VENDOR_MESSAGE)}…`;
  }
  return { code: code === undefined ? undefined : redact(code, secrets), message };
}

/**
 * Replaces every occurrence of each secret with `***`, and the values of Uplynk's `msg` and `sig` query
 * parameters too (a signature is a credential for five minutes).
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('***');
  return out.replace(/([?&](?:msg|sig)=)[^&\s"']*/g, '$1***');
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when absent
 * or unreadable, so that the retry policy's own backoff applies.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = parseHttpDate(text, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * An HTTP date in any of its three forms (RFC 9110 §5.6.7), always GMT: IMF-fixdate
 * (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
 * (`Sun Nov  6 08:49:37 1994`). `Date.parse` reads asctime, which names no zone, in the worker's local
 * time, and reads many strings that are no date at all.
 */
function parseHttpDate(text: string, now: number): number | undefined {
  const at = (year: number, month: string, day: string, h: string, m: string, s: string) => {
    const mon = MONTHS.indexOf(month);
    if (mon < 0) return undefined;
    const ms = Date.UTC(year, mon, Number(day), Number(h), Number(m), Number(s));
    return Number.isNaN(ms) ? undefined : ms;
  };
  let m =
    /^[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC|\+0000)$/.exec(
      text,
    );
  if (m) return at(Number(m[3]), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = /^[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC|\+0000)$/.exec(text);
  if (m) {
    // A two-digit year more than 50 years ahead is the latest past year with those digits.
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    return at(year, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  }
  m = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text);
  if (m) return at(Number(m[6]), m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!);
  return undefined;
}

/** `TwelveLabs DELETE /assets/{asset_id} (6298...)`: how messages name a call. */
export function describeSite(site: CallSite): string {
  const on = site.target === undefined ? '' : ` (${site.target})`;
  return `${SYSTEM_LABELS[site.system]} ${site.method} ${site.route}${on}`;
}

/**
 * The table: what an HTTP status means. A 404 that is the vendor's own not-found (`vendorSaysGone`) is
 * `absent`: "already absent" on a delete, "does not exist" on a read. Any other 404 fails the item as
 * `NotFoundError`, with a hint to check the base URL.
 */
export function classifyStatus(
  site: CallSite,
  status: number,
  body: unknown,
  headers: { 'retry-after'?: string | string[] | undefined; location?: string | string[] | undefined } = {},
  secrets: readonly string[] = [],
): CallFailure {
  const vendor = vendorMessage(body, secrets);
  const said = vendor.message === undefined ? '' : `: ${vendor.message}`;
  const codeNote = vendor.code === undefined ? '' : ` [${vendor.code}]`;
  const base = `${describeSite(site)} answered ${status}${codeNote}${said}`;
  const make = (disposition: Disposition, type: ErrorType, message = base): CallFailure => ({
    disposition,
    type,
    message,
    status,
    vendorCode: vendor.code,
  });

  if (status === 404) {
    if (vendorSaysGone(site.system, body, vendor.code)) return make('absent', ErrorTypes.NotFound);
    return make('item', ErrorTypes.NotFound, `${base} (${NOT_FOUND_HINTS[site.system]})`);
  }
  if (status === 401) return make('batch', AUTH_TYPES[site.system], `${base} (${AUTH_HINTS[site.system]})`);
  if (status === 403) return make('item', ErrorTypes.PermissionDenied);
  if (status === 409) return make('item', ErrorTypes.AssetReferenced);
  if (status === 400 || status === 422) return make('item', ErrorTypes.InvalidRequest);
  if (status === 408) return make('retry', ErrorTypes.RequestTimeout);
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    const type = status === 429 ? ErrorTypes.RateLimited : ErrorTypes.VendorUnavailable;
    const after = retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`;
    return { ...make('retry', type, `${base}${after}`), retryAfterMs };
  }
  if (status >= 500) return make('retry', ErrorTypes.VendorUnavailable);
  if (status >= 400) return make('item', ErrorTypes.UnexpectedClientError);
  // A status that is not a success (1xx/3xx): the vendor did something undocumented. Redirects are not
  // followed (they could carry the key or the cookie to another host); one (e.g. http to https, which
  // EnterMediaDB servers do) says where the base URL should point.
  const location = Array.isArray(headers.location) ? headers.location[0] : headers.location;
  if (status >= 300 && status < 400 && location) {
    const to = redact(location, secrets).slice(0, MAX_VENDOR_MESSAGE);
    return make(
      'item',
      ErrorTypes.UnexpectedResponse,
      `${describeSite(site)} answered ${status}, a redirect to ${to}, which is not followed: check ${BASE_URL_VARIABLES[site.system]}`,
    );
  }
  return make('item', ErrorTypes.UnexpectedResponse);
}

// Transport errors after which the connection is gone, the request sent or not (metrics count them as
// `dropped`).
const DROPPED_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

// Transport errors that mean "the connection went away": the request may or may not have been applied,
// which every step tolerates because it is idempotent. System errors by their code, undici's by theirs.
const CONNECTION_CODES = new Set([
  ...DROPPED_CODES,
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** A request that did not end within its timeout: the reason its deadline aborts it with. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly code = 'REQUEST_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

// Timeouts: the request's own deadline, undici's (no connection, no answer's headers, or a body that
// stopped coming, in time), and the system's (a connection that stopped answering: \`ETIMEDOUT\`).
const TIMEOUT_CODES = new Map([
  ['REQUEST_TIMEOUT', 'request'],
  ['ETIMEDOUT', 'connection'],
  ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
  ['UND_ERR_HEADERS_TIMEOUT', 'headers'],
  ['UND_ERR_BODY_TIMEOUT', 'body'],
]);

/** The code of a transport error (undici's or the system's), if it has one. */
function codeOf(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** What a call that got no HTTP answer ended in, as the metrics count it. */
export function transportStatus(error: unknown): 'timeout' | 'dropped' | 'error' {
  const code = codeOf(error);
  if (code === undefined) return 'error';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  return DROPPED_CODES.has(code) ? 'dropped' : 'error';
}

/**
 * An error thrown while sending a request or reading its answer (undici's, or the system's under it) as
 * a classified failure; a `CallError` as its own. Returns undefined for errors that are not about the
 * call (a bug of ours, a cancellation): the caller rethrows those as they are.
 */
export function classifyError(site: CallSite, error: unknown): CallFailure | undefined {
  if (error instanceof CallError) return error.failure;
  const code = codeOf(error);
  // Undefined also for an abort: ours (a cancellation), not the call's.
  if (code === undefined || code === 'UND_ERR_ABORTED') return undefined;
  const phase = TIMEOUT_CODES.get(code);
  if (phase !== undefined) {
    return {
      disposition: 'retry',
      type: ErrorTypes.RequestTimeout,
      message: `${describeSite(site)} got no answer in time (${phase} timeout)`,
    };
  }
  // undici's parser: the vendor's answer was not HTTP, or was cut short.
  const parser = (error as Error).name === 'HTTPParserError' || code.startsWith('HPE_');
  const system = typeof (error as { syscall?: unknown }).syscall === 'string';
  if (!CONNECTION_CODES.has(code) && !parser && !system && !code.startsWith('UND_ERR_')) return undefined;
  // Only the code: a transport's message may quote the URL, which for Uplynk holds msg and sig.
  const known = CONNECTION_CODES.has(code) || parser;
  return {
    disposition: 'retry',
    type: ErrorTypes.Connection,
    message: `${describeSite(site)} failed: ${known ? 'connection lost' : 'request failed'} (${code})`,
  };
}

/**
 * A failure as the ApplicationFailure that an activity throws: non-retryable unless it is `retry`. Its
 * details are what the vendor said, then `more`.
 */
export function toApplicationFailure(failure: CallFailure, more: unknown[] = []): ApplicationFailure {
  const details = [
    {
      type: failure.type,
      status: failure.status,
      vendorCode: failure.vendorCode,
      retryAfterMs: failure.retryAfterMs,
    },
    ...more,
  ];
  if (failure.disposition === 'retry') {
    return ApplicationFailure.create({
      message: failure.message,
      type: failure.type,
      nonRetryable: false,
      details,
      ...(failure.retryAfterMs === undefined ? {} : { nextRetryDelay: failure.retryAfterMs }),
    });
  }
  return ApplicationFailure.create({
    message: failure.message,
    type: failure.type,
    nonRetryable: true,
    details,
  });
}

/** The failure for a system whose credentials are not set: the whole activity fails at once. */
export function missingCredentials(system: SystemName, variables: readonly string[]): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${SYSTEM_LABELS[system]} is not configured on this worker: set ${variables.join(' and ')}`,
    type: ErrorTypes.MissingCredentials,
    nonRetryable: true,
    details: [{ system, missing: [...variables] }],
  });
}

/**
 * The retryable, BENIGN failure that makes the retry policy poll until the entities are ready.
 * @param processing the entities found processing (the check stops at the first ones)
 * @param checked how many entities were read in this attempt
 * @param total how many entities the activity waits for
 */
export function entitiesProcessing(
  processing: readonly string[],
  checked: number,
  total: number,
): ApplicationFailure {
  const shown = processing.slice(0, 5).join(', ');
  const more = processing.length > 5 ? ` and ${processing.length - 5} more` : '';
  return ApplicationFailure.create({
    message: `TwelveLabs entity ${shown}${more} still processing (${checked} of ${total} entities checked)`,
    type: ErrorTypes.EntityProcessing,
    nonRetryable: false,
    details: [{ processing: processing.slice(0, 100), checked, total }],
    // BENIGN: waiting is the normal path, not an error worth logging at WARN or counting in metrics.
    category: ApplicationFailureCategory.BENIGN,
  });
}

export { SYSTEM_LABELS };
