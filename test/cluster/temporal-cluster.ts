/**
 * A real Temporal Server 1.29.1 cluster on PostgreSQL for the rehearsal, set up exactly as
 * temporal-compose.yml sets it up: the `temporal` service's environment drives the server's own config
 * template, deploy/dynamicconfig.yaml is its dynamic config, deploy/setup.sh creates the schemas and
 * registers the namespace. Only addresses and ports differ (127.0.0.1, free ports).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse } from 'yaml';
import {
  PROJECT_ROOT,
  PROJECT_TEMPORAL,
  PROJECT_TEMPORAL_SERVER,
  PROJECT_TEMPORAL_SERVER_FILES,
  PROJECT_TEMPORAL_SQL_TOOL,
} from '../../scripts/temporal-paths.js';
import { freePort } from '../helpers/ports.js';
import type { TestPostgres } from './postgres.js';

export const SETUP_SCRIPT = join(PROJECT_ROOT, 'deploy', 'setup.sh');
export const DYNAMIC_CONFIG = join(PROJECT_ROOT, 'deploy', 'dynamicconfig.yaml');

export interface TestCluster {
  /** host:port of the frontend's gRPC. */
  address: string;
  namespace: string;
  /** The server's Prometheus endpoint. */
  metricsUrl: string;
  /** The server's output so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** The environment a compose service is given, with `${VAR...}` taken from `vars`. */
export function composeEnvironment(service: string, vars: Record<string, string>): Record<string, string> {
  const compose = parse(readFileSync(join(PROJECT_ROOT, 'temporal-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<string, { environment?: Record<string, string | number> }>;
  };
  const environment = compose.services[service]?.environment;
  if (!environment) throw new Error(`temporal-compose.yml has no environment for service ${service}`);
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      String(value).replace(/\$\{(\w+)(?::[-?][^}]*)?\}/g, (_, v: string) => {
        const found = vars[v];
        if (found === undefined) throw new Error(`${service}.${name} needs ${v}`);
        return found;
      }),
    ]),
  );
}

/** A free port below the ephemeral range (which starts at 32768 on Linux). */
async function freeLowPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function requireInstalled(): void {
  for (const path of [PROJECT_TEMPORAL, PROJECT_TEMPORAL_SERVER, PROJECT_TEMPORAL_SQL_TOOL]) {
    if (!existsSync(path)) {
      throw new Error(
        `${path} is missing: run "npm run temporal:install && npm run temporal:install-server"`,
      );
    }
  }
}

/** PATH with the project's `temporal`, `temporal-sql-tool` first, as admin-tools has them. */
function toolsPath(): string {
  return [dirname(PROJECT_TEMPORAL), process.env.PATH ?? ''].join(delimiter);
}

/** Runs deploy/setup.sh STEP with the compose job's environment; rejects with its output when it fails. */
export function runSetup(step: 'schema' | 'namespace', env: Record<string, string>): Promise<string> {
  const child = spawn('sh', [SETUP_SCRIPT, step], {
    env: {
      ...process.env,
      PATH: toolsPath(),
      SETUP_RETRY_SECONDS: '1',
      SETUP_ATTEMPTS: process.env.SETUP_ATTEMPTS ?? '60',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`setup.sh ${step} exited ${code}:\n${output.slice(-5000)}`)),
    );
  });
}

/** Creates the schemas, starts the server and registers the namespace; stop it in `after`. */
export async function startCluster(postgres: TestPostgres): Promise<TestCluster> {
  requireInstalled();
  const vars = { POSTGRES_PASSWORD: postgres.password, TEMPORAL_NAMESPACE: 'default' };
  const local = { POSTGRES_SEEDS: postgres.host, DB_PORT: String(postgres.port) };
  await runSetup('schema', {
    ...composeEnvironment('temporal-schema', vars),
    ...local,
    TEMPORAL_SCHEMA_DIR: join(PROJECT_TEMPORAL_SERVER_FILES, 'schema', 'postgresql', 'v12'),
  });

  const root = mkdtempSync(join(tmpdir(), 'bulk-delete-temporal-'));
  mkdirSync(join(root, 'config'));
  // The config template of the server's image, rendered by the server itself (a comment enables that).
  // The image renders it with dockerize: `.Env.X`, and `default VALUE FALLBACK`; the server's renderer is
  // sprig: `env "X"`, and `default FALLBACK VALUE`.
  const template = readFileSync(join(PROJECT_TEMPORAL_SERVER_FILES, 'docker', 'config_template.yaml'), 'utf8')
    .replace(/default\s+\.Env\.(\w+)\s+("[^"]*"|\$\w+)/g, 'default $2 (env "$1")')
    .replace(/\.Env\.(\w+)/g, '(env "$1")');
  writeFileSync(join(root, 'config', 'docker.yaml'), `# enable-template\n${template}`);
  const ports: Record<string, string> = {};
  for (const name of [
    'FRONTEND_GRPC_PORT',
    'FRONTEND_HTTP_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'INTERNAL_FRONTEND_HTTP_PORT',
    'INTERNAL_FRONTEND_GRPC_PORT',
    'INTERNAL_FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ]) {
    // The cluster stores membership ports as a smallint: they must stay below 32768.
    ports[name] = String(name.endsWith('MEMBERSHIP_PORT') ? await freeLowPort() : await freePort());
  }
  const metricsPort = await freePort();
  const env = {
    ...composeEnvironment('temporal', vars),
    ...local,
    ...ports,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG,
    PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}`,
    LOG_LEVEL: 'warn',
  };
  let output = '';
  const child: ChildProcess = spawn(
    PROJECT_TEMPORAL_SERVER,
    ['--root', root, '--config', 'config', '--env', 'docker', 'start'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  const cluster: TestCluster = {
    address,
    namespace: 'default',
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.race([
      runSetup('namespace', { ...composeEnvironment('temporal-namespace', vars), TEMPORAL_ADDRESS: address }),
      exited.then(() => {
        throw new Error(`the server exited with ${child.exitCode}`);
      }),
    ]);
  } catch (error) {
    await cluster.stop();
    throw new Error(`${(error as Error).message}\nserver output:\n${output.slice(-5000)}`, { cause: error });
  }
  return cluster;
}
