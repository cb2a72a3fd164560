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
}

const zero = (): Record<SystemName, number> => ({ twelvelabs: 0, uplynk: 0, entermedia: 0 });

/** Counts the vendors' requests (never `/_sandbox`), mutations, and the busiest calendar second. */
export class Stats {
  private counts = new Map<string, RequestCount>();
  private mutations = zero();
  private peak = zero();
  private busy = zero();
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
    }
    s.count++;
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
    };
  }

  reset(): void {
    this.counts = new Map();
    this.mutations = zero();
    this.peak = zero();
    this.busy = zero();
    for (const s of Object.values(this.second)) {
      s.at = -1;
      s.count = 0;
    }
  }
}
