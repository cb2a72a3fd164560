import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_DELAY_MS,
  QUIET_MS,
  TERM_MS,
  decideShares,
  fairShares,
  freshState,
  held,
  prune,
  quarantineMs,
  type Holding,
  type ShareRequest,
  type SharesState,
} from '../../plan/rate-shares.js';

const LIMIT = 100;
/** A coordinator past its quiet time, with nobody known. */
const settled = (): SharesState => ({ holders: {}, quietUntil: 0 });

function ask(
  worker: string,
  holding: Holding,
  opts: { saturated?: boolean; started?: number; seenAt?: number; workerCount?: number } = {},
): ShareRequest {
  return {
    worker,
    holding,
    seenAt: opts.seenAt,
    workerCount: opts.workerCount ?? 2,
    systems: {
      twelvelabs: { limit: LIMIT, rate: opts.started ?? 0, saturated: opts.saturated ?? true },
    },
  };
}

/** Plays requests in order, each at its time, and answers the grants and the final state. */
function play(steps: Array<[number, ShareRequest]>, start: SharesState = settled()) {
  let state = start;
  const grants: Array<{ worker: string; at: number; rate: number; stale: boolean }> = [];
  for (const [now, request] of steps) {
    const decided = decideShares(state, request, now);
    state = decided.state;
    grants.push({
      worker: request.worker,
      at: now,
      rate: decided.grant.rates.twelvelabs ?? 0,
      stale: decided.grant.stale === true,
    });
  }
  return { state, grants };
}

/**
 * What the workers use at `t` when each follows its grants as worker/rate-shares.ts does: a grant for
 * TERM_MS from its decision; after a lapse nothing until the quarantine ends, then the static share; the
 * static share before its first grant. Every worker in `workers` runs from time 0.
 */
function usedAt(
  grants: Array<{ worker: string; at: number; rate: number; stale: boolean }>,
  t: number,
  workers: string[],
): number {
  const share = LIMIT / workers.length;
  return workers.reduce((sum, w) => {
    const last = grants.filter((g) => g.worker === w && !g.stale && g.at <= t).at(-1);
    if (!last) return sum + share;
    if (t < last.at + TERM_MS) return sum + last.rate;
    return sum + (t < last.at + quarantineMs() ? 0 : share);
  }, 0);
}

/** The holding a worker that follows `grants` reports at `t`, and the seenAt it quotes. */
function holdingAt(grants: Array<{ worker: string; at: number; stale: boolean }>, w: string, t: number) {
  const last = grants.filter((g) => g.worker === w && !g.stale).at(-1);
  if (!last) return { holding: 'static' as Holding, seenAt: undefined };
  if (t < last.at + TERM_MS) return { holding: 'lease' as Holding, seenAt: last.at };
  return { holding: (t < last.at + quarantineMs() ? 'none' : 'static') as Holding, seenAt: undefined };
}

/**
 * Two workers on leases since 0.5 T, a with work and b idle; both renew at 1.05 T (b with work when
 * `bAsksForMore`). a then holds all but what b wants.
 */
function aBusyBIdle(opts: { bAsksForMore?: boolean } = {}): SharesState {
  const T = TERM_MS;
  return play([
    [0, ask('a', 'static')],
    [0, ask('b', 'static', { saturated: false })],
    [0.5 * T, ask('a', 'lease', { seenAt: 0 })],
    [0.5 * T, ask('b', 'lease', { seenAt: 0, saturated: false })],
    [1.05 * T, ask('a', 'lease', { seenAt: 0.5 * T })],
    [1.05 * T, ask('b', 'lease', { seenAt: 0.5 * T, saturated: opts.bAsksForMore ?? false })],
  ]).state;
}

describe('shared rate limits: the grant arithmetic', () => {
  it('two saturated lease holders renewing every second never hold more than the limit in sum', () => {
    const steps: Array<[number, ShareRequest]> = [
      [0, ask('a', 'static')],
      [100, ask('b', 'static')],
    ];
    for (let t = 1000; t < 10_000; t += 1000) {
      steps.push([t, ask('a', 'lease', { seenAt: t - 1000 })]);
      steps.push([t + 100, ask('b', 'lease', { seenAt: t - 900 })]);
    }
    const { grants } = play(steps);
    for (let t = 0; t < 11_000; t += 50) assert.ok(usedAt(grants, t, ['a', 'b']) <= LIMIT, `at ${t}`);
    // Both end with half the limit each.
    assert.deepEqual(
      grants.slice(-2).map((g) => g.rate),
      [49, 49],
    );
  });

  it('a worker alone with work gets the whole limit while the other, idle, renews its small share', () => {
    const steps: Array<[number, ShareRequest]> = [
      [0, ask('busy', 'static')],
      [0, ask('idle', 'static', { saturated: false })],
    ];
    const every = TERM_MS / 2;
    for (let t = every; t < 6 * TERM_MS; t += every) {
      steps.push([t, ask('busy', 'lease', { seenAt: t - every })]);
      steps.push([t, ask('idle', 'lease', { seenAt: t - every, saturated: false, started: 0 })]);
    }
    const { grants } = play(steps);
    const last = grants.filter((g) => g.worker === 'busy').at(-1)!;
    assert.equal(last.rate, 97, 'the busy worker has all but what the idle one wants, less the margin');
    assert.equal(grants.at(-1)!.rate, 1);
    for (let t = 0; t < 7 * TERM_MS; t += 25)
      assert.ok(usedAt(grants, t, ['busy', 'idle']) <= LIMIT, `at ${t}`);
  });

  it('a newcomer gets only what is not held, and grows once the other has renewed to its fair share', () => {
    const T = TERM_MS;
    const state = aBusyBIdle();
    assert.equal(held(state.holders.a, 'twelvelabs'), 97, 'a, alone with work, holds all but what b wants');
    // b gets work: it gets only what a does not hold.
    const joined = decideShares(state, ask('b', 'lease', { seenAt: 1.05 * T }), 1.25 * T);
    assert.equal(joined.grant.rates.twelvelabs, 1);
    // a renews: its fair share is 49, but its grant of 97 stands until 2.05 T.
    const renewed = decideShares(joined.state, ask('a', 'lease', { seenAt: 1.05 * T }), 1.5 * T);
    assert.equal(renewed.grant.rates.twelvelabs, 49);
    const early = decideShares(renewed.state, ask('b', 'lease', { seenAt: 1.25 * T }), 1.75 * T);
    assert.equal(early.grant.rates.twelvelabs, 1, 'not before a’s larger grant has expired');
    const later = decideShares(early.state, ask('b', 'lease', { seenAt: 1.75 * T }), 2.1 * T);
    assert.equal(later.grant.rates.twelvelabs, 49);
  });

  it('a renewal that quotes the reduced grant frees the larger one at once', () => {
    const T = TERM_MS;
    const state = aBusyBIdle({ bAsksForMore: true });
    // a holds 97, b got 1 and wants more; a is reduced to 49 and renews quoting the reduction.
    const reduced = decideShares(state, ask('a', 'lease', { seenAt: 1.05 * T }), 1.3 * T);
    assert.equal(reduced.grant.rates.twelvelabs, 49);
    assert.equal(held(reduced.state.holders.a, 'twelvelabs'), 97, 'a may not have heard yet');
    const quoted = decideShares(reduced.state, ask('a', 'lease', { seenAt: 1.3 * T }), 1.6 * T);
    assert.equal(held(quoted.state.holders.a, 'twelvelabs'), 49, 'a paces at 49 since before it asked');
    const b = decideShares(quoted.state, ask('b', 'lease', { seenAt: 1.05 * T }), 1.65 * T);
    assert.equal(b.grant.rates.twelvelabs, 49);
  });

  it('a worker held below its fair share by what another is giving up is told to ask again soon', () => {
    const T = TERM_MS;
    const state = aBusyBIdle();
    assert.equal(held(state.holders.a, 'twelvelabs'), 97);
    // b gets work while a holds 97: 1 now, and more once a has renewed.
    const joined = decideShares(state, ask('b', 'lease', { seenAt: 1.05 * T }), 1.1 * T);
    assert.equal(joined.grant.rates.twelvelabs, 1);
    assert.equal(joined.grant.soon, true);
    // a is lowered and quotes it; b, asking again, gets its fair share and no more `soon`.
    const reduced = decideShares(joined.state, ask('a', 'lease', { seenAt: 1.05 * T }), 1.2 * T);
    assert.equal(reduced.grant.rates.twelvelabs, 49);
    assert.equal(reduced.grant.soon, undefined, 'a at its fair share');
    const quoted = decideShares(reduced.state, ask('a', 'lease', { seenAt: 1.2 * T }), 1.25 * T);
    const b = decideShares(quoted.state, ask('b', 'lease', { seenAt: 1.1 * T }), 1.3 * T);
    assert.equal(b.grant.rates.twelvelabs, 49);
    assert.equal(b.grant.soon, undefined);
    // A worker that wants little is at its fair share: nothing to ask again for.
    const idle = decideShares(state, ask('b', 'lease', { seenAt: 1.05 * T, saturated: false }), 1.1 * T);
    assert.equal(idle.grant.soon, undefined);
  });

  it('a worker on its static share holds it until its answer has arrived, so the other cannot take it', () => {
    const T = TERM_MS;
    const first = decideShares(settled(), ask('a', 'lease', { seenAt: 0 }), 0.25 * T);
    // a asks as a lease holder with a fresh seenAt: it holds 50 (the other's static share is reserved).
    assert.equal(first.grant.rates.twelvelabs, 48);
    const b = decideShares(first.state, ask('b', 'static', { saturated: false }), 0.3 * T);
    assert.equal(b.grant.rates.twelvelabs, 1);
    assert.equal(held(b.state.holders.b, 'twelvelabs'), 50, 'the static share is held, not the grant');
    const a = decideShares(b.state, ask('a', 'lease', { seenAt: 0.25 * T }), 0.5 * T);
    assert.equal(a.grant.rates.twelvelabs, 48, 'a cannot take b’s static share before it lapses');
    const bRenews = decideShares(a.state, ask('b', 'lease', { seenAt: 0.3 * T, saturated: false }), 0.85 * T);
    const after = decideShares(bRenews.state, ask('a', 'lease', { seenAt: 0.5 * T }), 1.35 * T);
    assert.equal(
      after.grant.rates.twelvelabs,
      97,
      'once b’s static claim has lapsed, a has all b does not want',
    );
  });

  it('an expired lease frees its capacity for the others', () => {
    const T = TERM_MS;
    let { state } = play([
      [0, ask('a', 'static')],
      [0, ask('b', 'static')],
      [0.5 * T, ask('a', 'lease', { seenAt: 0 })],
      [0.5 * T, ask('b', 'lease', { seenAt: 0 })],
    ]);
    assert.equal(held(state.holders.b, 'twelvelabs'), 49);
    // b goes silent; once its claims have expired b is a worker that may be on its static share.
    state = prune(state, 1.5 * T);
    assert.equal(state.holders.b, undefined);
    const grant = decideShares(state, ask('a', 'lease', { seenAt: 0.5 * T }), 1.5 * T);
    assert.equal(grant.grant.rates.twelvelabs, 48, 'the static share of the silent worker stays reserved');
    // With a worker count of 1 nothing is reserved for others: a gets the whole limit.
    const alone = decideShares(state, ask('a', 'lease', { seenAt: 0.5 * T, workerCount: 1 }), 1.5 * T);
    assert.equal(alone.grant.rates.twelvelabs, 99);
  });

  it('a lease request that reaches the coordinator too late is refused and holds nothing', () => {
    const late = decideShares(settled(), ask('a', 'lease', { seenAt: 0 }), TERM_MS + MAX_DELAY_MS + 1);
    assert.equal(late.grant.stale, true);
    assert.deepEqual(late.grant.rates, {});
    assert.equal(late.state.holders.a, undefined);
    const unquoted = decideShares(settled(), ask('a', 'lease'), 10);
    assert.equal(unquoted.grant.stale, true);
  });

  it('a fresh coordinator raises nobody above what it uses during its quiet time', () => {
    const fresh = freshState(0);
    const s = decideShares(fresh, ask('a', 'static'), 10);
    assert.equal(s.grant.rates.twelvelabs, 48, 'a worker on its static share keeps it');
    const l = decideShares(s.state, ask('b', 'lease', { seenAt: 5 }), 20);
    assert.equal(l.grant.rates.twelvelabs, 0, 'a lease from an earlier coordinator is not renewed');
    const n = decideShares(l.state, ask('c', 'none'), 30);
    assert.equal(n.grant.rates.twelvelabs, 0);
    const afterQuiet = decideShares(s.state, ask('a', 'lease', { seenAt: 10 }), QUIET_MS);
    assert.equal(afterQuiet.grant.rates.twelvelabs, 48);
  });

  it('a lapsed worker waits until every grant that did not reserve its static share has expired', () => {
    // Its last grant at r; lease requests up to r + TERM + MAX_DELAY; their claims TERM more; grants to others TERM more.
    assert.equal(quarantineMs(), 3 * TERM_MS + MAX_DELAY_MS);
  });

  it('fair shares give nobody more than it wants and divide the rest evenly', () => {
    assert.deepEqual(fairShares(100, { a: 100, b: 100 }), { a: 50, b: 50 });
    assert.deepEqual(fairShares(100, { a: 10, b: 100, c: 100 }), { a: 10, b: 45, c: 45 });
    assert.deepEqual(fairShares(100, { a: 1 }), { a: 1 });
  });

  it('random interleavings of renewals, silences and newcomers never exceed the limit', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const workers = ['a', 'b', 'c'];
    for (let run = 0; run < 50; run++) {
      // Half the runs start with a fresh coordinator in its quiet time.
      let state = run % 2 ? freshState(0) : settled();
      const grants: Array<{ worker: string; at: number; rate: number; stale: boolean }> = [];
      for (let t = 0; t < 20_000; t += 50 + Math.floor(random() * 600)) {
        const w = workers[Math.floor(random() * 3)]!;
        const { holding, seenAt } = holdingAt(grants, w, t);
        const request = ask(w, holding, {
          seenAt,
          workerCount: 3,
          saturated: random() < 0.7,
          started: Math.floor(random() * 60),
        });
        const decided = decideShares(state, request, t);
        state = decided.state;
        const rate = decided.grant.rates.twelvelabs ?? 0;
        grants.push({ worker: w, at: t, rate, stale: decided.grant.stale === true });
      }
      for (let u = 0; u < 22_000; u += 10) {
        assert.ok(
          usedAt(grants, u, workers) <= LIMIT + 1e-9,
          `run ${run} at ${u}: ${usedAt(grants, u, workers)}`,
        );
      }
    }
  });
});
