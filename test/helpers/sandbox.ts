import { after, before, beforeEach } from 'node:test';
import type { PlanInput } from '../../plan/index.js';
import {
  startSandbox,
  type FaultSettingsInput,
  type SandboxCredentials,
  type SandboxEnv,
  type SandboxState,
  type SandboxStateInput,
  type SandboxStats,
} from '../../sandbox/index.js';

/** Requests counted by the sandbox, filtered by system, route (`DELETE /assets/{asset_id}`) and status. */
export function countRequests(
  stats: SandboxStats,
  filter: { system?: string; route?: string; status?: number } = {},
): number {
  return stats.requests
    .filter((r) => filter.system === undefined || r.system === filter.system)
    .filter((r) => filter.route === undefined || r.route === filter.route)
    .filter((r) => filter.status === undefined || r.status === filter.status)
    .reduce((sum, r) => sum + r.count, 0);
}

/** Waits until the sandbox has answered `route` at least `count` times (polling its stats every 10 ms). */
export async function untilAnswered(
  sandbox: Pick<TestSandbox, 'stats'>,
  route: string,
  count = 1,
  tries = 1000,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (countRequests(await sandbox.stats(), { route }) >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the sandbox never answered ${route}`);
}

/** A sandbox for one test file, driven through its `/_sandbox` controls over HTTP. */
export interface TestSandbox {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
  /** Replaces the whole state (sections and most fields may be left out; see `SandboxState`). */
  seed(state: SandboxStateInput): Promise<void>;
  state(): Promise<SandboxState>;
  /** Seeds a deterministic catalogue of `items` items and answers the plan that deletes them all, and the env. */
  generate(items: number, seed?: number): Promise<{ plan: PlanInput; env: SandboxEnv }>;
  /** Replaces the whole fault setting; `{}` turns faults off. */
  faults(settings: FaultSettingsInput): Promise<void>;
  stats(): Promise<SandboxStats>;
  /** Clears state, faults and stats. */
  reset(): Promise<void>;
}

/**
 * Starts a sandbox on a random port in this process. Stop it in `after`.
 * @example
 * const sandbox = await startTestSandbox();
 * after(() => sandbox.close());
 * const { plan, env } = await sandbox.generate(20, 1);
 */
export async function startTestSandbox(): Promise<TestSandbox> {
  const running = await startSandbox({ port: 0 });
  const control = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${running.url}/_sandbox${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sandbox ${method} /_sandbox${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    url: running.url,
    close: () => running.close(),
    seed: async (state) => void (await control('POST', '/seed', state)),
    state: () => control<SandboxState>('GET', '/state'),
    generate: (items, seed = 1) =>
      control<{ plan: PlanInput; env: SandboxEnv }>('POST', '/generate', { items, seed }),
    faults: async (settings) => void (await control('POST', '/faults', settings)),
    stats: () => control<SandboxStats>('GET', '/stats'),
    reset: async () => void (await control('POST', '/reset')),
  };
}

/**
 * The sandbox of the enclosing `describe`: started before its tests and closed after them. The answer
 * can be kept in a `const` at once; it reaches the sandbox from the `before` hook on (its `url` too).
 * @example
 * const sandbox = sandboxForSuite();
 * beforeEach(() => sandbox.seed({ entermedia: { key: KEY } }));
 */
export function sandboxForSuite(): TestSandbox {
  let started: TestSandbox | undefined;
  const running = (): TestSandbox => {
    if (!started) throw new Error("the suite's sandbox starts in before(): use it in a hook or a test");
    return started;
  };
  before(async () => {
    started = await startTestSandbox();
  });
  after(() => started?.close());
  return {
    get url() {
      return running().url;
    },
    close: () => running().close(),
    seed: (state) => running().seed(state),
    state: () => running().state(),
    generate: (items, seed) => running().generate(items, seed),
    faults: (settings) => running().faults(settings),
    stats: () => running().stats(),
    reset: () => running().reset(),
  };
}

/**
 * {@link sandboxForSuite}, emptied (state, faults and stats) and seeded with `state` before each test, so
 * that no test sees what an earlier one did.
 */
export function seededSandboxForSuite(state: SandboxStateInput): TestSandbox {
  const sandbox = sandboxForSuite();
  beforeEach(async () => {
    await sandbox.reset();
    await sandbox.seed(state);
  });
  return sandbox;
}

/**
 * Credentials of a test file's own, named after it (`<prefix>-twelvelabs-key`, `<prefix>-owner`,
 * `<prefix>-uplynk-key`, `<prefix>-entermedia-key`), for its worker and the catalogues it seeds.
 */
export function credentialsNamed(prefix: string): SandboxCredentials {
  return {
    twelvelabs: { apiKey: `${prefix}-twelvelabs-key` },
    uplynk: { ownerId: `${prefix}-owner`, apiKey: `${prefix}-uplynk-key` },
    entermedia: { key: `${prefix}-entermedia-key` },
  };
}

/**
 * Empties the sandbox, generates a catalogue of `items` items from `seed` and answers the plan that
 * deletes them all. generate() makes credentials of its own: the catalogue is seeded again with
 * `credentials`, the ones the test's worker holds.
 */
export async function generateWithCredentials(
  sandbox: TestSandbox,
  credentials: SandboxCredentials,
  items: number,
  seed: number,
): Promise<PlanInput> {
  await sandbox.reset();
  const { plan } = await sandbox.generate(items, seed);
  const state = await sandbox.state();
  await sandbox.seed({
    ...state,
    twelvelabs: { ...state.twelvelabs, ...credentials.twelvelabs },
    uplynk: { ...state.uplynk, ...credentials.uplynk },
    entermedia: { ...state.entermedia, ...credentials.entermedia },
  });
  return plan;
}
