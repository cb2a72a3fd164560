import type { SystemName } from './vendor.js';

export interface RequestCount {
  system: SystemName;
  method: string;
  /** Template relative to the system's base, e.g. `DELETE /assets/{asset_id}`. */
  route: string;
  /** 0 for a dropped connection. */
  status: number;
  count: number;
}

/** What `GET /_sandbox/stats` answers (docs/rehearsing.md). */
export interface SandboxStats {
  requests: RequestCount[];
  mutations: Record<SystemName, number>;
  peakRequestsPerSecond: Record<SystemName, number>;
  /** Calendar seconds in which the system got at least one request: requests / busySeconds is its mean rate. */
  busySeconds: Record<SystemName, number>;
  /** Each of those seconds' requests, in order: the first and last are usually partial. */
  requestsPerSecond: Record<SystemName, number[]>;
}

const zero = (): Record<SystemName, number> => ({ twelvelabs: 0, uplynk: 0, entermedia: 0 });
const series = (): Record<SystemName, number[]> => ({ twelvelabs: [], uplynk: [], entermedia: [] });

/** Counts the vendors' requests (never `/_sandbox`), mutations, and the busiest calendar second. */
export class Stats {
  private counts = new Map<string, RequestCount>();
  private mutations = zero();
  private peak = zero();
  private busy = zero();
  private perSecond = series();
  private second: Record<SystemName, { at: number; count: number }> = {
    twelvelabs: { at: -1, count: 0 },
    uplynk: { at: -1, count: 0 },
    entermedia: { at: -1, count: 0 },
  };

  arrived(system: SystemName, nowMs: number): void {
    const s = this.second[system];
    const at = Math.floor(nowMs / 1000);
    if (s.at !== at) {
      s.at = at;
      s.count = 0;
      this.busy[system]++;
      this.perSecond[system].push(0);
    }
    s.count++;
    const counts = this.perSecond[system];
    counts[counts.length - 1]!++;
    if (s.count > this.peak[system]) this.peak[system] = s.count;
  }

  answered(system: SystemName, route: string, status: number, mutated: boolean): void {
    if (mutated) this.mutations[system]++;
    const key = `${system} ${status} ${route}`;
    const c = this.counts.get(key);
    if (c) c.count++;
    else {
      const space = route.indexOf(' ');
      this.counts.set(key, { system, method: route.slice(0, space), route, status, count: 1 });
    }
  }

  snapshot(): SandboxStats {
    return {
      requests: [...this.counts.values()].map((c) => ({ ...c })),
      mutations: { ...this.mutations },
      peakRequestsPerSecond: { ...this.peak },
      busySeconds: { ...this.busy },
      requestsPerSecond: {
        twelvelabs: [...this.perSecond.twelvelabs],
        uplynk: [...this.perSecond.uplynk],
        entermedia: [...this.perSecond.entermedia],
      },
    };
  }

  reset(): void {
    this.counts = new Map();
    this.mutations = zero();
    this.peak = zero();
    this.busy = zero();
    this.perSecond = series();
    for (const s of Object.values(this.second)) {
      s.at = -1;
      s.count = 0;
    }
  }
}
