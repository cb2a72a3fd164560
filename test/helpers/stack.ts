import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { fetchReport, type FetchedReport } from '../../client/report-fetch.js';
import type { Plan, ReportRow } from '../../plan/index.js';
import { startBulkDelete, type PlanSource, type StartOptions } from '../../client/start.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import type { SandboxEnv } from '../../sandbox/index.js';
import { startTestSandbox, type TestSandbox } from './sandbox.js';

/** Worker environment variables, as the sandbox's `generate` answers them or as a test writes them. */
export type WorkerEnv = SandboxEnv | Record<string, string>;
import { startTestServer, uniqueTaskQueue, withWorker } from './temporal.js';

/** The credentials of hand-made catalogues (seed them with these). */
export const KEYS = { tl: 'tl-key', owner: 'owner-1', uplynk: 'uplynk-key', dam: 'dam-key' } as const;

/** The worker's environment for the sandbox at `url` with `KEYS`; `overrides` win. */
export function envFor(url: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TWELVELABS_BASE_URL: `${url}/twelvelabs/v1.3`,
    TWELVELABS_API_KEY: KEYS.tl,
    UPLYNK_BASE_URL: `${url}/uplynk/api/v4`,
    UPLYNK_OWNER_ID: KEYS.owner,
    UPLYNK_API_KEY: KEYS.uplynk,
    ENTERMEDIA_BASE_URL: `${url}/entermedia`,
    ENTERMEDIA_KEY: KEYS.dam,
    ...overrides,
  };
}

/** The real parts of one test file: a throw-away Temporal dev server and the sandbox over HTTP. */
export interface Stack {
  temporal: TestWorkflowEnvironment;
  sandbox: TestSandbox;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const [temporal, sandbox] = await Promise.all([startTestServer(), startTestSandbox()]);
  return {
    temporal,
    sandbox,
    async close() {
      await Promise.all([temporal.teardown(), sandbox.close()]);
    },
  };
}

/** Activities built as the worker builds them, from an environment such as the sandbox's `generate` answers. */
export function activitiesFor(env: WorkerEnv): object {
  return createActivities({ systems: loadSystemsConfig({ ...env }) });
}

/**
 * Runs a plan to its end on a worker of its own and answers the report, as `bulk-delete run --wait` would.
 * `during` runs while the workflow is open (to approve, cancel, query).
 */
export async function runPlan(
  stack: Stack,
  source: PlanSource,
  env: WorkerEnv,
  options: Partial<StartOptions> & {
    during?: (handle: Awaited<ReturnType<typeof startBulkDelete>>) => Promise<void>;
  } = {},
): Promise<FetchedReport & { workflowId: string }> {
  const taskQueue = uniqueTaskQueue('wf');
  return withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
    const handle = await startBulkDelete(stack.temporal.client, source, {
      workflowId: uniqueTaskQueue('run'),
      ...options,
      taskQueue,
    });
    await options.during?.(handle);
    await handle.result().catch(() => undefined);
    return {
      workflowId: handle.workflowId,
      ...(await fetchReport(stack.temporal.client, handle.workflowId)),
    };
  });
}

/** Every item of the plan has exactly one report row per system it names, and there are no others. */
export function assertOneRowPerItemAndSystem(plan: Plan, rows: readonly ReportRow[]): void {
  const expected = plan.items.flatMap((item) =>
    (['twelvelabs', 'uplynk', 'entermedia'] as const).filter((s) => item[s]).map((s) => `${item.id}/${s}`),
  );
  assert.deepEqual(rows.map((r) => `${r.item}/${r.system}`).sort(), expected.sort());
}
