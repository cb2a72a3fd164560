import { IllegalStateError } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { createLogger } from './logger.js';
import { emptyIsUnset } from '../config/env-file.js';

const TelemetryEnv = z.object({
  /** Serve the worker's metrics for Prometheus at this address, e.g. `0.0.0.0:9464` (`/metrics`). */
  BULK_DELETE_METRICS_BIND: z.preprocess(
    emptyIsUnset,
    z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
      .optional(),
  ),
  /** @default INFO */
  BULK_DELETE_LOG_LEVEL: z.preprocess(
    emptyIsUnset,
    z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  ),
  /** `json` (pino, one object a line) or `pretty` (readable lines). @default json when NODE_ENV=production */
  BULK_DELETE_LOG_FORMAT: z.preprocess(emptyIsUnset, z.enum(['json', 'pretty']).optional()),
  NODE_ENV: z.string().optional(),
});

let installed = false;

/**
 * Installs the Temporal runtime of this process with the worker's telemetry: logs as JSON (pino) in
 * production and as readable lines in development, through the SDK's logger, and, when
 * `BULK_DELETE_METRICS_BIND` is set, a Prometheus endpoint with Temporal's metrics under their standard
 * names (`temporal_activity_execution_failed`, `temporal_workflow_task_schedule_to_start_latency`, ...)
 * and the project's (`bulk_delete_vendor_calls`, `bulk_delete_vendor_retries`). Must run before the first
 * worker or native connection; later calls do nothing. Answers a line that says what was set up.
 * @throws Error naming the variable when a value is malformed.
 */
export function installTelemetry(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = TelemetryEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad telemetry configuration:\n${z.prettifyError(parsed.error)}`);
  const { BULK_DELETE_METRICS_BIND: bindAddress, BULK_DELETE_LOG_LEVEL: level } = parsed.data;
  const format =
    parsed.data.BULK_DELETE_LOG_FORMAT ?? (parsed.data.NODE_ENV === 'production' ? 'json' : 'pretty');
  if (installed) return 'telemetry already installed';
  try {
    Runtime.install({
      logger: createLogger(format, level),
      ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
    });
    installed = true;
  } catch (error) {
    // The runtime was created earlier in this process (tests, `dev`): keep it as it is.
    if (error instanceof IllegalStateError) {
      return 'telemetry: the runtime was already set up in this process; metrics settings not applied';
    }
    // Anything else is this configuration failing, e.g. the metrics port taken by another process: a
    // worker must not go on without its metrics (and with the SDK's default logger instead of ours).
    const why = (error as Error).message;
    throw new Error(
      `bad telemetry configuration:\n✖ cannot serve metrics on ${bindAddress ?? '(no address)'}: ${why}\n  → at BULK_DELETE_METRICS_BIND`,
      { cause: error },
    );
  }
  const logs = `logs ${format} at ${level}`;
  return bindAddress
    ? `${logs}; metrics for Prometheus on http://${bindAddress}/metrics`
    : `${logs}; metrics off (set BULK_DELETE_METRICS_BIND)`;
}
