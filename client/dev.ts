/**
 * The embedded local stack in one process tree: a Temporal dev server with its Web UI, the sandbox
 * seeded with a demo catalogue, a worker pointed at the sandbox, and the example plan run to its end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { SandboxState, sandboxEnv, startSandbox, type RunningSandbox } from '../sandbox/index.js';
import { DEFAULT_SANDBOX_PORT } from '../sandbox/main.js';
import {
  devServerArgs,
  devServerOptionsFromEnv,
  serveDevCodec,
  type DevServerOptions,
} from '../scripts/temporal-dev.js';
import { installTemporalCli } from '../scripts/temporal-install.js';
import { PROJECT_ROOT, locateTemporalCli } from '../scripts/temporal-paths.js';
import { webUiBase, webUiUrl } from '../config/temporal-config.js';
import { dataConverter } from '../config/payload-codec.js';
import type { RunningWorker } from '../worker/main.js';
import { CliError, EXIT, plural, type Io } from './command.js';
import { checkWorkerEnv, startConfiguredWorker } from './commands/worker.js';
import { readPlanFile } from './plan-file.js';
import { summaryLines } from './report-format.js';
import { watchRun } from './run-watch.js';
import { startBulkDelete } from './start.js';
import { temporalConfigFrom } from './temporal-client.js';

export const EXAMPLE_PLAN = join(PROJECT_ROOT, 'examples', 'takedown.json');
export const DEMO_CATALOGUE = join(PROJECT_ROOT, 'examples', 'demo-catalogue.json');

export interface DevOptions {
  /** Run the plan, then shut everything down; otherwise stay up until Ctrl-C. */
  once: boolean;
  /** @default examples/takedown.json */
  plan?: string;
  /** The sandbox's seed. @default examples/demo-catalogue.json */
  seed?: string;
  /** Print the JSON of `run --wait --json` on stdout instead of the summary. */
  json?: boolean;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** Whether a TCP port on 127.0.0.1 is free to listen on. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function connectWithin(address: string, ms: number, server: ChildProcess): Promise<Connection> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (server.exitCode !== null) {
      throw new CliError(
        `the Temporal dev server exited (code ${server.exitCode}) before it answered`,
        EXIT.failed,
      );
    }
    try {
      return await Connection.connect({ address, connectTimeout: 1000 });
    } catch (error) {
      if (Date.now() > deadline) {
        throw new CliError(
          `the Temporal dev server at ${address} did not answer within ${ms / 1000} s: ${(error as Error).message}`,
          EXIT.failed,
        );
      }
      await sleep(250);
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function readSeed(file: string): SandboxState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${shown(file)}: cannot read the sandbox seed: ${(error as Error).message}`);
  }
  const parsed = SandboxState.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(`${shown(file)}: not a sandbox state:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * The Temporal CLI to run the dev server with; when there is none, installs it as
 * "npm run temporal:install" does, saying each step.
 * @throws CliError (exit 2) when it cannot be installed, with what to do.
 */
function temporalCliOrInstall(io: Io): string {
  const found = locateTemporalCli();
  if (found) return found;
  io.err('no Temporal CLI found: installing it (what "npm run temporal:install" does)');
  try {
    return installTemporalCli((line) => io.err(`  ${line}`));
  } catch (error) {
    throw new CliError(`cannot install the Temporal CLI: ${(error as Error).message}`);
  }
}

/**
 * What `.env` or the shell says about another Temporal (Temporal Cloud's API key, TLS, a profile, gRPC
 * metadata, its Web UI or codec) or about production stores: the local stack talks to its own dev server,
 * and its demo run's plan and report stay out of the stores real runs use.
 */
const NOT_FOR_THE_LOCAL_STACK =
  /^(TEMPORAL_(API_KEY|TLS|TLS_.+|PROFILE|CONFIG_FILE|GRPC_META_.+|UI_URL|CODEC_ENDPOINT|CODEC_AUTH)|BULK_DELETE_(REPORT|PLAN)_STORE)$/;

/** The environment without what concerns another Temporal or production stores (`NOT_FOR_THE_LOCAL_STACK`). */
export function localStackEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !NOT_FOR_THE_LOCAL_STACK.test(name)));
}

/** A profile file with the dev server alone as its default profile, beside its database. */
function writeLocalProfile(server: DevServerOptions): string {
  const file = join(dirname(server.dbFile), 'temporal-local.toml');
  writeFileSync(
    file,
    `# Written by bulk-delete dev: the local stack's connection, whatever profile the user keeps.\n` +
      `[profile.default]\naddress = "127.0.0.1:${server.port}"\nnamespace = ${JSON.stringify(server.namespace)}\n`,
  );
  return file;
}

/** Resolves on SIGINT or SIGTERM. */
function interrupted(): { promise: Promise<void>; dispose(): void } {
  let done: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (done = resolve));
  const handler = () => done();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    promise,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * Everything local: checks the plan, the seed and the ports first (exit 2, nothing started), then starts
 * the dev server, the sandbox and a worker, runs the plan with live progress, and prints the summary and
 * the Web UI link. Answers the run's exit code (0, 1 or 3).
 */
export async function runDev(options: DevOptions, io: Io): Promise<number> {
  const planFile = readPlanFile(options.plan ?? shown(EXAMPLE_PLAN));
  const seed = readSeed(options.seed ?? DEMO_CATALOGUE);
  const server: DevServerOptions = (() => {
    try {
      return devServerOptionsFromEnv(io.env);
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  })();
  for (const [port, variable] of [
    [server.port, 'TEMPORAL_DEV_PORT'],
    [server.uiPort, 'TEMPORAL_UI_PORT'],
    [server.codecPort, 'TEMPORAL_CODEC_PORT'],
  ] as const) {
    if (!(await portFree(port))) {
      throw new CliError(
        `port ${port} is in use (another Temporal dev server?): stop it, or set ${variable} to a free port`,
      );
    }
  }
  const cli = temporalCliOrInstall(io);

  const cleanups: Array<() => Promise<void>> = [];
  const shutdown = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        io.err(`while shutting down: ${(error as Error).message}`);
      }
    }
  };
  const signal = interrupted();
  try {
    mkdirSync(dirname(server.dbFile), { recursive: true });
    const codec = await serveDevCodec(server);
    cleanups.push(() => codec.close());
    const child = spawn(cli, devServerArgs(server, 'error'), { stdio: ['ignore', 'ignore', 'inherit'] });
    cleanups.push(() => stopChild(child));
    const sandbox: RunningSandbox = await startSandbox({
      port: (await portFree(DEFAULT_SANDBOX_PORT)) ? DEFAULT_SANDBOX_PORT : 0,
      seed,
    });
    cleanups.push(() => sandbox.close());
    const env: NodeJS.ProcessEnv = {
      ...localStackEnv(io.env),
      // Its own profile file, so that a default profile the user keeps for another Temporal
      // (~/.config/temporalio/temporal.toml) does not apply either.
      TEMPORAL_CONFIG_FILE: writeLocalProfile(server),
      TEMPORAL_ADDRESS: `127.0.0.1:${server.port}`,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_UI_PORT: String(server.uiPort),
      // Worker state changes at INFO would drown the progress bar; warnings and errors still show.
      BULK_DELETE_LOG_LEVEL: io.env.BULK_DELETE_LOG_LEVEL ?? 'WARN',
      ...sandboxEnv(sandbox.url, seed),
    };
    // The CLI runs this worker itself: its configuration must be complete before anything runs.
    const systems = checkWorkerEnv(env);
    const config = temporalConfigFrom(env);

    const connection = await connectWithin(config.TEMPORAL_ADDRESS, 60_000, child);
    cleanups.push(() => connection.close());
    io.err(`Temporal dev server on ${config.TEMPORAL_ADDRESS}, Web UI ${webUiBase(config)}`);
    io.err(`sandbox on ${sandbox.url}, seeded from ${shown(options.seed ?? DEMO_CATALOGUE)}`);
    for (const line of systems) io.err(`  ${line}`);

    const worker: RunningWorker = await startConfiguredWorker(env);
    cleanups.push(() => worker.stop());
    io.err(`worker polling ${config.BULK_DELETE_TASK_QUEUE}`);

    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const handle = await startBulkDelete(
      client,
      { plan: planFile.plan },
      {
        taskQueue: config.BULK_DELETE_TASK_QUEUE,
        workflowId: `bulk-delete-dev-${planFile.plan.name}-${stamp}`,
      },
    );
    const { runId } = await handle.describe();
    const url = webUiUrl(config, handle.workflowId, runId);
    io.err(
      `started ${handle.workflowId}: plan ${planFile.plan.name}, ${plural(planFile.plan.items.length, 'item')}`,
    );
    io.err(`Web UI: ${url}`);

    const outcome = await Promise.race([
      watchRun(client, handle.workflowId, io, { explainInterrupt: false }),
      signal.promise.then(() => undefined),
    ]);
    if (!outcome) {
      io.err('interrupted: shutting down (the run stays in the dev server and resumes with "npm start")');
      return EXIT.cancelled;
    }
    if (options.json) {
      io.out(
        JSON.stringify(
          { workflowId: handle.workflowId, runId, webUiUrl: url, report: outcome.report },
          null,
          2,
        ),
      );
    } else {
      if (outcome.error) io.err(outcome.error);
      if (outcome.report) io.out(['', ...summaryLines(outcome.report)].join('\n'));
      io.out(`\nWeb UI of the run: ${url}`);
    }
    if (!options.once) {
      io.err(
        `\nthe local stack stays up: Web UI ${webUiBase(config)}, Temporal ${config.TEMPORAL_ADDRESS}, ` +
          `sandbox ${sandbox.url}; Ctrl-C stops it`,
      );
      // From another terminal: the commands talk to localhost:7233 unless told otherwise.
      if (!options.json) {
        const address = server.port === 7233 ? '' : `TEMPORAL_ADDRESS=${config.TEMPORAL_ADDRESS} `;
        io.err(
          `the run's report, one row per item and system: ${address}npx bulk-delete report ${handle.workflowId}`,
        );
      }
      await signal.promise;
    }
    return outcome.exitCode;
  } finally {
    signal.dispose();
    await shutdown();
    if (!options.json) io.err('local stack stopped');
  }
}
