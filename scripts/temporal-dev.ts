/**
 * Runs a Temporal dev server in the foreground for local use: SQLite file under .data/, gRPC on 7233,
 * Web UI on 8233, namespace "default", the project's search attributes registered, and the codec endpoint
 * that shows compressed payloads in the Web UI on 8234 (client/codec-server.ts).
 * TEMPORAL_DEV_PORT, TEMPORAL_UI_PORT, TEMPORAL_CODEC_PORT and TEMPORAL_DB_FILE override those defaults.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { serveCodec } from '../client/codec-server.js';
import { devServerSearchAttributeArgs } from '../plan/search-attributes.js';
import { PROJECT_ROOT, findTemporalCli } from './temporal-paths.js';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  /** The codec endpoint's port (on 127.0.0.1), which the Web UI asks to decode compressed payloads. */
  codecPort: number;
  dbFile: string;
  namespace: string;
}

export function devServerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DevServerOptions {
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      throw new Error(`${name} must be a port number (1-65535), got "${raw}"`);
    }
    return value;
  };
  return {
    port: port('TEMPORAL_DEV_PORT', 7233),
    uiPort: port('TEMPORAL_UI_PORT', 8233),
    codecPort: port('TEMPORAL_CODEC_PORT', 8234),
    dbFile: resolve(env.TEMPORAL_DB_FILE || join(PROJECT_ROOT, '.data', 'temporal.sqlite')),
    namespace: 'default',
  };
}

export function devServerArgs(options: DevServerOptions, logLevel: 'warn' | 'error' = 'warn'): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--ui-codec-endpoint',
    codecEndpoint(options),
    '--db-filename',
    options.dbFile,
    '--namespace',
    options.namespace,
    '--log-level',
    logLevel,
    ...devServerSearchAttributeArgs(),
  ];
}

/** Where the dev server's Web UI asks to decode payloads. */
export function codecEndpoint(options: Pick<DevServerOptions, 'codecPort'>): string {
  return `http://127.0.0.1:${options.codecPort}`;
}

/** The codec endpoint for the dev server's Web UI (both names of its host may open it). */
export function serveDevCodec(options: Pick<DevServerOptions, 'codecPort' | 'uiPort'>) {
  return serveCodec({
    bind: `127.0.0.1:${options.codecPort}`,
    origins: [`http://127.0.0.1:${options.uiPort}`, `http://localhost:${options.uiPort}`],
  });
}

async function main(): Promise<void> {
  const options = devServerOptionsFromEnv();
  mkdirSync(dirname(options.dbFile), { recursive: true });
  const cli = findTemporalCli();
  const codec = await serveDevCodec(options);
  console.log(
    `Temporal dev server: gRPC 127.0.0.1:${options.port}, Web UI http://127.0.0.1:${options.uiPort} (codec ${codec.url}), db ${options.dbFile}`,
  );
  const child = spawn(cli, devServerArgs(options), { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    void codec.close();
    process.exit(code ?? (signal ? 0 : 1));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
