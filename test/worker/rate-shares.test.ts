/**
 * Shared rate limits on a real Temporal dev server: the coordinator workflow answering lease requests,
 * and the workers' lease loops moving real limiters. Behaviour only, never how long anything took.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createRateLimiter } from '../../activities/rate-limiter.js';
import { RENEW_SOON_MS, type Holding, type ShareRequest } from '../../plan/rate-shares.js';
import { rateSharesWorkflow } from '../../workflows/rate-shares.workflow.js';
import {
  nextRenewalDelay,
  requestShares,
  startRateShares,
  type RateShares,
} from '../../worker/rate-shares.js';
import { startTestServer, uniqueTaskQueue, withWorker } from '../helpers/temporal.js';

const LIMIT = 100;

function ask(worker: string, holding: Holding, seenAt?: number, saturated = true): ShareRequest {
  return {
    worker,
    holding,
    seenAt,
    workerCount: 2,
    systems: { twelvelabs: { limit: LIMIT, rate: saturated ? 60 : 0, saturated } },
  };
}

/** Polls `check` until it holds, failing after `attempts` tries. */
async function until(what: string, check: () => boolean | Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await delay(200);
  }
  assert.fail(`never: ${what}`);
}

// One dev server for the coordinator's cases and the lease loops'.
let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.teardown();
});

describe('shared rate limits: the coordinator workflow on a real server', () => {
  /** A coordinator past its quiet time (as one continued from an earlier run), on a queue of its own. */
  async function coordinator(updatesPerRun?: number) {
    const taskQueue = uniqueTaskQueue('shares');
    const workflowId = uniqueTaskQueue('rate-shares');
    await env.client.workflow.start(rateSharesWorkflow, {
      taskQueue,
      workflowId,
      args: [{ state: { holders: {}, quietUntil: 0 }, ...(updatesPerRun ? { updatesPerRun } : {}) }],
    });
    const where = { taskQueue, workflowId };
    return {
      where,
      taskQueue,
      ask: async (request: ShareRequest) => {
        const grant = await requestShares(env.client, where, request);
        return { at: grant.at, rate: grant.rates.twelvelabs ?? 0, stale: grant.stale === true };
      },
    };
  }

  it('two lease holders never get more than the limit in sum, and a newcomer gets a share once the other has renewed', async () => {
    const c = await coordinator();
    await withWorker(env, c.taskQueue, {}, async () => {
      // a is busy, b idle: a has all but what b wants.
      let a = await c.ask(ask('a', 'static'));
      let b = await c.ask(ask('b', 'static', undefined, false));
      a = await c.ask(ask('a', 'lease', a.at));
      b = await c.ask(ask('b', 'lease', b.at, false));
      await until('a holds all b does not want', async () => {
        a = await c.ask(ask('a', 'lease', a.at));
        b = await c.ask(ask('b', 'lease', b.at, false));
        return a.rate >= 90;
      });
      assert.ok(a.rate + b.rate <= LIMIT, `${a.rate} + ${b.rate}`);
      // b gets work: at first only what a does not hold.
      b = await c.ask(ask('b', 'lease', b.at));
      assert.ok(a.rate + b.rate <= LIMIT, `newcomer: ${a.rate} + ${b.rate}`);
      const first = b.rate;
      // Both renew; b grows to its fair share once a's larger grant has expired.
      await until('b has half', async () => {
        a = await c.ask(ask('a', 'lease', a.at));
        assert.ok(a.rate + b.rate <= LIMIT, `a renews: ${a.rate} + ${b.rate}`);
        b = await c.ask(ask('b', 'lease', b.at));
        assert.ok(a.rate + b.rate <= LIMIT, `b renews: ${a.rate} + ${b.rate}`);
        return b.rate >= 49;
      });
      assert.ok(b.rate > first);
      // Half of the limit, less one request a second each.
      assert.equal(a.rate, 49);
    });
  });

  it('an expired lease frees its capacity: a silent worker keeps only its static share reserved', async () => {
    const c = await coordinator();
    await withWorker(env, c.taskQueue, {}, async () => {
      let a = await c.ask(ask('a', 'static'));
      let b = await c.ask(ask('b', 'static', undefined, false));
      await until('a holds all b does not want', async () => {
        a = await c.ask(ask('a', 'lease', a.at));
        b = await c.ask(ask('b', 'lease', b.at, false));
        return a.rate >= 90;
      });
      // a falls silent; b gets work and renews.
      b = await c.ask(ask('b', 'lease', b.at));
      assert.ok(b.rate <= LIMIT - a.rate);
      await until('b has what a no longer holds', async () => {
        b = await c.ask(ask('b', 'lease', b.at));
        return b.rate >= 48;
      });
      // a's static share stays reserved: a may have fallen back to it.
      assert.equal(b.rate, 48);
    });
  });

  it('a lease request that comes too late is refused', async () => {
    const c = await coordinator();
    await withWorker(env, c.taskQueue, {}, async () => {
      const refused = await c.ask(ask('a', 'lease', 0));
      assert.equal(refused.stale, true);
    });
  });

  it('the coordinator continues as new and keeps the claims it granted', async () => {
    const c = await coordinator(3);
    const handle = env.client.workflow.getHandle(c.where.workflowId);
    const firstRun = (await handle.describe()).runId;
    await withWorker(env, c.taskQueue, {}, async () => {
      let a = await c.ask(ask('a', 'static'));
      let b = await c.ask(ask('b', 'static', undefined, false));
      await until('a holds all b does not want', async () => {
        a = await c.ask(ask('a', 'lease', a.at));
        b = await c.ask(ask('b', 'lease', b.at, false));
        return a.rate >= 90;
      });
      await until('a new run', async () => (await handle.describe()).runId !== firstRun);
      // b's new demand still meets a's claim, carried into the new run.
      b = await c.ask(ask('b', 'lease', b.at));
      assert.ok(a.rate + b.rate <= LIMIT, `${a.rate} + ${b.rate}`);
    });
  });
});

describe('shared rate limits: the workers’ lease loops', () => {
  /** A limiter kept busy: `busy` callers start requests one after another. */
  function demand(limiter: ReturnType<typeof createRateLimiter>) {
    let on = false;
    const loops: Array<Promise<void>> = [];
    return {
      start() {
        on = true;
        for (let i = 0; i < 4; i++) {
          loops.push(
            (async () => {
              while (on) await limiter.run(() => Promise.resolve());
            })(),
          );
        }
      },
      async stop() {
        on = false;
        limiter.setMaxRps(LIMIT);
        await Promise.all(loops);
      },
    };
  }

  it('a busy worker takes what an idle one does not use, both keep within the limit, and the idle one gets its share when it needs it', async () => {
    const taskQueue = uniqueTaskQueue('shares');
    const sharing = {
      mode: 'lease' as const,
      workerCount: 2,
      limits: { twelvelabs: LIMIT },
      workflowId: uniqueTaskQueue('rate-shares'),
    };
    const limiterA = createRateLimiter({ concurrency: 8, maxRps: 50 });
    const limiterB = createRateLimiter({ concurrency: 8, maxRps: 50 });
    const busyA = demand(limiterA);
    const busyB = demand(limiterB);
    const loops: RateShares[] = [];
    await withWorker(env, taskQueue, {}, async () => {
      const a = startRateShares({
        client: env.client,
        taskQueue,
        sharing,
        limiters: { twelvelabs: limiterA },
      });
      const b = startRateShares({
        client: env.client,
        taskQueue,
        sharing,
        limiters: { twelvelabs: limiterB },
      });
      loops.push(a, b);
      try {
        assert.equal(a.status().holding, 'static', 'each starts on its static share');
        assert.equal(limiterA.maxRps, 50);
        busyA.start();
        await until('a paces above its static share', () => (limiterA.maxRps ?? 0) > 60);
        assert.equal(a.status().holding, 'lease');
        assert.ok((limiterA.maxRps ?? 0) + (limiterB.maxRps ?? 0) <= LIMIT);
        busyB.start();
        await until('b paces at its fair share', () => (limiterB.maxRps ?? 0) >= 45);
        await until('a paces at its fair share', () => (limiterA.maxRps ?? 0) <= 50);
        assert.ok((limiterA.maxRps ?? 0) + (limiterB.maxRps ?? 0) <= LIMIT);
      } finally {
        await Promise.all([busyA.stop(), busyB.stop()]);
      }
    });
    // The server's worker is gone: the coordinator answers no more. The lease lapses (nothing is used),
    // then the worker takes its static share.
    const a = loops[0]!;
    await until('a lapses', () => a.status().holding === 'none');
    assert.equal(limiterA.maxRps, 0);
    await until('a falls back to its static share', () => a.status().holding === 'static');
    assert.equal(limiterA.maxRps, 50);
    await Promise.all(loops.map((l) => l.stop()));
  });
});

describe('when a worker asks again', () => {
  it('at once to quote a lowered grant, soon when more is about to be free, else after its period', () => {
    assert.equal(nextRenewalDelay({ periodMs: 300, sinceStartMs: 10, lowered: true, soon: true }), 0);
    assert.equal(
      nextRenewalDelay({ periodMs: 300, sinceStartMs: 10, lowered: false, soon: true }),
      RENEW_SOON_MS - 10,
    );
    assert.equal(nextRenewalDelay({ periodMs: 300, sinceStartMs: 10, lowered: false, soon: false }), 290);
    // A request that took longer than the period is followed at once.
    assert.equal(nextRenewalDelay({ periodMs: 300, sinceStartMs: 450, lowered: false, soon: false }), 0);
    // Never later than the period, even when asked to come soon.
    assert.equal(nextRenewalDelay({ periodMs: 50, sinceStartMs: 0, lowered: false, soon: true }), 50);
  });
});
