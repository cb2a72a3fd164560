/**
 * The activities of the bulk delete: `createActivities(deps)` builds them once per worker, with one HTTP
 * client (its own connection pool) and one shared limiter per system. Workflows import the `Activities` type only.
 */
import type { SystemName } from '../plan/index.js';
import type { Client } from '@temporalio/client';
import { createArchiveActivities } from './archive-activities.js';
import type { Activities } from './contract.js';
import { createEnterMediaActivities } from './entermedia-activities.js';
import { createItemFlowActivities, type TellTally } from './item-flow.js';
import { createObserveActivities } from './observe-activities.js';
import { createEnterMediaClient, type EnterMediaClient } from './entermedia-client.js';
import { missingCredentials } from './http-errors.js';
import { DEFAULT_CALL_RETRY } from './http-client.js';
import { createPlanSource } from './plan-source.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { missingVariables, secretsOf, type SystemsSettings } from './system-settings.js';
import { createTwelveLabsActivities, FirstLook } from './twelvelabs-activities.js';
import { createTwelveLabsClient, type TwelveLabsClient } from './twelvelabs-client.js';
import { createUplynkActivities } from './uplynk-activities.js';
import { createUplynkClient, type UplynkClient } from './uplynk-client.js';

/**
 * Units a phase works on at once, per request slot of the system's limiter. A unit whose call waits out a
 * backoff or a Retry-After holds no slot, so more units than slots keep the slots busy while some wait;
 * the limiter still bounds the requests in flight to the system's concurrency.
 */
export const DEFAULT_UNITS_PER_SLOT = 4;

/** Default HTTP request timeout: well below any sensible activity start-to-close timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** What the activities are built from. */
export interface ActivitiesDeps {
  /** Where the three systems are, their credentials and limits (worker/systems-config.ts reads them from env). */
  systems: SystemsSettings;
  /**
   * One limiter per system, shared by every activity of the worker. Built from `systems` when not given;
   * pass your own to share them between several `createActivities` calls.
   */
  limiters?: Partial<Record<SystemName, RateLimiter>>;
  /** Reads plans that travel by reference. @default createPlanSource() */
  planSource?: ReturnType<typeof createPlanSource>;
  /** Where runs archive their report and receipt (`BULK_DELETE_REPORT_STORE`). Unset: not archived. */
  reportStore?: string | undefined;
  /** Where the S3 settings of the stores are read. @default process.env */
  storeEnv?: NodeJS.ProcessEnv;
  /** The client `archiveRun` reads chunk results with. @default the worker's own */
  temporalClient?: () => Client;
  /** Where `deleteItems` tells its tallies. @default the running activity's chunk workflow */
  tellTally?: TellTally;
}

/** The limiters that `createActivities` would build for these settings. */
export function createLimiters(systems: SystemsSettings): Record<SystemName, RateLimiter> {
  return {
    twelvelabs: createRateLimiter(systems.twelvelabs),
    uplynk: createRateLimiter(systems.uplynk),
    entermedia: createRateLimiter(systems.entermedia),
  };
}

/**
 * Builds every activity of `Activities`. A system without credentials still gets its activities; they
 * fail at once, without retry, with `MissingCredentialsError` naming the variable to set.
 * @example
 * const activities = createActivities({ systems: loadSystemsConfig(process.env) });
 */
export function createActivities(deps: ActivitiesDeps): Activities {
  const { systems } = deps;
  const limiters = { ...createLimiters(systems), ...deps.limiters };
  const secrets = secretsOf(systems);
  const timeoutMs = systems.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const UNITS_PER_SLOT = systems.unitsPerSlot ?? DEFAULT_UNITS_PER_SLOT;
  const retry = { ...DEFAULT_CALL_RETRY, boundMs: systems.callRetryBoundMs ?? DEFAULT_CALL_RETRY.boundMs };

  /** The client of a configured system, built once; for an unconfigured one, the failure to throw. */
  function lazy<T>(system: SystemName, build: () => T): () => T {
    let client: T | undefined;
    return () => {
      const missing = missingVariables(systems, system);
      if (missing.length > 0) throw missingCredentials(system, missing);
      client ??= build();
      return client;
    };
  }

  const twelvelabs = lazy<TwelveLabsClient>('twelvelabs', () =>
    createTwelveLabsClient({
      baseUrl: systems.twelvelabs.baseUrl,
      apiKey: systems.twelvelabs.apiKey ?? '',
      timeoutMs,
      limiter: limiters.twelvelabs,
      secrets,
      retry,
    }),
  );
  const uplynk = lazy<UplynkClient>('uplynk', () =>
    createUplynkClient({
      baseUrl: systems.uplynk.baseUrl,
      ownerId: systems.uplynk.ownerId ?? '',
      apiKey: systems.uplynk.apiKey ?? '',
      timeoutMs,
      limiter: limiters.uplynk,
      secrets,
      retry,
    }),
  );
  const entermedia = lazy<EnterMediaClient>('entermedia', () =>
    createEnterMediaClient({
      baseUrl: systems.entermedia.baseUrl ?? '',
      key: systems.entermedia.key ?? '',
      timeoutMs,
      limiter: limiters.entermedia,
      secrets,
      retry,
    }),
  );
  const planSource = deps.planSource ?? createPlanSource(deps.storeEnv ? { env: deps.storeEnv } : {});

  // When entities settle after an unlink: learnt by either activity that waits for them.
  const firstLook = new FirstLook();
  return {
    ...createTwelveLabsActivities({
      firstLook,
      client: twelvelabs,
      parallelism: UNITS_PER_SLOT * limiters.twelvelabs.concurrency,
      ...(systems.entityWaitMs === undefined ? {} : { entityWaitMs: systems.entityWaitMs }),
      planAssetIds: (ref) => planSource.twelveLabsAssetIds(ref),
    }),
    ...createUplynkActivities({ client: uplynk, parallelism: UNITS_PER_SLOT * limiters.uplynk.concurrency }),
    ...createEnterMediaActivities({
      client: entermedia,
      parallelism: UNITS_PER_SLOT * limiters.entermedia.concurrency,
    }),
    ...createItemFlowActivities({
      twelvelabs,
      uplynk,
      entermedia,
      firstLook,
      ...(systems.entityWaitMs === undefined ? {} : { entityWaitMs: systems.entityWaitMs }),
      ...(deps.tellTally ? { tellTally: deps.tellTally } : {}),
      parallelism:
        UNITS_PER_SLOT *
        (limiters.twelvelabs.concurrency + limiters.uplynk.concurrency + limiters.entermedia.concurrency),
    }),
    ...createObserveActivities({
      twelvelabs,
      entermedia,
      parallelism: Math.min(limiters.twelvelabs.concurrency, limiters.entermedia.concurrency),
    }),
    readPlanPage: (input) => planSource.readPlanPage(input),
    readPlanSummary: (input) => planSource.readPlanSummary(input),
    ...createArchiveActivities({
      reportStore: deps.reportStore,
      ...(deps.storeEnv ? { env: deps.storeEnv } : {}),
      ...(deps.temporalClient ? { client: deps.temporalClient } : {}),
    }),
  };
}

export type { Activities } from './contract.js';
export type { SystemsSettings } from './system-settings.js';
export { NON_RETRYABLE_ERROR_TYPES, ErrorTypes, type ErrorType } from './error-types.js';
export { createRateLimiter, type RateLimiter } from './rate-limiter.js';
