import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { readStateFile, StatePersister } from './persistence.js';
import { createSandboxServer } from './server.js';
import { SandboxState, type SandboxStateInput } from './state-schema.js';
import { Store } from './store.js';

export { SandboxState, type SandboxStateInput } from './state-schema.js';
export { sandboxEnv, type SandboxEnv, type SandboxCredentials } from './env.js';
export { FaultSettings, SystemFaults, type FaultSettingsInput } from './faults.js';
export type { SandboxStats, RequestCount } from './stats.js';
export { GenerateRequest } from './generate.js';
export { signUplynk, verifyUplynk, MAX_CLOCK_SKEW_SECONDS } from './uplynk-auth.js';
export { BASE_PATHS, type SystemName } from './vendor.js';

export interface StartSandboxOptions {
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** The initial state; wins over what `stateFile` holds. @default an empty state */
  seed?: SandboxState | SandboxStateInput;
  /** Keep the state in this JSON file: read at start (when no `seed`), written after changes and on close. */
  stateFile?: string;
}

export interface RunningSandbox {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  /** Stops accepting, ends open connections, writes the state file if any. */
  close(): Promise<void>;
}

/**
 * Starts the sandbox: TwelveLabs under `/twelvelabs/v1.3`, Uplynk under `/uplynk/api/v4`,
 * EnterMediaDB under `/entermedia`, controls under `/_sandbox` (docs/rehearsing.md, docs/vendor-contracts.md).
 * @example
 * const sandbox = await startSandbox();
 * await fetch(`${sandbox.url}/_sandbox/generate`, { method: 'POST', body: JSON.stringify({ items: 10, seed: 1 }) });
 * await sandbox.close();
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1';
  let initial: SandboxState | undefined;
  let fromFile = false;
  if (options.seed !== undefined) {
    const parsed = SandboxState.safeParse(options.seed);
    if (!parsed.success) throw new Error(`invalid sandbox seed:\n${z.prettifyError(parsed.error)}`);
    initial = parsed.data;
  } else if (options.stateFile) {
    initial = readStateFile(options.stateFile);
    fromFile = initial !== undefined;
  }
  const store = new Store(initial);
  const persister = options.stateFile ? new StatePersister(options.stateFile, store) : undefined;
  let url = '';
  const { server } = createSandboxServer({ store, url: () => url, changed: () => persister?.changed() });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  url = `http://${urlHost}:${port}`;
  if (persister && !fromFile) persister.flush();
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }).finally(() => persister?.close());
      return closing;
    },
  };
}
