import { Worker, type NativeConnection } from '@temporalio/worker';
import { workflowBundle } from './workflow-bundle.js';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './worker-env.js';

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
}

/** A worker that runs every workflow of the project and the given activities. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: options.activities ?? {},
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    shutdownGraceTime: options.shutdownGraceTimeMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    // A phase heartbeats its cursor every second; the SDK sends it to the server at most this often
    // (by default 80% of the 30 s heartbeat timeout). Every 3 s, progress moves per item within a phase
    // (client/pending-work.ts) and a retried attempt resumes from a fresher cursor, for one small
    // heartbeat call per running phase every 3 s.
    maxHeartbeatThrottleInterval: '3 seconds',
  });
}
