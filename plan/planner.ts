/**
 * The planner: from a chunk's items and what discovery read, every call of every item, in every system, in
 * the mission's order; and the re-planning when a vendor refuses a call or the world changed. The
 * `lastEntityAsset` rules live here and only here. Pure: no I/O, no Temporal, no clock.
 */
import { digestOf } from './digest.js';
import type { CallStep } from './ledger.js';
import type { LastEntityAsset, PlanItem } from './plan-schema.js';
import type { SystemName } from './systems.js';

export interface EntityRef {
  id: string;
  collectionId: string;
}

export interface IndexedAssetRef {
  id: string;
  indexId: string;
  /** Display only (the approval view). */
  indexName?: string | undefined;
}

export interface DiscoveredEntity extends EntityRef {
  /** Every asset linked to the entity now (not only the plan's). */
  assetIds: string[];
  status: 'processing' | 'ready';
  name?: string | undefined;
  /**
   * The entity's assets that the whole plan deletes (not only this chunk's), when discovery knew the
   * plan: decisions about an entity then come out alike whichever chunk makes them, in any order.
   */
  planAssetIds?: string[] | undefined;
}

/** What discovery read of one TwelveLabs asset. */
export interface DiscoveredAsset {
  assetId: string;
  /** False when TwelveLabs answers 404 for the asset. */
  exists: boolean;
  /**
   * The indexed assets that reference it; absent when discovery did not list them (a run that deletes at
   * once lists them just before the forced delete instead, which is also its second look).
   */
  indexedAssets?: IndexedAssetRef[] | undefined;
  entities: DiscoveredEntity[];
  filename?: string | undefined;
  /** The asset's status as TwelveLabs answers it (`ready`, `processing`, ...). Display only. */
  status?: string | undefined;
  /** Set when reading this asset failed for good; the item then fails, and only that item. */
  error?: { type: string; message: string } | undefined;
}

/** One call the plan makes for one item. Grouped calls (an entity's unlink, a library) carry one per item. */
export interface PlannedCall {
  item: string;
  system: SystemName;
  step: CallStep;
  /** `entityId/assetId`, `entityId`, `indexId/indexedAssetId`, asset ID, `libraryId/assetId`. */
  target: string;
  /** Entity calls: which entity. */
  entity?: EntityRef;
  /** Unlinks and TwelveLabs deletes: the item's asset; Uplynk: the Uplynk asset. */
  assetId?: string;
  indexId?: string;
  indexedAssetId?: string;
  libraryId?: string;
}

/** A step as a dry run shows it and as the digest that `approve` quotes covers it. */
export interface PlannedStep {
  item: string;
  system: SystemName;
  /**
   * `already-absent` and `not-discovered` only show what discovery found (a part already gone, a read
   * that failed): no call, and outside the digest.
   */
  step: CallStep | 'skip' | 'leave-to-force-delete' | 'already-absent' | 'not-discovered';
  target: string;
  /** Why: the planner's note for the item. In the digest only for `skip` steps. */
  note?: string;
  /** What discovery read of the target: filename and status, index name, entity name. Display only. */
  seen?: string;
}

/** The plan of one item: what to call, or why nothing is called. */
export interface ItemPlan {
  item: string;
  systems: SystemName[];
  /** Set when the item is touched in no system. */
  skip?: string;
  /** Set when discovery of the item failed for good. */
  failure?: { system: SystemName; step: string; detail: string };
  /** Systems where the target was already gone at discovery. */
  absent: SystemName[];
  notes: string[];
  calls: PlannedCall[];
}

/** How the planner plans, per workflow version (the chunk workflow sets them from its patches). */
export interface PlannerFlags {
  /**
   * Under `delete-entity`, every item of an entity the plan empties deletes it, not only the item of its
   * last asset: whichever chunk reaches it last with only its own live items' assets in it deletes it.
   */
  entityDeleteByEveryItem?: boolean | undefined;
}

export interface ChunkPlan {
  items: ItemPlan[];
  steps: PlannedStep[];
  digest: string;
}

/** The systems a plan item has a part in, in the mission's order. */
export function systemsOf(item: PlanItem): SystemName[] {
  const systems: SystemName[] = [];
  if (item.twelvelabs) systems.push('twelvelabs');
  if (item.uplynk) systems.push('uplynk');
  if (item.entermedia) systems.push('entermedia');
  return systems;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The calls of a chunk's items, given what discovery found in TwelveLabs.
 *
 * An entity must keep at least one asset. When the plan (all its chunks) takes all of an entity's assets,
 * the `lastEntityAsset` option decides: `force-unlink` unlinks none and leaves them to the forced asset
 * deletes (which unlink them anyway); `delete-entity` deletes the entity; `skip-item` skips the item of
 * the last asset in every system. The "last" asset is the greatest ID, so that every run, every chunk
 * and the dry run choose alike.
 *
 * Under `delete-entity`, with {@link PlannerFlags.entityDeleteByEveryItem}, every item whose asset is in
 * such an entity gets the entity delete (one call per entity and chunk): the chunk that, reading the entity
 * again, finds only its own live items' assets in it deletes it; a chunk that finds others there unlinks its
 * own ({@link replanForeignEntity}). Without the flag (runs planned before it), the item of the last asset
 * deletes it and the others leave it to their forced deletes.
 */
export function planChunk(
  items: readonly PlanItem[],
  discovered: readonly DiscoveredAsset[],
  lastEntityAsset: LastEntityAsset,
  flags: PlannerFlags = {},
): ChunkPlan {
  const byAsset = new Map(discovered.map((d) => [d.assetId, d]));
  /** Display-only steps (parts already gone, reads that failed) and the notes of call steps. */
  const shown: PlannedStep[] = [];
  const notes = new Map<string, string>();
  const noteFor = (call: Pick<PlannedStep, 'item' | 'step' | 'target'>, note: string): void =>
    void notes.set(`${call.item} ${call.step} ${call.target}`, note);
  const plans = new Map<string, ItemPlan>();
  const itemOfAsset = new Map<string, string>();
  for (const item of items) {
    const plan: ItemPlan = { item: item.id, systems: systemsOf(item), absent: [], notes: [], calls: [] };
    plans.set(item.id, plan);
    if (!item.twelvelabs) continue;
    const found = byAsset.get(item.twelvelabs.assetId);
    if (!found) {
      plan.failure = { system: 'twelvelabs', step: 'discover', detail: 'the asset was not discovered' };
    } else if (found.error) {
      plan.failure = {
        system: 'twelvelabs',
        step: 'discover',
        detail: `${found.error.type}: ${found.error.message}`,
      };
    }
    if (plan.failure || !found) {
      shown.push({
        item: item.id,
        system: 'twelvelabs',
        step: 'not-discovered',
        target: item.twelvelabs.assetId,
        note: `${plan.failure?.detail ?? ''}: the item fails, nothing of it is deleted`,
      });
    } else if (!found.exists) {
      plan.absent.push('twelvelabs');
      plan.notes.push(`TwelveLabs asset ${item.twelvelabs.assetId} not found`);
      shown.push({
        item: item.id,
        system: 'twelvelabs',
        step: 'already-absent',
        target: item.twelvelabs.assetId,
        note: 'TwelveLabs asset not found: skipped',
      });
    } else {
      itemOfAsset.set(item.twelvelabs.assetId, item.id);
    }
  }

  // Entities that hold the chunk's live assets, each once, in ID order.
  const entities = new Map<string, DiscoveredEntity>();
  for (const assetId of itemOfAsset.keys()) {
    for (const entity of byAsset.get(assetId)?.entities ?? []) {
      if (!entities.has(entity.id)) entities.set(entity.id, entity);
    }
  }
  const sortedEntities = [...entities.values()].sort((a, b) => byString(a.id, b.id));
  const active = (assetId: string): boolean => {
    const item = itemOfAsset.get(assetId);
    return item !== undefined && plans.get(item)?.skip === undefined;
  };

  /** The entity's assets the plan takes: the whole plan's when discovery knew it, else this chunk's. */
  const planAssets = (entity: DiscoveredEntity): string[] => {
    const plan = entity.planAssetIds ? new Set(entity.planAssetIds) : undefined;
    return entity.assetIds
      .filter((id) => (itemOfAsset.has(id) ? active(id) : (plan?.has(id) ?? false)))
      .sort(byString);
  };
  const takesAll = (entity: DiscoveredEntity): boolean =>
    entity.assetIds.length > 0 && planAssets(entity).length === entity.assetIds.length;

  if (lastEntityAsset === 'skip-item') {
    // The entity's last asset (the greatest ID the plan takes) keeps it alive: that item is skipped.
    // Skipping keeps its asset in all its entities, which can save other entities: repeat until stable.
    for (let changed = true; changed;) {
      changed = false;
      for (const entity of sortedEntities) {
        if (!takesAll(entity)) continue;
        const all = planAssets(entity);
        const last = all[all.length - 1]!;
        const item = itemOfAsset.get(last);
        // The last asset may belong to another chunk, which skips its item there.
        if (item === undefined) continue;
        plans.get(item)!.skip = skipReason(last, entity.id);
        changed = true;
      }
    }
  }

  const leave: PlannedStep[] = [];
  for (const entity of sortedEntities) {
    const mine = entity.assetIds.filter(active).sort(byString);
    if (mine.length === 0) continue;
    const ref: EntityRef = { id: entity.id, collectionId: entity.collectionId };
    if (takesAll(entity) && lastEntityAsset === 'delete-entity' && flags.entityDeleteByEveryItem) {
      // Every item of the entity in this chunk deletes it, in one call: the entity is read again first and
      // deleted only if it holds nothing but this chunk's live items' assets. Else (another chunk's asset,
      // pending or failed, or one outside the plan) this chunk's assets are unlinked from it instead, and
      // the chunk that reaches it last, finding only its own assets, deletes it.
      for (const assetId of mine) {
        const plan = plans.get(itemOfAsset.get(assetId)!)!;
        const call = entityDelete(plan.item, ref, assetId);
        plan.calls.push(call);
        plan.notes.push(entityDeleteNote(entity.id));
        noteFor(call, plan.notes[plan.notes.length - 1]!);
      }
      continue;
    }
    if (takesAll(entity) && lastEntityAsset === 'delete-entity') {
      // Chunks planned before the patch: one item deletes the entity, the one of its last asset (the
      // greatest ID the plan takes). The others' assets leave it with their forced deletes. Whichever chunk runs first, the calls are the
      // same: an entity deleted early is not seen again, one emptied early is deleted by its last asset.
      const all = planAssets(entity);
      const last = all[all.length - 1]!;
      for (const assetId of mine) {
        const plan = plans.get(itemOfAsset.get(assetId)!)!;
        if (assetId === last) {
          const call = entityDelete(plan.item, ref, assetId);
          plan.calls.push(call);
          plan.notes.push(`entity ${entity.id} deleted: the plan takes all its assets`);
          noteFor(call, plan.notes[plan.notes.length - 1]!);
        } else {
          plan.notes.push(`entity ${entity.id} is deleted by the plan (with its last asset ${last})`);
          leave.push({
            item: plan.item,
            system: 'twelvelabs',
            step: 'leave-to-force-delete',
            target: entity.id,
            note: plan.notes[plan.notes.length - 1]!,
          });
        }
      }
      continue;
    }
    if (takesAll(entity) && lastEntityAsset === 'force-unlink') {
      // The forced deletes empty the entity anyway (the API allows that, not an unlink of its last
      // asset): no unlink at all, so the outcome is the same whichever chunk gets there first.
      for (const assetId of mine) {
        const plan = plans.get(itemOfAsset.get(assetId)!)!;
        plan.notes.push(leaveNote(entity.id));
        leave.push({
          item: plan.item,
          system: 'twelvelabs',
          step: 'leave-to-force-delete',
          target: entity.id,
          note: leaveNote(entity.id),
        });
      }
      continue;
    }
    for (const assetId of mine) {
      const plan = plans.get(itemOfAsset.get(assetId)!)!;
      plan.calls.push(unlinkCall(plan.item, ref, assetId));
    }
  }

  for (const item of items) {
    const plan = plans.get(item.id)!;
    if (plan.skip !== undefined || plan.failure !== undefined) {
      plan.calls = [];
      continue;
    }
    const assetId = item.twelvelabs?.assetId;
    if (assetId !== undefined && itemOfAsset.has(assetId)) {
      for (const ia of byAsset.get(assetId)?.indexedAssets ?? []) {
        plan.calls.push(indexedAssetDelete(item.id, assetId, ia));
      }
      plan.calls.push({
        item: item.id,
        system: 'twelvelabs',
        step: 'delete-asset',
        target: assetId,
        assetId,
      });
    }
    if (item.uplynk) {
      for (const libraryId of item.uplynk.libraryIds) {
        plan.calls.push({
          item: item.id,
          system: 'uplynk',
          step: 'remove-from-library',
          target: `${libraryId}/${item.uplynk.assetId}`,
          libraryId,
          assetId: item.uplynk.assetId,
        });
      }
    }
    if (item.entermedia) {
      plan.calls.push({
        item: item.id,
        system: 'entermedia',
        step: 'delete-dam-asset',
        target: item.entermedia.assetId,
        assetId: item.entermedia.assetId,
      });
    }
  }

  const itemPlans = items.map((item) => plans.get(item.id)!);
  const steps: PlannedStep[] = [...leave.filter((s) => plans.get(s.item)?.skip === undefined)];
  for (const plan of itemPlans) {
    if (plan.skip !== undefined) {
      for (const system of plan.systems)
        steps.push({ item: plan.item, system, step: 'skip', target: '', note: plan.skip });
    }
    for (const call of plan.calls) {
      const note = notes.get(`${call.item} ${call.step} ${call.target}`);
      steps.push(note === undefined ? stepOf(call) : { ...stepOf(call), note });
    }
  }
  steps.push(...shown);
  steps.sort(compareSteps);
  const seen = seenOf(discovered);
  for (const step of steps) {
    const text = seen(step);
    if (text) step.seen = text;
  }
  return { items: itemPlans, steps, digest: stepsDigest(steps) };
}

/**
 * The digest `approve` quotes: the calls and skips, not what is shown beside them (notes of calls, what
 * discovery read, parts already gone), so that it stays the same for the same references, and the same
 * as before those were shown.
 */
export function stepsDigest(steps: readonly PlannedStep[]): string {
  return digestOf(
    steps
      .filter((s) => s.step !== 'already-absent' && s.step !== 'not-discovered')
      .map((s) => ({
        item: s.item,
        system: s.system,
        step: s.step,
        target: s.target,
        ...(s.step === 'skip' ? { note: s.note } : {}),
      })),
  );
}

/** What discovery read of a step's target, as the approval view shows it. */
function seenOf(discovered: readonly DiscoveredAsset[]): (step: PlannedStep) => string | undefined {
  const assets = new Map(discovered.map((d) => [d.assetId, d]));
  const entities = new Map<string, string>();
  const indexes = new Map<string, string>();
  for (const d of discovered) {
    for (const e of d.entities) if (e.name) entities.set(e.id, e.name);
    for (const ia of d.indexedAssets ?? []) if (ia.indexName) indexes.set(ia.indexId, ia.indexName);
  }
  return (step) => {
    if (step.system !== 'twelvelabs') return undefined;
    const [head = ''] = step.target.split('/');
    switch (step.step) {
      case 'delete-asset': {
        const asset = assets.get(step.target);
        const parts = [asset?.filename, asset?.status].filter((p): p is string => Boolean(p));
        return parts.length ? parts.join(', ') : undefined;
      }
      case 'delete-indexed-asset':
        return indexes.has(head) ? `index ${indexes.get(head)}` : undefined;
      case 'unlink-entity':
      case 'delete-entity':
      case 'leave-to-force-delete':
        return entities.has(head) ? `entity ${entities.get(head)}` : undefined;
      default:
        return undefined;
    }
  };
}

export function stepOf(call: PlannedCall): PlannedStep {
  return { item: call.item, system: call.system, step: call.step, target: call.target };
}

function skipReason(assetId: string, entityId: string): string {
  return `its asset ${assetId} is the last asset of entity ${entityId} (lastEntityAsset: skip-item)`;
}

function entityDeleteNote(entityId: string): string {
  return `entity ${entityId} deleted: the plan takes all its assets; read again first, it is deleted only if it holds no asset but those of this chunk's live items, else this item's asset is unlinked from it and the chunk that reaches it last deletes it`;
}

function leaveNote(entityId: string): string {
  return `last asset of entity ${entityId}: unlinked by the forced asset delete`;
}

export function unlinkCall(item: string, entity: EntityRef, assetId: string): PlannedCall {
  return {
    item,
    system: 'twelvelabs',
    step: 'unlink-entity',
    target: `${entity.id}/${assetId}`,
    entity,
    assetId,
  };
}

function entityDelete(item: string, entity: EntityRef, assetId: string): PlannedCall {
  return { item, system: 'twelvelabs', step: 'delete-entity', target: entity.id, entity, assetId };
}

export function indexedAssetDelete(item: string, assetId: string, ia: IndexedAssetRef): PlannedCall {
  return {
    item,
    system: 'twelvelabs',
    step: 'delete-indexed-asset',
    target: `${ia.indexId}/${ia.id}`,
    assetId,
    indexId: ia.indexId,
    indexedAssetId: ia.id,
  };
}

const STEP_ORDER: ReadonlyArray<PlannedStep['step']> = [
  'not-discovered',
  'already-absent',
  'skip',
  'unlink-entity',
  'leave-to-force-delete',
  'delete-entity',
  'delete-indexed-asset',
  'delete-asset',
  'remove-from-library',
  'delete-dam-asset',
];

export function compareSteps(a: PlannedStep, b: PlannedStep): number {
  return (
    STEP_ORDER.indexOf(a.step) - STEP_ORDER.indexOf(b.step) ||
    byString(a.item, b.item) ||
    byString(a.target, b.target) ||
    byString(a.system, b.system)
  );
}

/** The digest of a whole run from the digests of its chunks, in plan order. */
export function combineDigests(chunkDigests: readonly string[]): string {
  return digestOf(chunkDigests);
}

/** What re-planning decides for the items behind a refused or premise-changed entity call. */
export interface Replan {
  /** Items to skip from now on, in every system, with why. */
  skip: Array<{ item: string; reason: string }>;
  /** Calls that replace the refused ones (a new unlink, an entity delete). */
  calls: PlannedCall[];
  /** Notes for report rows, per item. */
  notes: Array<{ item: string; note: string }>;
}

/**
 * An unlink refused because it would empty the entity: the plan's assets still linked are all that the
 * entity holds. This happens when another chunk, another run or a change during the run emptied it since
 * discovery. `lastEntityAsset` decides again, with the greatest asset ID as the last one.
 */
export function replanRefusedUnlink(
  refused: ReadonlyArray<{ item: string; assetId: string }>,
  entity: EntityRef,
  lastEntityAsset: LastEntityAsset,
): Replan {
  const pairs = [...refused].sort((a, b) => byString(a.assetId, b.assetId));
  const last = pairs[pairs.length - 1];
  if (!last) return { skip: [], calls: [], notes: [] };
  const rest = pairs.slice(0, -1);
  if (lastEntityAsset === 'delete-entity') {
    return {
      skip: [],
      calls: [entityDelete(last.item, entity, last.assetId)],
      notes: pairs.map((p) => ({
        item: p.item,
        note: `entity ${entity.id} deleted: the plan's assets became all its assets during the run`,
      })),
    };
  }
  if (lastEntityAsset === 'skip-item') {
    return {
      skip: [{ item: last.item, reason: `${skipReason(last.assetId, entity.id)}, decided during the run` }],
      calls: rest.map((p) => unlinkCall(p.item, entity, p.assetId)),
      notes: [],
    };
  }
  // force-unlink: the forced deletes will empty the entity; nothing more to call.
  return { skip: [], calls: [], notes: pairs.map((p) => ({ item: p.item, note: leaveNote(entity.id) })) };
}

/**
 * An unlink refused in a run approved by its steps' digest: re-planning may make no call the approved
 * steps do not hold. Under `delete-entity` that would be an entity delete (the approved steps unlink the
 * asset from an entity that held assets outside the plan): the items behind the refused unlink are
 * skipped instead, as a chunk whose references changed after approval is. Otherwise as
 * {@link replanRefusedUnlink}, whose other re-plans only drop calls or send approved unlinks again.
 */
export function replanRefusedUnlinkApproved(
  refused: ReadonlyArray<{ item: string; assetId: string }>,
  entity: EntityRef,
  lastEntityAsset: LastEntityAsset,
): Replan {
  const replan = replanRefusedUnlink(refused, entity, lastEntityAsset);
  if (!replan.calls.some((c) => c.step === 'delete-entity')) return replan;
  return {
    skip: refused.map((p) => ({
      item: p.item,
      reason: `the references changed after approval: the unlink of its asset ${p.assetId} from entity ${entity.id} was refused (it would now empty the entity), and deleting the entity is not among the approved steps; nothing more of the item was deleted`,
    })),
    calls: [],
    notes: [],
  };
}

/**
 * An entity delete whose premise no longer holds: read again just before the delete, the entity holds
 * assets outside the plan, or (with `chunkOnly`, see {@link PlannerFlags.entityDeleteByEveryItem})
 * outside this chunk's live items: another chunk's, pending or failed. It must not be deleted; this
 * chunk's assets are unlinked instead (the entity keeps the others, so none of them is its last).
 */
export function replanForeignEntity(
  items: ReadonlyArray<{ item: string; assetId: string }>,
  entity: EntityRef,
  foreign: readonly string[],
  chunkOnly = false,
): Replan {
  const listed = `${foreign.length} asset(s) outside ${chunkOnly ? "this chunk's live items" : 'the plan'} (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`;
  const why = chunkOnly
    ? `entity ${entity.id} not deleted: it now also holds ${listed}; unlinked instead, the entity is deleted by the chunk that finds only its own live items' assets in it`
    : `entity ${entity.id} not deleted: it now also holds ${listed}; unlinked instead`;
  return {
    skip: [],
    calls: items.map((p) => unlinkCall(p.item, entity, p.assetId)),
    notes: items.map((p) => ({ item: p.item, note: why })),
  };
}
