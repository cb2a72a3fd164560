import { z } from 'zod';
import { storeLocationProblem } from '../activities/object-store.js';
import { emptyIsUnset } from '../config/env-file.js';
import { DEFAULT_WORKER_V8_FLAGS, V8_FLAG, parseV8Flags, unknownV8Flags } from './memory.js';

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

/** The default of `BULK_DELETE_MAX_CACHED_WORKFLOWS`. */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

/** Settings of the worker process itself (not of Temporal nor of the vendors). */
export const WorkerEnv = z.object({
  /** Where runs archive their report and receipt: `s3://bucket/prefix`, `file:///dir` or a directory. Unset: not archived. */
  BULK_DELETE_REPORT_STORE: z.preprocess(
    emptyIsUnset,
    z
      .string()
      .check((ctx) => {
        const problem = storeLocationProblem(ctx.value);
        if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
      })
      .optional(),
  ),
  /**
   * The endpoint of an S3-compatible server (MinIO, Ceph) for `s3://` plans and reports, e.g.
   * `http://minio:9000`. Unset: AWS S3 itself.
   */
  BULK_DELETE_S3_ENDPOINT: z.preprocess(
    emptyIsUnset,
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://minio:9000' }).optional(),
  ),
  /**
   * How long a stopping worker lets running activities finish before it cancels them (they are then
   * retried on another worker). Keep `stop_grace_period` of the container above it.
   * @default 60s
   */
  BULK_DELETE_SHUTDOWN_GRACE: z.preprocess(emptyIsUnset, Duration.default(DEFAULT_SHUTDOWN_GRACE_MS)),
  /** Serve `GET /healthz` (200 while the worker polls) at this address, e.g. `127.0.0.1:9465`. Unset: off. */
  BULK_DELETE_HEALTH_BIND: z.preprocess(
    emptyIsUnset,
    z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9465')
      .optional(),
  ),
  /**
   * Workflow runs kept in the worker's memory between their tasks (the rest replay their history when
   * they next have work). A run holds 1 + window of them open (default 5). @default 100
   */
  BULK_DELETE_MAX_CACHED_WORKFLOWS: z.preprocess(
    emptyIsUnset,
    z.coerce
      .number()
      .int('must be a whole number')
      .min(2, 'must be at least 2')
      .default(DEFAULT_MAX_CACHED_WORKFLOWS),
  ),
  /**
   * V8 flags the worker sets on itself at start (worker/memory.ts), space-separated; `none`: none.
   * @default --heap-growing-percent=50 --max-semi-space-size=4
   */
  BULK_DELETE_V8_FLAGS: z.preprocess(
    emptyIsUnset,
    z
      .string()
      .default(DEFAULT_WORKER_V8_FLAGS)
      .transform(parseV8Flags)
      .check((ctx) => {
        const flags = ctx.value;
        const unknown = flags.every((flag) => V8_FLAG.test(flag)) ? unknownV8Flags(flags) : undefined;
        if (unknown?.length === 0) return;
        ctx.issues.push({
          code: 'custom',
          input: flags,
          message: unknown
            ? `${unknown.join(', ')}: not a flag of this Node's V8 (node --v8-options lists them)`
            : 'must be V8 flags such as --heap-growing-percent=50, space-separated, or none',
        });
      }),
  ),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Reads the worker's own settings. @throws Error naming the variable when a value is malformed. */
export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad worker configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
