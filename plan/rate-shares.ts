/**
 * The arithmetic of shared rate limits, pure: the coordinator workflow (workflows/rate-shares.workflow.ts)
 * keeps a `SharesState` and answers every worker's `ShareRequest` with `decideShares`; the worker's lease
 * loop (worker/rate-shares.ts) applies the answer. No I/O, no clock but the `now` it is given.
 *
 * What is counted: request starts a calendar second, per system, for the whole organization. A worker
 * that holds a grant of `g` starts at most `g` requests in any calendar second (its limiter paces below
 * it: activities/rate-limiter.ts, `paceOf`); a worker on its static share at most `limit / workerCount`.
 *
 * Why the sum never exceeds the limit (docs/architecture.md, "Shared rate limits", says it in prose):
 * - Every grant the coordinator hands out becomes a claim of that worker, valid `TERM_MS` from the time
 *   the coordinator decided it. The worker uses a grant only `TERM_MS` from the time it *sent* the
 *   request, which is earlier: its use always lies inside the claim.
 * - A worker holds its largest unexpired claim: a reduced grant frees capacity only when the larger one
 *   expires, because until then the worker may not have heard of the reduction, or when the worker
 *   renews quoting the reduced grant (it has switched to it before it sent that request).
 * - A worker that says it is on (or may soon be on) its static share is given a claim of the static share
 *   too. Of the `workerCount` workers, those that hold no claim may be on their static share: each is
 *   reserved it.
 * - A new grant is at most the limit less everything the others hold or are reserved at that moment
 *   (and less one request a second per worker, for rate changes within a second and network jitter).
 *   At any instant, take the grant issued last among those in use: when it was issued, each other worker's
 *   use at this instant was already bounded by what it held or was reserved, so the sum is within the limit.
 * - A worker whose lease lapses uses nothing until every grant that did not reserve its static share for
 *   it has expired (`quarantineMs`), and only then its static share. A lease request is refused as stale
 *   if it reaches the coordinator later than `TERM_MS + MAX_DELAY_MS` after the grant it renews, so the
 *   worker knows from its own clock when its last claim ends.
 * - A coordinator started afresh (no carried state) may not know the grants of one that ended: for
 *   `QUIET_MS` it raises nobody above what they already use, until those grants have expired.
 * The assumptions: every worker reads the same `limit`, at most `workerCount` workers run, and clocks run
 * at the same rate (they need not agree on the time).
 */
import type { SystemName } from './systems.js';

/** How long a grant stays valid. */
export const TERM_MS = 1000;
/** How often a worker renews: several times a term, so that a grant follows its demand closely. */
export const RENEW_EVERY_MS = 300;
/**
 * How soon a worker asks again when its grant is below its fair share only because others still hold
 * what they are giving up (`ShareGrant.soon`): they free it at their next renewal, within `RENEW_EVERY_MS`.
 */
export const RENEW_SOON_MS = 100;
/** The longest a lease request may take to reach the coordinator; later ones are refused as stale. */
export const MAX_DELAY_MS = 700;
/** A fresh coordinator's quiet time: every grant of an earlier coordinator has expired after it. */
export const QUIET_MS = TERM_MS + MAX_DELAY_MS;

/** What a worker is using when it asks. */
export type Holding =
  /** a grant of the coordinator, still valid */
  | 'lease'
  /** the static share, `limit / workerCount` (a worker that never had a grant, or lost it long ago) */
  | 'static'
  /** nothing: its lease lapsed and it waits before it may take its static share */
  | 'none';

/** One system's side of a request: the limit the worker was configured with and its demand. */
export interface SystemDemand {
  /** The organization's limit (`*_MAX_RPS`), requests a second. */
  limit: number;
  /** Requests a second the worker started for this system over the last period. */
  rate: number;
  /** Whether its starts were held back by the rate most of the last period: it would use more. */
  saturated: boolean;
}

/** A worker asking for (or renewing) its shares. Carries no secret: an id, numbers, flags. */
export interface ShareRequest {
  /** Unique per worker process, e.g. `host:pid:random`. */
  worker: string;
  holding: Holding;
  /** With `holding: 'lease'`: the `at` of the grant the worker holds. */
  seenAt?: number | undefined;
  /** `BULK_DELETE_WORKER_COUNT` of the worker. */
  workerCount: number;
  systems: Partial<Record<SystemName, SystemDemand>>;
}

/** The coordinator's answer. */
export interface ShareGrant {
  /** Workflow time (ms) of the decision; the worker quotes it as `seenAt` when it renews. */
  at: number;
  /** How long the grant is valid, counted by the worker from when it sent the request. */
  termMs: number;
  /** Set when a lease request came too late: nothing is granted, the worker must treat its lease as lost. */
  stale?: true;
  /** Requests a second, per system of the request. */
  rates: Partial<Record<SystemName, number>>;
  /**
   * Set when a rate is below the worker's fair share only because others still hold capacity they are
   * giving up: asking again after `RENEW_SOON_MS` gets more.
   */
  soon?: true;
}

/** A capacity held until `until` (workflow time, ms), claimed by a decision at `at`. */
export interface Claim {
  rate: number;
  until: number;
  at: number;
  /** The static share of a worker that asked from it (not a grant). */
  static?: true;
}

/** What the coordinator knows of one worker. */
export interface HolderState {
  workerCount: number;
  /** Per system: its limit, its last want, and its unexpired claims. */
  systems: Partial<Record<SystemName, { limit: number; want: number; claims: Claim[] }>>;
}

/** The coordinator's state; small, carried across continue-as-new. */
export interface SharesState {
  holders: Record<string, HolderState>;
  /** Until this time (workflow ms) nobody is raised above what it uses: see `QUIET_MS`. */
  quietUntil: number;
}

/** The state of a coordinator that starts with no knowledge of earlier grants. */
export function freshState(now: number): SharesState {
  return { holders: {}, quietUntil: now + QUIET_MS };
}

/** The static share of one worker, in the coordinator's accounting. */
export function staticShare(limit: number, workerCount: number): number {
  return limit / Math.max(1, workerCount);
}

/**
 * The rate a worker wants: all it can get while its starts are held back by the rate, else a quarter more
 * than it used (and at least one a second, so that new work starts at once).
 */
export function wantOf(demand: SystemDemand): number {
  if (demand.saturated) return demand.limit;
  return Math.min(demand.limit, Math.max(1, Math.ceil(demand.rate * 1.25) + 1));
}

/** Starts held back by the rate for at least this part of a period mean the worker would use more. */
export const SATURATED_FRACTION = 0.5;

/**
 * How long a worker whose lease lapsed uses nothing, counted from when it received its last grant:
 * its lease requests may still reach the coordinator for `TERM_MS + MAX_DELAY_MS`, the claims they make
 * last `TERM_MS`, and grants issued to others meanwhile another `TERM_MS`.
 */
export function quarantineMs(): number {
  return 3 * TERM_MS + MAX_DELAY_MS;
}

/** Claims that have not expired at `now`; workers left with none are forgotten. */
export function prune(state: SharesState, now: number): SharesState {
  const holders: Record<string, HolderState> = {};
  for (const [id, holder] of Object.entries(state.holders)) {
    const systems: HolderState['systems'] = {};
    let live = false;
    for (const [system, s] of entries(holder.systems)) {
      const claims = s.claims.filter((c) => c.until > now);
      if (claims.length === 0) continue;
      live = true;
      systems[system] = { ...s, claims };
    }
    if (live) holders[id] = { ...holder, systems };
  }
  return { ...state, holders };
}

/** The largest capacity a worker holds for a system now (after `prune`). */
export function held(holder: HolderState | undefined, system: SystemName): number {
  const claims = holder?.systems[system]?.claims ?? [];
  return claims.reduce((max, c) => Math.max(max, c.rate), 0);
}

/**
 * Max-min fair division of `pool` among `wants`: nobody gets more than it wants, and what one does not
 * want is divided among the others.
 */
export function fairShares(pool: number, wants: Record<string, number>): Record<string, number> {
  const shares: Record<string, number> = {};
  const ids = Object.keys(wants).sort((a, b) => wants[a]! - wants[b]! || (a < b ? -1 : 1));
  let left = Math.max(0, pool);
  ids.forEach((id, i) => {
    const share = Math.min(wants[id]!, left / (ids.length - i));
    shares[id] = share;
    left -= share;
  });
  return shares;
}

/**
 * Answers one request and returns the state after it. The grant for each system is the smallest of: the
 * worker's fair share of what is not reserved for unknown workers; what the others do not hold now and
 * is not reserved for unknown workers; and, in a fresh coordinator's quiet time, what it already uses.
 */
export function decideShares(
  before: SharesState,
  request: ShareRequest,
  now: number,
): { state: SharesState; grant: ShareGrant } {
  const state = prune(before, now);
  if (
    request.holding === 'lease' &&
    (request.seenAt === undefined || now > request.seenAt + TERM_MS + MAX_DELAY_MS)
  ) {
    return { state, grant: { at: now, termMs: TERM_MS, stale: true, rates: {} } };
  }
  const own = acknowledged(state.holders[request.worker], request);
  const holders = { ...state.holders };
  const mine: HolderState = { workerCount: request.workerCount, systems: { ...own?.systems } };
  const rates: ShareGrant['rates'] = {};
  let soon = false;
  for (const [system, demand] of entries(request.systems)) {
    const others = Object.entries(holders).filter(([id, h]) => id !== request.worker && h.systems[system]);
    // The strictest reading of the configuration among those who hold capacity.
    const limit = Math.min(demand.limit, ...others.map(([, h]) => h.systems[system]!.limit));
    const workerCount = Math.max(request.workerCount, ...others.map(([, h]) => h.workerCount));
    const share = staticShare(limit, workerCount);
    const unknown = Math.max(0, workerCount - (others.length + 1));
    const reservedForUnknown = unknown * share;
    const heldByOthers = others.reduce((sum, [, h]) => sum + held(h, system), 0);
    // One request a second per worker is never granted: a worker whose rate changes within a calendar
    // second, and the jitter between its starts and their arrival, may cost that much.
    const margin = workerCount;
    const free = limit - margin - reservedForUnknown - heldByOthers;
    const wants: Record<string, number> = { [request.worker]: wantOf(demand) };
    for (const [id, h] of others) wants[id] = h.systems[system]!.want;
    const fair = fairShares(limit - margin - reservedForUnknown, wants)[request.worker] ?? 0;
    let rate = Math.max(0, Math.min(fair, free));
    if (Math.floor(Math.max(0, free)) < Math.floor(fair) && now >= state.quietUntil) soon = true;
    if (now < state.quietUntil) {
      const using =
        request.holding === 'static' ? share : request.holding === 'lease' ? held(own, system) : 0;
      rate = Math.min(rate, using);
    }
    // Whole requests: a worker's limiter keeps each calendar second within its grant.
    rate = Math.floor(rate);
    rates[system] = rate;
    const claims: Claim[] = [
      ...(own?.systems[system]?.claims ?? []),
      { rate, until: now + TERM_MS, at: now },
    ];
    // A worker on (or about to take) its static share holds it until this answer has surely arrived.
    if (request.holding !== 'lease')
      claims.push({ rate: share, until: now + TERM_MS, at: now, static: true });
    mine.systems[system] = { limit: demand.limit, want: wants[request.worker]!, claims };
  }
  holders[request.worker] = mine;
  return {
    state: { ...state, holders },
    grant: { at: now, termMs: TERM_MS, rates, ...(soon ? { soon: true as const } : {}) },
  };
}

/**
 * A lease request quotes the grant the worker paces at: it sent the request after it had switched to
 * that grant, and the request is answered before the worker could take its static share (it is refused
 * as stale otherwise). So what the worker was granted before, and the static share it asked from, no
 * longer need holding: a reduced grant frees capacity at the next renewal, not at the end of its term.
 */
function acknowledged(holder: HolderState | undefined, request: ShareRequest): HolderState | undefined {
  const seenAt = request.seenAt;
  if (!holder || request.holding !== 'lease' || seenAt === undefined) return holder;
  const systems: HolderState['systems'] = {};
  for (const [system, s] of entries(holder.systems)) {
    const claims = s.claims.filter((c) => c.at > seenAt || (c.at === seenAt && !c.static));
    if (claims.length > 0) systems[system] = { ...s, claims };
  }
  return { ...holder, systems };
}

function entries<V>(record: Partial<Record<SystemName, V>>): Array<[SystemName, V]> {
  return (Object.entries(record) as Array<[SystemName, V | undefined]>).filter(
    (e): e is [SystemName, V] => e[1] !== undefined,
  );
}
