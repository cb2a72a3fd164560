/**
 * Turns what discovery found into the steps of one chunk, and what the steps answered into report rows.
 * Pure functions: the chunk workflow calls them, and so do tests.
 */
import type { DiscoveredAsset, EntityRef, IndexedAssetRef, ItemResult } from '../activities/contract.js';
import { digestOf } from './digest.js';
import type { LastEntityAsset, PlanItem } from './plan-schema.js';
import type { Outcome, ReportRow, SystemName } from './report.js';

/** A step of the plan, as shown by a dry run and covered by the digest that `approve` quotes. */
export interface PlannedStep {
  item: string;
  system: SystemName;
  step: StepName;
  target: string;
  note?: string;
}

export type StepName =
  | 'skip'
  | 'unlink-entity'
  | 'leave-to-force-delete'
  | 'delete-entity'
  | 'delete-indexed-asset'
  | 'delete-asset'
  | 'remove-from-library'
  | 'delete-dam-asset';

export interface EntityUnlink extends EntityRef {
  assetIds: string[];
  /** Plan items whose assets this unlink covers. */
  items: string[];
}

/** Everything one chunk will do, in the mission's order. */
export interface ChunkSteps {
  /** Items touched in no system, with the reason. */
  skipped: Map<string, string>;
  /** Items whose TwelveLabs asset is already gone. */
  absent: Set<string>;
  /** Items whose TwelveLabs discovery failed without retry, with the vendor's message. */
  discoveryFailed: Map<string, string>;
  unlinks: EntityUnlink[];
  /** Entities deleted outright (`lastEntityAsset: delete-entity`), with the items that caused it. */
  entityDeletes: Array<EntityRef & { items: string[] }>;
  /** Notes for report rows, per item (e.g. "last asset of entity X: unlinked by the forced delete"). */
  notes: Map<string, string[]>;
  indexedAssets: Array<IndexedAssetRef & { item: string }>;
  assets: Array<{ assetId: string; item: string }>;
  libraries: Array<{ libraryId: string; assetIds: string[]; items: string[] }>;
  damAssets: Array<{ assetId: string; item: string }>;
  planned: PlannedStep[];
  /** SHA-256 of the planned steps. */
  digest: string;
}

function addNote(notes: Map<string, string[]>, item: string, note: string): void {
  const list = notes.get(item);
  if (list) list.push(note);
  else notes.set(item, [note]);
}

/**
 * The steps for a chunk of plan items, given what discovery found in TwelveLabs.
 *
 * An entity must keep at least one asset. When the plan would take all of an entity's assets, the
 * `lastEntityAsset` option decides: `force-unlink` unlinks all but one and leaves that last one to the
 * forced asset delete (which unlinks it anyway); `delete-entity` deletes the entity; `skip-item` skips
 * the item of the last asset in every system. The "last" asset is the greatest ID, so that the choice
 * is the same on every run.
 */
export function planChunkSteps(
  items: readonly PlanItem[],
  discovered: readonly DiscoveredAsset[],
  lastEntityAsset: LastEntityAsset,
): ChunkSteps {
  const byAsset = new Map(discovered.map((d) => [d.assetId, d]));
  const itemOfAsset = new Map<string, string>();
  const skipped = new Map<string, string>();
  const absent = new Set<string>();
  const discoveryFailed = new Map<string, string>();
  const notes = new Map<string, string[]>();

  for (const item of items) {
    if (!item.twelvelabs) continue;
    const found = byAsset.get(item.twelvelabs.assetId);
    if (!found) {
      discoveryFailed.set(item.id, 'the asset was not discovered');
    } else if (found.error) {
      discoveryFailed.set(item.id, `${found.error.type}: ${found.error.message}`);
    } else if (!found.exists) {
      absent.add(item.id);
    } else {
      itemOfAsset.set(item.twelvelabs.assetId, item.id);
    }
  }

  // Entities that hold the chunk's live assets, each once.
  const entities = new Map<string, { ref: EntityRef; assetIds: string[] }>();
  for (const assetId of itemOfAsset.keys()) {
    for (const entity of byAsset.get(assetId)?.entities ?? []) {
      if (!entities.has(entity.id)) {
        entities.set(entity.id, {
          ref: { id: entity.id, collectionId: entity.collectionId },
          assetIds: entity.assetIds,
        });
      }
    }
  }
  const sortedEntities = [...entities.values()].sort((a, b) => (a.ref.id < b.ref.id ? -1 : 1));
  const active = (assetId: string): boolean => {
    const item = itemOfAsset.get(assetId);
    return item !== undefined && !skipped.has(item);
  };

  if (lastEntityAsset === 'skip-item') {
    // Skipping an item keeps its asset in all its entities, which can save other entities: repeat until stable.
    for (let changed = true; changed;) {
      changed = false;
      for (const entity of sortedEntities) {
        const mine = entity.assetIds.filter(active).sort();
        if (mine.length > 0 && mine.length === entity.assetIds.length) {
          const last = mine[mine.length - 1]!;
          const item = itemOfAsset.get(last)!;
          skipped.set(
            item,
            `its asset ${last} is the last asset of entity ${entity.ref.id} (lastEntityAsset: skip-item)`,
          );
          changed = true;
        }
      }
    }
  }

  const unlinks: EntityUnlink[] = [];
  const entityDeletes: ChunkSteps['entityDeletes'] = [];
  const planned: PlannedStep[] = [];
  for (const entity of sortedEntities) {
    const mine = entity.assetIds.filter(active).sort();
    if (mine.length === 0) continue;
    const takesAll = mine.length === entity.assetIds.length;
    if (takesAll && lastEntityAsset === 'delete-entity') {
      const entityItems = mine.map((a) => itemOfAsset.get(a)!);
      entityDeletes.push({ ...entity.ref, items: entityItems });
      for (const item of entityItems) {
        addNote(notes, item, `entity ${entity.ref.id} deleted: the plan takes all its assets`);
        planned.push({ item, system: 'twelvelabs', step: 'delete-entity', target: entity.ref.id });
      }
      continue;
    }
    const toUnlink = takesAll ? mine.slice(0, -1) : mine;
    if (takesAll) {
      const last = mine[mine.length - 1]!;
      const item = itemOfAsset.get(last)!;
      addNote(notes, item, `last asset of entity ${entity.ref.id}: unlinked by the forced asset delete`);
      planned.push({ item, system: 'twelvelabs', step: 'leave-to-force-delete', target: entity.ref.id });
    }
    if (toUnlink.length > 0) {
      const unlinkItems = toUnlink.map((a) => itemOfAsset.get(a)!);
      unlinks.push({ ...entity.ref, assetIds: toUnlink, items: unlinkItems });
      for (const item of unlinkItems) {
        planned.push({ item, system: 'twelvelabs', step: 'unlink-entity', target: entity.ref.id });
      }
    }
  }

  const indexedAssets: ChunkSteps['indexedAssets'] = [];
  const assets: ChunkSteps['assets'] = [];
  const libraryMap = new Map<string, { assetIds: string[]; items: string[] }>();
  const damAssets: ChunkSteps['damAssets'] = [];
  for (const item of items) {
    const reason = skipped.get(item.id);
    if (reason !== undefined) {
      for (const system of systemsOf(item))
        planned.push({ item: item.id, system, step: 'skip', target: '', note: reason });
      continue;
    }
    if (item.twelvelabs && itemOfAsset.has(item.twelvelabs.assetId)) {
      for (const ia of byAsset.get(item.twelvelabs.assetId)?.indexedAssets ?? []) {
        indexedAssets.push({ ...ia, item: item.id });
        planned.push({
          item: item.id,
          system: 'twelvelabs',
          step: 'delete-indexed-asset',
          target: `${ia.indexId}/${ia.id}`,
        });
      }
      assets.push({ assetId: item.twelvelabs.assetId, item: item.id });
      planned.push({
        item: item.id,
        system: 'twelvelabs',
        step: 'delete-asset',
        target: item.twelvelabs.assetId,
      });
    }
    if (item.uplynk) {
      for (const libraryId of item.uplynk.libraryIds) {
        const entry = libraryMap.get(libraryId) ?? { assetIds: [], items: [] };
        entry.assetIds.push(item.uplynk.assetId);
        entry.items.push(item.id);
        libraryMap.set(libraryId, entry);
        planned.push({
          item: item.id,
          system: 'uplynk',
          step: 'remove-from-library',
          target: `${libraryId}/${item.uplynk.assetId}`,
        });
      }
    }
    if (item.entermedia) {
      damAssets.push({ assetId: item.entermedia.assetId, item: item.id });
      planned.push({
        item: item.id,
        system: 'entermedia',
        step: 'delete-dam-asset',
        target: item.entermedia.assetId,
      });
    }
  }
  const libraries = [...libraryMap.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([libraryId, entry]) => ({ libraryId, ...entry }));
  planned.sort(compareSteps);
  return {
    skipped,
    absent,
    discoveryFailed,
    unlinks,
    entityDeletes,
    notes,
    indexedAssets,
    assets,
    libraries,
    damAssets,
    planned,
    digest: digestOf(planned),
  };
}

const STEP_ORDER: StepName[] = [
  'skip',
  'unlink-entity',
  'leave-to-force-delete',
  'delete-entity',
  'delete-indexed-asset',
  'delete-asset',
  'remove-from-library',
  'delete-dam-asset',
];

function compareSteps(a: PlannedStep, b: PlannedStep): number {
  return (
    STEP_ORDER.indexOf(a.step) - STEP_ORDER.indexOf(b.step) ||
    (a.item < b.item ? -1 : a.item > b.item ? 1 : 0) ||
    (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)
  );
}

/** The systems a plan item has a part in, in the mission's order. */
export function systemsOf(item: PlanItem): SystemName[] {
  const systems: SystemName[] = [];
  if (item.twelvelabs) systems.push('twelvelabs');
  if (item.uplynk) systems.push('uplynk');
  if (item.entermedia) systems.push('entermedia');
  return systems;
}

/** The digest of a whole run from the digests of its chunks, in plan order. */
export function combineDigests(chunkDigests: readonly string[]): string {
  return digestOf(chunkDigests);
}

/**
 * Records outcomes as steps answer, keeping exactly one final outcome per item and system: the first
 * failure of an item in a system is final, later steps of that item are not attempted.
 */
export class OutcomeBook {
  private readonly rows = new Map<string, ReportRow>();
  private readonly failedItems = new Map<string, { system: SystemName; step: string }>();

  constructor(private readonly now: () => string) {}

  private key(item: string, system: SystemName): string {
    return `${item}\u0000${system}`;
  }

  /** True when an earlier step of the item failed (in any system): later steps must not run for it. */
  isStopped(item: string): boolean {
    return this.failedItems.has(item);
  }

  has(item: string, system: SystemName): boolean {
    return this.rows.has(this.key(item, system));
  }

  /** Sets the final outcome unless one is already set. */
  settle(item: string, system: SystemName, outcome: Outcome, step: string, detail: string): void {
    const key = this.key(item, system);
    if (this.rows.has(key)) return;
    this.rows.set(key, { item, system, outcome, step, detail, at: this.now() });
    if (outcome === 'failed' && !this.failedItems.has(item)) this.failedItems.set(item, { system, step });
  }

  /** Why an item's later steps were not attempted. */
  stopReason(item: string): string {
    const failed = this.failedItems.get(item);
    return failed ? `not attempted: ${failed.system} failed at step ${failed.step}` : '';
  }

  /** Marks a failure of one target: the item's outcome in that system becomes failed. */
  fail(
    item: string,
    system: SystemName,
    step: string,
    result: Pick<ItemResult, 'detail' | 'errorType'>,
  ): void {
    const detail = result.errorType ? `${result.errorType}: ${result.detail}` : result.detail;
    this.settle(item, system, 'failed', step, detail);
  }

  /** Every row, in the order of the given items and systems. */
  rowsFor(items: readonly PlanItem[]): ReportRow[] {
    const out: ReportRow[] = [];
    for (const item of items) {
      for (const system of systemsOf(item)) {
        const row = this.rows.get(this.key(item.id, system));
        if (row) out.push(row);
      }
    }
    return out;
  }
}
