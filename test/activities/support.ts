/**
 * Shared pieces of the connector tests: activities built against a sandbox, runs inside the SDK's activity
 * context (MockActivityEnvironment: Temporal's real Context, heartbeats and cancellation, no server), and
 * counting the sandbox's requests.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { createActivities, type ActivitiesDeps } from '../../activities/index.js';
import type { Activities, ItemAsset } from '../../activities/contract.js';
import type { LedgerEntry, PhaseAnswer } from '../../plan/index.js';
import { Faults, FaultSettings, type SystemFaults } from '../../sandbox/faults.js';
import type { SandboxStateInput, SystemName } from '../../sandbox/index.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import type { TestSandbox } from '../helpers/sandbox.js';

export { countRequests } from '../helpers/sandbox.js';

export const KEYS = {
  twelvelabs: 'tl-secret-key-0123456789',
  uplynkOwner: 'owner-42',
  uplynk: 'uplynk-secret-key-abcdef',
  entermedia: 'em-secret-key-zyxwvu',
} as const;

/** The environment that points the connectors at the sandbox with the credentials of `seedWith`. */
export function sandboxEnv(sandbox: TestSandbox, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    TWELVELABS_BASE_URL: `${sandbox.url}/twelvelabs/v1.3`,
    TWELVELABS_API_KEY: KEYS.twelvelabs,
    UPLYNK_BASE_URL: `${sandbox.url}/uplynk/api/v4`,
    UPLYNK_OWNER_ID: KEYS.uplynkOwner,
    UPLYNK_API_KEY: KEYS.uplynk,
    ENTERMEDIA_BASE_URL: `${sandbox.url}/entermedia`,
    ENTERMEDIA_KEY: KEYS.entermedia,
    BULK_DELETE_HTTP_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

/** Activities configured from an environment, as the worker builds them. */
export function activitiesFor(env: NodeJS.ProcessEnv, deps: Partial<ActivitiesDeps> = {}): Activities {
  return createActivities({ systems: loadSystemsConfig(env), ...deps });
}

/** A seed with the test keys; sections given replace the defaults. */
export function seedWith(state: SandboxStateInput): SandboxStateInput {
  return {
    entityReadyAfterMs: 300,
    ...state,
    twelvelabs: { ...state.twelvelabs, apiKey: KEYS.twelvelabs },
    uplynk: { ...state.uplynk, ownerId: KEYS.uplynkOwner, apiKey: KEYS.uplynk },
    entermedia: { ...state.entermedia, key: KEYS.entermedia },
  };
}

/** A TwelveLabs-like ID: 24 hex characters, `prefix` (hex) then the number. */
export function hexId(prefix: string, n: number): string {
  return `${prefix}${n.toString(16).padStart(24 - prefix.length, '0')}`;
}

export interface ActivityRun<T> {
  result?: T;
  error?: unknown;
  /** Every heartbeat's details, in order. */
  heartbeats: unknown[];
  /**
   * Each heartbeat's details as JSON when it was given (a phase keeps changing the object it heartbeats,
   * and the SDK encodes it later).
   */
  said: string[];
  /** What the activity and the SDK logged, as JSON lines (kept out of the test output). */
  logs: string[];
}

function collectingLogger(lines: string[]): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    lines.push(
      JSON.stringify({ level, message, meta }, (_key, value: unknown) =>
        value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
      ),
    );
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * Runs `fn` inside Temporal's activity context (`MockActivityEnvironment`), with `info` (e.g. `attempt`,
 * `heartbeatDetails` of an earlier attempt), collecting heartbeats (and what each said when given). `during` gets the environment, e.g.
 * to cancel it.
 */
export async function inActivity<T>(
  fn: () => Promise<T>,
  info: Partial<Info> = {},
  during?: (env: MockActivityEnvironment) => void,
): Promise<ActivityRun<T>> {
  const logs: string[] = [];
  const env = new MockActivityEnvironment(
    { startToCloseTimeoutMs: 60_000, ...info },
    { logger: collectingLogger(logs) },
  );
  const heartbeats: unknown[] = [];
  const said: string[] = [];
  env.on('heartbeat', (details: unknown) => {
    heartbeats.push(details);
    said.push(JSON.stringify(details));
  });
  during?.(env);
  try {
    const result = (await env.run(fn)) as T;
    return { result, heartbeats, said, logs };
  } catch (error) {
    return { error, heartbeats, said, logs };
  }
}

/** The last heartbeat's `done` list: the keys of the units an attempt finished. */
export function lastDone(run: ActivityRun<unknown>): string[] {
  const last = run.heartbeats.at(-1) as { done?: string[] } | undefined;
  return last?.done ?? [];
}

/** A plan item's asset in a call, with the item named after the asset. */
export function target(assetId: string, item = `item-${assetId}`): ItemAsset {
  return { item, assetId };
}

/** `[step, target, answer]` of each entry, sorted, for comparisons that do not depend on the lanes' order. */
export function answers(answer: PhaseAnswer | undefined): Array<[string, string, LedgerEntry['answer']]> {
  return (answer?.entries ?? [])
    .map((e): [string, string, LedgerEntry['answer']] => [e.step, e.target, e.answer])
    .sort((a, b) => (a.join(' ') < b.join(' ') ? -1 : a.join(' ') > b.join(' ') ? 1 : 0));
}

/** What the sandbox does to one request: answer it, 5xx, 429, or apply it and drop the connection. */
export type FaultKind = 'ok' | '5xx' | '429' | 'drop';

/**
 * A fault seed under which the sandbox treats the first `requests` requests to `system`, in arrival order,
 * as `wanted` accepts. The sandbox decides faults per request with a seeded PRNG (sandbox/faults.ts): the
 * seed is looked for with the sandbox's own `Faults`, so that a test can put one fault on one request
 * without depending on the PRNG's numbers.
 */
export function faultSeed(
  system: SystemName,
  faults: Partial<SystemFaults>,
  requests: number,
  wanted: (kinds: FaultKind[]) => boolean,
): number {
  const settings = FaultSettings.parse({ [system]: faults });
  const decider = new Faults();
  for (let seed = 1; seed <= 2_000_000; seed++) {
    decider.set({ ...settings, seed });
    const kinds = Array.from({ length: requests }, (): FaultKind => {
      const d = decider.decide(system, 0);
      if (d.status === 429) return '429';
      if (d.status !== undefined) return '5xx';
      return d.drop ? 'drop' : 'ok';
    });
    if (wanted(kinds)) return seed;
  }
  throw new Error(`no fault seed for ${system} gives the wanted faults`);
}

/** `kinds` has exactly one `kind` among its first `within` requests and only `ok` otherwise. */
export function oneFaultWithin(kind: FaultKind, within: number): (kinds: FaultKind[]) => boolean {
  return (kinds) =>
    kinds.slice(0, within).filter((k) => k === kind).length === 1 &&
    kinds.every((k, i) => k === 'ok' || (k === kind && i < within));
}

/**
 * A bare HTTP server that answers what `answer` says, for the rows of the error table that the sandbox
 * cannot produce (403, 409 on a forced delete, 422, an unknown 4xx, a vendor echoing what it was sent).
 * The connectors still go through their HTTP client and the network: nothing of it is replaced.
 */
export async function startStatusServer(
  answer: (request: IncomingMessage) => { status: number; body?: unknown; headers?: Record<string, string> },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const { status, body, headers } = answer(request);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    });
  });
  return listenLocally(server);
}

/**
 * A proxy in front of the sandbox that holds each request `delayOf(method, path)` ms before it passes it
 * on (0: at once), so that a test can make one call answer late without slowing the others.
 */
export async function startDelayingProxy(
  target: string,
  delayOf: (method: string, path: string) => number,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const method = request.method ?? 'GET';
      const delay = delayOf(method, (request.url ?? '/').split('?')[0]!);
      setTimeout(() => {
        const forwarded = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method,
            path: request.url,
            headers: request.headers,
          },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        forwarded.on('error', () => request.socket.destroy());
        forwarded.end(Buffer.concat(chunks));
      }, delay);
    });
  });
  return listenLocally(server);
}

/** Listens on a free local port; `close` ends the connections still open too. */
async function listenLocally(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
