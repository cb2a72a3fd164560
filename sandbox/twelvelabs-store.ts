import type { EntitySeed, TwelveLabsAssetSeed, TwelveLabsSeed } from './state-schema.js';

export type AssetRecord = TwelveLabsAssetSeed;

export interface IndexRecord {
  _id: string;
  name: string;
}

export interface IndexedAssetRecord {
  _id: string;
  index_id: string;
  asset_id: string;
}

export interface CollectionRecord {
  _id: string;
  name: string;
}

export interface EntityRecord {
  _id: string;
  entity_collection_id: string;
  name: string;
  description?: string;
  metadata?: Record<string, unknown>;
  asset_ids: string[];
  created_at: string;
  updated_at: string;
  /** When the entity's assets last changed; it is `processing` until `entityReadyAfterMs` after this. */
  changedAtMs: number;
}

/**
 * TwelveLabs' data with the indexes the routes need for O(1) lookups: by ID, and by asset ID for
 * indexed assets and entities. Entity status is derived from `changedAtMs` when read, so that no
 * timer runs per entity.
 */
export class TwelveLabsStore {
  apiKey = '';
  entityReadyAfterMs = 300;
  readonly assets = new Map<string, AssetRecord>();
  readonly indexes = new Map<string, IndexRecord>();
  readonly indexedAssets = new Map<string, IndexedAssetRecord>();
  readonly collections = new Map<string, CollectionRecord>();
  readonly entities = new Map<string, EntityRecord>();
  /** Indexed asset IDs by asset ID; kept after a forced delete so that orphans stay findable. */
  private readonly indexedByAsset = new Map<string, Set<string>>();
  private readonly entitiesByAsset = new Map<string, Set<string>>();
  /** Assets in creation order for paging; deleted ones are dropped lazily at the next listing. */
  private assetOrder: AssetRecord[] = [];
  private assetOrderStale = false;

  load(seed: TwelveLabsSeed, entityReadyAfterMs: number, now: number): void {
    this.apiKey = seed.apiKey;
    this.entityReadyAfterMs = entityReadyAfterMs;
    for (const map of [
      this.assets,
      this.indexes,
      this.indexedAssets,
      this.collections,
      this.entities,
      this.indexedByAsset,
      this.entitiesByAsset,
    ])
      map.clear();
    for (const a of seed.assets) this.assets.set(a._id, a);
    this.assetOrder = [...seed.assets];
    this.assetOrderStale = false;
    for (const x of seed.indexes) this.indexes.set(x._id, { _id: x._id, name: x.name });
    for (const x of seed.indexedAssets) this.addIndexedAsset({ ...x });
    for (const x of seed.entityCollections) this.collections.set(x._id, { _id: x._id, name: x.name });
    for (const e of seed.entities) this.addEntity(fromSeed(e, now));
  }

  export(now: number): TwelveLabsSeed {
    return {
      apiKey: this.apiKey,
      assets: this.listAssets(),
      indexes: [...this.indexes.values()],
      indexedAssets: [...this.indexedAssets.values()],
      entityCollections: [...this.collections.values()],
      entities: [...this.entities.values()].map((e) => {
        const { changedAtMs: _, ...rest } = e;
        return { ...rest, asset_ids: [...e.asset_ids], status: this.entityStatus(e, now) };
      }),
    };
  }

  entityStatus(e: EntityRecord, now: number): 'processing' | 'ready' {
    return now - e.changedAtMs < this.entityReadyAfterMs ? 'processing' : 'ready';
  }

  listAssets(): AssetRecord[] {
    if (this.assetOrderStale) {
      this.assetOrder = this.assetOrder.filter((a) => this.assets.get(a._id) === a);
      this.assetOrderStale = false;
    }
    return this.assetOrder;
  }

  indexedAssetsOf(assetId: string): IndexedAssetRecord[] {
    const ids = this.indexedByAsset.get(assetId);
    if (!ids) return [];
    return [...ids].map((id) => this.indexedAssets.get(id)).filter((x) => x !== undefined);
  }

  entitiesOf(assetId: string): EntityRecord[] {
    const ids = this.entitiesByAsset.get(assetId);
    if (!ids) return [];
    return [...ids].map((id) => this.entities.get(id)).filter((x) => x !== undefined);
  }

  /** Deletes the asset and unlinks it from every entity (each goes `processing`); indexed assets stay. */
  deleteAsset(assetId: string, now: number): void {
    this.assets.delete(assetId);
    this.assetOrderStale = true;
    for (const e of this.entitiesOf(assetId)) this.setEntityAssets(e, without(e.asset_ids, [assetId]), now);
  }

  deleteIndexedAsset(id: string): void {
    const ia = this.indexedAssets.get(id);
    if (!ia) return;
    this.indexedAssets.delete(id);
    const set = this.indexedByAsset.get(ia.asset_id);
    set?.delete(id);
    if (set?.size === 0) this.indexedByAsset.delete(ia.asset_id);
  }

  deleteEntity(e: EntityRecord): void {
    this.entities.delete(e._id);
    for (const a of e.asset_ids) this.unindexEntity(a, e._id);
  }

  /** Replaces the entity's assets, keeping the by-asset index right; the entity goes `processing`. */
  setEntityAssets(e: EntityRecord, assetIds: string[], now: number): void {
    const next = new Set(assetIds);
    for (const a of e.asset_ids) if (!next.has(a)) this.unindexEntity(a, e._id);
    for (const a of assetIds) this.indexEntity(a, e._id);
    e.asset_ids = assetIds;
    e.changedAtMs = now;
    e.updated_at = new Date(now).toISOString();
  }

  private addIndexedAsset(ia: IndexedAssetRecord): void {
    this.indexedAssets.set(ia._id, ia);
    let set = this.indexedByAsset.get(ia.asset_id);
    if (!set) this.indexedByAsset.set(ia.asset_id, (set = new Set()));
    set.add(ia._id);
  }

  private addEntity(e: EntityRecord): void {
    this.entities.set(e._id, e);
    for (const a of e.asset_ids) this.indexEntity(a, e._id);
  }

  private indexEntity(assetId: string, entityId: string): void {
    let set = this.entitiesByAsset.get(assetId);
    if (!set) this.entitiesByAsset.set(assetId, (set = new Set()));
    set.add(entityId);
  }

  private unindexEntity(assetId: string, entityId: string): void {
    const set = this.entitiesByAsset.get(assetId);
    set?.delete(entityId);
    if (set?.size === 0) this.entitiesByAsset.delete(assetId);
  }
}

function fromSeed(e: EntitySeed, now: number): EntityRecord {
  const created = e.created_at ?? new Date(now).toISOString();
  return {
    _id: e._id,
    entity_collection_id: e.entity_collection_id,
    name: e.name,
    ...(e.description !== undefined ? { description: e.description } : {}),
    ...(e.metadata !== undefined ? { metadata: e.metadata } : {}),
    asset_ids: [...new Set(e.asset_ids)],
    created_at: created,
    updated_at: e.updated_at ?? created,
    changedAtMs: e.status === 'processing' ? now : Number.NEGATIVE_INFINITY,
  };
}

/** `list` without any of `remove`, order kept. */
export function without(list: string[], remove: string[]): string[] {
  const drop = new Set(remove);
  return list.filter((x) => !drop.has(x));
}
