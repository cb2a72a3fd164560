/** A worker that polls for a whole test file, with the activities the real worker registers. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, createLimiters } from '../../activities/index.js';
import { createPolicyActivities } from '../../activities/policy-activities.js';
import { createWorker } from '../../worker/create-worker.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

export interface BackgroundWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/** Starts a worker on a task queue of its own, with activities built from `env` as `startWorker` builds them. */
export async function startBackgroundWorker(
  temporal: TestWorkflowEnvironment,
  env: Record<string, string>,
): Promise<BackgroundWorker> {
  const taskQueue = uniqueTaskQueue('cli');
  const systems = loadSystemsConfig({ ...env });
  const limiters = createLimiters(systems);
  const worker = await createWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    activities: {
      ...createActivities({ systems, limiters }),
      ...createPolicyActivities({ systems, limiters }),
    },
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
