import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { Plan } from '../plan/index.js';

export interface BulkDeleteInput {
  /** The plan as the user wrote it; validated again here, since a workflow can be started by any client. */
  plan: unknown;
}

export interface BulkDeleteResult {
  plan: string;
  items: number;
}

/** Walks a deletion plan. */
export async function bulkDeleteWorkflow(input: BulkDeleteInput): Promise<BulkDeleteResult> {
  const parsed = Plan.safeParse(input.plan);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid plan: ${z.prettifyError(parsed.error)}`,
      'InvalidPlanError',
    );
  }
  return Promise.resolve({ plan: parsed.data.name, items: parsed.data.items.length });
}
