/**
 * bulk-delete as a benchmark contender: a throw-away Temporal dev server, one production worker process
 * (`dist/bin/bulk-delete.js worker`, compiled, with the prebuilt workflow bundle; run `npm run build`
 * first) configured from ENV.json, and one run of PLAN.json by reference. Prints wall time, history
 * sizes, the worker's peak RSS (VmHWM) and the summary as JSON on stdout.
 *
 *   node --import tsx bench/bulk-delete-run.ts PLAN.json ENV.json [chunkSize] [window]
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { fetchReport } from '../client/report-fetch.js';
import { planRefFor, startBulkDelete } from '../client/start.js';
import { WORKER_PROCESS_ENV } from '../worker/memory.js';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';
import { startDevServer } from '../scripts/dev-server.js';
import { samplePeakRss } from './cpu-sampler.js';

/** One line per activity of a chunk: its type, seconds from the run's start to its start, and its duration. */
async function timelineOf(
  handle: ReturnType<TestWorkflowEnvironment['client']['workflow']['getHandle']>,
  runStarted: number,
): Promise<string> {
  const history = await handle.fetchHistory();
  const ms = (t: unknown) => {
    const ts = t as { seconds?: { toNumber(): number } | number; nanos?: number } | null | undefined;
    const seconds = typeof ts?.seconds === 'number' ? ts.seconds : (ts?.seconds?.toNumber() ?? 0);
    return seconds * 1000 + (ts?.nanos ?? 0) / 1e6;
  };
  const scheduled = new Map<string, { type: string; at: number }>();
  const parts: string[] = [];
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      scheduled.set(id, {
        type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?',
        at: ms(e.eventTime),
      });
    }
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed) {
      const s = scheduled.get(String(closed.scheduledEventId));
      if (s) {
        parts.push(
          `${s.type}@${((s.at - runStarted) / 1000).toFixed(1)}+${((ms(e.eventTime) - s.at) / 1000).toFixed(1)}`,
        );
      }
    }
  }
  return `${handle.workflowId}: ${parts.join(' ')}`;
}

/** A port free now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until the worker's health endpoint answers 200 (it polls its task queue). */
async function untilHealthy(port: number): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the worker on health port ${port} did not start within a minute`);
}

Runtime.install({ logger: new DefaultLogger('ERROR') });

const [planFile, envFile, chunkArg, windowArg] = process.argv.slice(2);
if (!planFile || !envFile) {
  console.error('usage: bulk-delete-run.ts PLAN.json ENV.json [chunkSize] [window]');
  process.exit(2);
}
const env = JSON.parse(await readFile(envFile, 'utf8')) as Record<string, string>;
const chunkSize = chunkArg ? Number(chunkArg) : undefined;
const window = windowArg ? Number(windowArg) : undefined;

const temporal = await startDevServer();
try {
  const planRef = await planRefFor(planFile);
  const taskQueue = `bench-${Date.now()}`;
  // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the worker alone;
  // BENCH_WORKER_STDOUT=FILE keeps the worker's stdout (e.g. what --trace-gc prints) in FILE.
  const stdoutFile = process.env.BENCH_WORKER_STDOUT;
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // BENCH_WORKERS=N runs N worker processes on the task queue (e.g. one per core); peak RSS is the largest.
  const workerCount = Number(process.env.BENCH_WORKERS ?? 1);
  const ports = await Promise.all(Array.from({ length: workerCount }, freePort));
  const spawnWorker = (port: number) =>
    spawn(process.execPath, [...nodeArgs, 'dist/bin/bulk-delete.js', 'worker'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        ...env,
        NODE_ENV: 'production',
        // As the image runs it (Dockerfile: NODE_OPTIONS, MALLOC_ARENA_MAX); BENCH_WORKER_PLAIN=1 runs
        // it with neither.
        ...(process.env.BENCH_WORKER_PLAIN ? {} : WORKER_PROCESS_ENV),
        TEMPORAL_ADDRESS: temporal.connection.options.address,
        BULK_DELETE_TASK_QUEUE: taskQueue,
        // BENCH_WORKER_LOG_LEVEL=WARN shows the worker's warnings (on stderr) too.
        BULK_DELETE_LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'ERROR',
        BULK_DELETE_HEALTH_BIND: `127.0.0.1:${port}`,
      },
      stdio: ['ignore', stdoutFile ? openSync(stdoutFile, 'w') : 'ignore', 'inherit'],
    });
  const workers = ports.map(spawnWorker);
  // The clock starts once every worker polls its task queue, as a long-running deployment's would.
  await Promise.all(ports.map(untilHealthy));
  const peak = samplePeakRss(() => workers.map((w) => w.pid!));
  const started = Date.now();
  const handle = await startBulkDelete(
    temporal.client,
    { planRef },
    {
      taskQueue,
      ...(chunkSize ? { chunkSize } : {}),
      ...(window ? { window } : {}),
    },
  );
  await handle.result().catch(() => undefined);
  const { report, result } = await fetchReport(temporal.client, handle.workflowId);
  const seconds = (Date.now() - started) / 1000;
  const workerPeakRssMB = peak.stop();
  await Promise.all(
    workers.map((worker) => {
      worker.kill('SIGTERM');
      return new Promise((resolve) => worker.once('exit', resolve));
    }),
  );
  const lengths: number[] = [];
  for await (const run of temporal.client.workflow.list({ query: `WorkflowId = "${report.workflowId}"` })) {
    lengths.push(run.historyLength);
  }
  const timeline: string[] = [];
  for (const id of result?.chunkWorkflowIds ?? []) {
    const chunk = temporal.client.workflow.getHandle(id);
    lengths.push((await chunk.describe()).historyLength);
    // BENCH_TIMELINE=1: each chunk's activities, with when they started and how long they took (stderr).
    if (process.env.BENCH_TIMELINE) timeline.push(await timelineOf(chunk, started));
  }
  if (timeline.length > 0) console.error(timeline.join('\n'));
  // BENCH_FAILED=1: the report's rows of items that failed (stderr), to see why.
  if (process.env.BENCH_FAILED) {
    for (const row of report.rows.filter((r) => r.outcome === 'failed')) console.error(JSON.stringify(row));
  }
  const items = report.summary.items;
  console.log(
    JSON.stringify({
      seconds,
      status: report.status,
      summary: report.summary,
      runs: lengths.length,
      events: lengths.reduce((a, b) => a + b, 0),
      eventsPerItem: lengths.reduce((a, b) => a + b, 0) / Math.max(1, items),
      largestHistory: Math.max(...lengths),
      workerPeakRssMB,
    }),
  );
} finally {
  await temporal.teardown();
}
