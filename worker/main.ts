import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadTemporalConfig } from './config.js';
import { connectionOptions } from './connection.js';
import { createWorker } from './create-worker.js';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped; rejects if it failed. */
  done: Promise<void>;
  /** Stops polling, lets running tasks finish, closes the connection. */
  stop(): Promise<void>;
}

/** Connects to Temporal as the environment says and starts a worker on the project's task queue. */
export async function startWorker(env: NodeJS.ProcessEnv = process.env): Promise<RunningWorker> {
  const config = loadTemporalConfig(env);
  const connection = await NativeConnection.connect(await connectionOptions(config));
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.BULK_DELETE_TASK_QUEUE,
    activities: {},
  });
  const done = worker.run().finally(() => connection.close());
  return {
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
