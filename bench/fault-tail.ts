/**
 * An estimate, not a measurement: how long the slowest of many items takes when each makes some calls in
 * series and every try may fail as the bench's heavy faults do (5% 429 with a 1 s `Retry-After`, 10% 5xx,
 * 2% dropped connections), retried as `activities/http-client.ts` retries one call (full-jitter backoff
 * from `DEFAULT_CALL_RETRY.baseMs`, doubling). It tells how much of a run under faults is the wait for
 * the unluckiest call, which no engine can avoid, and what stages that each wait for all their items cost.
 *
 *   node --import tsx bench/fault-tail.ts [--draws=2000] [--latency-ms=6] [--base-ms=100] [--max-ms=2000]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CALL_RETRY } from '../activities/http-client.js';
import { Prng } from '../sandbox/prng.js';
import { HEAVY_FAULTS, waitAfterFailedTry } from './faults.js';
import { quantile } from './stats.js';

const { values } = parseArgs({
  options: {
    draws: { type: 'string', default: '2000' },
    'latency-ms': { type: 'string', default: '6' },
    'base-ms': { type: 'string', default: String(DEFAULT_CALL_RETRY.baseMs) },
    'max-ms': { type: 'string', default: String(DEFAULT_CALL_RETRY.maxMs) },
  },
});
const draws = Number(values.draws);
const latency = Number(values['latency-ms']) / 1000;
const baseMs = Number(values['base-ms']);
const maxMs = Number(values['max-ms']);
for (const [name, value] of [
  ['--draws', draws],
  ['--latency-ms', latency],
  ['--base-ms', baseMs],
  ['--max-ms', maxMs],
] as const) {
  if (!(value > 0) || !Number.isFinite(value)) {
    console.error(`${name} must be a positive number`);
    process.exit(2);
  }
}

// Seeded, so that the figures are the same on every run.
const prng = new Prng(42);
const random = (): number => prng.next();

/** Seconds one call takes until a try succeeds. */
function call(): number {
  let seconds = 0;
  for (let attempt = 1; ; attempt++) {
    seconds += latency;
    const pick = random();
    // Drawn on every try, failed or not, as this estimate always has: its recorded figures stay the same.
    const jitter = random();
    if (pick >= HEAVY_FAULTS.failed) return seconds;
    seconds += waitAfterFailedTry(pick, jitter, attempt, baseMs, maxMs);
  }
}

const inSeries = (calls: number) => Array.from({ length: calls }, call).reduce((a, b) => a + b, 0);
const slowest = (items: number, f: () => number) =>
  Array.from({ length: items }, f).reduce((a, b) => Math.max(a, b), 0);

function summary(samples: number[]): string {
  return `median ${quantile(samples, 0.5).toFixed(2)} s, 90th percentile ${quantile(samples, 0.9).toFixed(2)} s`;
}

const estimates: Array<[string, () => number]> = [
  ['500 items, 1 call each (a discovery)', () => slowest(500, () => inSeries(1))],
  ['500 items, 6 calls each in series', () => slowest(500, () => inSeries(6))],
  ['500 items, 7 calls each in series', () => slowest(500, () => inSeries(7))],
  // The fewest calls an item makes in series in the mission's order (its references, its indexed assets,
  // its asset, its library, its DAM asset, less one): what faults cost any engine, with no stage at all.
  ['1,000 items, 4 calls each in series', () => slowest(1000, () => inSeries(4))],
  ['1,000 items, 6 calls each in series', () => slowest(1000, () => inSeries(6))],
  [
    // What the bench's 1,000 items do today: a discovery that waits for all, then the items, which start
    // over 2.4 s as the request slots allow; 0.7 s for the workflows around them.
    'a discovery of 500, then 500 items of 6 calls starting over 2.4 s, + 0.7 s',
    () => 0.7 + slowest(500, () => random() + call()) + slowest(500, () => random() * 2.4 + inSeries(6)),
  ],
  [
    'no stage waiting for all: 1,000 items of 7 calls starting over 3.4 s, + 0.7 s',
    () => 0.7 + slowest(1000, () => random() * 3.4 + inSeries(7)),
  ],
];
console.log(
  `${draws} draws each, ${values['latency-ms']} ms a try, backoff from ${values['base-ms']} ms up to ${values['max-ms']} ms`,
);
for (const [name, estimate] of estimates) {
  console.log(`${name}: ${summary(Array.from({ length: draws }, estimate))}`);
}
