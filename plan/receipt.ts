/**
 * The deletion receipt: the ledger of a run, hash-chained so that an auditor can check offline that no
 * entry was changed, removed or reordered since the run archived it.
 *
 * Entry `i` carries `prev`, the hex SHA-256 of the canonical JSON of entry `i - 1` (with its own `prev`,
 * without its `hash`), and `hash`, the same digest of itself. The first entry's `prev` is the digest of
 * `{ receipt: 1, workflowId }`, which binds the chain to its run. The receipt's `head` is the last
 * entry's hash (the genesis digest for an empty ledger); the report carries the same head.
 */
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './digest.js';
import { LedgerEntry } from './ledger.js';

export const RECEIPT_FORMAT = 'bulk-delete-receipt/1';

export const ReceiptEntry = LedgerEntry.extend({
  /** Hex SHA-256 of the previous entry's canonical JSON (without its `hash`). */
  prev: z.string(),
  /** Hex SHA-256 of this entry's canonical JSON (without `hash`). */
  hash: z.string(),
});
export type ReceiptEntry = z.infer<typeof ReceiptEntry>;

export const Receipt = z.strictObject({
  format: z.literal(RECEIPT_FORMAT),
  workflowId: z.string(),
  plan: z.string(),
  status: z.string(),
  /** The last entry's hash: what the report quotes. */
  head: z.string(),
  entries: z.array(ReceiptEntry),
});
export type Receipt = z.infer<typeof Receipt>;

/** The `prev` of a run's first entry. */
export function genesisOf(workflowId: string): string {
  return sha256Hex(canonicalJson({ receipt: 1, workflowId }));
}

function hashOf(entry: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = entry;
  return sha256Hex(canonicalJson(rest));
}

/** Chains a run's ledger, in the order its calls were recorded. */
export function chainLedger(
  workflowId: string,
  ledger: readonly LedgerEntry[],
): { entries: ReceiptEntry[]; head: string } {
  let prev = genesisOf(workflowId);
  const entries = ledger.map((entry) => {
    const chained = { ...entry, prev };
    const hash = hashOf(chained);
    prev = hash;
    return { ...chained, hash };
  });
  return { entries, head: prev };
}

/** The receipt of a run. */
export function receiptOf(
  run: { workflowId: string; plan: string; status: string },
  ledger: readonly LedgerEntry[],
): Receipt {
  const { entries, head } = chainLedger(run.workflowId, ledger);
  return {
    format: RECEIPT_FORMAT,
    workflowId: run.workflowId,
    plan: run.plan,
    status: run.status,
    head,
    entries,
  };
}

/** What checking a receipt found. */
export type Verdict =
  | { valid: true; entries: number; head: string }
  | {
      valid: false;
      /** The first entry that does not match (`entries.length` when entries are missing at the end). */
      index: number;
      item?: string;
      target?: string;
      reason: string;
    };

/**
 * Checks a receipt read from JSON: the first entry whose hash or link does not match, or a head that
 * is not the last entry's hash. Pure: no clock, no I/O.
 */
export function verifyReceipt(json: unknown): Verdict {
  const shape = z
    .object({
      workflowId: z.string(),
      head: z.string(),
      entries: z.array(z.record(z.string(), z.unknown())),
    })
    .safeParse(json);
  if (!shape.success) {
    return { valid: false, index: -1, reason: `not a receipt: ${z.prettifyError(shape.error)}` };
  }
  const { workflowId, head, entries } = shape.data;
  let expected = genesisOf(workflowId);
  for (const [index, entry] of entries.entries()) {
    const at = {
      index,
      ...(typeof entry.item === 'string' ? { item: entry.item } : {}),
      ...(typeof entry.target === 'string' ? { target: entry.target } : {}),
    };
    if (entry.prev !== expected) {
      return {
        valid: false,
        ...at,
        reason:
          index === 0
            ? 'its prev is not the start of this run\u2019s chain: an entry before it is missing, or the workflowId changed'
            : `its prev does not match entry ${index - 1}: an entry between them is missing, or they were reordered`,
      };
    }
    const actual = hashOf(entry);
    if (entry.hash !== actual) {
      return { valid: false, ...at, reason: 'its content does not match its hash: the entry was changed' };
    }
    if (
      !LedgerEntry.safeParse(
        Object.fromEntries(Object.entries(entry).filter(([k]) => k !== 'prev' && k !== 'hash')),
      ).success
    ) {
      return { valid: false, ...at, reason: 'it is not a ledger entry' };
    }
    expected = actual;
  }
  if (head !== expected) {
    return {
      valid: false,
      index: entries.length,
      reason: `the head ${head} is not the last entry's hash ${expected}: entries are missing at the end`,
    };
  }
  return { valid: true, entries: entries.length, head };
}
