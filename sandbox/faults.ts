import { z } from 'zod';
import { Prng, seedFor } from './prng.js';
import type { SystemName } from './vendor.js';

const Share = z.number().min(0).max(1);

export const SystemFaults = z.strictObject({
  /** Share of requests answered 500 or 503 (half each) before anything is changed. */
  error5xx: Share.default(0),
  /** Share of requests answered 429 with `Retry-After: retryAfterSeconds` before anything is changed. */
  error429: Share.default(0),
  retryAfterSeconds: z.int().min(0).max(3600).default(1),
  /**
   * How a 429 gives its `Retry-After`, in either form HTTP allows (RFC 9110 §10.2.3): `seconds`, `date` (an
   * HTTP date that many seconds ahead, rounded up to the second), or `none` (no header: the vendors may
   * send one, not must). Also for the 429s of `maxRequestsPerSecond`.
   */
  retryAfterAs: z.enum(['seconds', 'date', 'none']).default('seconds'),
  /** Share of requests whose change is applied and whose connection is then destroyed without an answer. */
  drop: Share.default(0),
  /** Share of requests refused with 403 (no retry helps: the item's step fails) before anything is changed. */
  error403: Share.default(0),
  /** Each request waits a uniform time in [min, max] ms before it is handled. */
  latencyMs: z
    .tuple([z.int().min(0).max(60_000), z.int().min(0).max(60_000)])
    .refine(([min, max]) => min <= max, 'min must not exceed max')
    .optional(),
  /** More requests than this within one calendar second are answered 429. */
  maxRequestsPerSecond: z.int().min(1).optional(),
});
export type SystemFaults = z.infer<typeof SystemFaults>;

/** What `POST /_sandbox/faults` takes (docs/rehearsing.md); it replaces the whole setting. */
export const FaultSettings = z.strictObject({
  seed: z.int().default(1),
  twelvelabs: SystemFaults.optional(),
  uplynk: SystemFaults.optional(),
  entermedia: SystemFaults.optional(),
});
export type FaultSettings = z.infer<typeof FaultSettings>;
export type FaultSettingsInput = z.input<typeof FaultSettings>;

/** What happens to one request, decided when it arrives. */
export interface FaultDecision {
  /** Answer this status (500, 503, 429 or 403) without handling the request. */
  status?: number;
  retryAfterSeconds?: number;
  retryAfterAs?: 'seconds' | 'date' | 'none';
  latencyMs: number;
  /** Handle the request, then destroy the connection instead of answering. */
  drop: boolean;
}

const NO_FAULT: FaultDecision = { latencyMs: 0, drop: false };

/**
 * Decides faults per system with one seeded PRNG per system. Each request draws the same number of
 * values whatever comes of it, so the same order of requests gets the same answers (docs/rehearsing.md).
 */
export class Faults {
  private settings: FaultSettings = { seed: 1 };
  private prngs = new Map<SystemName, Prng>();
  private readonly window = new Map<SystemName, { second: number; count: number }>();

  get current(): FaultSettings {
    return this.settings;
  }

  set(settings: FaultSettings): void {
    this.settings = settings;
    this.prngs = new Map();
    this.window.clear();
  }

  decide(system: SystemName, nowMs: number): FaultDecision {
    const f = this.settings[system];
    if (!f) return NO_FAULT;
    let prng = this.prngs.get(system);
    if (!prng) this.prngs.set(system, (prng = new Prng(seedFor(this.settings.seed, system))));
    const [pick, which, wait, cut] = [prng.next(), prng.next(), prng.next(), prng.next()];
    const latencyMs = f.latencyMs
      ? f.latencyMs[0] + Math.floor(wait * (f.latencyMs[1] - f.latencyMs[0] + 1))
      : 0;
    if (f.maxRequestsPerSecond !== undefined && this.overLimit(system, f.maxRequestsPerSecond, nowMs))
      return { status: 429, retryAfterSeconds: 1, retryAfterAs: f.retryAfterAs, latencyMs, drop: false };
    if (pick < f.error5xx) return { status: which < 0.5 ? 500 : 503, latencyMs, drop: false };
    if (pick < f.error5xx + f.error429)
      return {
        status: 429,
        retryAfterSeconds: f.retryAfterSeconds,
        retryAfterAs: f.retryAfterAs,
        latencyMs,
        drop: false,
      };
    if (pick < f.error5xx + f.error429 + f.error403) return { status: 403, latencyMs, drop: false };
    return { latencyMs, drop: cut < f.drop };
  }

  private overLimit(system: SystemName, max: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    let w = this.window.get(system);
    if (!w || w.second !== second) this.window.set(system, (w = { second, count: 0 }));
    w.count++;
    return w.count > max;
  }
}
