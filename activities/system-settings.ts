/**
 * What the activities need to know about each system: where it is, its credentials and how hard the
 * worker may push it. The worker reads these from the environment (worker/systems-config.ts); tests build
 * them by hand. Secrets live here and nowhere else: never in results, errors or logs.
 */
import type { SystemName } from '../plan/index.js';

/** Limits that the whole worker process keeps to for one system. */
export interface SystemLimits {
  /** Requests in flight at once. */
  concurrency: number;
  /** Request starts per second; unset means no limit of our own. */
  maxRps?: number | undefined;
}

export interface TwelveLabsSettings extends SystemLimits {
  /** e.g. `https://api.twelvelabs.io/v1.3`. */
  baseUrl: string;
  /** Sent as `x-api-key`; unset: every TwelveLabs activity fails with `MissingCredentialsError`. */
  apiKey?: string | undefined;
}

export interface UplynkSettings extends SystemLimits {
  /** e.g. `https://services.uplynk.com/api/v4`. */
  baseUrl: string;
  ownerId?: string | undefined;
  /** Signs every request (HMAC-SHA256); never sent itself. */
  apiKey?: string | undefined;
}

export interface EnterMediaSettings extends SystemLimits {
  /** The customer's own server, e.g. `https://dam.example.com`; there is no default. */
  baseUrl?: string | undefined;
  /** Sent as the cookie `entermedia.key`. */
  key?: string | undefined;
}

/** The settings of the three systems, plus the HTTP timeout they share. */
export interface SystemsSettings {
  twelvelabs: TwelveLabsSettings;
  uplynk: UplynkSettings;
  entermedia: EnterMediaSettings;
  /**
   * Timeout of one HTTP request, from its connection to its answer's last byte. It must stay below the activities'
   * start-to-close timeout so that a hung request fails as a retryable timeout of ours, not as a
   * Temporal timeout of the whole attempt; each request also shrinks it to 80% of a shorter
   * start-to-close timeout when it finds one.
   * @default 30000
   */
  requestTimeoutMs?: number | undefined;
  /**
   * How long one call may keep failing transiently (5xx, 429, timeouts, drops), retried with backoff,
   * before it fails the activity attempt for Temporal to retry. @default 120000
   */
  callRetryBoundMs?: number | undefined;
  /** The longest wait for a TwelveLabs entity to be ready again after an unlink. @default 600000 */
  entityWaitMs?: number | undefined;
  /** Units (assets, entities, libraries) a phase works on at once, per request slot. @default 4 */
  unitsPerSlot?: number | undefined;
}

/** The variables a system lacks for it to be usable; empty when it is configured. */
export function missingVariables(settings: SystemsSettings, system: SystemName): string[] {
  switch (system) {
    case 'twelvelabs':
      return settings.twelvelabs.apiKey ? [] : ['TWELVELABS_API_KEY'];
    case 'uplynk':
      return [
        ...(settings.uplynk.ownerId ? [] : ['UPLYNK_OWNER_ID']),
        ...(settings.uplynk.apiKey ? [] : ['UPLYNK_API_KEY']),
      ];
    case 'entermedia':
      return [
        ...(settings.entermedia.baseUrl ? [] : ['ENTERMEDIA_BASE_URL']),
        ...(settings.entermedia.key ? [] : ['ENTERMEDIA_KEY']),
      ];
  }
}

/** Every secret of the settings, so that messages built from vendor text can be scrubbed of them. */
export function secretsOf(settings: SystemsSettings): string[] {
  return [settings.twelvelabs.apiKey, settings.uplynk.apiKey, settings.entermedia.key].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
}
