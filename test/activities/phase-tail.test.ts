import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { MOSTLY_DONE, TailWatch } from '../../activities/phase-tail.js';

describe('a phase tells its chunk when it only waits on its last units', () => {
  it('tells once, a grace after most units settled, while the phase still runs', async () => {
    let told = 0;
    const watch = new TailWatch(10, () => told++, 30);
    watch.settle(8);
    await sleep(60);
    assert.equal(told, 0, `8 of 10 is below ${MOSTLY_DONE}`);
    watch.settle();
    assert.equal(told, 0, 'not before the grace');
    await sleep(60);
    assert.equal(told, 1);
    watch.settle();
    await sleep(60);
    assert.equal(told, 1, 'once');
    watch.close();
  });

  it('tells nothing when the phase ends within the grace', async () => {
    let told = 0;
    const watch = new TailWatch(4, () => told++, 30);
    watch.settle(4);
    watch.close();
    await sleep(60);
    assert.equal(told, 0);
  });

  it('counts units an earlier attempt finished', async () => {
    let told = 0;
    const watch = new TailWatch(100, () => told++, 10);
    watch.settle(95);
    await sleep(40);
    assert.equal(told, 1);
    watch.close();
  });
});
