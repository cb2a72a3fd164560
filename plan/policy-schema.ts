/** The clean-up policy that a schedule runs (`schedule create NAME --policy FILE`). */
import { z } from 'zod';
import { LastEntityAsset, PlanName } from './plan-schema.js';

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
