/**
 * The safety suite's judge: the sandbox's state before and after a run, diffed, and checked against the
 * plan, the report rows and the ledger. Nothing may disappear that is not a target of a plan; every row
 * must agree with what is there now; every change must be explained by a ledger entry.
 */
import assert from 'node:assert/strict';
import { changedState, type LedgerEntry, type Plan, type Report, type ReportRow } from '../../plan/index.js';
import type { SandboxState } from '../../sandbox/index.js';

/** Every object of the three systems as a key: `kind:id`. */
export function objectsOf(state: SandboxState): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of state.twelvelabs.assets) out.set(`tl-asset:${a._id}`, a._id);
  for (const ia of state.twelvelabs.indexedAssets) out.set(`tl-indexed:${ia._id}`, ia.asset_id);
  for (const e of state.twelvelabs.entities) {
    out.set(`tl-entity:${e._id}`, e._id);
    for (const a of e.asset_ids) out.set(`tl-link:${e._id}/${a}`, a);
  }
  for (const l of state.uplynk.libraries) for (const a of l.asset_ids) out.set(`uplynk:${l.id}/${a}`, a);
  for (const a of state.entermedia.assets) out.set(`dam:${a.id}`, a.id);
  return out;
}

export interface Targets {
  tlAssets: Set<string>;
  memberships: Set<string>;
  dam: Set<string>;
}

export function targetsOf(...plans: Plan[]): Targets {
  const t: Targets = { tlAssets: new Set(), memberships: new Set(), dam: new Set() };
  for (const plan of plans) {
    for (const i of plan.items) {
      if (i.twelvelabs) t.tlAssets.add(i.twelvelabs.assetId);
      for (const lib of i.uplynk?.libraryIds ?? []) t.memberships.add(`${lib}/${i.uplynk!.assetId}`);
      if (i.entermedia) t.dam.add(i.entermedia.assetId);
    }
  }
  return t;
}

/** What disappeared between two states. */
export function disappeared(before: SandboxState, after: SandboxState): string[] {
  const now = objectsOf(after);
  return [...objectsOf(before).keys()].filter((k) => !now.has(k));
}

/**
 * Every object that disappeared is a target of one of the plans: a plan's asset, an indexed asset or a
 * link of a plan's asset, a plan's library membership or DAM asset, or an entity whose every asset
 * (before the run) was a plan's asset, deleted under `delete-entity`.
 */
export function assertOnlyTargetsGone(before: SandboxState, after: SandboxState, plans: Plan[]): void {
  const t = targetsOf(...plans);
  const entityAssets = new Map(before.twelvelabs.entities.map((e) => [e._id, e.asset_ids]));
  const indexedOwner = new Map(before.twelvelabs.indexedAssets.map((ia) => [ia._id, ia.asset_id]));
  const outside = disappeared(before, after).filter((key) => {
    const [kind, id] = key.split(/:(.*)/s) as [string, string];
    switch (kind) {
      case 'tl-asset':
        return !t.tlAssets.has(id);
      case 'tl-indexed':
        return !t.tlAssets.has(indexedOwner.get(id) ?? '');
      case 'tl-link': {
        const [entity, asset] = id.split('/') as [string, string];
        const entityGone = !after.twelvelabs.entities.some((e) => e._id === entity);
        return !t.tlAssets.has(asset) && !entityGone;
      }
      case 'tl-entity':
        return !(entityAssets.get(id) ?? []).every((a) => t.tlAssets.has(a));
      case 'uplynk':
        return !t.memberships.has(id);
      case 'dam':
        return !t.dam.has(id);
      default:
        return true;
    }
  });
  assert.deepEqual(outside, [], 'objects outside the plan disappeared');
}

/** The objects an item's part in one system is about. */
function partObjects(plan: Plan, row: ReportRow): string[] {
  const item = plan.items.find((i) => i.id === row.item)!;
  if (row.system === 'twelvelabs') return [`tl-asset:${item.twelvelabs!.assetId}`];
  if (row.system === 'uplynk')
    return item.uplynk!.libraryIds.map((lib) => `uplynk:${lib}/${item.uplynk!.assetId}`);
  return [`dam:${item.entermedia!.assetId}`];
}

function ledgerObject(e: LedgerEntry): string[] {
  switch (e.step) {
    case 'unlink-entity':
      return [`tl-link:${e.target}`];
    case 'delete-entity':
      return [`tl-entity:${e.target}`];
    case 'delete-indexed-asset':
      return [`tl-indexed:${e.target.split('/')[1]}`];
    case 'delete-asset':
      return [`tl-asset:${e.target}`];
    case 'remove-from-library':
      return [`uplynk:${e.target}`];
    case 'delete-dam-asset':
      return [`dam:${e.target}`];
  }
}

/**
 * Every row agrees with the state: `deleted` and `already-absent` parts are gone; `skipped` parts are
 * still there as they were before; a `partial` part is not gone, and each change its detail lists did
 * happen. Every ledger entry that changed state is true of the state; every object of a plan's item that
 * disappeared is explained by a ledger entry (or by the forced delete or entity delete that took it).
 */
export function assertReportAgrees(
  plan: Plan,
  report: Report,
  before: SandboxState,
  after: SandboxState,
): void {
  const was = objectsOf(before);
  const now = objectsOf(after);
  for (const row of report.rows) {
    const objects = partObjects(plan, row).filter((o) => was.has(o));
    const where = `${row.item}/${row.system} ${row.outcome} (${row.detail})`;
    if (row.outcome === 'deleted' || row.outcome === 'already-absent') {
      for (const o of objects) assert.ok(!now.has(o), `${where}: ${o} is still there`);
    } else if (row.outcome === 'skipped') {
      for (const o of objects) assert.ok(now.has(o), `${where}: ${o} is gone`);
      const mine = report.mutations.filter(
        (e) => e.item === row.item && e.system === row.system && changedState(e),
      );
      assert.deepEqual(mine, [], `${where}: a skipped part has ledger entries`);
    } else if (row.outcome === 'partial') {
      const mine = report.mutations.filter(
        (e) => e.item === row.item && e.system === row.system && changedState(e),
      );
      assert.ok(mine.length > 0, `${where}: partial without a ledger entry`);
      for (const e of mine) {
        assert.match(row.detail, new RegExp(escape(e.target)), `${where}: does not list ${e.target}`);
      }
    }
  }
  const observed = new Set(report.rows.filter((r) => r.step === 'observe').map((r) => r.item));
  for (const e of report.mutations) {
    if (e.answer !== 'deleted' && e.answer !== 'unlinked') continue;
    for (const o of ledgerObject(e))
      assert.ok(!now.has(o), `ledger says ${e.step} ${e.target} ${e.answer}, but ${o} is there`);
  }
  // Every disappearance of a plan item's object is in the ledger (observed items excepted: their record
  // was lost, and their rows say what a read found).
  const explained = new Set(report.mutations.filter(changedState).flatMap(ledgerObject));
  const deletedAssets = new Set(
    report.mutations.filter((e) => e.step === 'delete-asset' && changedState(e)).map((e) => e.target),
  );
  const deletedEntities = new Set(
    report.mutations.filter((e) => e.step === 'delete-entity' && changedState(e)).map((e) => e.target),
  );
  const t = targetsOf(plan);
  const itemOfObject = new Map<string, string>();
  for (const i of plan.items) {
    if (i.twelvelabs) itemOfObject.set(i.twelvelabs.assetId, i.id);
  }
  for (const key of disappeared(before, after)) {
    const [kind, id] = key.split(/:(.*)/s) as [string, string];
    if (kind === 'tl-link') {
      const [entity, asset] = id.split('/') as [string, string];
      if (deletedAssets.has(asset) || deletedEntities.has(entity) || explained.has(key)) continue;
      if (observed.has(itemOfObject.get(asset) ?? '')) continue;
      if (!t.tlAssets.has(asset)) continue; // another plan's doing (concurrent runs)
    }
    if (kind === 'tl-indexed' || kind === 'tl-entity') {
      if (explained.has(key)) continue;
      continue; // an orphan check is done where the test knows the owner
    }
    if (kind === 'tl-asset' && !t.tlAssets.has(id)) continue;
    if (kind === 'uplynk' && !t.memberships.has(id)) continue;
    if (kind === 'dam' && !t.dam.has(id)) continue;
    if (explained.has(key)) continue;
    const item = report.rows.find((r) => partObjects(plan, r).includes(key))?.item;
    if (item && observed.has(item)) continue;
    assert.fail(`${key} disappeared without a ledger entry`);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
