import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { receiptOf, verifyReceipt, type LedgerEntry, type Receipt } from '../../plan/index.js';

const LEDGER: LedgerEntry[] = [
  {
    item: 'ep-1',
    system: 'twelvelabs',
    step: 'delete-indexed-asset',
    target: 'idx1/ia1',
    answer: 'deleted',
    at: '2026-11-23T10:00:00.000Z',
  },
  {
    item: 'ep-1',
    system: 'twelvelabs',
    step: 'delete-asset',
    target: 'a1',
    answer: 'deleted',
    at: '2026-11-23T10:00:01.000Z',
  },
  {
    item: 'ep-2',
    system: 'uplynk',
    step: 'remove-from-library',
    target: 'lib1/a2',
    answer: 'failed',
    detail: 'HTTP 503',
    mayHaveApplied: true,
    at: '2026-11-23T10:00:02.000Z',
  },
  {
    item: 'ep-3',
    system: 'entermedia',
    step: 'delete-dam-asset',
    target: 'dam-3',
    answer: 'already-absent',
    at: '2026-11-23T10:00:03.000Z',
  },
];

function receipt(): Receipt {
  return receiptOf({ workflowId: 'bulk-delete-t', plan: 't', status: 'completed' }, LEDGER);
}

/** The receipt as an auditor gets it: a JSON file. */
function roundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('deletion receipt', () => {
  it('chains each entry to the previous one and ends at the head', () => {
    const r = receipt();
    assert.equal(r.entries.length, 4);
    for (let i = 1; i < r.entries.length; i++) assert.equal(r.entries[i]!.prev, r.entries[i - 1]!.hash);
    assert.equal(r.head, r.entries[3]!.hash);
    assert.match(r.head, /^[0-9a-f]{64}$/);
  });

  it('a receipt as written verifies', () => {
    assert.deepEqual(verifyReceipt(roundTrip(receipt())), { valid: true, entries: 4, head: receipt().head });
  });

  it('an empty ledger verifies, and its head depends on the run', () => {
    const a = receiptOf({ workflowId: 'a', plan: 'p', status: 'completed' }, []);
    const b = receiptOf({ workflowId: 'b', plan: 'p', status: 'completed' }, []);
    assert.equal(verifyReceipt(a).valid, true);
    assert.notEqual(a.head, b.head);
  });

  it('an entry whose answer was changed fails, naming that entry', () => {
    const r = roundTrip(receipt()) as Receipt;
    r.entries[2]!.answer = 'deleted';
    assert.deepEqual(verifyReceipt(r), {
      valid: false,
      index: 2,
      item: 'ep-2',
      target: 'lib1/a2',
      reason: 'its content does not match its hash: the entry was changed',
    });
  });

  it('a changed entry whose hash was recomputed fails at the entry after it', () => {
    const r = roundTrip(receipt()) as Receipt;
    const forged = receiptOf({ workflowId: 'bulk-delete-t', plan: 't', status: 'completed' }, [
      ...LEDGER.slice(0, 1),
      { ...LEDGER[1]!, answer: 'failed' },
    ]);
    r.entries[1] = forged.entries[1]!;
    const verdict = verifyReceipt(r);
    assert.equal(verdict.valid, false);
    assert.equal(!verdict.valid && verdict.index, 2);
  });

  it('a receipt with one entry removed fails, naming the entry after the gap', () => {
    const r = roundTrip(receipt()) as Receipt;
    r.entries.splice(1, 1);
    const verdict = verifyReceipt(r);
    assert.equal(verdict.valid, false);
    assert.deepEqual(!verdict.valid && [verdict.index, verdict.item, verdict.target], [1, 'ep-2', 'lib1/a2']);
    assert.match(!verdict.valid ? verdict.reason : '', /does not match entry 0/);
  });

  it('a receipt whose first entry was removed fails at index 0', () => {
    const r = roundTrip(receipt()) as Receipt;
    r.entries.shift();
    const verdict = verifyReceipt(r);
    assert.deepEqual(!verdict.valid && [verdict.index, verdict.item], [0, 'ep-1']);
  });

  it('a receipt whose last entry was removed fails on its head', () => {
    const r = roundTrip(receipt()) as Receipt;
    r.entries.pop();
    const verdict = verifyReceipt(r);
    assert.equal(!verdict.valid && verdict.index, 3);
    assert.match(!verdict.valid ? verdict.reason : '', /missing at the end/);
  });

  it('swapped entries fail', () => {
    const r = roundTrip(receipt()) as Receipt;
    [r.entries[1], r.entries[2]] = [r.entries[2]!, r.entries[1]!];
    assert.equal(verifyReceipt(r).valid, false);
  });

  it('what is not a receipt is said so', () => {
    const verdict = verifyReceipt({ entries: 'x' });
    assert.equal(verdict.valid, false);
    assert.match(!verdict.valid ? verdict.reason : '', /not a receipt/);
  });
});
