import { z } from 'zod';

/** TwelveLabs IDs are 24 lower-case hex characters (MongoDB ObjectIds). */
const HexId = z.string().regex(/^[0-9a-f]{24}$/, 'must be 24 lower-case hex characters');
/** Uplynk and EnterMediaDB IDs: opaque tokens that travel in URLs and query strings unescaped. */
const Token = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, "_", "." or "-"');
const IsoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date');
const EPOCH = '2024-01-01T00:00:00.000Z';

export const TwelveLabsAssetSeed = z.object({
  _id: HexId,
  filename: z.string().default('video.mp4'),
  status: z.enum(['processing', 'ready', 'failed']).default('ready'),
  created_at: IsoDate.default(EPOCH),
  user_metadata: z.record(z.string(), z.unknown()).default({}),
  method: z.enum(['direct', 'url']).optional(),
  file_type: z.string().optional(),
});
export type TwelveLabsAssetSeed = z.infer<typeof TwelveLabsAssetSeed>;

export const IndexSeed = z.object({ _id: HexId, name: z.string().default('index') });
export type IndexSeed = z.infer<typeof IndexSeed>;

/** `asset_id` may name an asset that no longer exists: a forced asset delete leaves its indexed assets orphaned. */
export const IndexedAssetSeed = z.object({ _id: HexId, index_id: HexId, asset_id: HexId });
export type IndexedAssetSeed = z.infer<typeof IndexedAssetSeed>;

export const EntityCollectionSeed = z.object({ _id: HexId, name: z.string().default('collection') });
export type EntityCollectionSeed = z.infer<typeof EntityCollectionSeed>;

/** `status: "processing"` in a seed means: processing from the moment of seeding for `entityReadyAfterMs`. */
export const EntitySeed = z.object({
  _id: HexId,
  entity_collection_id: HexId,
  name: z.string().default('entity'),
  asset_ids: z.array(HexId).default([]),
  status: z.enum(['processing', 'ready']).default('ready'),
  description: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  created_at: IsoDate.optional(),
  updated_at: IsoDate.optional(),
});
export type EntitySeed = z.infer<typeof EntitySeed>;

export const LibrarySeed = z.object({
  id: Token,
  desc: z.string().default(''),
  owner_name: z.string().default('sandbox'),
  asset_ids: z.array(Token).default([]),
});
export type LibrarySeed = z.infer<typeof LibrarySeed>;

export const DamAssetSeed = z.object({ id: Token, name: z.string().default('asset') });
export type DamAssetSeed = z.infer<typeof DamAssetSeed>;

export const TwelveLabsSeed = z.strictObject({
  apiKey: z.string().min(1).default('sandbox-twelvelabs-key'),
  assets: z.array(TwelveLabsAssetSeed).default([]),
  indexes: z.array(IndexSeed).default([]),
  indexedAssets: z.array(IndexedAssetSeed).default([]),
  entityCollections: z.array(EntityCollectionSeed).default([]),
  entities: z.array(EntitySeed).default([]),
});
export type TwelveLabsSeed = z.infer<typeof TwelveLabsSeed>;

export const UplynkSeed = z.strictObject({
  ownerId: z.string().min(1).default('sandbox-owner'),
  apiKey: z.string().min(1).default('sandbox-uplynk-key'),
  libraries: z.array(LibrarySeed).default([]),
});
export type UplynkSeed = z.infer<typeof UplynkSeed>;

export const EnterMediaSeed = z.strictObject({
  key: z.string().min(1).default('sandbox-entermedia-key'),
  assets: z.array(DamAssetSeed).default([]),
});
export type EnterMediaSeed = z.infer<typeof EnterMediaSeed>;

type Issue = { path: PropertyKey[]; message: string };

function duplicates<T>(list: T[], id: (x: T) => string, path: string, issues: Issue[]): Set<string> {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    const key = id(x);
    if (seen.has(key)) issues.push({ path: [...path.split('.'), i], message: `duplicate id "${key}"` });
    seen.add(key);
  });
  return seen;
}

/**
 * What `POST /_sandbox/seed` takes and `GET /_sandbox/state` answers (docs/rehearsing.md). Every section and most
 * fields have defaults so that a test seeds only what it needs. References are checked (an entity's
 * assets exist, an indexed asset's index exists, no duplicate IDs), since a sandbox that accepts an
 * impossible state would let a test pass against a world the vendor cannot produce.
 */
export const SandboxState = z
  // Strict: a file of another shape (a plan, a typo in a section's name) is refused, not read as an
  // empty catalogue against which every item would report already absent.
  .strictObject({
    entityReadyAfterMs: z.int().min(0).max(3_600_000).default(300),
    twelvelabs: TwelveLabsSeed.default(() => TwelveLabsSeed.parse({})),
    uplynk: UplynkSeed.default(() => UplynkSeed.parse({})),
    entermedia: EnterMediaSeed.default(() => EnterMediaSeed.parse({})),
  })
  .superRefine((state, ctx) => {
    const issues: Issue[] = [];
    const tl = state.twelvelabs;
    const assets = duplicates(tl.assets, (a) => a._id, 'twelvelabs.assets', issues);
    const indexes = duplicates(tl.indexes, (x) => x._id, 'twelvelabs.indexes', issues);
    duplicates(tl.indexedAssets, (x) => x._id, 'twelvelabs.indexedAssets', issues);
    const collections = duplicates(
      tl.entityCollections,
      (x) => x._id,
      'twelvelabs.entityCollections',
      issues,
    );
    duplicates(tl.entities, (x) => x._id, 'twelvelabs.entities', issues);
    duplicates(state.uplynk.libraries, (x) => x.id, 'uplynk.libraries', issues);
    duplicates(state.entermedia.assets, (x) => x.id, 'entermedia.assets', issues);
    tl.indexedAssets.forEach((ia, i) => {
      if (!indexes.has(ia.index_id))
        issues.push({
          path: ['twelvelabs', 'indexedAssets', i, 'index_id'],
          message: `no index "${ia.index_id}"`,
        });
    });
    tl.entities.forEach((e, i) => {
      if (!collections.has(e.entity_collection_id))
        issues.push({
          path: ['twelvelabs', 'entities', i, 'entity_collection_id'],
          message: `no entity collection "${e.entity_collection_id}"`,
        });
      e.asset_ids.forEach((id, j) => {
        if (!assets.has(id))
          issues.push({ path: ['twelvelabs', 'entities', i, 'asset_ids', j], message: `no asset "${id}"` });
      });
    });
    for (const issue of issues.slice(0, 100)) ctx.addIssue({ code: 'custom', ...issue });
  });
/** The sandbox's whole state, with defaults applied. */
export type SandboxState = z.infer<typeof SandboxState>;
/** A seed as written by hand or in a test: sections and most fields may be left out. */
export type SandboxStateInput = z.input<typeof SandboxState>;
