import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PlanRef } from '../activities/contract.js';
import { openObjectStore } from '../activities/object-store.js';
import {
  BulkDeleteItems,
  BulkDeletePlan,
  BulkDeleteRetryOf,
  BulkDeleteStatus,
  Plan,
  digestOf,
} from '../plan/index.js';
import { bulkDeleteWorkflow, type SelectionRecheck } from '../workflows/index.js';
import { CliError, plural } from './command.js';

/** Plans with more items travel by reference (a file the workers read), never as one workflow argument. */
export const INLINE_PLAN_MAX_ITEMS = 1000;

/** The workflow ID of a plan: the same plan submitted twice maps to one run. */
export function workflowIdFor(planName: string, digest: string): string {
  return `bulk-delete-${planName}-${digest.slice(0, 16)}`;
}

/**
 * A reference to a JSON plan file, with its SHA-256, for plans too large to travel inline. The workers
 * must be able to read the path (same machine or shared volume) or URL.
 * @throws Error naming the file when it is not a valid plan.
 */
export async function planRefFor(path: string): Promise<PlanRef> {
  const bytes = await readFile(path);
  const parsed = Plan.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!parsed.success) throw new Error(`${path}: not a valid plan`);
  return {
    uri: pathToFileURL(resolve(path)).href,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    name: parsed.data.name,
    items: parsed.data.items.length,
  };
}

/**
 * Uploads a plan file to the plan store (`BULK_DELETE_PLAN_STORE`: a directory the workers can read, or
 * `s3://bucket/prefix`) under `plans/<sha256>.json`, and answers the reference to it: the same plan is
 * stored once, and the workers need no access to the client's disk.
 * @throws Error naming the store when the upload fails.
 */
export async function storePlan(
  ref: PlanRef,
  path: string,
  location: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PlanRef> {
  const store = openObjectStore(location, env);
  const bytes = await readFile(path);
  // The file is read again to upload it: a file changed since it was validated would be stored under
  // the validated bytes' name, and every worker would refuse it only once the run had started.
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== ref.sha256) {
    throw new CliError(
      `${path} changed since it was validated (SHA-256 ${actual}, validated ${ref.sha256}): nothing was stored or started`,
    );
  }
  try {
    const uri = await store.put(`plans/${ref.sha256}.json`, bytes);
    return { ...ref, uri };
  } catch (error) {
    throw new Error(
      `cannot store the plan in BULK_DELETE_PLAN_STORE ${location}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export type PlanSource = { plan: Plan } | { planRef: PlanRef };

export interface StartOptions {
  taskQueue: string;
  /** @default workflowIdFor(plan name, digest) */
  workflowId?: string;
  dryRun?: boolean;
  requireApproval?: boolean;
  chunkSize?: number;
  window?: number;
  maxHistoryEvents?: number;
  /** How long the run may wait for a worker before it ends without deleting anything. */
  startWithinMs?: number;
  /** `bulk-delete retry`: the workflow ID of the run this one retries (memo `retryOf`, `BulkDeleteRetryOf`). */
  retryOf?: string;
  /** How long a run with `requireApproval` waits for its approval. @default 7 days (the workflow's) */
  approvalTimeoutMs?: number;
  /** `bulk-delete retry` of a scheduled clean-up's run: its selection, read again before deleting. */
  recheck?: SelectionRecheck;
}

/**
 * Starts the deletion of a validated plan. Starting the same plan twice (same workflow ID) while a run is
 * open answers the open run instead of starting another.
 */
export async function startBulkDelete(
  client: Client,
  source: PlanSource,
  options: StartOptions,
): Promise<WorkflowHandle<typeof bulkDeleteWorkflow>> {
  const name = 'plan' in source ? source.plan.name : source.planRef.name;
  const items = 'plan' in source ? source.plan.items.length : source.planRef.items;
  const digest = 'plan' in source ? digestOf(source.plan) : source.planRef.sha256;
  const mode = options.dryRun ? 'dry-run' : 'run';
  const workflowId = options.workflowId ?? workflowIdFor(mode === 'run' ? name : `${name}-dry-run`, digest);
  const input = {
    ...source,
    dryRun: options.dryRun ?? false,
    requireApproval: options.requireApproval ?? false,
    ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    ...(options.window !== undefined ? { window: options.window } : {}),
    ...(options.maxHistoryEvents !== undefined ? { maxHistoryEvents: options.maxHistoryEvents } : {}),
    ...(options.startWithinMs !== undefined ? { startWithinMs: options.startWithinMs } : {}),
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    ...(options.recheck !== undefined ? { recheck: options.recheck } : {}),
  };
  try {
    return await client.workflow.start(bulkDeleteWorkflow, {
      args: [input],
      taskQueue: options.taskQueue,
      workflowId,
      // One run per plan: an open run is reused, a completed one is not started again; a failed,
      // cancelled or terminated one may be started afresh.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        { key: BulkDeletePlan, value: name },
        { key: BulkDeleteStatus, value: options.dryRun ? 'discovering' : 'running' },
        { key: BulkDeleteItems, value: items },
        ...(options.retryOf !== undefined ? [{ key: BulkDeleteRetryOf, value: options.retryOf }] : []),
      ],
      memo: {
        plan: name,
        items,
        digest,
        ...(options.retryOf !== undefined ? { retryOf: options.retryOf } : {}),
      },
      staticSummary: `${options.dryRun ? 'Dry run of' : 'Delete'} ${plural(items, 'item')} of plan ${name}`,
      staticDetails: `Plan **${name}**: ${plural(items, 'item')}, plan digest \`${digest}\`${options.requireApproval ? ', waits for approval' : ''}.`,
    });
  } catch (error) {
    if ((error as Error).name === 'WorkflowExecutionAlreadyStartedError') {
      return client.workflow.getHandle<typeof bulkDeleteWorkflow>(workflowId);
    }
    throw error;
  }
}
