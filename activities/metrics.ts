import type { MetricCounter, MetricMeter } from '@temporalio/common';
import type { SystemName } from '../plan/index.js';
import { currentContext } from './activity-scope.js';

/** An HTTP status, or what happened instead of one. */
export type CallStatus = number | 'timeout' | 'dropped' | 'error';

const counters = new WeakMap<MetricMeter, { calls: MetricCounter; retries: MetricCounter }>();

function countersOf(): { calls: MetricCounter; retries: MetricCounter } | undefined {
  // Outside an activity (a script, a unit test): nothing to count into.
  const meter: MetricMeter | undefined = currentContext()?.metricMeter;
  if (meter === undefined) return undefined;
  let found = counters.get(meter);
  if (!found) {
    found = {
      calls: meter.createCounter('bulk_delete_vendor_calls', '1', 'Vendor API calls by system and status'),
      retries: meter.createCounter(
        'bulk_delete_vendor_retries',
        '1',
        'Vendor API calls that failed retryably (5xx, 429, timeouts, dropped connections), by system and reason',
      ),
    };
    counters.set(meter, found);
  }
  return found;
}

/** Counts added since the last flush, by counter and tags: one `add` per counter and tags a flush. */
const pending = new Map<MetricCounter, Map<string, { tags: Record<string, string>; n: number }>>();
let flushTimer: NodeJS.Timeout | undefined;
/** How long counts wait to be added together (a call costs ~5 µs to add alone: tags resolved anew). */
const FLUSH_MS = 100;

/** One more count of `counter` for `system` and the other tag; the tags object is built once per key. */
function bump(counter: MetricCounter, system: SystemName, tag: 'status' | 'reason', value: string): void {
  let byTags = pending.get(counter);
  if (!byTags) {
    byTags = new Map<string, { tags: Record<string, string>; n: number }>();
    pending.set(counter, byTags);
  }
  const key = `${system} ${value}`;
  const found = byTags.get(key);
  if (found) found.n++;
  else byTags.set(key, { tags: { system, [tag]: value }, n: 1 });
  if (!flushTimer) {
    flushTimer = setTimeout(flushCounts, FLUSH_MS);
    flushTimer.unref();
  }
}

/** Adds the counts waiting to their counters now (the worker does it within `FLUSH_MS` by itself). */
export function flushCounts(): void {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const [counter, byTags] of pending) for (const { tags, n } of byTags.values()) counter.add(n, tags);
  pending.clear();
}

/**
 * Counts one vendor call by system and status, into the worker's metrics (Prometheus
 * `bulk_delete_vendor_calls{system,status}`, tagged with the activity's namespace, task queue and type),
 * within 100 ms. Does nothing outside an activity.
 * @example countCall('twelvelabs', 204); countCall('uplynk', 'timeout')
 */
export function countCall(system: SystemName, status: CallStatus): void {
  const counters = countersOf();
  if (counters) bump(counters.calls, system, 'status', String(status));
}

/** Counts one vendor call that failed retryably and will be tried again (`reason`: the error type). */
export function countRetry(system: SystemName, reason: string): void {
  const counters = countersOf();
  if (counters) bump(counters.retries, system, 'reason', reason);
}

/**
 * The vendor calls of one system in a worker's Prometheus page (`BULK_DELETE_METRICS_BIND`): the sum of
 * `bulk_delete_vendor_calls` over every status. For the benchmarks and tests that read a worker's count.
 */
export function vendorCallsIn(prometheusText: string, system: SystemName): number {
  let sum = 0;
  for (const line of prometheusText.split('\n')) {
    if (/^bulk_delete_vendor_calls\w*\{/.test(line) && line.includes(`system="${system}"`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}
