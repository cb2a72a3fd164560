import { z } from 'zod';

const Port = z.coerce.number().int().min(1).max(65535);

/** The Temporal connection settings, read from the environment. */
export const TemporalConfig = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. localhost:7233')
    .default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  BULK_DELETE_TASK_QUEUE: z.string().min(1).default('bulk-delete'),
  /** Temporal Cloud API key: enables TLS. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** mTLS client certificate and key files. */
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  /** Port of the Web UI used in links; `TEMPORAL_UI_URL` overrides the whole base URL. */
  TEMPORAL_UI_PORT: Port.default(8233),
  TEMPORAL_UI_URL: z.url().optional(),
});
export type TemporalConfig = z.infer<typeof TemporalConfig>;

/** Reads and validates the Temporal settings. @throws Error naming every bad variable. */
export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const parsed = TemporalConfig.safeParse(env);
  if (!parsed.success) throw new Error(`bad Temporal configuration:\n${z.prettifyError(parsed.error)}`);
  if (Boolean(parsed.data.TEMPORAL_TLS_CERT) !== Boolean(parsed.data.TEMPORAL_TLS_KEY)) {
    throw new Error('bad Temporal configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together');
  }
  return parsed.data;
}

/**
 * The Web UI base URL: `TEMPORAL_UI_URL`, else the Temporal host on `TEMPORAL_UI_PORT`. `localhost` is
 * written `127.0.0.1`, the address the local dev server listens on, so that every link and banner agree.
 */
export function webUiBase(config: TemporalConfig): string {
  if (config.TEMPORAL_UI_URL) return config.TEMPORAL_UI_URL.replace(/\/$/, '');
  const host = config.TEMPORAL_ADDRESS.split(':')[0] ?? 'localhost';
  return `http://${host === 'localhost' ? '127.0.0.1' : host}:${config.TEMPORAL_UI_PORT}`;
}

/** The Web UI link of one workflow run. */
export function webUiUrl(config: TemporalConfig, workflowId: string, runId?: string): string {
  const base = `${webUiBase(config)}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
