/**
 * Two worker processes share one TwelveLabs rate limit: the sandbox allows 100 requests a second
 * (and answers 429 above it), each worker is told TWELVELABS_MAX_RPS=100 and BULK_DELETE_WORKER_COUNT=2.
 * Prints the 429s, the busiest second and the mean rate used while TwelveLabs calls ran.
 *
 *   node --import tsx bench/rate-limit.ts [items=1500] [limit=100]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { planRefFor, startBulkDelete } from '../client/start.js';
import { SEARCH_ATTRIBUTES } from '../plan/index.js';
import { PROJECT_ROOT, findTemporalCli } from '../scripts/temporal-paths.js';
import { control, startSandboxProcess } from './sandbox-process.js';

const [items = 1500, limit = 100] = process.argv.slice(2).map(Number);

function node(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, argv, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
}

const sandbox = await startSandboxProcess();
const { url } = sandbox;
const temporal = await TestWorkflowEnvironment.createLocal({
  server: {
    executable: { type: 'existing-path', path: findTemporalCli() },
    ip: '127.0.0.1',
    searchAttributes: [...SEARCH_ATTRIBUTES],
    log: { format: 'pretty', level: 'error' },
  },
});
const workers: ChildProcess[] = [];
try {
  await control(url, '/seed', { entityReadyAfterMs: 50 });
  const generated = await control<{ plan: unknown; env: Record<string, string> }>(url, '/generate', {
    items,
    seed: 11,
  });
  await control(url, '/faults', { twelvelabs: { maxRequestsPerSecond: limit, latencyMs: [5, 5] } });
  const dir = await mkdtemp(join(tmpdir(), 'bulk-delete-rate-'));
  const file = join(dir, 'plan.json');
  await writeFile(file, JSON.stringify(generated.plan));
  const taskQueue = `rate-${Date.now()}`;
  const env = {
    ...process.env,
    ...generated.env,
    TEMPORAL_ADDRESS: temporal.connection.options.address,
    BULK_DELETE_TASK_QUEUE: taskQueue,
    BULK_DELETE_LOG_LEVEL: 'ERROR',
    TWELVELABS_MAX_RPS: String(limit),
    TWELVELABS_CONCURRENCY: '32',
    BULK_DELETE_WORKER_COUNT: '2',
  };
  for (let i = 0; i < 2; i++) workers.push(node(['bin/bulk-delete.js', 'worker'], env));
  const started = Date.now();
  const handle = await startBulkDelete(
    temporal.client,
    { planRef: await planRefFor(file) },
    { taskQueue, chunkSize: 100, window: 8 },
  );
  const result = await handle.result().catch((e: unknown) => e);
  const seconds = (Date.now() - started) / 1000;
  const stats = await control<{
    requests: Array<{ system: string; status: number; count: number }>;
    peakRequestsPerSecond: Record<string, number>;
    busySeconds: Record<string, number>;
  }>(url, '/stats');
  const tl = stats.requests.filter((r) => r.system === 'twelvelabs');
  const calls = tl.reduce((a, r) => a + r.count, 0);
  const tooMany = tl.filter((r) => r.status === 429).reduce((a, r) => a + r.count, 0);
  // The first and last busy seconds are partial: the mean over the others is the rate while calls ran.
  const fullSeconds = Math.max(1, stats.busySeconds.twelvelabs! - 2);
  console.log(
    JSON.stringify({
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      items,
      limit,
      workers: 2,
      status: (result as { status?: string }).status ?? String(result),
      seconds,
      twelvelabsCalls: calls,
      twelvelabs429: tooMany,
      peakPerSecond: stats.peakRequestsPerSecond.twelvelabs,
      busySeconds: stats.busySeconds.twelvelabs,
      meanPerSecond: Math.round(((calls - 2 * limit) / fullSeconds) * 10) / 10,
      used: `${Math.round(((calls - 2 * limit) / fullSeconds / limit) * 1000) / 10}%`,
    }),
  );
} finally {
  for (const w of workers) w.kill('SIGTERM');
  await temporal.teardown();
  sandbox.stop();
}
