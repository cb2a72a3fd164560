import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Plan } from '../plan/index.js';
import { devServerArgs, devServerOptionsFromEnv } from '../scripts/temporal-dev.js';
import { PROJECT_ROOT, findTemporalCli } from '../scripts/temporal-paths.js';
import { loadTemporalConfig, webUiUrl } from '../worker/config.js';
import { startWorker } from '../worker/main.js';
import { startBulkDelete } from './start.js';

export const EXAMPLE_PLAN = join(PROJECT_ROOT, 'examples', 'takedown.json');

async function connectWithin(address: string, ms: number): Promise<Connection> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await Connection.connect({ address, connectTimeout: 1000 });
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`the Temporal dev server at ${address} did not answer`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Everything local in one process tree: a Temporal dev server with its Web UI, a worker, and the example
 * plan. With `once`, shuts everything down after the run; otherwise stays up until Ctrl-C.
 */
export async function runDev(options: { once: boolean }): Promise<number> {
  const server = devServerOptionsFromEnv();
  mkdirSync(dirname(server.dbFile), { recursive: true });
  const child = spawn(findTemporalCli(), devServerArgs(server, 'error'), {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${server.port}`,
    TEMPORAL_UI_PORT: String(server.uiPort),
  };
  const config = loadTemporalConfig(env);
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    const connection = await connectWithin(config.TEMPORAL_ADDRESS, 30_000);
    console.log(
      `Temporal dev server on ${config.TEMPORAL_ADDRESS}, Web UI http://127.0.0.1:${server.uiPort}`,
    );
    worker = await startWorker(env);
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const plan = Plan.parse(JSON.parse(readFileSync(EXAMPLE_PLAN, 'utf8')));
    const handle = await startBulkDelete(
      client,
      { plan },
      {
        taskQueue: config.BULK_DELETE_TASK_QUEUE,
        workflowId: `bulk-delete-dev-${Date.now()}`,
      },
    );
    console.log(`started ${handle.workflowId}: ${webUiUrl(config, handle.workflowId)}`);
    const result = await handle.result();
    console.log(`plan "${result.plan}": ${result.status}, ${JSON.stringify(result.summary)}`);
    if (!options.once) {
      console.log('the local stack stays up: Ctrl-C stops it');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    await connection.close();
    return 0;
  } finally {
    await worker?.stop();
    await stopChild(child);
  }
}
