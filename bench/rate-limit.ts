/**
 * Worker processes share one TwelveLabs rate limit: the sandbox allows `limit` requests a second
 * (and answers 429 above it), each worker is told TWELVELABS_MAX_RPS=limit and
 * BULK_DELETE_WORKER_COUNT=workers. Prints the 429s, the busiest second and the mean rate used while
 * TwelveLabs calls ran, in all and per worker (each worker's TwelveLabs calls, read from its metrics
 * endpoint every second). BULK_DELETE_RATE_SHARING in the environment (lease or static) is passed on.
 * With leases, also the mean over the seconds in which the workers asked the coordinator for the whole
 * limit (`usedWhenWanted`); BENCH_TIMELINE=1 prints each second's calls and grants on stderr.
 *
 *   node --import tsx bench/rate-limit.ts [items=1500] [limit=100] [workers=2] [chunk=100] [window=8]
 *
 * "Used" is the sandbox's own count: the mean of its calendar seconds with TwelveLabs requests, the first
 * and the last (partial) left out, as a share of the limit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { vendorCallsIn } from '../activities/metrics.js';
import { planRefFor, startBulkDelete } from '../client/start.js';
import { held } from '../plan/rate-shares.js';
import { RATE_SHARES_WORKFLOW_ID, sharesQuery } from '../workflows/index.js';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';
import { control, startSandboxProcess } from './sandbox-process.js';
import { startDevServer } from '../scripts/dev-server.js';
import { tempDir } from '../test/helpers/temp-dir.js';

const [items = 1500, limit = 100, workerCount = 2, chunkSize = 100, window = 8] = process.argv
  .slice(2)
  .map(Number);

/** The worker's TwelveLabs calls so far, from its Prometheus endpoint (0 until it has made one). */
async function twelveLabsCalls(metricsUrl: string): Promise<number> {
  const text = await fetch(metricsUrl)
    .then((r) => r.text())
    .catch(() => '');
  return vendorCallsIn(text, 'twelvelabs');
}

/** Mean of the per-second rates, leaving out the first and last busy seconds (partial ones). */
function meanWhileBusy(perSecond: number[]): { busySeconds: number; meanPerSecond: number } {
  const first = perSecond.findIndex((n) => n > 0);
  const last = perSecond.findLastIndex((n) => n > 0);
  if (first < 0) return { busySeconds: 0, meanPerSecond: 0 };
  const inner = perSecond.slice(first + 1, last);
  const mean = inner.length ? inner.reduce((a, n) => a + n, 0) / inner.length : 0;
  return { busySeconds: last - first + 1, meanPerSecond: Math.round(mean * 10) / 10 };
}

function node(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, argv, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
}

const sandbox = await startSandboxProcess();
const { url } = sandbox;
const temporal = await startDevServer();
const workers: ChildProcess[] = [];
try {
  await control(url, '/seed', { entityReadyAfterMs: 50 });
  const generated = await control<{ plan: unknown; env: Record<string, string> }>(url, '/generate', {
    items,
    seed: 11,
  });
  await control(url, '/faults', { twelvelabs: { maxRequestsPerSecond: limit, latencyMs: [5, 5] } });
  const dir = tempDir('bulk-delete-rate-');
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
    BULK_DELETE_WORKER_COUNT: String(workerCount),
  };
  const metricsUrls: string[] = [];
  for (let i = 0; i < workerCount; i++) {
    const port = 19_460 + i + (process.pid % 200) * 10;
    metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
    workers.push(
      node(['bin/bulk-delete.js', 'worker'], { ...env, BULK_DELETE_METRICS_BIND: `127.0.0.1:${port}` }),
    );
  }
  // Each worker's TwelveLabs calls, sampled every second while the run goes on.
  const samples: number[][] = metricsUrls.map(() => []);
  // What the coordinator has granted (lease sharing): per second, each worker's held rate and want.
  const timeline: Array<Array<{ held: number; want: number }> | undefined> = [];
  const sharesNow = async () => {
    try {
      const state = await temporal.client.workflow.getHandle(RATE_SHARES_WORKFLOW_ID).query(sharesQuery);
      return Object.values(state.holders).map((h) => ({
        held: held(h, 'twelvelabs'),
        want: Math.round(h.systems.twelvelabs?.want ?? 0),
      }));
    } catch {
      return undefined;
    }
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = Date.now();
      const counts = await Promise.all(metricsUrls.map(twelveLabsCalls));
      counts.forEach((c, i) => samples[i]!.push(c));
      timeline.push(await sharesNow());
      await new Promise((r) => setTimeout(r, Math.max(0, at + 1000 - Date.now())));
    }
  })();
  const started = Date.now();
  const handle = await startBulkDelete(
    temporal.client,
    { planRef: await planRefFor(file) },
    { taskQueue, chunkSize, window },
  );
  const result = await handle.result().catch((e: unknown) => e);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2500));
  sampling = false;
  await sampler;
  const perWorker = samples.map((series) => {
    const perSecond = series.slice(1).map((c, i) => c - series[i]!);
    return {
      calls: series.at(-1) ?? 0,
      peakPerSecond: Math.max(0, ...perSecond),
      ...meanWhileBusy(perSecond),
    };
  });
  const stats = await control<{
    requests: Array<{ system: string; status: number; count: number }>;
    peakRequestsPerSecond: Record<string, number>;
    busySeconds: Record<string, number>;
    requestsPerSecond: Record<string, number[]>;
  }>(url, '/stats');
  const tl = stats.requests.filter((r) => r.system === 'twelvelabs');
  const calls = tl.reduce((a, r) => a + r.count, 0);
  const tooMany = tl.filter((r) => r.status === 429).reduce((a, r) => a + r.count, 0);
  // The first and last busy seconds are partial: the mean over the others is the rate while calls ran.
  const inner = stats.requestsPerSecond.twelvelabs!.slice(1, -1);
  const meanPerSecond = inner.reduce((a, n) => a + n, 0) / Math.max(1, inner.length);
  // Lease sharing: the seconds in which the workers wanted the whole limit at both ends (the rate, not
  // the work, was what held them back), and the calls made in them.
  const callsIn = (i: number) =>
    samples.reduce((a, series) => a + (series[i + 1] ?? 0) - (series[i] ?? 0), 0);
  const wanted = (i: number) => (timeline[i] ?? []).reduce((a, h) => a + h.want, 0) >= limit;
  const demandSeconds = timeline
    .map((_, i) => i)
    .filter((i) => i + 1 < samples[0]!.length && wanted(i) && wanted(i + 1));
  const usedWhenWanted = demandSeconds.length
    ? demandSeconds.reduce((a, i) => a + callsIn(i), 0) / demandSeconds.length
    : undefined;
  console.log(
    JSON.stringify({
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      items,
      limit,
      workers: workerCount,
      chunkSize,
      window,
      sharing: process.env.BULK_DELETE_RATE_SHARING ?? (workerCount > 1 ? 'lease' : 'static'),
      status: (result as { status?: string }).status ?? String(result),
      seconds,
      twelvelabsCalls: calls,
      twelvelabs429: tooMany,
      peakPerSecond: stats.peakRequestsPerSecond.twelvelabs,
      busySeconds: stats.busySeconds.twelvelabs,
      meanPerSecond: Math.round(meanPerSecond * 10) / 10,
      used: `${Math.round((meanPerSecond / limit) * 1000) / 10}%`,
      secondsAtNinetyPercent: `${inner.filter((n) => n >= 0.9 * limit).length} of ${inner.length}`,
      perWorker,
      ...(usedWhenWanted === undefined
        ? {}
        : {
            secondsWantingTheLimit: demandSeconds.length,
            usedWhenWanted: `${Math.round((usedWhenWanted / limit) * 1000) / 10}%`,
          }),
    }),
  );
  if (process.env.BENCH_TIMELINE) {
    // Each second: every worker's TwelveLabs calls, then what the coordinator held/wanted for each.
    const rows = timeline.map((shares, i) => {
      const calls = samples.map((series) => (series[i + 1] ?? 0) - (series[i] ?? 0));
      const held = shares?.map((h) => `${h.held}/${h.want}`).join(' ') ?? '-';
      return `${calls.join(' + ')} = ${calls.reduce((a, n) => a + n, 0)}  | ${held}`;
    });
    console.error(`calls per worker, each second | held/want per worker:\n${rows.join('\n')}`);
  }
} finally {
  for (const w of workers) w.kill('SIGTERM');
  await temporal.teardown();
  sandbox.stop();
}
