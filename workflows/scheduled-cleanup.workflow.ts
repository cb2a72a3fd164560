/**
 * Recurring clean-up: a Temporal Schedule starts this workflow at every tick with a clean-up policy. It
 * selects what to delete through an activity (a manifest read afresh, or the TwelveLabs assets whose
 * metadata says they expired), then runs the bulk delete as a child workflow, so that each run is
 * findable, approvable and reportable like any other.
 */
import {
  ApplicationFailure,
  executeChild,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { createPolicyActivities } from '../activities/policy-activities.js';
import {
  BulkDeleteItems,
  BulkDeletePlan,
  BulkDeleteStatus,
  CleanupPolicy,
  type CleanupPolicyInput,
} from '../plan/engine.js';
import { bulkDeleteWorkflow } from './bulk-delete.workflow.js';
import type { BulkDeleteInput, BulkDeleteResult } from './definitions.js';

export {
  CleanupPolicy,
  MetadataSelect,
  PolicyPlanOptions,
  MAX_METADATA_SELECTION,
  type CleanupPolicyInput,
} from '../plan/engine.js';

export interface ScheduledCleanupInput {
  policy: CleanupPolicyInput;
}

export interface ScheduledCleanupResult {
  policy: string;
  /** Items selected for this run. */
  selected: number;
  /** Items that matched but were left to later runs (maxItems). */
  remaining: number;
  /** What the selection skipped and why (bad IDs in metadata, ...). */
  notes: string[];
  /** The bulk delete child's workflow ID, when something was selected. */
  bulkDeleteWorkflowId?: string;
  result?: BulkDeleteResult;
}

type PolicyActivities = ReturnType<typeof createPolicyActivities>;

// Listing a whole catalogue takes a while: the activity heartbeats after every page.
const selection = proxyActivities<PolicyActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
  },
});

function stamp(date: Date): string {
  return date.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
}

/**
 * One run of a clean-up policy: select, then delete through {@link bulkDeleteWorkflow} as a child. A run
 * that selects nothing ends at once.
 */
export async function scheduledCleanupWorkflow(
  input: ScheduledCleanupInput,
): Promise<ScheduledCleanupResult> {
  const parsed = CleanupPolicy.safeParse(input.policy);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid clean-up policy:\n${z.prettifyError(parsed.error)}`,
      'InvalidPolicyError',
    );
  }
  const policy = parsed.data;
  const info = workflowInfo();
  const picked = await selection.selectCleanupItems({
    policy,
    planName: `${policy.name}-${stamp(new Date())}`.slice(0, 100),
  });
  const base: ScheduledCleanupResult = {
    policy: policy.name,
    selected: picked.selected,
    remaining: picked.remaining,
    notes: picked.notes,
  };
  if (picked.selected === 0 || !picked.source) return base;

  const name = 'plan' in picked.source ? picked.source.plan.name : picked.source.planRef.name;
  const childInput: BulkDeleteInput = {
    ...picked.source,
    dryRun: policy.dryRun,
    requireApproval: policy.requireApproval,
    // Each chunk reads the selected assets again just before its first irreversible call. Runs started
    // before this change deleted what the selection saw, however long ago.
    ...(policy.select.twelvelabsMetadata && patched('cleanup-rechecks-selection-before-delete')
      ? { recheck: { twelvelabsMetadata: policy.select.twelvelabsMetadata } }
      : {}),
    // An inline manifest (up to 1,000 items) is read again alike; a larger one travels by reference,
    // checked by SHA-256, and is not re-read.
    ...(policy.select.manifest !== undefined &&
    'plan' in picked.source &&
    patched('cleanup-rechecks-manifest-before-delete')
      ? { recheck: { manifest: policy.select.manifest, name: policy.name } }
      : {}),
  };
  const bulkDeleteWorkflowId = `${info.workflowId}/bulk-delete`;
  const result = await executeChild(bulkDeleteWorkflow, {
    args: [childInput],
    workflowId: bulkDeleteWorkflowId,
    typedSearchAttributes: [
      { key: BulkDeletePlan, value: name },
      { key: BulkDeleteStatus, value: policy.dryRun ? 'discovering' : 'running' },
      { key: BulkDeleteItems, value: picked.selected },
    ],
    memo: { plan: name, items: picked.selected, policy: policy.name },
    staticSummary: `${policy.dryRun ? 'Dry run of' : 'Delete'} ${picked.selected} items selected by policy ${policy.name}`,
  });
  return { ...base, bulkDeleteWorkflowId, result };
}
