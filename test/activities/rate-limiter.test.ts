import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createRateLimiter } from '../../activities/rate-limiter.js';

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

  it('spaces starts evenly so that no second sees more than maxRps of them', async () => {
    const limiter = createRateLimiter({ concurrency: 10, maxRps: 20 });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, () => limiter.run(() => Promise.resolve(void starts.push(Date.now())))),
    );
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    assert.ok(
      gaps.every((gap) => gap >= 45),
      `gaps ${gaps.join(',')}`,
    );
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

  it('setMaxRps(0) holds every start until a later call raises the rate', async () => {
    const limiter = createRateLimiter({ concurrency: 5, maxRps: 10 });
    limiter.setMaxRps(0);
    let ran = false;
    const held = limiter.run(() => Promise.resolve(void (ran = true)));
    await delay(100);
    assert.equal(ran, false);
    assert.deepEqual(limiter.takeDemand(), { started: 0, saturated: true });
    limiter.setMaxRps(50);
    await held;
    assert.equal(ran, true);
    assert.equal(limiter.maxRps, 50);
  });

  it('takeDemand counts the starts and says whether some waited for the rate, then resets', async () => {
    const limiter = createRateLimiter({ concurrency: 5, maxRps: 1000 });
    await limiter.run(() => Promise.resolve());
    assert.deepEqual(limiter.takeDemand(), { started: 1, saturated: false });
    limiter.setMaxRps(20);
    await Promise.all([1, 2, 3].map(() => limiter.run(() => Promise.resolve())));
    assert.deepEqual(limiter.takeDemand(), { started: 3, saturated: true });
    assert.deepEqual(limiter.takeDemand(), { started: 0, saturated: false });
  });

  it('pauseFor holds every later start back', async () => {
    const limiter = createRateLimiter({ concurrency: 5 });
    limiter.pauseFor(150);
    const started = Date.now();
    await limiter.run(() => Promise.resolve());
    assert.ok(Date.now() - started >= 140);
  });
});
