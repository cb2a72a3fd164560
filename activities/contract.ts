/**
 * The contract between the workflows and the activities: what each activity takes and answers.
 * Workflows import these as types only; `createActivities(deps)` (activities/index.ts) implements them.
 *
 * Each phase activity makes many calls, each for named plan items, and answers a `PhaseAnswer`: one ledger
 * entry per call target (what the vendor answered), failures of reads, and refusals. A vendor's transient
 * failure (5xx, 429, timeout, dropped connection) is retried on that call alone while the others go on;
 * only a call that keeps failing past a bound fails the attempt, which Temporal retries from the last
 * heartbeat (a compact cursor: the units done and their entries). A per-item refusal (4xx) is that item's
 * failed entry. An error that stops everything (missing credentials, 401) fails the activity without retry.
 */
import type {
  DiscoveredAsset,
  EntityRef,
  IndexedAssetRef,
  Observation,
  PhaseAnswer,
  PlanItem,
  PlanOptions,
  SystemName,
} from '../plan/engine.js';

export type { DiscoveredAsset, DiscoveredEntity, EntityRef, IndexedAssetRef } from '../plan/engine.js';

/** A plan item's asset in a call: which item it is for. */
export interface ItemAsset {
  item: string;
  assetId: string;
}

/** One item's remaining calls after its entities: each part absent when the item has no call there. */
export interface ItemDeletion {
  item: string;
  twelvelabs?: {
    assetId: string;
    known: IndexedAssetRef[];
    /**
     * Entities the asset was unlinked from, and when (the unlink's answer): before its first call, the
     * item waits until each is ready again.
     */
    entities?: Array<EntityRef & { unlinkedAt?: string }>;
    /**
     * Entities to unlink the asset from first, each then waited for until ready again: one call per
     * entity for the items of the activity that reach it together. Only with `lastEntityAsset:
     * force-unlink`: an unlink refused because it would empty the entity (`refused`) leaves the asset to
     * the forced delete, which unlinks it anyway.
     */
    unlinks?: EntityRef[];
  };
  libraries: Array<{ libraryId: string; assetId: string }>;
  dam?: { assetId: string };
}

export interface Activities {
  /**
   * Every page (page_limit 50) of each asset's entities and, when asked, its indexed assets; 404 on the
   * asset: `exists: false`. A read that fails for good, or keeps failing past the bound, is that asset's
   * `error`: only its item fails.
   */
  discoverAssets(input: {
    assetIds: string[];
    indexedAssets: boolean;
    /** The whole plan's TwelveLabs assets (inline) or its reference: each entity says which it holds. */
    plan?: { assetIds: string[] } | { ref: PlanRef };
    /** Tell the chunk (`phaseTailSignal`) once most units are done, that it may lend its place. */
    tail?: PhaseTail;
  }): Promise<DiscoveredAsset[]>;
  /**
   * One DELETE .../entities/{eid}/assets per entity with all the given assets, then waits (bounded) until
   * every entity changed is `ready` again. An unlink that would empty the entity is refused without
   * change (`refused`); an asset no longer linked is `already-absent`.
   */
  unlinkEntities(input: {
    unlinks: Array<{ entity: EntityRef; targets: ItemAsset[] }>;
    /**
     * Wait here until each entity changed is ready again (the default). Without it the phase ends with
     * its unlinks, and `deleteItems` waits for each item's own entities (`ItemDeletion.twelvelabs.entities`).
     */
    wait?: boolean;
    /** Tell the chunk (`phaseTailSignal`) once most entities are ready again, that it may lend its place. */
    tail?: PhaseTail;
  }): Promise<PhaseAnswer>;
  /**
   * Reads each entity again just before deleting it: if it holds assets outside `planAssetIds`, it is not
   * deleted (`refused` with `foreign`). 404 is `already-absent`. The chunk passes the assets of its own
   * live items in the entity (chunks planned before: the whole plan's, less its items no longer live).
   */
  deleteEntities(input: {
    deletes: Array<{ entity: EntityRef; targets: ItemAsset[]; planAssetIds: string[] }>;
  }): Promise<PhaseAnswer>;
  /**
   * Per asset: lists its indexed assets again, deletes them (also ones created after discovery), then
   * force-deletes the asset; then reads the deleted assets back in batches (`GET /assets?asset_ids=`).
   */
  deleteAssets(input: { assets: Array<ItemAsset & { known: IndexedAssetRef[] }> }): Promise<PhaseAnswer>;
  /**
   * Walks each item through its systems in the mission's order, each item on its own: the entities its
   * asset was unlinked from ready again (each polled once for all its items), TwelveLabs (as
   * `deleteAssets`, read back in batches), then its Uplynk libraries (grouped per library across the items
   * ready at about the same time), then the DAM (as `deleteDamAssets`). An item goes on to its next system
   * as soon as its own calls there are answered; an item with a failed call is not called again anywhere.
   */
  deleteItems(input: {
    items: ItemDeletion[];
    /**
     * Tell the chunk (`phaseTallySignal`) how many items ended and failed while the activity runs: when
     * the failures change, and once `whenSettled` items ended, so that the run's threshold and its first
     * chunk's gate need not wait for the activity's end.
     */
    tally?: { phase: number; whenSettled?: number };
    /** Tell the chunk (`phaseTailSignal`) once most items ended, that it may lend its place. */
    tail?: PhaseTail;
  }): Promise<PhaseAnswer>;
  /** DELETE /libraries/{id}/assets?ids=... grouped per library, several IDs per call; 404 library: absent. */
  removeFromLibraries(input: {
    removals: Array<{ libraryId: string; targets: ItemAsset[] }>;
  }): Promise<PhaseAnswer>;
  /** deleteassets per asset; `rowsedited` "0" is `already-absent` (unless an earlier try's answer was lost). */
  deleteDamAssets(input: { assets: ItemAsset[] }): Promise<PhaseAnswer>;
  /** Reads the current state of items in every system that can be read (after a chunk's record was lost). */
  observeItems(input: {
    items: PlanItem[];
  }): Promise<Array<{ item: string; observed: Partial<Record<SystemName, Observation>> }>>;
  /** A page of a plan that travels by reference, checked against its digest. */
  readPlanPage(input: { ref: PlanRef; offset: number; limit: number }): Promise<PlanItem[]>;
  /** The name, options and counts of a plan that travels by reference, validated whole. */
  readPlanSummary(input: { ref: PlanRef }): Promise<PlanSummary>;
  /**
   * Writes the report and the deletion receipt of a run that is ending to `BULK_DELETE_REPORT_STORE`
   * (`<workflowId>/report.json`, `<workflowId>/receipt.json`); answers at once when it is unset.
   */
  archiveRun(input: ArchiveRunInput): Promise<ArchiveRunAnswer>;
}

/** Which phase of its chunk an activity is, for `phaseTailSignal`. */
export interface PhaseTail {
  phase: number;
}

/** How a run ends, as its memo says it (the run is still open while it archives). */
export interface ArchiveRunInput {
  workflowId: string;
  plan: string;
  status: 'completed' | 'failed' | 'cancelled';
  dryRun: boolean;
  /** How many chunks the run's last pass ran (their IDs are deterministic). */
  chunks: number;
  observedChunks?: number[];
}

export type ArchiveRunAnswer =
  { archived: false } | { archived: true; report: string; receipt: string; head: string };

/** A plan too large for a workflow argument: a file path or URL the workers read, and its SHA-256. */
export interface PlanRef {
  /** `file:///abs/path.json`, `http(s)://...` or `s3://bucket/key`. */
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
