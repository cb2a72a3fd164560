import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it, mock } from 'node:test';
import { RATE_LEARNING, createRateLimiter, paceOf } from '../../activities/rate-limiter.js';

describe('the per-system rate limiter', () => {
  it('never runs more than its concurrency at once', async () => {
    const limiter = createRateLimiter({ concurrency: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await delay(10);
          running--;
        }),
      ),
    );
    assert.equal(peak, 3);
  });

  it('spaces starts evenly so that no calendar second sees more than maxRps of them', async () => {
    const limiter = createRateLimiter({ concurrency: 10, maxRps: 20 });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 30 }, () => limiter.run(() => Promise.resolve(void starts.push(Date.now())))),
    );
    const perSecond = new Map<number, number>();
    for (const t of starts)
      perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    assert.ok(
      [...perSecond.values()].every((n) => n <= 20),
      `per second ${[...perSecond.values()].join(',')}`,
    );
    const { interval, tolerance } = paceOf(20);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    assert.ok(
      gaps.every((gap) => gap >= interval - tolerance - 1),
      `gaps ${gaps.join(',')}`,
    );
  });

  it('the pace keeps every calendar second within maxRps less one, late timers included', () => {
    for (const maxRps of [1, 1.5, 2, 2.5, 3, 10, 33.3, 49, 50, 99, 100, 1000]) {
      const { interval, tolerance } = paceOf(maxRps);
      // A generic cell rate algorithm lets floor((window + tolerance) / interval) + 1 starts into a window.
      const most = Math.floor((999.999 + tolerance) / interval) + 1;
      assert.ok(most <= Math.max(1, Math.floor(maxRps) - (maxRps >= 2 ? 1 : 0)), `${maxRps}: ${most}`);
    }
  });

  it('waiting calls get their slot by rank, lowest first, then in arrival order; unranked ones last', async () => {
    const limiter = createRateLimiter({ concurrency: 1 });
    const order: string[] = [];
    let release!: () => void;
    const holding = limiter.run(() => new Promise<void>((r) => (release = r)));
    const calls = (
      [
        ['late unit', 7],
        ['no unit', undefined],
        ['early unit', 2],
        ['early unit, second call', 2],
        ['middle unit', 5],
      ] as const
    ).map(([name, rank]) => limiter.run(() => Promise.resolve(void order.push(name)), undefined, rank));
    await delay(5);
    release();
    await Promise.all([holding, ...calls]);
    assert.deepEqual(order, ['early unit', 'early unit, second call', 'middle unit', 'late unit', 'no unit']);
  });

  it('a caller waiting for a slot leaves the queue at once when its signal aborts, with the signal’s reason', async () => {
    const limiter = createRateLimiter({ concurrency: 1 });
    const hold = limiter.run(() => delay(200));
    const controller = new AbortController();
    const waiting = limiter.run(() => Promise.resolve('ran'), controller.signal);
    const reason = new Error('cancelled by the test');
    setTimeout(() => controller.abort(reason), 20);
    const started = Date.now();
    await assert.rejects(waiting, (error) => error === reason);
    assert.ok(Date.now() - started < 150);
    await hold;
    // The slot it never took is free for the next caller.
    assert.equal(await limiter.run(() => Promise.resolve('next')), 'next');
  });

  it('a 429 halves the calls in flight, and they grow back to the concurrency while calls queue', async () => {
    const limiter = createRateLimiter({ concurrency: 8 });
    let running = 0;
    // How many ran at once when each call started, in start order.
    const atStart: number[] = [];
    const call = () =>
      limiter.run(async () => {
        atStart.push(++running);
        await delay(2);
        running--;
      });
    // 8 in flight, then a 429: the window halves to 4, and the 8 calls already sent finish.
    const first = Array.from({ length: 8 }, call);
    limiter.backOff();
    assert.equal(limiter.allowed, 4);
    // 200 more queue behind them: about 4 at once at first, then more as completions widen the window by
    // 1/window each (4 to 8 takes 4 + 5 + 6 + 7 = 22 completions, the 8 sent before the 429 included).
    await Promise.all([...first, ...Array.from({ length: 200 }, call)]);
    assert.equal(limiter.allowed, 8);
    const queued = atStart.slice(8);
    assert.ok(
      queued.slice(0, 10).every((n) => n < 8),
      `right after the 429: ${queued.slice(0, 10).join(',')}`,
    );
    const last = queued.slice(-100);
    assert.ok(
      last.filter((n) => n === 8).length >= 50,
      `8 at once again once the window grew back, got at each start: ${last.join(',')}`,
    );
  });

  it('setMaxRps(0) holds every start until a later call raises the rate', async () => {
    const limiter = createRateLimiter({ concurrency: 5, maxRps: 10 });
    limiter.setMaxRps(0);
    let ran = false;
    const held = limiter.run(() => Promise.resolve(void (ran = true)));
    await delay(100);
    assert.equal(ran, false);
    const demand = limiter.takeDemand();
    assert.equal(demand.started, 0);
    assert.ok(demand.heldBackMs > 0, 'held back by the rate of 0');
    limiter.setMaxRps(50);
    await held;
    assert.equal(ran, true);
    assert.equal(limiter.maxRps, 50);
  });

  it('takeDemand counts the starts and how long the rate held them back, then resets', async () => {
    const limiter = createRateLimiter({ concurrency: 5, maxRps: 1000 });
    await limiter.run(() => Promise.resolve());
    assert.deepEqual(limiter.takeDemand(), { started: 1, heldBackMs: 0 });
    limiter.setMaxRps(20);
    await Promise.all([1, 2, 3].map(() => limiter.run(() => Promise.resolve())));
    const demand = limiter.takeDemand();
    assert.equal(demand.started, 3);
    assert.ok(demand.heldBackMs > 0);
    assert.deepEqual(limiter.takeDemand(), { started: 0, heldBackMs: 0 });
  });

  describe("learns the vendor's rate from its 429s", () => {
    /** One calendar second of answers: `ok` that got through, `tooMany` 429s; the clock then moves on. */
    const second = (limiter: ReturnType<typeof createRateLimiter>, ok: number, tooMany: number) => {
      for (let i = 0; i < ok + tooMany; i++) limiter.answered(i < tooMany);
      mock.timers.tick(1000);
    };
    const learnt = (limiter: ReturnType<typeof createRateLimiter>) =>
      /at most (\d+) requests\/s \(learnt from its 429s\)/.exec(limiter.describe())?.[1];

    it('a second mostly refused paces starts at 90% of what got through; scattered 429s do not', (t) => {
      mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
      t.after(() => mock.timers.reset());
      const limiter = createRateLimiter({ concurrency: 32 });
      // 5% of 429s, as random faults give: no pace.
      second(limiter, 190, 10);
      second(limiter, 190, 10);
      assert.equal(learnt(limiter), undefined, limiter.describe());
      assert.equal(limiter.saturated(), false);
      // 100 got through, 900 refused: the account allows about 100 a second.
      second(limiter, 100, 900);
      limiter.answered(false); // the next second's first answer tells the last one
      assert.equal(learnt(limiter), '90');
      assert.equal(limiter.saturated(), true, 'starts now wait for their pace');
    });

    it('calm seconds raise the pace by 5% and, enough of them in a row, forget it; a configured rate stays a ceiling', (t) => {
      mock.timers.enable({ apis: ['Date'], now: 2_000_000 });
      t.after(() => mock.timers.reset());
      const limiter = createRateLimiter({ concurrency: 32 });
      second(limiter, 100, 900);
      second(limiter, 80, 0);
      limiter.answered(false);
      assert.equal(learnt(limiter), String(Math.round(90 * (1 + RATE_LEARNING.growth))));
      for (let i = 0; i < RATE_LEARNING.forgetAfterCalm; i++) second(limiter, 80, 2);
      limiter.answered(false);
      assert.equal(learnt(limiter), undefined, limiter.describe());
      assert.equal(limiter.saturated(), false);

      const capped = createRateLimiter({ concurrency: 32, maxRps: 50 });
      second(capped, 200, 800);
      capped.answered(false);
      assert.match(capped.describe(), /at most 50 requests\/s$/);
      second(capped, 19, 80); // with the answer above, 20 got through
      capped.answered(false);
      assert.match(capped.describe(), /at most 18 requests\/s \(learnt from its 429s\)/);
    });

    it('a learnt pace keeps the starts of a calendar second under it', async (t) => {
      const limiter = createRateLimiter({ concurrency: 8 });
      // Teach it 20 a second: a whole second's answers, then one in the next.
      const now = Date.now();
      await delay(1000 - (now % 1000) + 5);
      for (let i = 0; i < 200; i++) limiter.answered(i >= 22);
      await delay(1000);
      limiter.answered(false);
      assert.match(limiter.describe(), /at most 20 requests\/s/);
      const starts: number[] = [];
      await Promise.all(
        Array.from({ length: 30 }, () => limiter.run(() => Promise.resolve(void starts.push(Date.now())))),
      );
      t.diagnostic(`30 starts in ${starts[starts.length - 1]! - starts[0]!} ms`);
      const perSecond = new Map<number, number>();
      for (const at of starts)
        perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
      assert.ok(
        [...perSecond.values()].every((n) => n <= 20),
        `per second ${[...perSecond.values()].join(',')}`,
      );
    });
  });
});
