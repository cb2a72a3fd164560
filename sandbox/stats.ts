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

/** Counts the vendors' requests (never `/_sandbox`), mutations, and each busy calendar second's requests. */
export class Stats {
  private counts = new Map<string, RequestCount>();
  private mutations = zero();
  /** Per system, the requests of each calendar second that had any, in order. */
  private perSecond = series();
  /** Per system, the calendar second (epoch seconds) the last entry of `perSecond` counts. */
  private lastSecond: Record<SystemName, number> = { twelvelabs: -1, uplynk: -1, entermedia: -1 };

  arrived(system: SystemName, nowMs: number): void {
    const at = Math.floor(nowMs / 1000);
    const counts = this.perSecond[system];
    if (this.lastSecond[system] !== at) {
      this.lastSecond[system] = at;
      counts.push(0);
    }
    counts[counts.length - 1]!++;
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
    const each = <T>(f: (counts: number[]) => T): Record<SystemName, T> => ({
      twelvelabs: f(this.perSecond.twelvelabs),
      uplynk: f(this.perSecond.uplynk),
      entermedia: f(this.perSecond.entermedia),
    });
    return {
      requests: [...this.counts.values()].map((c) => ({ ...c })),
      mutations: { ...this.mutations },
      peakRequestsPerSecond: each((counts) => counts.reduce((max, n) => Math.max(max, n), 0)),
      busySeconds: each((counts) => counts.length),
      requestsPerSecond: each((counts) => [...counts]),
    };
  }

  reset(): void {
    this.counts = new Map();
    this.mutations = zero();
    this.perSecond = series();
    this.lastSecond = { twelvelabs: -1, uplynk: -1, entermedia: -1 };
  }
}
