import { z } from 'zod';
import type { ItemFinal } from './item-book.js';
import { LedgerEntry, changedState, describeEntry } from './ledger.js';

import { SystemName } from './systems.js';

export { SystemName, SYSTEMS } from './systems.js';

/**
 * `partial`: the item stopped (skipped, cancelled, stopped at the threshold, or another system failed)
 * after some of its calls in this system had changed state, and before the others were made; the row's
 * detail lists what was done. A system that made all its calls before its item stopped is `deleted`.
 */
export const Outcome = z.enum(['deleted', 'already-absent', 'skipped', 'partial', 'failed']);
export type Outcome = z.infer<typeof Outcome>;

/** One final outcome for one plan item in one system. */
export const ReportRow = z.strictObject({
  item: z.string(),
  system: SystemName,
  outcome: Outcome,
  /** The step that decided the outcome, e.g. `delete-asset`, `remove-from-libraries`. */
  step: z.string(),
  /** Why, in words: the vendor's message for a failure, the reason for a skip. */
  detail: z.string(),
  /** ISO time at which the outcome was decided. */
  at: z.string(),
});
export type ReportRow = z.infer<typeof ReportRow>;

export const RunStatus = z.enum(['completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;

export const ReportSummary = z.strictObject({
  items: z.int(),
  deleted: z.int(),
  alreadyAbsent: z.int(),
  skipped: z.int(),
  partial: z.int(),
  failed: z.int(),
});
export type ReportSummary = z.infer<typeof ReportSummary>;

/** A report's status: how the run ended, or `running` for the rows so far of a run still open. */
export const ReportStatus = z.enum([...RunStatus.options, 'running']);
export type ReportStatus = z.infer<typeof ReportStatus>;

export const Report = z.strictObject({
  workflowId: z.string(),
  plan: z.string(),
  status: ReportStatus,
  summary: ReportSummary,
  rows: z.array(ReportRow),
  /** The ledger: every call that changed, or may have changed, a vendor's state, in the order made. */
  mutations: z.array(LedgerEntry),
  /** The hash at the head of the receipt's chain over `mutations` (plan/receipt.ts). */
  head: z.string().optional(),
});
export type Report = z.infer<typeof Report>;

/**
 * An item's overall outcome from its rows: `failed` if any system failed, else `partial` if any system is
 * partial or some were deleted and others skipped, else `skipped` if any was skipped, else `deleted` if
 * anything was deleted, else `already-absent`.
 */
export function itemOutcome(outcomes: readonly Outcome[]): Outcome {
  if (outcomes.includes('failed')) return 'failed';
  if (outcomes.includes('partial')) return 'partial';
  if (outcomes.includes('skipped') && outcomes.includes('deleted')) return 'partial';
  if (outcomes.includes('skipped')) return 'skipped';
  if (outcomes.includes('deleted')) return 'deleted';
  return 'already-absent';
}

/** Counts items (not rows) by their overall outcome. */
export function summarize(rows: readonly ReportRow[]): ReportSummary {
  const byItem = new Map<string, Outcome[]>();
  for (const row of rows) {
    const list = byItem.get(row.item);
    if (list) list.push(row.outcome);
    else byItem.set(row.item, [row.outcome]);
  }
  const summary: ReportSummary = emptySummary();
  summary.items = byItem.size;
  for (const outcomes of byItem.values()) {
    const outcome = itemOutcome(outcomes);
    if (outcome === 'already-absent') summary.alreadyAbsent++;
    else summary[outcome]++;
  }
  return summary;
}

export function emptySummary(): ReportSummary {
  return { items: 0, deleted: 0, alreadyAbsent: 0, skipped: 0, partial: 0, failed: 0 };
}

/** Adds `b` into `a`. */
export function addSummary(a: ReportSummary, b: ReportSummary): void {
  for (const key of Object.keys(a) as Array<keyof ReportSummary>) a[key] += b[key];
}

const WORDS: Record<Exclude<ItemFinal['state'], 'done' | 'observed'>, string> = {
  skipped: 'skipped',
  stopped: 'stopped',
  failed: 'failed',
};

/**
 * The report rows of items from how they ended and the ledger of what was done: one row per item and
 * system. A row never claims more than the ledger (or, for `observed`, a read of the system) shows.
 */
export function rowsOf(finals: readonly ItemFinal[], ledger: readonly LedgerEntry[]): ReportRow[] {
  const byKey = new Map<string, LedgerEntry[]>();
  for (const entry of ledger) {
    const key = `${entry.item}\u0000${entry.system}`;
    const list = byKey.get(key);
    if (list) list.push(entry);
    else byKey.set(key, [entry]);
  }
  const rows: ReportRow[] = [];
  for (const final of finals) {
    for (const system of final.systems) {
      const entries = byKey.get(`${final.item}\u0000${system}`) ?? [];
      rows.push(rowOf(final, system, entries));
    }
  }
  return rows;
}

function rowOf(final: ItemFinal, system: SystemName, entries: readonly LedgerEntry[]): ReportRow {
  const changed = entries.filter(changedState);
  const done = changed.map(describeEntry).join('; ');
  const last = entries[entries.length - 1];
  const at = last && last.at > final.at ? last.at : final.at;
  const row = (outcome: Outcome, step: string, ...details: Array<string | undefined>): ReportRow => ({
    item: final.item,
    system,
    outcome,
    step,
    detail: details.filter((d) => d !== undefined && d !== '').join('; '),
    at,
  });
  const withDone = done ? `done before: ${done}` : undefined;
  // What this system's part became, when all its calls were made: `deleted` with what was done.
  const finished = (...notes: string[]): ReportRow => {
    if (changed.length === 0) return row('already-absent', last?.step ?? 'discover', ...notes);
    const uplynk =
      system === 'uplynk' && changed.every((e) => e.answer === 'removal-requested')
        ? 'removal requested; Uplynk does not say whether it was a member'
        : undefined;
    return row('deleted', last?.step ?? 'unknown', uplynk, done, ...notes);
  };
  // A system that made every call before its item stopped elsewhere finished its part; one already gone
  // at discovery had none to make.
  const ownPartDone =
    final.unfinished !== undefined &&
    !final.unfinished.includes(system) &&
    final.system !== system &&
    (changed.length > 0 || final.absent.includes(system));
  if (final.state !== 'done' && final.state !== 'observed' && ownPartDone) {
    const then =
      final.state === 'failed'
        ? `then ${final.system ?? 'another system'} failed at step ${final.step ?? '?'}`
        : `then the item was ${WORDS[final.state]} (${final.detail ?? ''})`;
    return finished(...(changed.length === 0 ? ['already absent at discovery'] : []), then);
  }
  switch (final.state) {
    case 'failed':
      if (final.system === system) return row('failed', final.step ?? 'unknown', final.detail, withDone);
      return row(
        changed.length ? 'partial' : 'skipped',
        changed.length ? (last?.step ?? 'stopped') : 'not-attempted',
        `not attempted further: ${final.system ?? 'another system'} failed at step ${final.step ?? '?'}`,
        withDone,
      );
    case 'skipped':
    case 'stopped':
      return row(
        changed.length ? 'partial' : 'skipped',
        changed.length
          ? (last?.step ?? final.state)
          : (final.step ?? (final.state === 'skipped' ? 'plan' : 'stopped')),
        `${WORDS[final.state]}: ${final.detail ?? ''}`,
        withDone,
      );
    case 'observed': {
      const seen = final.observed?.[system] ?? 'unknown';
      const why = `the chunk's record was lost (${final.detail ?? 'the chunk failed'})`;
      if (seen === 'gone')
        return row(
          'deleted',
          'observe',
          `${why}; read afterwards: gone (this run may or may not have deleted it)`,
        );
      if (seen === 'present') return row('failed', 'observe', `${why}; read afterwards: still present`);
      return row('failed', 'observe', `${why}; ${system} cannot be read back: state unknown`);
    }
    case 'done': {
      if (final.absent.includes(system) && changed.length === 0)
        return row('already-absent', 'discover', ...final.notes);
      const notes = system === 'twelvelabs' ? final.notes : [];
      if (changed.length === 0) return finished(entries.map(describeEntry).join('; '), ...notes);
      return finished(...notes);
    }
  }
}
