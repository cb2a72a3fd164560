import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../../activities/batcher.js';

/** A batcher whose calls are recorded: each value answers itself times ten. */
function recording(options: { maxSize?: number; lingerMs?: number; signal?: AbortSignal; fail?: boolean }) {
  const sent: number[][] = [];
  const batcher = new Batcher<number, number>({
    maxSize: options.maxSize ?? 100,
    lingerMs: options.lingerMs ?? 60_000,
    signal: options.signal ?? new AbortController().signal,
    send: (values) => {
      sent.push(values);
      return options.fail
        ? Promise.reject(new Error('vendor down'))
        : Promise.resolve(values.map((v) => v * 10));
    },
  });
  return { batcher, sent };
}

describe('Batcher: what many units send to one endpoint, in as few calls as do not hold them back', () => {
  it('sends as soon as every unit expected has added, without waiting out the linger', async () => {
    const { batcher, sent } = recording({});
    for (let i = 0; i < 3; i++) batcher.expect();
    const answers = await Promise.all([1, 2, 3].map((v) => batcher.add(v)));
    assert.deepEqual(sent, [[1, 2, 3]]);
    assert.deepEqual(answers, [10, 20, 30]);
  });

  it('a unit that drops out is not waited for', async () => {
    const { batcher, sent } = recording({});
    batcher.expect();
    batcher.expect();
    const one = batcher.add(1);
    assert.deepEqual(sent, []);
    batcher.forget();
    assert.equal(await one, 10);
    assert.deepEqual(sent, [[1]]);
  });

  it('sends what it has after the linger when others are still to come, and full batches at once', async () => {
    const { batcher, sent } = recording({ maxSize: 2, lingerMs: 30 });
    for (let i = 0; i < 10; i++) batcher.expect();
    const started = Date.now();
    const answers = [1, 2, 3].map((v) => batcher.add(v));
    assert.deepEqual(sent, [[1, 2]], 'a full batch goes at once');
    assert.deepEqual(await Promise.all(answers), [10, 20, 30]);
    assert.deepEqual(sent, [[1, 2], [3]]);
    assert.ok(Date.now() - started >= 25, 'the last value waited for others, up to the linger');
  });

  it('a failed call fails each value of its batch; values not sent when the attempt ends are refused', async () => {
    const failing = recording({ fail: true });
    failing.batcher.expect();
    await assert.rejects(failing.batcher.add(1), /vendor down/);

    const ended = new AbortController();
    const { batcher, sent } = recording({ signal: ended.signal });
    batcher.expect();
    batcher.expect();
    const waiting = batcher.add(1);
    ended.abort(new Error('cancelled'));
    await assert.rejects(waiting, /cancelled/);
    await assert.rejects(batcher.add(2), /cancelled/);
    assert.deepEqual(sent, []);
  });
});
