import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vendorCallsIn } from '../../activities/metrics.js';
import { Report } from '../../plan/index.js';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';
import { cleanEnv, eventually, type CliResult } from '../client/cli-process.js';
import { freePort } from '../helpers/ports.js';
import { countRequests } from '../helpers/sandbox.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { tempDir } from '../helpers/temp-dir.js';

const DIST_BIN = join(PROJECT_ROOT, 'dist', 'bin', 'bulk-delete.js');

/**
 * A module hook that fails any attempt to load tsx or a TypeScript file: the compiled command line must run
 * on node alone, as in the production image where tsx (a dev dependency) is not installed.
 */
function noTypeScriptHook(dir: string): string {
  const hooks = join(dir, 'no-typescript-hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) throw new Error('tsx loaded at run time: ' + specifier);
  const resolved = await next(specifier, context);
  if (/\\.[cm]?tsx?$/.test(resolved.url)) throw new Error('TypeScript loaded at run time: ' + resolved.url);
  return resolved;
}
`,
  );
  const register = join(dir, 'no-typescript.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`,
  );
  return register;
}

describe('npm run build: the compiled command line, as production runs it', () => {
  let stack: Stack;
  let hook: string;
  const dist = (args: string[], env: NodeJS.ProcessEnv) => {
    const child = spawn(process.execPath, ['--import', hook, DIST_BIN, ...args], {
      cwd: tmpdir(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const done = new Promise<CliResult>((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done, output: () => stdout + stderr };
  };

  before(async () => {
    const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr + build.stdout);
    hook = noTypeScriptHook(tempDir('bulk-delete-dist-'));
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('answers --help with node alone, without tsx', async () => {
    const help = await dist(['--help'], cleanEnv()).done;
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: bulk-delete <command>/);
    // The hook is live: the TypeScript sources cannot be loaded under it.
    const refused = spawnSync(
      process.execPath,
      ['--import', hook, join(PROJECT_ROOT, 'bin', 'bulk-delete.js'), '--help'],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      },
    );
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /loaded at run time/);
  });

  it('runs a worker on the prebuilt workflow bundle and a plan to its end, with node alone', async () => {
    const { plan, env: systems } = await stack.sandbox.generate(3, 7);
    const dir = tempDir('bulk-delete-dist-plan-');
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ ...plan, name: 'dist' }));
    const temporalEnv = {
      TEMPORAL_ADDRESS: stack.temporal.address,
      BULK_DELETE_TASK_QUEUE: uniqueTaskQueue('dist'),
    };
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const worker = dist(
      ['worker'],
      cleanEnv({
        ...temporalEnv,
        ...systems,
        NODE_ENV: 'production',
        BULK_DELETE_HEALTH_BIND: `127.0.0.1:${healthPort}`,
        BULK_DELETE_METRICS_BIND: `127.0.0.1:${metricsPort}`,
      }),
    );
    try {
      await eventually(() => Promise.resolve(worker.output().includes('worker polling')), 60_000);
      assert.match(worker.output(), /workflows: prebuilt bundle .*dist\/workflow-bundle\.js/);
      const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
      assert.equal(health.status, 200);

      const run = await dist(['run', planFile, '--wait', '--json'], cleanEnv(temporalEnv)).done;
      assert.equal(run.code, 0, run.stderr);
      const report = Report.parse((JSON.parse(run.stdout) as { report: unknown }).report);
      assert.equal(report.summary.items, 3);
      assert.equal(report.summary.failed, 0);

      // Temporal's metrics under their standard names, and the vendor calls by system and status.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /^temporal_activity_execution_latency/m);
      assert.doesNotMatch(metrics, /bulk_delete_temporal_/);
      assert.match(metrics, /^bulk_delete_vendor_calls\w*\{[^}]*system="twelvelabs"[^}]*\} [1-9]/m);
      // Every call the sandbox answered is counted once, by system (counts are added within 100 ms).
      const stats = await stack.sandbox.stats();
      for (const system of ['twelvelabs', 'uplynk', 'entermedia'] as const) {
        const answered = countRequests(stats, { system });
        let counted = -1;
        await eventually(async () => {
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
          counted = vendorCallsIn(text, system);
          return counted === answered;
        }, 5_000).catch(() => undefined);
        assert.equal(counted, answered, `${system}: calls in the metrics against calls the sandbox answered`);
      }
      // Production logs are JSON, one object a line.
      const logLine = worker
        .output()
        .split('\n')
        .find((line) => line.includes('prebuilt bundle'));
      assert.ok(logLine && (JSON.parse(logLine) as { level: string }).level === 'info', logLine);
    } finally {
      worker.child.kill('SIGTERM');
    }
    const ended = await worker.done;
    assert.equal(ended.code, 0, ended.stderr);
  });
});
