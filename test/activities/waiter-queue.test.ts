import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WaiterQueue } from '../../activities/waiter-queue.js';

interface W {
  rank: number;
  name: string;
  seq?: number;
  gone?: boolean;
}

function drain(queue: WaiterQueue<W>): string[] {
  const out: string[] = [];
  for (let w = queue.shift(); w; w = queue.shift()) out.push(w.name);
  return out;
}

describe('WaiterQueue: calls waiting for a slot, lowest rank first, in arrival order among equals', () => {
  it('serves the order a sorted, stable list would, over many random ranks', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    const queue = new WaiterQueue<W>();
    const all: W[] = [];
    for (let i = 0; i < 2000; i++) {
      const w = { rank: random() < 0.1 ? Infinity : Math.floor(random() * 50), name: `w${i}` };
      all.push(w);
      queue.push(w);
    }
    const expected = [...all]
      .sort((a, b) => (a.rank === b.rank ? 0 : a.rank < b.rank ? -1 : 1))
      .map((w) => w.name);
    assert.equal(queue.size, 2000);
    assert.deepEqual(drain(queue), expected);
    assert.equal(queue.size, 0);
  });

  it('a waiter removed before its turn is never served, and the count leaves with it', () => {
    const queue = new WaiterQueue<W>();
    const ws = [3, 1, 2, 1, 0].map((rank, i) => ({ rank, name: `w${i}` }));
    for (const w of ws) queue.push(w);
    assert.equal(queue.remove(ws[1]!), true);
    assert.equal(queue.remove(ws[1]!), false, 'removed twice');
    assert.equal(queue.size, 4);
    assert.equal(queue.shift()?.name, 'w4');
    assert.equal(queue.remove(ws[4]!), false, 'already served');
    assert.deepEqual(drain(queue), ['w3', 'w2', 'w0']);
  });

  it('serves waiters pushed between shifts in rank order with those still waiting', () => {
    const queue = new WaiterQueue<W>();
    queue.push({ rank: 5, name: 'late' });
    queue.push({ rank: 9, name: 'later' });
    assert.equal(queue.shift()?.name, 'late');
    queue.push({ rank: 1, name: 'early-retry' });
    queue.push({ rank: 9, name: 'later-2' });
    assert.deepEqual(drain(queue), ['early-retry', 'later', 'later-2']);
  });
});
