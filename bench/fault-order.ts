/**
 * An estimate, not a measurement: does the order in which queued calls get a request slot change how
 * long the slowest item takes under the bench's heavy faults? A small event simulation: N items, each
 * a chain of k calls in series; a single server stands for the worker's main thread (each try takes
 * 1/R s of it, then the vendor's latency); at most P items in flight; every try fails as the heavy
 * faults do (5% 429 with a 1 s `Retry-After`, 10% 5xx and 2% drops), retried as
 * `activities/http-client.ts` retries one call (full-jitter backoff from `DEFAULT_CALL_RETRY.baseMs`).
 *
 * Orders compared, for the calls waiting for the server:
 * - `item`: the item that started first goes first (the engine's `rank`: items finish one by one);
 * - `stage`: the item with the fewest calls done goes first (every item moves a step, then the next);
 * - `arrival`: first come, first served.
 *
 *   node --import tsx bench/fault-order.ts [--items=1000] [--calls=5] [--rate=2400] [--in-flight=256] [--draws=200]
 *
 * The defaults are the bench's 1,000 items: 5 calls of an item's own in series (discovery's read, the
 * listing of indexed assets, their delete, the asset's forced delete, the DAM delete), and a rate of
 * tries that makes the no-fault chain stage take about what `deleteItems` takes (2.1 s).
 */
import { parseArgs } from 'node:util';
import { WaiterQueue } from '../activities/waiter-queue.js';
import { Prng } from '../sandbox/prng.js';
import { HEAVY_FAULTS, waitAfterFailedTry } from './faults.js';
import { median, quantile } from './stats.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000' },
    calls: { type: 'string', default: '5' },
    rate: { type: 'string', default: '2400' },
    'in-flight': { type: 'string', default: '256' },
    draws: { type: 'string', default: '200' },
    'latency-ms': { type: 'string', default: '6' },
  },
});
const settings = {
  items: Number(values.items),
  calls: Number(values.calls),
  rate: Number(values.rate),
  inFlight: Number(values['in-flight']),
  draws: Number(values.draws),
  latency: Number(values['latency-ms']) / 1000,
};
for (const [name, value] of Object.entries(settings)) {
  if (!(value > 0) || !Number.isFinite(value)) {
    console.error(`--${name} must be a positive number, got ${String(value)}`);
    process.exit(2);
  }
}

// Seeded, so that the figures are the same on every run.
const prng = new Prng(7);
const random = (): number => prng.next();

type Order = 'item' | 'stage' | 'arrival';
interface Item {
  index: number;
  done: number;
  attempt: number;
}

/** Seconds until the last item's last call is answered. */
function simulate(order: Order, faults: boolean): number {
  const { items, calls, rate, inFlight, latency } = settings;
  // Ranked by time, in the order they were scheduled among events of the same time.
  const events = new WaiterQueue<{ rank: number; run: () => void }>();
  let arrivals = 0;
  const priority = (item: Item): number =>
    order === 'item' ? item.index : order === 'stage' ? item.done * items + item.index : arrivals++;
  const waiting = new WaiterQueue<{ rank: number; item: Item }>();
  let now = 0;
  let busy = false;
  let started = 0;
  let end = 0;
  const serve = () => {
    if (busy) return;
    const next = waiting.shift();
    if (!next) return;
    busy = true;
    events.push({
      rank: now + 1 / rate,
      run: () => {
        busy = false;
        events.push({ rank: now + latency, run: () => answered(next.item) });
        serve();
      },
    });
  };
  const queue = (item: Item) => {
    waiting.push({ rank: priority(item), item });
    serve();
  };
  const start = () => {
    if (started < items) queue({ index: started++, done: 0, attempt: 1 });
  };
  const answered = (item: Item) => {
    const pick = random();
    if (faults && pick < HEAVY_FAULTS.failed) {
      const wait = waitAfterFailedTry(pick, random(), item.attempt);
      item.attempt++;
      events.push({ rank: now + wait, run: () => queue(item) });
      return;
    }
    item.attempt = 1;
    item.done++;
    if (item.done < calls) return queue(item);
    end = now;
    start();
  };
  for (let i = 0; i < Math.min(inFlight, items); i++) start();
  for (let event = events.shift(); event; event = events.shift()) {
    now = event.rank;
    event.run();
  }
  return end;
}

console.log(
  `${settings.items} items of ${settings.calls} calls in series, ${settings.rate} tries/s, ` +
    `${settings.inFlight} in flight, ${settings.draws} draws under heavy faults`,
);
for (const order of ['item', 'stage', 'arrival'] as const) {
  const none = simulate(order, false);
  const heavy = Array.from({ length: settings.draws }, () => simulate(order, true));
  const mid = median(heavy);
  console.log(
    `${order.padEnd(7)} no faults ${none.toFixed(2)} s; heavy: median ${mid.toFixed(2)} s, ` +
      `90th percentile ${quantile(heavy, 0.9).toFixed(2)} s; ratio ${(mid / none).toFixed(2)}`,
  );
}
