/**
 * The worker's side of shared rate limits: a loop that asks the coordinator workflow
 * (workflows/rate-shares.workflow.ts) every 0.3 s, or sooner (`nextRenewalDelay`), for this process's
 * share of each system's `*_MAX_RPS`, and sets the system's limiter to it. Until it holds a grant, and again a while after it
 * loses one, the worker keeps to its static share (`*_MAX_RPS / BULK_DELETE_WORKER_COUNT`), which the
 * coordinator reserves for it; plan/rate-shares.ts says why the sum never exceeds the limit.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { RateLimiter } from '../activities/rate-limiter.js';
import {
  MAX_DELAY_MS,
  RENEW_EVERY_MS,
  RENEW_SOON_MS,
  SATURATED_FRACTION,
  quarantineMs,
  type Holding,
  type ShareGrant,
  type ShareRequest,
} from '../plan/rate-shares.js';
import { SYSTEMS, type SystemName } from '../plan/systems.js';
import {
  RATE_SHARES_WORKFLOW_ID,
  rateSharesWorkflow,
  requestSharesUpdate,
} from '../workflows/rate-shares.workflow.js';
import { SystemsEnv, perWorkerRate } from './systems-config.js';
import { emptyIsUnset } from '../config/env-file.js';

/** The variables of rate sharing, with the limits and worker count they divide. */
export const RateSharingEnv = SystemsEnv.pick({
  TWELVELABS_MAX_RPS: true,
  UPLYNK_MAX_RPS: true,
  ENTERMEDIA_MAX_RPS: true,
  BULK_DELETE_WORKER_COUNT: true,
}).extend({
  /**
   * `lease`: workers lease shares of each `*_MAX_RPS` from the coordinator workflow, so that a busy worker
   * uses what idle ones do not. `static`: each keeps to `*_MAX_RPS / BULK_DELETE_WORKER_COUNT`.
   * @default lease when BULK_DELETE_WORKER_COUNT > 1, else static (one worker has the whole limit)
   */
  BULK_DELETE_RATE_SHARING: z.preprocess(emptyIsUnset, z.enum(['lease', 'static']).optional()),
  /** The coordinator's workflow ID: workers that share an organization's limits use the same one. */
  BULK_DELETE_RATE_SHARES_ID: z.preprocess(
    emptyIsUnset,
    z
      .string()
      .regex(/^[\w.:-]{1,200}$/, 'must be letters, digits and . _ : - only')
      .default(RATE_SHARES_WORKFLOW_ID),
  ),
});

/** How this worker shares the rate limits, as read from the environment. */
export interface RateSharing {
  mode: 'lease' | 'static';
  workerCount: number;
  /** The organization's limit per system that has one (`*_MAX_RPS`). */
  limits: Partial<Record<SystemName, number>>;
  workflowId: string;
}

/** Reads the rate sharing settings. @throws Error naming the variable when a value is malformed. */
export function loadRateSharing(env: NodeJS.ProcessEnv = process.env): RateSharing {
  const parsed = RateSharingEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad rate sharing configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  const limits: RateSharing['limits'] = {};
  if (e.TWELVELABS_MAX_RPS !== undefined) limits.twelvelabs = e.TWELVELABS_MAX_RPS;
  if (e.UPLYNK_MAX_RPS !== undefined) limits.uplynk = e.UPLYNK_MAX_RPS;
  if (e.ENTERMEDIA_MAX_RPS !== undefined) limits.entermedia = e.ENTERMEDIA_MAX_RPS;
  return {
    mode: e.BULK_DELETE_RATE_SHARING ?? (e.BULK_DELETE_WORKER_COUNT > 1 ? 'lease' : 'static'),
    workerCount: e.BULK_DELETE_WORKER_COUNT,
    limits,
    workflowId: e.BULK_DELETE_RATE_SHARES_ID,
  };
}

/** For the start-up log. */
export function describeRateSharing(sharing: RateSharing): string {
  const limited = Object.keys(sharing.limits);
  if (limited.length === 0) return 'rate sharing: no *_MAX_RPS set, nothing to share';
  if (sharing.mode === 'static') {
    return `rate sharing: static, each of ${sharing.workerCount} worker(s) keeps to its share of ${limited.join(', ')}`;
  }
  return `rate sharing: leases of ${limited.join(', ')} from workflow ${sharing.workflowId} (${sharing.workerCount} workers)`;
}

/**
 * Asks the coordinator for shares, starting it if it is not running (update-with-start): the answer is
 * the grant, at once.
 */
export function requestShares(
  client: Client,
  where: { taskQueue: string; workflowId: string },
  request: ShareRequest,
): Promise<ShareGrant> {
  return client.workflow.executeUpdateWithStart(requestSharesUpdate, {
    args: [request],
    startWorkflowOperation: new WithStartWorkflowOperation(rateSharesWorkflow, {
      workflowId: where.workflowId,
      taskQueue: where.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{}],
    }),
  });
}

/**
 * How long the worker waits before it asks again, counted from when its last request started:
 * - at once after a grant that lowered a rate, quoting it, so that the coordinator frees what this worker
 *   gave up now rather than a period later (`acknowledged` in plan/rate-shares.ts);
 * - `RENEW_SOON_MS` when the coordinator said that more is about to be free (`ShareGrant.soon`);
 * - its period otherwise.
 */
export function nextRenewalDelay(o: {
  periodMs: number;
  sinceStartMs: number;
  lowered: boolean;
  soon: boolean;
}): number {
  if (o.lowered) return 0;
  return Math.max(0, (o.soon ? Math.min(RENEW_SOON_MS, o.periodMs) : o.periodMs) - o.sinceStartMs);
}

/** The worker stops using a grant this long before its term ends. */
const EXPIRY_MARGIN_MS = 100;

export interface RateSharesOptions {
  client: Client;
  taskQueue: string;
  sharing: RateSharing;
  limiters: Partial<Record<SystemName, RateLimiter>>;
  /** @default `hostname:pid:random` */
  workerId?: string;
  /** How often the worker renews. @default RENEW_EVERY_MS */
  periodMs?: number;
  /** Told when the worker loses or regains its lease; never given a secret. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** A running lease loop. */
export interface RateShares {
  readonly workerId: string;
  /** What the worker uses now, and the rate per system it paces at. */
  status(): { holding: Holding; rates: Partial<Record<SystemName, number>> };
  /** Ends the loop; the limiters stay as they are (the claims lapse by themselves). */
  stop(): Promise<void>;
}

/**
 * Starts the lease loop for every system that has a limit and a limiter built with `maxRps`. The
 * limiters start at the static share.
 */
export function startRateShares(options: RateSharesOptions): RateShares {
  const { client, taskQueue, sharing, limiters } = options;
  const periodMs = options.periodMs ?? RENEW_EVERY_MS;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const log = options.log ?? (() => undefined);
  const systems = SYSTEMS.filter((s) => sharing.limits[s] !== undefined && limiters[s]?.maxRps !== undefined);

  let holding: Holding = 'static';
  let seenAt: number | undefined;
  let leaseUntil = 0;
  let lastGrantAt = -Infinity;
  const rates: Partial<Record<SystemName, number>> = {};

  function pace(next: Holding, grant?: ShareGrant): void {
    if (next !== holding) {
      log(next === 'lease' ? 'info' : 'warn', `rate sharing: ${holding} -> ${next}`);
    }
    holding = next;
    for (const system of systems) {
      const limit = sharing.limits[system]!;
      const rate =
        next === 'lease'
          ? (grant?.rates[system] ?? 0)
          : next === 'static'
            ? (perWorkerRate(limit, sharing.workerCount) ?? limit)
            : 0;
      rates[system] = rate;
      limiters[system]!.setMaxRps(rate);
    }
  }
  pace('static');

  /** The lease lapses at its term; the static share waits until no grant can count on this worker's silence. */
  function expire(now: number): void {
    if (holding === 'lease' && now >= leaseUntil) pace('none');
    if (holding === 'none' && now >= lastGrantAt + quarantineMs()) pace('static');
  }

  let lastAskedAt = performance.now();
  let lastDemand: ShareRequest['systems'] = {};
  // What the last grant said about the next renewal.
  let lowered = false;
  let soon = false;
  /** The demand since the last renewal; a renewal that only quotes a lowered grant repeats the last one. */
  function demand(again: boolean): ShareRequest['systems'] {
    if (again) return lastDemand;
    const now = performance.now();
    const seconds = Math.max(0.001, (now - lastAskedAt) / 1000);
    lastAskedAt = now;
    lastDemand = Object.fromEntries(
      systems.map((s) => {
        const { started, heldBackMs } = limiters[s]!.takeDemand();
        // Evenly spaced starts hold a burst back a little; held back most of the time means starved.
        const saturated = heldBackMs >= seconds * 1000 * SATURATED_FRACTION;
        return [s, { limit: sharing.limits[s]!, rate: Math.round((started / seconds) * 10) / 10, saturated }];
      }),
    );
    return lastDemand;
  }

  async function renew(): Promise<void> {
    const quoting = lowered;
    lowered = false;
    soon = false;
    const request: ShareRequest = {
      worker: workerId,
      holding,
      ...(holding === 'lease' ? { seenAt } : {}),
      workerCount: sharing.workerCount,
      systems: demand(quoting),
    };
    const sentAt = performance.now();
    // A request abandoned after MAX_DELAY_MS may still be decided, but no later than the coordinator's
    // staleness bound, which the quarantine counts in.
    const grant = await client.connection.withDeadline(Date.now() + MAX_DELAY_MS, () =>
      requestShares(client, { taskQueue, workflowId: sharing.workflowId }, request),
    );
    const receivedAt = performance.now();
    expire(receivedAt);
    // A grant counts from when it was asked for; one that arrives after its term is of no use.
    if (grant.stale || receivedAt >= sentAt + grant.termMs) return;
    seenAt = grant.at;
    lastGrantAt = receivedAt;
    // A little before the term, so that a late timer never paces past it.
    leaseUntil = sentAt + grant.termMs - EXPIRY_MARGIN_MS;
    lowered = !quoting && systems.some((s) => (grant.rates[s] ?? 0) < (rates[s] ?? 0));
    soon = grant.soon === true;
    pace('lease', grant);
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => expire(performance.now()), leaseUntil - performance.now());
  }
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;

  let stopped = false;
  let wake: (() => void) | undefined;
  let failures = 0;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      try {
        await renew();
        if (failures > 0) log('info', `rate sharing: coordinator reached again after ${failures} failure(s)`);
        failures = 0;
      } catch (error) {
        if (failures++ === 0) log('warn', `rate sharing: renewal failed: ${(error as Error).message}`);
      }
      expire(performance.now());
      const wait = nextRenewalDelay({ periodMs, sinceStartMs: performance.now() - started, lowered, soon });
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, wait);
      });
    }
  })();

  return {
    workerId,
    status: () => ({ holding, rates: { ...rates } }),
    async stop() {
      stopped = true;
      clearTimeout(expiryTimer);
      wake?.();
      await loop;
    },
  };
}
