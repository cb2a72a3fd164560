import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { startDevServer } from '../../scripts/dev-server.js';
import { createWorker } from '../../worker/create-worker.js';

// Worker state changes at INFO drown the test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'DEBUG' ? 'DEBUG' : 'WARN') });

/**
 * A throw-away Temporal dev server (the pinned CLI, never a download) on a random port, with the
 * project's search attributes registered. One per test file; stop it in `after`.
 */
export async function startTestServer(): Promise<TestWorkflowEnvironment> {
  return startDevServer();
}

/** A task queue of its own for one test, so that tests never pick up each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Starts a worker for the project's workflows on the test server and runs `fn` while it polls. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: object,
  fn: (worker: Worker) => Promise<T>,
): Promise<T> {
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
  });
  return worker.runUntil(fn(worker));
}
