import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import { TemporalEnv } from '../../config/temporal-config.js';
import { SEARCH_ATTRIBUTES } from '../../plan/index.js';
import { PROJECT_ROOT, PROJECT_TEMPORAL_SERVER } from '../../scripts/temporal-paths.js';
import { SystemsEnv } from '../../worker/systems-config.js';
import { WorkerEnv, loadWorkerEnv } from '../../worker/worker-env.js';

// No Docker engine here: the compose file is checked by validating it, against what the code expects; the
// rehearsal (npm run test:cluster) runs its server environment, setup script and dynamic config for real.
const Service = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  env_file: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  entrypoint: z.array(z.string()).optional(),
  healthcheck: z.looseObject({ test: z.array(z.string()) }).optional(),
  stop_grace_period: z.string().optional(),
  deploy: z.looseObject({ replicas: z.number().optional() }).optional(),
});
const Compose = z.looseObject({
  services: z.record(z.string(), Service),
  volumes: z.record(z.string(), z.unknown()).optional(),
});

const compose = Compose.parse(
  parse(readFileSync(join(PROJECT_ROOT, 'temporal-compose.yml'), 'utf8'), { merge: true }),
);
const services = compose.services;
const envExample = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
/** Every variable .env.example names, set or commented out. */
const exampleVariables = new Set([...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
const seconds = (value: string) => {
  const [, n = '0', unit = 's'] = /^(\d+)(s|m)$/.exec(value) ?? [];
  return Number(n) * (unit === 'm' ? 60 : 1);
};

describe('temporal-compose.yml', () => {
  it('runs Temporal 1.29.1 on PostgreSQL with setup jobs of admin-tools, not the deprecated auto-setup image', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'codec',
      'postgresql',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    assert.equal(services.temporal!.image, 'temporalio/server:1.29.1');
    assert.equal(services['temporal-schema']!.image, 'temporalio/admin-tools:1.29.1');
    assert.equal(services['temporal-namespace']!.image, 'temporalio/admin-tools:1.29.1');
    assert.equal(services['temporal-ui']!.image, 'temporalio/ui:2.42.1');
    assert.doesNotMatch(
      readFileSync(join(PROJECT_ROOT, 'temporal-compose.yml'), 'utf8'),
      /auto-setup|\|\| true/,
    );
    for (const [name, service] of Object.entries(services)) {
      if (service.image) assert.doesNotMatch(service.image, /:latest$|^[^:]+$/, `${name} pins its image`);
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        assert.ok(services[dependency], `${name} depends on unknown service ${dependency}`);
      }
    }
  });

  it('sets up the cluster with deploy/setup.sh in order: schema, server, namespace, then the UI and workers', () => {
    for (const job of ['temporal-schema', 'temporal-namespace']) {
      assert.ok(services[job]!.volumes!.includes('./deploy/setup.sh:/deploy/setup.sh:ro'), job);
      assert.deepEqual(services[job]!.entrypoint, ['sh', '/deploy/setup.sh']);
    }
    assert.deepEqual(services['temporal-schema']!.command, ['schema']);
    assert.deepEqual(services['temporal-namespace']!.command, ['namespace']);
    assert.equal(
      services.temporal!.depends_on!['temporal-schema']!.condition,
      'service_completed_successfully',
    );
    for (const name of ['worker', 'temporal-ui']) {
      assert.equal(
        services[name]!.depends_on!['temporal-namespace']!.condition,
        'service_completed_successfully',
      );
    }
    assert.equal(services['temporal-namespace']!.environment!.TEMPORAL_NAMESPACE_RETENTION, '720h');
    assert.ok(
      services.temporal!.volumes!.some((v) => v.startsWith('./deploy/dynamicconfig.yaml:')),
      'the server reads deploy/dynamicconfig.yaml',
    );
  });

  it('publishes ports on 127.0.0.1 only, and exposes the metrics of Temporal and of the workers', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? [])
        assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port}`);
    }
    assert.ok(services.temporal!.environment!.PROMETHEUS_ENDPOINT);
    assert.ok(services.temporal!.ports!.some((p) => p.endsWith(':8000')));
    assert.equal(services.worker!.environment!.BULK_DELETE_METRICS_BIND, '0.0.0.0:9464');
    assert.ok(services.worker!.ports!.some((p) => p.endsWith(':9464')));
  });

  it("points the Web UI at the codec service, which takes the UI's origin and holds no secret", () => {
    const ui = services['temporal-ui']!;
    const codec = services.codec!;
    const endpoint = new URL(String(ui.environment!.TEMPORAL_CODEC_ENDPOINT));
    // The browser calls it: on the published port, from the origin the UI is served on.
    assert.ok(codec.ports!.includes(`127.0.0.1:${endpoint.port}:8234`), `${endpoint.href} is published`);
    const command = codec.command as string[];
    assert.equal(command[0], 'codec-server');
    assert.equal(command[command.indexOf('--bind') + 1], '0.0.0.0:8234');
    assert.equal(command[command.indexOf('--origin') + 1], String(ui.environment!.TEMPORAL_CORS_ORIGINS));
    assert.ok(
      ui.ports!.some(
        (p) => `http://${p.split(':').slice(0, 2).join(':')}` === ui.environment!.TEMPORAL_CORS_ORIGINS,
      ),
    );
    assert.equal(codec.env_file, undefined, 'no credentials');
    assert.equal(codec.environment, undefined);
  });

  it("tells each worker how many workers share the vendors' rate limits: as many as it runs", () => {
    const worker = services.worker!;
    const replicas = worker.deploy?.replicas ?? 1;
    // .env.example says 1 (one worker); the stack's own setting must win over it, or N workers each
    // keep to the whole limit and together make N times the rate.
    assert.equal(Number(worker.environment!.BULK_DELETE_WORKER_COUNT), replicas);
  });

  it('gives the workers .env, a healthcheck, and a stop grace period above their shutdown grace', () => {
    const worker = services.worker!;
    assert.deepEqual(worker.env_file, ['.env']);
    assert.ok(worker.healthcheck?.test.join(' ').includes('/healthz'));
    const grace = loadWorkerEnv({
      BULK_DELETE_SHUTDOWN_GRACE: String(worker.environment!.BULK_DELETE_SHUTDOWN_GRACE),
    });
    const graceSeconds = grace.BULK_DELETE_SHUTDOWN_GRACE / 1000;
    const stop = seconds(worker.stop_grace_period ?? '10s');
    assert.ok(
      stop > graceSeconds && stop <= graceSeconds + 30,
      `stop_grace_period ${stop}s vs grace ${graceSeconds}s`,
    );
  });

  it('takes secrets from the environment only', () => {
    for (const [service, definition] of Object.entries(services)) {
      for (const [name, value] of Object.entries(definition.environment ?? {})) {
        if (/KEY|PASSWORD|PWD|OWNER_ID/.test(name)) {
          assert.match(
            String(value),
            /^\$\{[A-Z_]+(:[-?][^}]*)?\}$/,
            `${service}.${name} comes from the environment`,
          );
        }
      }
    }
  });
});

describe('.env.example', () => {
  it('names every variable the worker, the command line and compose read', () => {
    const read = [
      ...Object.keys(SystemsEnv.shape),
      ...Object.keys(WorkerEnv.shape),
      ...Object.keys(TemporalEnv.shape),
      'POSTGRES_PASSWORD',
      'BULK_DELETE_METRICS_BIND',
      'BULK_DELETE_LOG_LEVEL',
      'BULK_DELETE_LOG_FORMAT',
      'BULK_DELETE_PLAN_STORE',
      'BULK_DELETE_REPORT_STORE',
      'BULK_DELETE_S3_ENDPOINT',
    ];
    const missing = read.filter((name) => !exampleVariables.has(name));
    assert.deepEqual(missing, []);
  });
});

describe('deploy/', () => {
  it('setup.sh registers exactly the search attributes the workflows upsert, with their types', () => {
    const script = readFileSync(join(PROJECT_ROOT, 'deploy', 'setup.sh'), 'utf8');
    const declared = /^SEARCH_ATTRIBUTES="([^"]*)"/m.exec(script)?.[1]?.split(/\s+/).sort();
    const cliType: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', TEXT: 'Text', BOOL: 'Bool' };
    assert.deepEqual(declared, SEARCH_ATTRIBUTES.map((key) => `${key.name}:${cliType[key.type]}`).sort());
    execFileSync('sh', ['-n', join(PROJECT_ROOT, 'deploy', 'setup.sh')]);
  });

  it(
    'dynamicconfig.yaml is valid for Temporal Server 1.29.1',
    { skip: !existsSync(PROJECT_TEMPORAL_SERVER) && 'run npm run temporal:install-server' },
    () => {
      const out = execFileSync(
        PROJECT_TEMPORAL_SERVER,
        ['validate-dynamic-config', join(PROJECT_ROOT, 'deploy', 'dynamicconfig.yaml')],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      assert.doesNotMatch(out, /unknown|error|invalid/i);
    },
  );
});
