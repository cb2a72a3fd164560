/**
 * bulk-delete as a benchmark contender: a throw-away Temporal dev server, one worker in this process
 * (configured from ENV.json, as `bulk-delete worker` reads the environment), and one run of PLAN.json by
 * reference. Prints wall time, history sizes, the worker's peak RSS and the summary as JSON on stdout.
 *
 *   node --import tsx bench/bulk-delete-run.ts PLAN.json ENV.json [chunkSize] [window]
 */
import { readFile } from 'node:fs/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { fetchReport } from '../client/report-fetch.js';
import { planRefFor, startBulkDelete } from '../client/start.js';
import { SEARCH_ATTRIBUTES } from '../plan/index.js';
import { findTemporalCli } from '../scripts/temporal-paths.js';
import { createWorker } from '../worker/create-worker.js';
import { loadSystemsConfig } from '../worker/systems-config.js';

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
  const worker = await createWorker({
    connection: temporal.nativeConnection,
    namespace: 'default',
    taskQueue,
    activities: createActivities({ systems: loadSystemsConfig({ ...process.env, ...env }) }),
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const started = Date.now();
  const { report, result } = await worker.runUntil(async () => {
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
    return fetchReport(temporal.client, handle.workflowId);
  });
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
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
      workerPeakRssMB: Math.round(peakRss / 2 ** 20),
    }),
  );
} finally {
  await temporal.teardown();
}
