import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createActivities, createLimiters } from '../activities/index.js';
import { createPolicyActivities } from '../activities/policy-activities.js';
import { flushCounts } from '../activities/metrics.js';
import {
  isNamespaceNotFound,
  loadTemporalConfig,
  namespaceNotFound,
  unreachable,
} from '../config/temporal-config.js';
import { dataConverter } from '../config/payload-codec.js';
import { createWorker } from './create-worker.js';
import { describeRateSharing, loadRateSharing, startRateShares } from './rate-shares.js';
import { describeSystems, loadSystemsConfig } from './systems-config.js';
import { installTelemetry } from './telemetry.js';
import { loadWorkerEnv } from './worker-env.js';
import { serveHealth } from './health.js';
import { describeWorkflowBundle } from './workflow-bundle.js';
import { applyV8Flags, describeHeap } from './memory.js';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped; rejects if it failed. */
  done: Promise<void>;
  /**
   * Stops polling, lets running activities finish within the shutdown grace (BULK_DELETE_SHUTDOWN_GRACE),
   * cancels those still running after it, closes the connection.
   */
  stop(): Promise<void>;
}

/**
 * Connects to Temporal as the environment says and starts a worker on the project's task queue, with the
 * activities of the three systems built from the same environment.
 * @throws Error naming the variable at fault when a setting is malformed (before connecting).
 */
export async function startWorker(env: NodeJS.ProcessEnv = process.env): Promise<RunningWorker> {
  const config = loadTemporalConfig(env);
  const {
    BULK_DELETE_SHUTDOWN_GRACE: shutdownGraceTimeMs,
    BULK_DELETE_HEALTH_BIND: healthBind,
    BULK_DELETE_MAX_CACHED_WORKFLOWS: maxCachedWorkflows,
    BULK_DELETE_V8_FLAGS: v8Flags,
  } = loadWorkerEnv(env);
  // Before the Temporal worker starts its workflow thread, whose heap takes the flags set at its start.
  applyV8Flags(v8Flags);
  const telemetry = installTelemetry(env);
  // Validated before connecting, so that a typo in a base URL stops the worker at once.
  const systems = loadSystemsConfig(env);
  const sharing = loadRateSharing(env);
  // One limiter per system shared by the deletion and the clean-up selection: vendors count per account.
  const limiters = createLimiters(systems);
  const activities = {
    ...createActivities({
      systems,
      limiters,
      reportStore: env.BULK_DELETE_REPORT_STORE,
      storeEnv: env,
    }),
    ...createPolicyActivities({ systems, limiters }),
  };
  const logger = Runtime.instance().logger;
  // Where each system points and whether it is usable; never a secret.
  for (const line of describeSystems(systems)) logger.info(`bulk-delete worker: ${line}`);
  logger.info(`bulk-delete worker: ${describeRateSharing(sharing)}`);
  logger.info(`bulk-delete worker: ${telemetry}`);
  logger.info(
    `bulk-delete worker: ${env.BULK_DELETE_REPORT_STORE?.trim() ? `reports archived in ${env.BULK_DELETE_REPORT_STORE.trim()}` : 'reports not archived (BULK_DELETE_REPORT_STORE unset)'}`,
  );
  logger.info(`bulk-delete worker: ${describeWorkflowBundle()}`);
  logger.info(
    `bulk-delete worker: V8 flags ${v8Flags.length ? v8Flags.join(' ') : 'none'}; ${describeHeap()}; up to ${maxCachedWorkflows} workflow runs cached`,
  );
  // Served before Temporal is contacted, like every other setting checked first: an address already in
  // use is a configuration error. It answers 503 (INITIALIZED) until the worker runs.
  let built: Worker | undefined;
  const health = healthBind
    ? await serveHealth(healthBind, { getState: () => built?.getState() ?? 'INITIALIZED' }).catch(
        (error: unknown) => {
          throw new Error(
            `bad worker configuration:\n✖ cannot serve the health check on ${healthBind}: ${(error as Error).message}\n  → at BULK_DELETE_HEALTH_BIND`,
            { cause: error },
          );
        },
      )
    : undefined;
  if (healthBind) logger.info(`bulk-delete worker: health on http://${healthBind}/healthz`);
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect(config.connection).catch((error: unknown) => {
      throw unreachable(config.TEMPORAL_ADDRESS, error);
    });
    const connected = connection;
    // Asked before the worker is built: a worker that fails to start on a missing namespace takes ~20 s
    // to say so, in the core's words.
    await connected.workflowService
      .describeNamespace({ namespace: config.TEMPORAL_NAMESPACE })
      .catch((error: unknown) => {
        // Any other refusal (e.g. a key not allowed to describe) is left for the worker itself to meet.
        if (!isNamespaceNotFound(error)) return;
        throw namespaceNotFound(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, error);
      });
    built = await createWorker({
      connection: connected,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.BULK_DELETE_TASK_QUEUE,
      activities,
      shutdownGraceTimeMs,
      maxCachedWorkflows,
    });
  } catch (error) {
    health?.close();
    await connection?.close().catch(() => undefined);
    throw error;
  }
  const worker = built;
  // Leases of each system's rate from the coordinator workflow, asked for with this worker's connection.
  const shares =
    sharing.mode === 'lease' && Object.keys(sharing.limits).length > 0
      ? startRateShares({
          client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
          taskQueue: config.BULK_DELETE_TASK_QUEUE,
          sharing,
          limiters,
          log: (level, message) => {
            if (level === 'warn') logger.warn(`bulk-delete worker: ${message}`);
            else logger.info(`bulk-delete worker: ${message}`);
          },
        })
      : undefined;
  const done = worker.run().finally(async () => {
    // The last vendor calls' counts, into the metrics a scrape may still read.
    flushCounts();
    await shares?.stop();
    health?.close();
    await connection.close();
  });
  return {
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
