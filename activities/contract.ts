/**
 * The contract between the workflows and the activities: what each activity takes and answers.
 * Workflows import these as types only; `createActivities(deps)` (activities/index.ts) implements them.
 *
 * Every batch activity takes many items in one call, heartbeats its progress, resumes from its last
 * heartbeat when retried (never repeating a call that already succeeded), and answers one result per
 * item. A per-item error that must not be retried (4xx) is answered as `outcome: "failed"` in that
 * item's result; an error worth retrying (5xx, 429, timeout, dropped connection) fails the whole
 * activity attempt so that Temporal retries it. An error that stops every item of the batch (missing
 * credentials, 401) fails the activity without retry.
 */
import type { PlanItem, PlanOptions, SystemName } from '../plan/index.js';

/** What happened to one target of a batch: an indexed asset, an asset, an entity, a library. */
export interface ItemResult {
  /** The ID the result is about (asset ID, indexed asset ID, entity ID, library ID, ...). */
  key: string;
  outcome: 'deleted' | 'already-absent' | 'failed';
  /** Human-readable: the vendor's message for a failure, what was done otherwise. Never a secret. */
  detail: string;
  /** The stable error class name for a failure, e.g. `AssetReferencedError`. */
  errorType?: string;
}

export interface IndexedAssetRef {
  id: string;
  indexId: string;
}

export interface EntityRef {
  id: string;
  collectionId: string;
}

export interface DiscoveredEntity extends EntityRef {
  /** Every asset linked to the entity now (not only the plan's). */
  assetIds: string[];
  status: 'processing' | 'ready';
}

export interface DiscoveredAsset {
  assetId: string;
  /** False when TwelveLabs answers 404 for the asset. */
  exists: boolean;
  indexedAssets: IndexedAssetRef[];
  entities: DiscoveredEntity[];
  /** Set when discovery of this asset failed without retry (e.g. 403); the item then fails. */
  error?: { type: string; message: string };
}

export interface Activities {
  /** Every page (page_limit 50) of each asset's indexed assets and entities; 404 on the asset: `exists: false`. */
  discoverTwelveLabsAssets(input: { assetIds: string[] }): Promise<DiscoveredAsset[]>;
  /**
   * One DELETE .../entities/{eid}/assets call per entity with all the given assets. Idempotent: on a
   * retry it reads the entity and removes only assets still linked; an entity that is gone answers
   * `already-absent`. Result key: the entity ID.
   */
  unlinkEntityAssets(input: { unlinks: Array<EntityRef & { assetIds: string[] }> }): Promise<ItemResult[]>;
  /**
   * Fails retryably with a BENIGN `EntityProcessingError` while any entity is `processing`, so that the
   * retry policy polls. An entity that is gone counts as ready. Answers the number of entities checked.
   */
  waitEntitiesReady(input: { entities: EntityRef[] }): Promise<{ ready: number; gone: number }>;
  /** DELETE /entity-collections/{cid}/entities/{eid}; 404 is `already-absent`. Result key: the entity ID. */
  deleteEntities(input: { entities: EntityRef[] }): Promise<ItemResult[]>;
  /** DELETE /indexes/{index_id}/indexed-assets/{id}; 404 is `already-absent`. Result key: the indexed asset ID. */
  deleteIndexedAssets(input: { indexedAssets: IndexedAssetRef[] }): Promise<ItemResult[]>;
  /** DELETE /assets/{id}?force=true; 404 is `already-absent`. Result key: the asset ID. */
  deleteTwelveLabsAssets(input: { assetIds: string[] }): Promise<ItemResult[]>;
  /**
   * DELETE /libraries/{id}/assets?ids=... grouped per library, several IDs per call with URLs kept short;
   * an unknown library (404) is `already-absent`. Result key: `${libraryId}/${assetId}`, one per pair.
   */
  removeFromUplynkLibraries(input: {
    removals: Array<{ libraryId: string; assetIds: string[] }>;
  }): Promise<ItemResult[]>;
  /** deleteassets per asset; `rowsedited` "0" is `already-absent`. Result key: the asset ID. */
  deleteEnterMediaAssets(input: { assetIds: string[] }): Promise<ItemResult[]>;
  /** The asset IDs that TwelveLabs still answers (GET /assets/{id} not 404). */
  findTwelveLabsAssets(input: { assetIds: string[] }): Promise<string[]>;
  /** The asset IDs that EnterMediaDB search still finds. */
  findEnterMediaAssets(input: { assetIds: string[] }): Promise<string[]>;
  /** A page of a plan that travels by reference, checked against its digest. */
  readPlanPage(input: { ref: PlanRef; offset: number; limit: number }): Promise<PlanItem[]>;
  /** The name, options and counts of a plan that travels by reference, validated whole. */
  readPlanSummary(input: { ref: PlanRef }): Promise<PlanSummary>;
}

/** A plan too large for a workflow argument: a file path or URL the workers read, and its SHA-256. */
export interface PlanRef {
  /** `file:///abs/path.json` or `http(s)://...`. */
  uri: string;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  name: string;
  items: number;
}

export interface PlanSummary {
  name: string;
  items: number;
  options: PlanOptions;
  /** Items with a part in each system. */
  systems: Record<SystemName, number>;
}
