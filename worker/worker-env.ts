import { z } from 'zod';

/** `60s`, `2m`, `500ms`, or a bare number of seconds. */
const Duration = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?(ms|s|m)?$/, 'must be a duration such as 60s, 2m or 500ms (a bare number is seconds)')
  .transform((raw) => {
    const [, value = '0', unit = 's'] = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw) ?? [];
    const factor = unit === 'ms' ? 1 : unit === 'm' ? 60_000 : 1000;
    return Math.round(Number(value) * factor);
  });

/** The default of `BULK_DELETE_SHUTDOWN_GRACE`, in milliseconds. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 60_000;

/** Settings of the worker process itself (not of Temporal nor of the vendors). */
export const WorkerEnv = z.object({
  /**
   * How long a stopping worker lets running activities finish before it cancels them (they are then
   * retried on another worker). Keep `stop_grace_period` of the container above it.
   * @default 60s
   */
  BULK_DELETE_SHUTDOWN_GRACE: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    Duration.default(DEFAULT_SHUTDOWN_GRACE_MS),
  ),
  /** Serve `GET /healthz` (200 while the worker polls) at this address, e.g. `127.0.0.1:9465`. Unset: off. */
  BULK_DELETE_HEALTH_BIND: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9465')
      .optional(),
  ),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Reads the worker's own settings. @throws Error naming the variable when a value is malformed. */
export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad worker configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
