/**
 * Recurring clean-up: a Temporal Schedule starts this workflow at every tick with a clean-up policy. It
 * selects what to delete through an activity (a manifest read afresh, or the TwelveLabs assets whose
 * metadata says they expired), then runs the bulk delete as a child workflow, so that each run is
 * findable, approvable and reportable like any other.
 */
import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { createPolicyActivities } from '../activities/policy-activities.js';
import {
  BulkDeleteItems,
  BulkDeletePlan,
  BulkDeleteStatus,
  LastEntityAsset,
  PlanName,
} from '../plan/index.js';
import { bulkDeleteWorkflow } from './bulk-delete.workflow.js';
import type { BulkDeleteInput, BulkDeleteResult } from './definitions.js';

/** Plan options a policy may set; unset ones keep the manifest's, else the plan defaults. */
export const PolicyPlanOptions = z.strictObject({
  lastEntityAsset: LastEntityAsset.optional(),
  failureThreshold: z.number().min(0).max(1).optional(),
  failureThresholdMinItems: z.int().min(1).optional(),
});

const FieldName = z.string().min(1, 'must name a user_metadata field').max(200);

/** Selection by TwelveLabs `user_metadata`: assets whose `field` holds a date in the past. */
export const MetadataSelect = z.strictObject({
  /** The field holding the date after which the asset goes, e.g. `delete_after`. */
  field: FieldName,
  /** The field holding the asset's Uplynk asset ID, e.g. `uplynk_asset_id`. */
  uplynkAssetIdField: FieldName.optional(),
  /** The field holding its Uplynk library IDs, comma-separated, e.g. `uplynk_library_ids`. */
  uplynkLibraryIdsField: FieldName.optional(),
  /** The field holding its EnterMediaDB asset ID, e.g. `entermedia_asset_id`. */
  entermediaAssetIdField: FieldName.optional(),
});
export type MetadataSelect = z.infer<typeof MetadataSelect>;

/** How many items one metadata selection may pick: the selection travels inline to the bulk delete. */
export const MAX_METADATA_SELECTION = 1000;

/**
 * A clean-up policy (DESIGN.md): what to select at each run and how to run the deletion.
 * @example
 * { "name": "expired-assets", "select": { "twelvelabsMetadata": { "field": "delete_after" } }, "maxItems": 500 }
 */
export const CleanupPolicy = z
  .strictObject({
    name: PlanName,
    select: z
      .strictObject({
        /** A plan file (JSON or CSV) path or http(s) URL, read afresh at every run. */
        manifest: z.string().min(1, 'must be a plan file path or URL').optional(),
        twelvelabsMetadata: MetadataSelect.optional(),
      })
      .refine((s) => (s.manifest === undefined) !== (s.twelvelabsMetadata === undefined), {
        message: 'must name exactly one of "manifest" or "twelvelabsMetadata"',
      }),
    /**
     * At most this many items per run. A metadata selection takes the longest-expired first and leaves the
     * rest to the next runs; a manifest with more items fails the run before anything is deleted.
     * @default 500
     */
    maxItems: z.int().min(1).max(10_000_000).default(500),
    /** @default false */
    dryRun: z.boolean().default(false),
    /** @default false */
    requireApproval: z.boolean().default(false),
    options: PolicyPlanOptions.default({}),
  })
  .superRefine((policy, ctx) => {
    if (policy.select.twelvelabsMetadata && policy.maxItems > MAX_METADATA_SELECTION) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxItems'],
        message: `must be at most ${MAX_METADATA_SELECTION} for a twelvelabsMetadata selection (later runs pick up the rest)`,
      });
    }
  });
export type CleanupPolicy = z.infer<typeof CleanupPolicy>;
export type CleanupPolicyInput = z.input<typeof CleanupPolicy>;

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
