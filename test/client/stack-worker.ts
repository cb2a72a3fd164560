/** A worker that polls for a whole test file, with the activities the real worker registers. */
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, createLimiters, type ActivitiesDeps } from '../../activities/index.js';
import { createPolicyActivities } from '../../activities/policy-activities.js';
import { createWorker } from '../../worker/create-worker.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import { sandboxEnv, type SandboxCredentials } from '../../sandbox/index.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { cleanEnv } from './cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

export interface BackgroundWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * Starts a worker on a task queue of its own, with activities built from `env` as `startWorker` builds
 * them; `deps` adds to what they are built from (a report store).
 */
export async function startBackgroundWorker(
  temporal: TestWorkflowEnvironment,
  env: Record<string, string>,
  deps: Omit<Partial<ActivitiesDeps>, 'systems' | 'limiters'> = {},
): Promise<BackgroundWorker> {
  const taskQueue = uniqueTaskQueue('cli');
  const systems = loadSystemsConfig({ ...env });
  const limiters = createLimiters(systems);
  const worker = await createWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    activities: {
      ...createActivities({ systems, limiters, ...deps }),
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

/** What a CLI test file runs the real command line against. */
export interface CliStack {
  stack: Stack;
  worker: BackgroundWorker;
  /** A scratch folder for plan and policy files. */
  dir: string;
  /** The environment for `runCli`: the test server's address and the worker's task queue, nothing else. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * A dev server, the sandbox and a background worker whose systems point at the sandbox with these
 * credentials (the catalogues a test seeds must carry the same ones).
 */
export async function startCliStack(credentials: SandboxCredentials, prefix: string): Promise<CliStack> {
  const stack = await startStack();
  const dir = tempDir(`${prefix}-`);
  const worker = await startBackgroundWorker(stack.temporal, {
    ...sandboxEnv(stack.sandbox.url, credentials),
  });
  const env = cleanEnv({
    TEMPORAL_ADDRESS: stack.temporal.address,
    BULK_DELETE_TASK_QUEUE: worker.taskQueue,
  });
  return {
    stack,
    worker,
    dir,
    env,
    async close() {
      await worker.stop();
      await stack.close();
    },
  };
}

/**
 * The {@link CliStack} of the enclosing `describe`: started before its tests, closed after them. The
 * answer can be kept in a `const` at once; its parts are there from the `before` hook on.
 */
export function cliStackForSuite(credentials: SandboxCredentials, prefix: string): CliStack {
  let started: CliStack | undefined;
  const running = (): CliStack => {
    if (!started) throw new Error("the suite's stack starts in before(): use it in a hook or a test");
    return started;
  };
  before(async () => {
    started = await startCliStack(credentials, prefix);
  });
  after(async () => {
    await started?.close();
  });
  return {
    get stack() {
      return running().stack;
    },
    get worker() {
      return running().worker;
    },
    get dir() {
      return running().dir;
    },
    get env() {
      return running().env;
    },
    close: () => running().close(),
  };
}
