/**
 * The acceptance line "under heavy faults, in at most 2× the no-fault time of the same run", measured the
 * only way it means something on a shared machine: runs without faults and under heavy faults alternate
 * (`bench/contenders.ts`, bulk-delete alone, each run on a catalogue seeded afresh), and the ratio is the
 * heavy runs' median over the no-fault runs' median; `added` is the one less the other, what the faults
 * add in seconds. A single heavy run at 1,000 items varies by half with the longest run of faults one call
 * draws; one pair tells nothing.
 *
 *   node --import tsx bench/fault-ratio.ts [items=1000] [--pairs=5] [--entity-ready-ms=50]
 *
 * Prints each run as it ends (and why, if it did not delete every item), then one JSON line and a table.
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';
import { median } from './stats.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pairs: { type: 'string', default: '5' },
    'entity-ready-ms': { type: 'string', default: '50' },
  },
});
const items = Number(positionals[0] ?? 1000);
const pairs = Number(values.pairs);
for (const [name, value] of [
  ['items', items],
  ['--pairs', pairs],
] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a whole number of at least 1, got ${String(value)}`);
    process.exit(2);
  }
}

interface Run {
  faults: 'none' | 'heavy';
  seconds: number;
  callsPerItem: number;
  failed: number;
  deleted: number;
}

/** One bulk-delete run of bench/contenders.ts; answers its JSON row. */
function runOnce(faults: Run['faults']): Promise<Run> {
  return new Promise((resolve, reject) => {
    const argv = [
      '--import',
      'tsx',
      'bench/contenders.ts',
      String(items),
      '--contenders=bulk-delete',
      `--faults=${faults}`,
      `--entity-ready-ms=${values['entity-ready-ms']}`,
    ];
    const proc = spawn(process.execPath, argv, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    // The worker's start-up lines: shown only when the run fails.
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"contender"'));
      if (code !== 0 || !line) {
        process.stderr.write(err);
        reject(new Error(`bench/contenders.ts --faults=${faults} exited with ${String(code)}`));
        return;
      }
      const row = JSON.parse(line) as {
        seconds: number;
        callsPerItem: number;
        summary: { failed: number; deleted: number };
      };
      resolve({
        faults,
        seconds: row.seconds,
        callsPerItem: row.callsPerItem,
        failed: row.summary.failed,
        deleted: row.summary.deleted,
      });
    });
  });
}

const started = new Date();
const runs: Run[] = [];
for (let pair = 1; pair <= pairs; pair++) {
  // Which goes first alternates too, so that a slow stretch of the machine does not favour one kind.
  const order: Array<Run['faults']> = pair % 2 ? ['none', 'heavy'] : ['heavy', 'none'];
  for (const faults of order) {
    const run = await runOnce(faults);
    runs.push(run);
    const whole =
      run.failed === 0 && run.deleted === items ? '' : ` (${run.deleted} deleted, ${run.failed} failed)`;
    console.error(`pair ${pair}: ${faults} ${run.seconds.toFixed(2)} s${whole}`);
  }
}
const secondsOf = (faults: Run['faults']) => runs.filter((r) => r.faults === faults).map((r) => r.seconds);
const none = median(secondsOf('none'));
const heavy = median(secondsOf('heavy'));
const ratio = Math.round((heavy / none) * 100) / 100;
// What the faults add to the run, whatever its length: the line's other reading, in seconds.
const added = Math.round((heavy - none) * 100) / 100;
const allDeleted = runs.every((r) => r.failed === 0 && r.deleted === items);
const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(
  JSON.stringify({
    date: started.toISOString(),
    machine,
    items,
    pairs,
    none,
    heavy,
    ratio,
    added,
    allDeleted,
    runs,
  }),
);
console.log(`\n${started.toISOString()} · ${machine}\n`);
console.log(
  '| items | pairs | no faults, median (range) | heavy faults, median (range) | ratio | added | all deleted, 0 failed |',
);
console.log('|---:|---:|---|---|---:|---:|---|');
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)} to ${Math.max(...xs).toFixed(2)}`;
console.log(
  `| ${items} | ${pairs} | ${none.toFixed(2)} s (${range(secondsOf('none'))}) | ${heavy.toFixed(2)} s (${range(secondsOf('heavy'))}) | ${ratio}× | ${added.toFixed(2)} s | ${allDeleted ? 'yes' : 'no'} |`,
);
