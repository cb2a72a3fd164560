/**
 * bulk-delete as a benchmark contender: a throw-away Temporal dev server, one production worker process
 * (`dist/bin/bulk-delete.js worker`, compiled, with the prebuilt workflow bundle; run `npm run build`
 * first) configured from ENV.json, and one run of PLAN.json by reference. Prints wall time, history
 * sizes, the worker's peak RSS (VmHWM) and the summary as JSON on stdout.
 *
 *   node --import tsx bench/bulk-delete-run.ts PLAN.json ENV.json [chunkSize] [window]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { fetchReport } from '../client/report-fetch.js';
import { planRefFor, startBulkDelete } from '../client/start.js';
import { SEARCH_ATTRIBUTES } from '../plan/index.js';
import { PROJECT_ROOT, findTemporalCli } from '../scripts/temporal-paths.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const [planFile, envFile, chunkArg, windowArg] = process.argv.slice(2);
if (!planFile || !envFile) {
  console.error('usage: bulk-delete-run.ts PLAN.json ENV.json [chunkSize] [window]');
  process.exit(2);
}
const env = JSON.parse(await readFile(envFile, 'utf8')) as Record<string, string>;
const chunkSize = chunkArg ? Number(chunkArg) : undefined;
const window = windowArg ? Number(windowArg) : undefined;

const temporal = await TestWorkflowEnvironment.createLocal({
  server: {
    executable: { type: 'existing-path', path: findTemporalCli() },
    ip: '127.0.0.1',
    searchAttributes: [...SEARCH_ATTRIBUTES],
    log: { format: 'pretty', level: 'error' },
  },
});
try {
  const planRef = await planRefFor(planFile);
  const taskQueue = `bench-${Date.now()}`;
  const worker = spawn(process.execPath, ['dist/bin/bulk-delete.js', 'worker'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...env,
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: temporal.connection.options.address,
      BULK_DELETE_TASK_QUEUE: taskQueue,
      BULK_DELETE_LOG_LEVEL: 'ERROR',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peakKb = 0;
  const sampler = setInterval(() => {
    readFile(`/proc/${worker.pid}/status`, 'utf8')
      .then((s) => (peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0))))
      .catch(() => undefined);
  }, 200);
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
  clearInterval(sampler);
  worker.kill('SIGTERM');
  const lengths: number[] = [];
  for await (const run of temporal.client.workflow.list({ query: `WorkflowId = "${report.workflowId}"` })) {
    lengths.push(run.historyLength);
  }
  for (const id of result?.chunkWorkflowIds ?? []) {
    lengths.push((await temporal.client.workflow.getHandle(id).describe()).historyLength);
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
      workerPeakRssMB: Math.round(peakKb / 1024),
    }),
  );
} finally {
  await temporal.teardown();
}
