/**
 * Runs one large generated plan end to end on a throw-away Temporal dev server and a sandbox in a
 * process of its own, and prints what the workflow issue asks to record: wall time, items per second,
 * runs, the largest run history, history events per item, the worker's peak RSS.
 *
 *   node --import tsx bench/large-plan.ts [items=10000] [chunkSize=100] [window=4]
 */
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { fetchReport } from '../client/report-fetch.js';
import { planRefFor, startBulkDelete } from '../client/start.js';
import { createWorker } from '../worker/create-worker.js';
import { control, startSandboxProcess } from './sandbox-process.js';
import { loadSystemsConfig } from '../worker/systems-config.js';
import { startDevServer } from '../scripts/dev-server.js';
import { tempDir } from '../test/helpers/temp-dir.js';

Runtime.install({ logger: new DefaultLogger('WARN') });

const [items = 10_000, chunkSize = 100, window = 4] = process.argv.slice(2).map(Number);

async function main(): Promise<void> {
  const sandbox = await startSandboxProcess();
  const temporal = await startDevServer();
  try {
    await control(sandbox.url, '/seed', { entityReadyAfterMs: 50 });
    const generated = await control<{ plan: unknown; env: Record<string, string> }>(
      sandbox.url,
      '/generate',
      {
        items,
        seed: 42,
      },
    );
    const dir = tempDir('bulk-delete-bench-');
    const file = join(dir, 'plan.json');
    await writeFile(file, JSON.stringify(generated.plan));
    const planRef = await planRefFor(file);
    const taskQueue = `bench-${Date.now()}`;
    const worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: createActivities({ systems: loadSystemsConfig(generated.env) }),
    });
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
    const started = Date.now();
    const { report, result } = await worker.runUntil(async () => {
      const handle = await startBulkDelete(temporal.client, { planRef }, { taskQueue, chunkSize, window });
      await handle.result();
      return fetchReport(temporal.client, handle.workflowId);
    });
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);

    const lengths: number[] = [];
    for await (const run of temporal.client.workflow.list({
      query: `WorkflowId = "${result!.workflowId}"`,
    })) {
      lengths.push(run.historyLength);
    }
    const parentRuns = lengths.length;
    const parentLargest = Math.max(...lengths);
    for (const id of result!.chunkWorkflowIds) {
      lengths.push((await temporal.client.workflow.getHandle(id).describe()).historyLength);
    }
    const stats = await control<{
      peakRequestsPerSecond: Record<string, number>;
      mutations: Record<string, number>;
    }>(sandbox.url, '/stats');
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: {
            cpus: cpus().length,
            memoryGiB: Math.round(totalmem() / 2 ** 30),
            node: process.version,
          },
          items,
          chunkSize,
          window,
          status: result!.status,
          summary: report.summary,
          rows: report.rows.length,
          seconds: Math.round(seconds * 10) / 10,
          itemsPerSecond: Math.round((items / seconds) * 10) / 10,
          parentRuns,
          parentLargestHistory: parentLargest,
          largestHistory: Math.max(...lengths),
          eventsPerItem: Math.round((lengths.reduce((a, b) => a + b, 0) / items) * 100) / 100,
          workerPeakRssMB: Math.round(peakRss / 2 ** 20),
          sandboxPeakRequestsPerSecond: stats.peakRequestsPerSecond,
          mutations: stats.mutations,
        },
        null,
        2,
      ),
    );
  } finally {
    await temporal.teardown();
    sandbox.stop();
  }
}

await main();
