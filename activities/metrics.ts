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

/**
 * Counts one vendor call by system and status, into the worker's metrics (Prometheus
 * `bulk_delete_vendor_calls{system,status}`, tagged with the activity's namespace, task queue and type).
 * Does nothing outside an activity.
 * @example countCall('twelvelabs', 204); countCall('uplynk', 'timeout')
 */
export function countCall(system: SystemName, status: CallStatus): void {
  countersOf()?.calls.add(1, { system, status: String(status) });
}

/** Counts one vendor call that failed retryably and will be tried again (`reason`: the error type). */
export function countRetry(system: SystemName, reason: string): void {
  countersOf()?.retries.add(1, { system, reason });
}

/** The status of a failed got call: the HTTP status when there was an answer. */
export function statusOf(error: unknown): CallStatus {
  const e = error as { response?: { statusCode?: unknown }; name?: unknown; code?: unknown } | undefined;
  if (typeof e?.response?.statusCode === 'number') return e.response.statusCode;
  if (e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT') return 'timeout';
  if (
    typeof e?.code === 'string' &&
    /^(ECONNRESET|ECONNREFUSED|EPIPE|ECONNABORTED|ERR_STREAM_PREMATURE_CLOSE)$/.test(e.code)
  ) {
    return 'dropped';
  }
  return 'error';
}
