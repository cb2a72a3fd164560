/** Runs the real command line (`node bin/bulk-delete.js ...`) as a user would, and what it printed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';

export const CLI = join(PROJECT_ROOT, 'bin', 'bulk-delete.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * An environment with nothing of the developer's own: no Temporal settings, no credentials. Tests add
 * what they need.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(TEMPORAL_|BULK_DELETE_|TWELVELABS_|UPLYNK_|ENTERMEDIA_)/.test(key)) continue;
    env[key] = value;
  }
  // A developer's .env must not leak into the tests either.
  return { ...env, NO_COLOR: '1', BULK_DELETE_ENV_FILE: 'none', ...extra };
}

/** Starts the CLI; `done` resolves when it exits. */
export function startCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; bin?: string } = {},
): { child: ChildProcess; done: Promise<CliResult>; output(): { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [options.bin ?? CLI, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Runs the CLI to its end, killing it after `timeoutMs`. */
export async function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; bin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const running = startCli(args, options);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  try {
    return await running.done;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `probe` answers something truthy, polling. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A TCP listener that stands where Temporal would be and counts the connections it gets: a command that
 * refuses bad input must never open one.
 */
export async function connectionCounter(): Promise<{
  address: string;
  count(): number;
  close(): Promise<void>;
}> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    count: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
