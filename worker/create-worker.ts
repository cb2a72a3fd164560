import { Worker, type NativeConnection } from '@temporalio/worker';
import { dataConverter } from '../config/payload-codec.js';
import { workflowBundle } from './workflow-bundle.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS, DEFAULT_SHUTDOWN_GRACE_MS } from './worker-env.js';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Activity implementations, as built by `createActivities`. */
  activities?: object;
  /** Activities running at once on this worker. @default 100 */
  maxConcurrentActivityTaskExecutions?: number;
  /**
   * On shutdown, how long running activities may go on before they are cancelled (Temporal then retries
   * them on another worker). @default 60_000 (BULK_DELETE_SHUTDOWN_GRACE)
   */
  shutdownGraceTimeMs?: number;
  /**
   * Workflow runs kept in memory between their tasks. @default 100 (BULK_DELETE_MAX_CACHED_WORKFLOWS)
   */
  maxCachedWorkflows?: number;
  /**
   * Patches (`patched()` IDs) this worker leaves inactive in the runs it starts, as the version before
   * them did: the recorded histories and the upgrade tests use it to run an earlier version's branches.
   */
  inactivePatches?: readonly string[];
}

/** A worker that runs every workflow of the project and the given activities. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    // Large payloads (a chunk's record) compressed: the parent's history fills ~10× more slowly.
    dataConverter,
    activities: options.activities ?? {},
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    shutdownGraceTime: options.shutdownGraceTimeMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    // The SDK would derive the cache from the heap limit: 2,310 runs at the 4 GiB V8 gives a 24 GiB
    // machine (nothing then bounds the workflow thread's memory but the heap), 10 under
    // --max-old-space-size=128. A fixed size, the same on every machine; the workflow thread stays one
    // reused V8 context (the SDK's default: reuseV8Context, workflowThreadPoolSize 1).
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    // A phase heartbeats its cursor every second; the SDK sends it to the server at most this often
    // (by default 80% of the 30 s heartbeat timeout). Every 3 s, progress moves per item within a phase
    // (client/pending-work.ts) and a retried attempt resumes from a fresher cursor, for one small
    // heartbeat call per running phase every 3 s.
    maxHeartbeatThrottleInterval: '3 seconds',
    ...(options.inactivePatches?.length
      ? {
          patchActivationCallback: ({ patchId }: { patchId: string }) =>
            !options.inactivePatches!.includes(patchId),
        }
      : {}),
  });
}
