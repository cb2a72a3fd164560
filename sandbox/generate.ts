import { z } from 'zod';
import type { PlanInput, PlanItem } from '../plan/index.js';
import { Prng, seedFor } from './prng.js';
import type {
  DamAssetSeed,
  EntitySeed,
  IndexedAssetSeed,
  LibrarySeed,
  SandboxState,
  TwelveLabsAssetSeed,
} from './state-schema.js';

/** What `POST /_sandbox/generate` takes. */
export const GenerateRequest = z.strictObject({
  items: z.int().min(1).max(1_000_000),
  seed: z.int().default(1),
});
export type GenerateRequest = z.infer<typeof GenerateRequest>;

export interface Catalogue {
  state: SandboxState;
  plan: PlanInput;
}

const DAY_MS = 86_400_000;
const PAST = Date.parse('2020-01-01T00:00:00.000Z');
const FUTURE = Date.parse('2090-01-01T00:00:00.000Z');
const CREATED = Date.parse('2024-01-01T00:00:00.000Z');
/** An entity shared by several plan assets takes at most this many before a new one is opened. */
const SHARED_ENTITY_MAX_ASSETS = 6;

/**
 * A realistic, deterministic catalogue of `items` plan items (same `seed`, same catalogue) and the
 * plan that deletes every one of them. Per item: most have a TwelveLabs asset with 0-3 indexed
 * assets and 0-2 entities (alone in it, next to an asset outside the plan, or shared with other plan
 * assets); 0-2 Uplynk libraries; an EnterMediaDB asset or not. Assets outside the plan sit next to
 * them so that a run that deletes too much shows. Fixed dates (2020 past, 2090 future) keep the
 * catalogue the same whatever the day it is generated on.
 */
export function generateCatalogue(items: number, seed: number, entityReadyAfterMs: number): Catalogue {
  const rnd = new Prng(seedFor(seed, 'generate'));
  let counter = 0;
  // ObjectId-like: a timestamp, random bytes, then a counter that makes every ID unique.
  const oid = () => rnd.objectId(0x65920080 + counter, counter++);
  const guid = () => rnd.hex(32);
  // Dates repeat (whole days from a few bases): one string each keeps 100,000 items small.
  const isoCache = new Map<number, string>();
  const iso = (ms: number) => {
    let s = isoCache.get(ms);
    if (s === undefined) isoCache.set(ms, (s = new Date(ms).toISOString()));
    return s;
  };

  const indexes = ['marengo-main', 'pegasus-search', 'archive'].map((name) => ({ _id: oid(), name }));
  const collections = ['people', 'brands', 'places'].map((name) => ({ _id: oid(), name }));
  const libraries: LibrarySeed[] = Array.from({ length: Math.max(3, Math.ceil(items / 200)) }, (_, k) => ({
    id: guid(),
    desc: `Library ${k + 1}`,
    owner_name: 'sandbox',
    // Assets outside the plan: removing the plan's assets must leave these.
    asset_ids: [guid(), guid()],
  }));
  const assets: TwelveLabsAssetSeed[] = [];
  const indexedAssets: IndexedAssetSeed[] = [];
  const entities: EntitySeed[] = [];
  const damAssets: DamAssetSeed[] = [];
  const planItems: PlanItem[] = [];
  let damId = 1000;
  let openShared: EntitySeed[] = [];

  const newEntity = (assetIds: string[]): EntitySeed => {
    const e: EntitySeed = {
      _id: oid(),
      entity_collection_id: rnd.pick(collections)._id,
      name: `Entity ${entities.length + 1}`,
      asset_ids: assetIds,
      status: 'ready',
      created_at: iso(CREATED),
      updated_at: iso(CREATED),
    };
    entities.push(e);
    return e;
  };

  for (let i = 1; i <= items; i++) {
    let hasAsset = rnd.chance(0.9);
    const libraryCount = rnd.pick([0, 0, 1, 1, 2]);
    const hasDam = rnd.chance(0.6);
    if (!hasAsset && libraryCount === 0 && !hasDam) hasAsset = true;
    const item: PlanItem = { id: `item-${i}` };
    const metadata: Record<string, string> = {
      delete_after: iso(
        rnd.chance(0.7) ? PAST + rnd.int(0, 1400) * DAY_MS : FUTURE + rnd.int(0, 3650) * DAY_MS,
      ),
    };

    if (libraryCount > 0) {
      const uplynkAssetId = guid();
      // Rejection sampling: the pool is large (one library per 200 items) and we want at most two.
      const chosen: LibrarySeed[] = [];
      while (chosen.length < libraryCount) {
        const l = rnd.pick(libraries);
        if (!chosen.includes(l)) chosen.push(l);
      }
      for (const l of chosen) l.asset_ids.push(uplynkAssetId);
      item.uplynk = { assetId: uplynkAssetId, libraryIds: chosen.map((l) => l.id) };
      metadata.uplynk_asset_id = uplynkAssetId;
      metadata.uplynk_library_ids = item.uplynk.libraryIds.join(',');
    }
    if (hasDam) {
      const id = String(damId++);
      damAssets.push({ id, name: `item-${i}.mp4` });
      item.entermedia = { assetId: id };
      metadata.entermedia_asset_id = id;
    }
    if (hasAsset) {
      const assetId = oid();
      assets.push({
        _id: assetId,
        filename: `item-${i}.mp4`,
        status: 'ready',
        created_at: iso(CREATED + (i % 1000) * DAY_MS),
        user_metadata: metadata,
      });
      item.twelvelabs = { assetId };
      for (const index of pickDistinct(rnd, indexes, rnd.int(0, 3)))
        indexedAssets.push({ _id: oid(), index_id: index._id, asset_id: assetId });
      const entityCount = rnd.int(0, 2);
      const linked = new Set<EntitySeed>();
      for (let k = 0; k < entityCount; k++) {
        const kind = rnd.next();
        if (kind < 0.35) {
          linked.add(newEntity([assetId]));
        } else if (kind < 0.65) {
          const keeper = oid();
          assets.push({
            _id: keeper,
            filename: `keeper-${i}-${k}.mp4`,
            status: 'ready',
            created_at: iso(CREATED + (i % 1000) * DAY_MS),
            user_metadata: {},
          });
          linked.add(newEntity([keeper, assetId]));
        } else {
          openShared = openShared.filter(
            (e) => e.asset_ids.length < SHARED_ENTITY_MAX_ASSETS && !linked.has(e),
          );
          const shared = openShared.length > 0 && rnd.chance(0.75) ? rnd.pick(openShared) : undefined;
          if (shared) shared.asset_ids.push(assetId);
          const e = shared ?? newEntity([assetId]);
          if (!shared) openShared.push(e);
          linked.add(e);
        }
      }
    }
    // Key order as docs/plan-format.md writes a plan item, so that generated plans read like hand-written ones.
    planItems.push({
      id: item.id,
      ...(item.twelvelabs ? { twelvelabs: item.twelvelabs } : {}),
      ...(item.uplynk ? { uplynk: item.uplynk } : {}),
      ...(item.entermedia ? { entermedia: item.entermedia } : {}),
    });
  }
  for (let k = 0; k < Math.ceil(items / 20); k++)
    damAssets.push({ id: String(damId++), name: `other-${k + 1}.mp4` });

  const state: SandboxState = {
    entityReadyAfterMs,
    twelvelabs: {
      apiKey: `tlk_${rnd.hex(32)}`,
      assets,
      indexes,
      indexedAssets,
      entityCollections: collections,
      entities,
    },
    uplynk: { ownerId: rnd.hex(32), apiKey: rnd.hex(40), libraries },
    entermedia: { key: `em${rnd.hex(30)}`, assets: damAssets },
  };
  const plan: PlanInput = {
    name: `generated-${seed}-${items}`,
    items: planItems,
    options: { maxItems: Math.max(items, 1000) },
  };
  return { state, plan };
}

/** `count` distinct elements of `list` in random order (a partial Fisher-Yates shuffle of a copy). */
function pickDistinct<T>(rnd: Prng, list: readonly T[], count: number): T[] {
  const copy = [...list];
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = rnd.int(i, copy.length - 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}
