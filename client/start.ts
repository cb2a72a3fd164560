import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Plan } from '../plan/index.js';
import { BulkDeleteItems, BulkDeletePlan, BulkDeleteStatus, digestOf } from '../plan/index.js';
import { bulkDeleteWorkflow } from '../workflows/index.js';

/** The workflow ID of a plan: the same plan submitted twice maps to one run. */
export function workflowIdFor(plan: Plan): string {
  return `bulk-delete-${plan.name}-${digestOf(plan).slice(0, 16)}`;
}

export interface StartOptions {
  taskQueue: string;
  workflowId?: string;
}

/** Starts the deletion of a validated plan. */
export async function startBulkDelete(
  client: Client,
  plan: Plan,
  options: StartOptions,
): Promise<WorkflowHandle<typeof bulkDeleteWorkflow>> {
  return client.workflow.start(bulkDeleteWorkflow, {
    args: [{ plan }],
    taskQueue: options.taskQueue,
    workflowId: options.workflowId ?? workflowIdFor(plan),
    typedSearchAttributes: [
      { key: BulkDeletePlan, value: plan.name },
      { key: BulkDeleteStatus, value: 'running' },
      { key: BulkDeleteItems, value: plan.items.length },
    ],
  });
}
