import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Io } from '../../client/command.js';
import { settledInPhase } from '../../client/pending-work.js';
import { planSourceOf, readPlanFile } from '../../client/plan-file.js';
import { ProgressRenderer, progressLine } from '../../client/progress-view.js';
import { formatReport, summaryLines } from '../../client/report-format.js';
import { exitCodeOf } from '../../client/run-watch.js';
import { Plan, type Report } from '../../plan/index.js';
import type { Progress } from '../../workflows/index.js';
import { tempDir } from '../helpers/temp-dir.js';

function fakeIo(isTty: boolean): Io & { drawn: string; lines: string[] } {
  const io = {
    drawn: '',
    lines: [] as string[],
    out: (text: string) => void io.lines.push(text),
    err: (text: string) => void io.lines.push(text),
    draw: (text: string) => void (io.drawn += text),
    isTty,
    env: {},
  };
  return io;
}

function progress(itemsDone: number, extra: Partial<Progress> = {}): Progress {
  const count = { done: itemsDone, failed: 0, remaining: 10 - itemsDone };
  return {
    plan: 'p',
    status: 'running',
    phase: 'delete-assets',
    items: 10,
    itemsDone,
    itemsFailed: 0,
    systems: { twelvelabs: count, uplynk: count, entermedia: count },
    chunks: { total: 2, done: 1, running: 1 },
    runningChunks: [],
    ...extra,
  };
}

const report: Report = {
  workflowId: 'wf-1',
  plan: 'takedown',
  status: 'completed',
  summary: { items: 2, deleted: 1, alreadyAbsent: 0, skipped: 0, partial: 0, failed: 1 },
  mutations: [],
  rows: [
    {
      item: 'ep-1',
      system: 'twelvelabs',
      outcome: 'deleted',
      step: 'delete-asset',
      detail: 'deleted',
      at: '2026-01-01T00:00:00Z',
    },
    {
      item: 'ep-2',
      system: 'entermedia',
      outcome: 'failed',
      step: 'delete-dam-asset',
      detail: 'EnterMediaDB said "no", twice | line\nbreak',
      at: '2026-01-01T00:00:01Z',
    },
  ],
};

describe('what the command line prints', () => {
  it('on a TTY the progress bar is redrawn in place, and finishing leaves a fresh line', () => {
    const io = fakeIo(true);
    const renderer = new ProgressRenderer(io);
    renderer.update(progress(3));
    renderer.update(progress(3));
    renderer.update(
      progress(10, { status: 'completed', phase: 'done', chunks: { total: 2, done: 2, running: 0 } }),
    );
    renderer.finish();
    assert.equal(
      io.drawn,
      '\r\u001b[2K[#######-----------------]  30% 3/10 items · phase delete-assets · chunks 1/2 (1 running)' +
        '\r\u001b[2K[########################] 100% 10/10 items · completed · chunks 2/2\n',
    );
    assert.deepEqual(io.lines, []);
  });

  it('off a TTY each change is one plain line, and an unchanged progress prints nothing', () => {
    const io = fakeIo(false);
    const renderer = new ProgressRenderer(io);
    renderer.update(progress(0, { status: 'awaiting-approval' }));
    renderer.update(progress(0, { status: 'awaiting-approval' }));
    renderer.update(progress(5, { itemsFailed: 1 }));
    renderer.update(progress(6, { chunks: { total: 12, done: 3, running: 6, waiting: 2 } }));
    assert.equal(io.drawn, '');
    assert.deepEqual(io.lines, [
      '[------------------------]   0% 0/10 items · awaiting-approval · chunks 1/2 (1 running)',
      '[############------------]  50% 5/10 items · 1 failed · phase delete-assets · chunks 1/2 (1 running)',
      '[##############----------]  60% 6/10 items · phase delete-assets · chunks 3/12 (6 running, 2 waiting on their last calls)',
    ]);
    assert.equal(
      progressLine(progress(0, { items: 0, chunks: { total: 1, done: 0, running: 1 } })),
      '[------------------------]   0% 0/0 items · phase delete-assets',
    );
  });

  it('a run that deletes shows its pace and the time left once 5 s of progress are seen, from the last 30 s', () => {
    const io = fakeIo(false);
    let now = 0;
    const renderer = new ProgressRenderer(io, () => now);
    const at = (seconds: number, done: number, extra: Partial<Progress> = {}) => {
      now = seconds * 1000;
      renderer.update(progress(done, { items: 10_000, chunks: { total: 1, done: 0, running: 1 }, ...extra }));
    };
    at(0, 0);
    at(2, 100);
    at(6, 600);
    // Time passes, the count does not move: nothing new is printed.
    at(9, 600);
    at(40, 3_600);
    // 30 s later at a slower pace: the pace follows the last 30 s, not the whole run.
    at(70, 4_800);
    at(100, 5_400);
    at(130, 10_000);
    at(131, 10_000, { status: 'completed', phase: 'done' });
    assert.deepEqual(
      io.lines.map((l) => l.split(' · ').slice(1).join(' · ')),
      [
        'phase delete-assets',
        'phase delete-assets',
        // 600 items in 6 s; 9,400 left.
        'phase delete-assets · 100 items/s · about 2 min left',
        // From 6 s to 40 s: 3,000 items in 34 s.
        'phase delete-assets · 88 items/s · about 2 min left',
        'phase delete-assets · 40 items/s · about 3 min left',
        'phase delete-assets · 20 items/s · about 4 min left',
        // Every item settled: the pace, nothing left.
        'phase delete-assets · 153 items/s',
        'completed',
      ],
    );
  });

  it('a dry run, a run awaiting approval and a stopped one show no pace', () => {
    const io = fakeIo(false);
    let now = 0;
    const renderer = new ProgressRenderer(io, () => now);
    for (const [seconds, done, status] of [
      [0, 0, 'awaiting-approval'],
      [10, 0, 'awaiting-approval'],
      [20, 5, 'running'],
      [22, 6, 'running'],
      [40, 8, 'stopping'],
    ] as const) {
      now = seconds * 1000;
      renderer.update(progress(done, { status, chunks: { total: 1, done: 0, running: 1 } }));
    }
    now = 60_000;
    renderer.update(progress(10, { dryRun: true, status: 'discovering' }));
    assert.ok(
      io.lines.every((l) => !l.includes('items/s')),
      io.lines.join('\n'),
    );
  });

  it('the bar never goes back, even when one poll sees fewer items settled than the one before', () => {
    const io = fakeIo(false);
    const renderer = new ProgressRenderer(io);
    renderer.update(progress(6));
    renderer.update(progress(4));
    renderer.update(progress(7));
    assert.deepEqual(
      io.lines.map((l) => /\d+\/10 items/.exec(l)?.[0]),
      ['6/10 items', '7/10 items'],
    );
  });

  it('a dry run says what discovery found, never a bar at 0% with "completed"', () => {
    const dry = (extra: Partial<Progress>) =>
      progressLine(
        progress(0, { items: 5, dryRun: true, chunks: { total: 1, done: 0, running: 1 }, ...extra }),
      );
    assert.equal(dry({ status: 'discovering', phase: 'discover' }), 'dry run: discovering 5 items');
    assert.equal(dry({ status: 'completed', phase: 'done' }), 'dry run: 5 items discovered');
    assert.equal(
      dry({ status: 'completed', phase: 'done', itemsFailed: 1 }),
      'dry run: 5 items discovered · 1 not discovered',
    );
  });

  it('a run stopped at its failure threshold says "failed" once: the count of items, then "stopped"', () => {
    const line = progressLine(progress(10, { status: 'failed', phase: 'done', itemsFailed: 8 }));
    assert.equal(
      line,
      '[########################] 100% 10/10 items · 8 failed · stopped · chunks 1/2 (1 running)',
    );
    assert.equal(line.match(/failed/g)?.length, 1);
  });

  it('on a narrow TTY the line is cut to the terminal width, never wrapped', () => {
    const io = Object.assign(fakeIo(true), { columns: () => 40 });
    const renderer = new ProgressRenderer(io);
    renderer.update(progress(3));
    const drawn = io.drawn.replace('\r\u001b[2K', '');
    assert.equal(drawn, '[#######-----------------]  30% 3/10 i…');
    assert.equal([...drawn].length, 39);
    // Off a TTY (a log file), nothing is cut.
    assert.equal(progressLine(progress(3)).length > 40, true);
  });

  it('items settle inside a phase as its heartbeat tells them: failed ones at once, the others when all their units are done', () => {
    const cursor = {
      done: ['asset-a', 'asset-b', 'lib-1'],
      entries: [{ item: 'a' }, { item: 'b' }, { item: 'c', answer: 'failed' }],
      failures: [{ item: 'd' }],
    };
    // a: its one unit is done; b: one of its two libraries only; c and d failed; e has more calls later.
    const settling = { a: ['asset-a'], b: ['lib-1', 'lib-2'], c: ['asset-c'] };
    assert.deepEqual(settledInPhase(cursor, settling), { settled: 3, failed: 2 });
    assert.deepEqual(settledInPhase({ ...cursor, done: [...cursor.done, 'lib-2'] }, settling), {
      settled: 4,
      failed: 2,
    });
    // Older workers tell no `settling`: only failures count until the phase ends.
    assert.deepEqual(settledInPhase(cursor), { settled: 2, failed: 2 });
    assert.deepEqual(settledInPhase(undefined, settling), { settled: 0, failed: 0 });
    assert.deepEqual(settledInPhase({ v: 1 }, settling), { settled: 0, failed: 0 });
  });

  it('the summary table counts rows by system and items by outcome, and lists failures with their reason', () => {
    assert.deepEqual(summaryLines(report), [
      'plan takedown: completed, 2 items',
      '',
      '            deleted  already-absent  partial  skipped  failed',
      'twelvelabs        1               0        0        0       0',
      'uplynk            0               0        0        0       0',
      'entermedia        0               0        0        0       1',
      'items             1               0        0        0       1',
      '',
      'failed:',
      '  ep-2 entermedia delete-dam-asset: EnterMediaDB said "no", twice | line break',
    ]);
  });

  it('CSV quotes fields with commas, quotes and line breaks; Markdown escapes pipes', () => {
    const csv = formatReport(report, 'csv');
    assert.equal(
      csv,
      'item,system,outcome,step,detail,at\r\n' +
        'ep-1,twelvelabs,deleted,delete-asset,deleted,2026-01-01T00:00:00Z\r\n' +
        'ep-2,entermedia,failed,delete-dam-asset,"EnterMediaDB said ""no"", twice | line\nbreak",2026-01-01T00:00:01Z\r\n',
    );
    const md = formatReport(report, 'md');
    assert.match(md, /^- status: \*\*completed\*\*$/m);
    assert.match(md, /^\| entermedia \| 0 \| 0 \| 0 \| 0 \| 1 \|$/m);
    assert.match(
      md,
      /^\| ep-2 \| entermedia \| failed \| delete-dam-asset \| EnterMediaDB said "no", twice \\\| line<br>break \| 2026-01-01T00:00:01Z \|$/m,
    );
    assert.deepEqual(JSON.parse(formatReport(report, 'json')), report);
  });

  it('the exit code is 0 without failures, 1 with any, 3 when cancelled', () => {
    assert.equal(exitCodeOf({ status: 'completed', summary: { ...report.summary, failed: 0 } }), 0);
    assert.equal(exitCodeOf({ status: 'completed', summary: report.summary }), 1);
    assert.equal(exitCodeOf({ status: 'failed', summary: { ...report.summary, failed: 0 } }), 1);
    assert.equal(exitCodeOf({ status: 'cancelled', summary: report.summary }), 3);
  });

  it('a plan of more than 1,000 items travels by reference to a JSON file with its SHA-256, a small one inline', async () => {
    const dir = tempDir('bulk-delete-plan-file-');
    const csv = join(dir, 'big.csv');
    const rows = Array.from({ length: 1001 }, (_, i) => `ep-${i},${i + 1}`);
    writeFileSync(csv, ['id,entermedia.assetId', ...rows].join('\n'));
    const file = readPlanFile(csv, { 'max-items': '2000' });
    assert.equal(file.plan.items.length, 1001);
    const source = await planSourceOf(file);
    assert.ok('planRef' in source);
    const path = fileURLToPath(source.planRef.uri);
    const bytes = readFileSync(path);
    assert.equal(source.planRef.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(source.planRef.items, 1001);
    assert.equal(source.planRef.name, 'big');
    assert.equal(Plan.parse(JSON.parse(bytes.toString('utf8'))).options.maxItems, 2000);

    const small = join(dir, 'small.json');
    writeFileSync(
      small,
      JSON.stringify({ name: 'small', items: [{ id: 'a', entermedia: { assetId: '1' } }] }),
    );
    const inline = await planSourceOf(readPlanFile(small));
    assert.ok('plan' in inline);
    assert.equal(inline.plan.name, 'small');
  });
});
