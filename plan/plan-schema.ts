import { z } from 'zod';

/** TwelveLabs IDs are 24 lower-case hex characters, e.g. `6298d673f1090f1100476d4c`. */
export const TwelveLabsId = z
  .string()
  .regex(/^[0-9a-f]{24}$/, 'must be a TwelveLabs ID: 24 lower-case hex characters');

/** Uplynk asset and library IDs, and EnterMediaDB asset IDs: opaque tokens that are safe in a URL. */
export const OpaqueId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 characters of letters, digits, "_", "." or "-"')
  .refine((id) => !/^\.+$/.test(id), 'must not be only dots ("." and ".." would change a URL path)');

export const PlanItemId = z
  .string()
  .regex(/^[A-Za-z0-9_.:@/-]{1,200}$/, 'must be 1 to 200 characters of letters, digits or _.:@/-');

export const TwelveLabsPart = z.strictObject({ assetId: TwelveLabsId });
export type TwelveLabsPart = z.infer<typeof TwelveLabsPart>;

export const UplynkPart = z.strictObject({
  assetId: OpaqueId,
  libraryIds: z
    .array(OpaqueId)
    .min(1, 'must name at least one library')
    .refine((ids) => new Set(ids).size === ids.length, 'must not name a library twice'),
});
export type UplynkPart = z.infer<typeof UplynkPart>;

export const EnterMediaPart = z.strictObject({ assetId: OpaqueId });
export type EnterMediaPart = z.infer<typeof EnterMediaPart>;

/** One logical item to delete; every system part is optional, but at least one is required. */
export const PlanItem = z
  .strictObject({
    id: PlanItemId,
    twelvelabs: TwelveLabsPart.optional(),
    uplynk: UplynkPart.optional(),
    entermedia: EnterMediaPart.optional(),
  })
  .refine((item) => item.twelvelabs ?? item.uplynk ?? item.entermedia, {
    message: 'must name at least one system (twelvelabs, uplynk or entermedia)',
  });
export type PlanItem = z.infer<typeof PlanItem>;

/**
 * What to do when a plan's asset is the last asset of a TwelveLabs entity, which the API refuses to unlink:
 * - `force-unlink`: leave it to the forced asset delete, which unlinks it anyway, and say so in the report;
 * - `delete-entity`: delete the entity itself;
 * - `skip-item`: touch nothing of that item and report why.
 */
export const LastEntityAsset = z.enum(['force-unlink', 'delete-entity', 'skip-item']);
export type LastEntityAsset = z.infer<typeof LastEntityAsset>;

export const PlanOptions = z.strictObject({
  /** @default "force-unlink" */
  lastEntityAsset: LastEntityAsset.default('force-unlink'),
  /** A plan with more items is refused before anything is deleted. @default 1000 */
  maxItems: z.int().min(1).max(10_000_000).default(1000),
  /** The run stops when more than this share of the processed items failed. @default 0.5 */
  failureThreshold: z.number().min(0).max(1).default(0.5),
  /** The threshold applies once at least this many items were processed. @default 10 */
  failureThresholdMinItems: z.int().min(1).default(10),
});
export type PlanOptions = z.infer<typeof PlanOptions>;

export const PlanName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/,
    'must be 1 to 100 characters of letters, digits, "_", "." or "-"',
  );

const PlanFields = z.strictObject({
  name: PlanName,
  items: z.array(PlanItem).min(1, 'must list at least one item'),
  options: PlanOptions.default(PlanOptions.parse({})),
});

/** The assets no two items may share: an item that fails or is skipped would see the other delete it. */
const SHARED_ASSETS = [
  { part: 'twelvelabs', label: 'TwelveLabs asset' },
  { part: 'uplynk', label: 'Uplynk asset' },
  { part: 'entermedia', label: 'EnterMediaDB asset' },
] as const;

/**
 * The assets an item deletes, one per system it names, each with a key unique across systems (`part:ID`)
 * and how to name it, e.g. `EnterMediaDB asset "d1"`.
 */
export function assetsOf(
  item: PlanItem,
): Array<{ part: (typeof SHARED_ASSETS)[number]['part']; assetId: string; key: string; name: string }> {
  return SHARED_ASSETS.flatMap(({ part, label }) => {
    const assetId = item[part]?.assetId;
    return assetId === undefined
      ? []
      : [{ part, assetId, key: `${part}:${assetId}`, name: `${label} "${assetId}"` }];
  });
}

/** The checks across items: unique item IDs, (with `sharedAssets`) no asset in two items, `maxItems`. */
function crossChecks(sharedAssets: boolean) {
  return (plan: z.infer<typeof PlanFields>, ctx: z.RefinementCtx): void => {
    const seen = new Map<string, number>();
    plan.items.forEach((item, index) => {
      const first = seen.get(item.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', index, 'id'],
          message: `duplicate item id "${item.id}" (first at items[${first}])`,
        });
      } else {
        seen.set(item.id, index);
      }
    });
    const owner = new Map<string, number>();
    plan.items.forEach((item, index) => {
      for (const { part, key, name } of sharedAssets ? assetsOf(item) : []) {
        const first = owner.get(key);
        if (first === undefined) {
          owner.set(key, index);
          continue;
        }
        ctx.addIssue({
          code: 'custom',
          path: ['items', index, part, 'assetId'],
          message: `duplicate ${name} (first at items[${first}])`,
        });
      }
    });
    if (plan.items.length > plan.options.maxItems) {
      ctx.addIssue({
        code: 'custom',
        path: ['items'],
        message: `the plan has ${plan.items.length} items, more than options.maxItems (${plan.options.maxItems})`,
      });
    }
  };
}

/** A deletion plan as users write it (docs/plan-format.md). */
export const Plan = PlanFields.superRefine(crossChecks(true));
/**
 * A plan as runs started before shared assets were refused checked it: for the workflow's replay of
 * those runs only (patch `plan-refuses-shared-assets`).
 */
export const PlanAllowingSharedAssets = PlanFields.superRefine(crossChecks(false));
export type Plan = z.infer<typeof Plan>;
/** A plan before defaults are applied, as written in a file. */
export type PlanInput = z.input<typeof Plan>;
