import { existsSync } from 'node:fs';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { emptyIsUnset } from './env-file.js';

const Port = z.coerce.number().int().min(1).max(65535);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyIsUnset, schema.optional());
const File = (name: string) =>
  optional(z.string().refine((path) => existsSync(path), `${name}: no such file`));

/**
 * The Temporal settings of the command line and the worker, from the environment. The connection itself
 * follows Temporal's standard variables and profiles (`@temporalio/envconfig`): `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH` /
 * `_KEY_PATH`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`, `TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_PROFILE`,
 * `TEMPORAL_CONFIG_FILE` (a TOML file of profiles); the environment wins over the profile.
 */
export const TemporalEnv = z.object({
  TEMPORAL_ADDRESS: optional(z.string().regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. localhost:7233')),
  TEMPORAL_NAMESPACE: optional(z.string().min(1)),
  BULK_DELETE_TASK_QUEUE: z.preprocess(emptyIsUnset, z.string().min(1).default('bulk-delete')),
  /** Temporal Cloud API key: enables TLS. */
  TEMPORAL_API_KEY: optional(z.string().min(1)),
  TEMPORAL_TLS: optional(z.enum(['true', 'false', '1', '0'])),
  /** mTLS client certificate and key files. */
  TEMPORAL_TLS_CLIENT_CERT_PATH: File('TEMPORAL_TLS_CLIENT_CERT_PATH'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: File('TEMPORAL_TLS_CLIENT_KEY_PATH'),
  /** CA of the server's certificate, when it is not a public one. */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: File('TEMPORAL_TLS_SERVER_CA_CERT_PATH'),
  /** The name to verify the server's certificate against, when it differs from the address's host. */
  TEMPORAL_TLS_SERVER_NAME: optional(z.string().min(1)),
  TEMPORAL_PROFILE: optional(z.string().min(1)),
  TEMPORAL_CONFIG_FILE: File('TEMPORAL_CONFIG_FILE'),
  /** Port of the Web UI used in links; `TEMPORAL_UI_URL` overrides the whole base URL. */
  TEMPORAL_UI_PORT: z.preprocess(emptyIsUnset, Port.default(8233)),
  TEMPORAL_UI_URL: optional(z.url()),
});

/** The validated settings and the options both `Connection.connect` and `NativeConnection.connect` take. */
export interface TemporalConfig {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  BULK_DELETE_TASK_QUEUE: string;
  TEMPORAL_UI_PORT: number;
  TEMPORAL_UI_URL?: string;
  /** Address, TLS (client pair, server CA, server name), API key and gRPC metadata. */
  connection: ClientConnectConfig['connectionOptions'] & { address: string };
}

/**
 * Reads and validates the Temporal settings; the connection as `@temporalio/envconfig` resolves it from
 * the profile file (if any) and the standard variables, with `localhost:7233` / `default` as defaults.
 * @throws Error naming every bad variable, never quoting a secret.
 */
export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const parsed = TemporalEnv.safeParse(env);
  if (!parsed.success) throw new Error(`bad Temporal configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  if (Boolean(e.TEMPORAL_TLS_CLIENT_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_CLIENT_KEY_PATH)) {
    throw new Error(
      'bad Temporal configuration: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
    );
  }
  // envconfig reads `process.env`-like records; empty values (as .env files carry them) mean unset.
  const vars = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => (entry[1] ?? '').trim() !== ''),
  );
  let resolved: ClientConnectConfig;
  try {
    resolved = loadClientConnectConfig({
      overrideEnvVars: vars,
      ...(e.TEMPORAL_CONFIG_FILE ? { configSource: { path: e.TEMPORAL_CONFIG_FILE } } : {}),
    });
  } catch (error) {
    throw new Error(`bad Temporal configuration: ${(error as Error).message}`, { cause: error });
  }
  const address = resolved.connectionOptions.address ?? 'localhost:7233';
  const tls = resolved.connectionOptions.tls;
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: resolved.namespace ?? 'default',
    BULK_DELETE_TASK_QUEUE: e.BULK_DELETE_TASK_QUEUE,
    TEMPORAL_UI_PORT: e.TEMPORAL_UI_PORT,
    ...(e.TEMPORAL_UI_URL ? { TEMPORAL_UI_URL: e.TEMPORAL_UI_URL } : {}),
    connection: { ...resolved.connectionOptions, address, tls: asBuffers(tls) },
  };
}

/** envconfig reads files as Uint8Array; the native connection wants Buffers. */
function asBuffers(tls: TemporalConfig['connection']['tls']): TemporalConfig['connection']['tls'] {
  if (!tls || typeof tls !== 'object') return tls;
  const buffer = (data: Uint8Array | undefined) => (data ? Buffer.from(data) : undefined);
  const pair = tls.clientCertPair;
  return {
    ...tls,
    ...(tls.serverRootCACertificate ? { serverRootCACertificate: buffer(tls.serverRootCACertificate) } : {}),
    ...(pair ? { clientCertPair: { crt: Buffer.from(pair.crt), key: Buffer.from(pair.key) } } : {}),
  };
}

/** The Web UI base URL for a namespace. */
export function webUiBase(config: TemporalConfig): string {
  if (config.TEMPORAL_UI_URL) return config.TEMPORAL_UI_URL.replace(/\/$/, '');
  const host = config.TEMPORAL_ADDRESS.split(':')[0] ?? 'localhost';
  // The banner and the servers say 127.0.0.1: links should too.
  return `http://${host === 'localhost' ? '127.0.0.1' : host}:${config.TEMPORAL_UI_PORT}`;
}

/** The Web UI link of one workflow run. */
export function webUiUrl(config: TemporalConfig, workflowId: string, runId?: string): string {
  const base = `${webUiBase(config)}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/**
 * Temporal cannot be used as configured: it did not answer (down, elsewhere, another protocol), or it has
 * no such namespace. A configuration error for the command line (exit 2), said in one or two lines.
 */
export class TemporalConnectError extends Error {
  override readonly name = 'TemporalConnectError';
}

/**
 * Why a connection to Temporal failed, in a few words: the Rust core's and gRPC's errors are long and
 * nested (`tonic::transport::Error(Transport, ConnectError(…))`); the full text goes in the cause.
 */
export function connectFailureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/ConnectionRefused|Connection refused|ECONNREFUSED/i.test(text)) return 'connection refused';
  if (/dns error|failed to lookup|ENOTFOUND|EAI_AGAIN|Name or service not known/i.test(text)) {
    return 'its host name does not resolve';
  }
  if (/InvalidContentType|InvalidMessage|tls|handshake|certificate|WRONG_VERSION_NUMBER/i.test(text)) {
    return 'the TLS handshake failed (TEMPORAL_TLS, TEMPORAL_API_KEY and the certificates must match what the server speaks)';
  }
  if (/deadline|timed? ?out/i.test(text)) return 'no answer in time';
  return text.split('\n')[0]!.slice(0, 200);
}

/**
 * What to say when Temporal does not answer at `address`. With TLS on (`tls`: TEMPORAL_TLS, an API key,
 * certificates), a timeout is what the command line's gRPC client reports for a server that does not
 * speak TLS: no handshake error to tell it by, so the message says that TLS is on.
 */
export function unreachable(address: string, error: unknown, tls = false): TemporalConnectError {
  const reason = connectFailureReason(error);
  const tlsNote =
    tls && reason === 'no answer in time'
      ? ' with TLS on (TEMPORAL_TLS, TEMPORAL_API_KEY or a certificate): a server that does not speak TLS answers nothing'
      : '';
  return new TemporalConnectError(
    `cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${reason}${tlsNote}\n` +
      'is a server running? "npm run temporal:dev" starts one locally, "bulk-delete dev" starts everything',
    { cause: error },
  );
}

/** True for Temporal's answer that the namespace asked for does not exist (gRPC NOT_FOUND about a namespace). */
export function isNamespaceNotFound(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /namespace\b.*\bnot (?:be )?found|NamespaceNotFound/i.test(text);
}

/** What to say when Temporal at `address` has no namespace `namespace`. */
export function namespaceNotFound(address: string, namespace: string, error?: unknown): TemporalConnectError {
  return new TemporalConnectError(
    `Temporal at ${address} has no namespace "${namespace}" (TEMPORAL_NAMESPACE): set the namespace the ` +
      `workers use, or create it (temporal operator namespace create --namespace ${namespace})`,
    { cause: error },
  );
}
