import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { receiptOf, type LedgerEntry, type Receipt } from '../../plan/index.js';
import { cleanEnv, runCli } from './cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const ledger: LedgerEntry[] = ['a', 'b', 'c'].map((id, i) => ({
  item: `ep-${id}`,
  system: 'entermedia',
  step: 'delete-dam-asset',
  target: `dam-${id}`,
  answer: 'deleted',
  at: `2026-11-23T10:00:0${i}.000Z`,
}));

describe('bulk-delete verify RECEIPT checks a deletion receipt offline', () => {
  let dir: string;
  const env = cleanEnv();
  const write = (name: string, value: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return path;
  };
  const receipt = (): Receipt =>
    receiptOf({ workflowId: 'bulk-delete-v', plan: 'v', status: 'completed' }, ledger);
  before(() => {
    dir = tempDir('bulk-delete-verify-');
  });

  it('a receipt as archived is valid: exit 0 with its head', async () => {
    const result = await runCli(['verify', write('ok.json', receipt())], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`valid, 3 entries, head ${receipt().head}`));
  });

  it('a receipt with one answer changed is invalid: exit 1 naming the entry, its item and target', async () => {
    const tampered = receipt();
    tampered.entries[1]!.answer = 'already-absent';
    const result = await runCli(['verify', write('tampered.json', tampered)], { env });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /INVALID at entry 1 \(item ep-b, target dam-b\): .*was changed/);
  });

  it('a receipt with one entry removed is invalid: exit 1 naming the entry after the gap', async () => {
    const shortened = receipt();
    shortened.entries.splice(1, 1);
    const result = await runCli(['verify', write('short.json', shortened), '--json'], { env });
    assert.equal(result.code, 1);
    const verdict = JSON.parse(result.stdout) as { valid: boolean; index: number; item: string };
    assert.deepEqual([verdict.valid, verdict.index, verdict.item], [false, 1, 'ep-c']);
  });

  /** The report of the receipt's run, as `report --format json` writes it (rows left out). */
  const reportOf = (r: Receipt) => ({
    workflowId: r.workflowId,
    plan: r.plan,
    status: r.status,
    rows: [],
    mutations: ledger,
    head: r.head,
  });

  it("with --report, the report must quote the receipt's head: exit 0 when it does, 1 when not", async () => {
    const r = receipt();
    const path = write('r.json', r);
    const report = reportOf(r);
    const ok = await runCli(['verify', path, '--report', write('report.json', report)], { env });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const other = write('other.json', { ...report, head: '0'.repeat(64) });
    const bad = await runCli(['verify', path, '--report', other], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /INVALID: the report .*other\.json quotes head 0{64}, the receipt ends at/);
  });

  it('with --report, a report whose ledger or status was edited while it quotes the head is invalid, naming the entry', async () => {
    const r = receipt();
    const path = write('r2.json', r);
    const edited = reportOf(r);
    edited.mutations = ledger.map((m, i) => (i === 2 ? { ...m, answer: 'already-absent' as const } : m));
    const changed = await runCli(['verify', path, '--report', write('edited.json', edited)], { env });
    assert.equal(changed.code, 1, changed.stdout);
    assert.match(
      changed.stdout,
      /INVALID at entry 2 \(item ep-c, target dam-c\): the report .*edited\.json has another ledger entry 2 than the receipt$/m,
    );

    const shortened = { ...reportOf(r), mutations: ledger.slice(0, 2) };
    const short = await runCli(['verify', path, '--report', write('short-report.json', shortened)], { env });
    assert.equal(short.code, 1, short.stdout);
    assert.match(
      short.stdout,
      /INVALID at entry 2 \(item ep-c, target dam-c\): .* lists 2 ledger entries, the receipt 3$/m,
    );

    const status = await runCli(
      ['verify', path, '--report', write('status.json', { ...reportOf(r), status: 'failed' })],
      {
        env,
      },
    );
    assert.equal(status.code, 1, status.stdout);
    assert.match(
      status.stdout,
      /INVALID: the report .*status\.json says status "failed", the receipt "completed"$/m,
    );
  });

  it('a file that is not JSON, or missing, is bad input: exit 2, naming where', async () => {
    const result = await runCli(['verify', write('bad.json', '{ nope')], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^.*bad\.json:1:3: invalid JSON: unexpected "n", expected a value$/m);
    const missing = await runCli(['verify', join(dir, 'missing.json')], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^cannot read .*missing\.json: ENOENT$/m);
  });
});
