import { DefaultLogger, Runtime } from '@temporalio/worker';
import { z } from 'zod';

const TelemetryEnv = z.object({
  /** Serve the worker's Temporal metrics for Prometheus at this address, e.g. `0.0.0.0:9464` (`/metrics`). */
  BULK_DELETE_METRICS_BIND: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
    .optional(),
  /** @default INFO */
  BULK_DELETE_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});

let installed = false;

/**
 * Installs the Temporal runtime of this process with the worker's telemetry: log level and, when
 * `BULK_DELETE_METRICS_BIND` is set, a Prometheus endpoint with the SDK's worker and activity metrics
 * (task latencies, failures, slots). Must run before the first worker or native connection; later calls
 * do nothing. Answers a line that says what was set up.
 * @throws Error naming the variable when a value is malformed.
 */
export function installTelemetry(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = TelemetryEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad telemetry configuration:\n${z.prettifyError(parsed.error)}`);
  const { BULK_DELETE_METRICS_BIND: bindAddress, BULK_DELETE_LOG_LEVEL: level } = parsed.data;
  if (installed) return 'telemetry already installed';
  try {
    Runtime.install({
      logger: new DefaultLogger(level),
      ...(bindAddress
        ? { telemetryOptions: { metrics: { metricPrefix: 'bulk_delete_', prometheus: { bindAddress } } } }
        : {}),
    });
    installed = true;
  } catch {
    // The runtime was created earlier in this process (tests, `dev`): keep it as it is.
    return 'telemetry: the runtime was already set up in this process; metrics settings not applied';
  }
  return bindAddress
    ? `metrics for Prometheus on http://${bindAddress}/metrics`
    : 'metrics off (set BULK_DELETE_METRICS_BIND)';
}
