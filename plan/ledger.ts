/**
 * The ledger: one entry for every call that changed, or may have changed, a vendor's state. Activities
 * answer these entries where the call happened; the report is derived from them, never from intentions.
 */
import { z } from 'zod';
import { SystemName } from './systems.js';

/** The calls that change a vendor's state, in the mission's order. */
export const CallStep = z.enum([
  'unlink-entity',
  'delete-entity',
  'delete-indexed-asset',
  'delete-asset',
  'remove-from-library',
  'delete-dam-asset',
]);
export type CallStep = z.infer<typeof CallStep>;

/**
 * What the vendor answered for one target of a call:
 * - `deleted`: the target is gone because of this call (or a retry of it whose first answer was lost);
 * - `unlinked`: the asset was removed from the entity;
 * - `removal-requested`: Uplynk accepted the removal; it does not say whether the asset was a member;
 * - `already-absent`: the target was not there (nothing changed);
 * - `failed`: the call failed; `mayHaveApplied` says whether the vendor may have applied it anyway.
 */
export const Answer = z.enum(['deleted', 'unlinked', 'removal-requested', 'already-absent', 'failed']);
export type Answer = z.infer<typeof Answer>;

export const LedgerEntry = z.strictObject({
  /** The plan item the call was made for. */
  item: z.string(),
  system: SystemName,
  step: CallStep,
  /** The object the call was about: `entityId/assetId`, `indexId/indexedAssetId`, `libraryId/assetId`, an asset ID. */
  target: z.string(),
  answer: Answer,
  /** The vendor's message for a failure, a note otherwise (absent when the answer says it all). */
  detail: z.string().optional(),
  /** True for a failure after which the vendor may still have applied the call (a lost answer). */
  mayHaveApplied: z.boolean().optional(),
  /** ISO time of the answer. */
  at: z.string(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** True when the entry records a change of the vendor's state, or a call that may have made one. */
export function changedState(entry: LedgerEntry): boolean {
  return entry.answer === 'failed' ? entry.mayHaveApplied === true : entry.answer !== 'already-absent';
}

/** A failure that is not a mutation (a read before a call, a verification), attributed to one item. */
export const ItemFailure = z.strictObject({
  item: z.string(),
  system: SystemName,
  step: z.string(),
  detail: z.string(),
  at: z.string(),
});
export type ItemFailure = z.infer<typeof ItemFailure>;

/**
 * A call the vendor refused, or that was not made because its premise no longer held, without any change:
 * an unlink that would empty its entity, an entity delete whose entity now holds assets outside the plan.
 * The planner decides again for these.
 */
export interface Refusal {
  item: string;
  step: CallStep;
  target: string;
  entity: { id: string; collectionId: string };
  assetId: string;
  /** For an entity delete: the assets outside the plan that the entity holds now. */
  foreign?: string[];
}

/** What a phase activity answers: the ledger entries of its calls, the failures of its reads, refusals. */
export interface PhaseAnswer {
  entries: LedgerEntry[];
  failures: ItemFailure[];
  refused?: Refusal[];
  /** The phase was asked to stop: calls not answered were not made. */
  stopped?: boolean;
}

const VERBS: Record<Answer, string> = {
  deleted: 'deleted',
  unlinked: 'unlinked',
  'removal-requested': 'removal requested',
  'already-absent': 'already absent',
  failed: 'failed',
};

/** One line that says what an entry did, e.g. `delete-indexed-asset idx/ia: deleted`. */
export function describeEntry(entry: LedgerEntry): string {
  return `${entry.step} ${entry.target}: ${VERBS[entry.answer]}${entry.detail ? ` (${entry.detail})` : ''}`;
}
