import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { startDevServer } from '../../scripts/dev-server.js';
import { createWorker } from '../../worker/create-worker.js';
import { progressQuery } from '../../workflows/index.js';

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
  options: { inactivePatches?: readonly string[]; shutdownGraceTimeMs?: number } = {},
): Promise<T> {
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    ...options,
  });
  return worker.runUntil(fn(worker));
}

/**
 * Waits until a `--require-approval` run is waiting for approval, and answers the digest it asks for
 * (at most 20 s).
 */
export async function digestToApprove(handle: WorkflowHandle): Promise<string> {
  for (let i = 0; i < 800; i++) {
    const p = await handle.query(progressQuery);
    if (p.status === 'awaiting-approval' && p.digest) return p.digest;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${handle.workflowId} did not wait for approval within 20 s`);
}

/**
 * The activities with `name` holding each call until `count` calls arrived (at most `maxMs`), so that
 * they go on together: two chunks reading the same thing at the same moment, for example.
 */
export function meetingAt<A extends object>(
  activities: A,
  name: string,
  count: number,
  maxMs = 10_000,
): { activities: A; arrived: () => number } {
  const real = (activities as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
  let arrived = 0;
  let release!: () => void;
  const together = new Promise<void>((resolve) => (release = resolve));
  const held = async (...args: unknown[]) => {
    if (++arrived >= count) release();
    await Promise.race([together, new Promise((r) => setTimeout(r, maxMs))]);
    return real(...args);
  };
  return { activities: { ...activities, [name]: held }, arrived: () => arrived };
}
