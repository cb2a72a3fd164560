import { z } from 'zod';

export const SystemName = z.enum(['twelvelabs', 'uplynk', 'entermedia']);
export type SystemName = z.infer<typeof SystemName>;
export const SYSTEMS: readonly SystemName[] = SystemName.options;

export const Outcome = z.enum(['deleted', 'already-absent', 'skipped', 'failed']);
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
});
export type Report = z.infer<typeof Report>;

/**
 * An item's overall outcome from its rows: `failed` if any system failed, else `skipped` if any was skipped,
 * else `deleted` if anything was deleted, else `already-absent`.
 */
export function itemOutcome(outcomes: readonly Outcome[]): Outcome {
  if (outcomes.includes('failed')) return 'failed';
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
  const summary: ReportSummary = { items: byItem.size, deleted: 0, alreadyAbsent: 0, skipped: 0, failed: 0 };
  for (const outcomes of byItem.values()) {
    const outcome = itemOutcome(outcomes);
    if (outcome === 'already-absent') summary.alreadyAbsent++;
    else summary[outcome]++;
  }
  return summary;
}
