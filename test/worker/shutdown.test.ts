import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, eventually, runCli, startCli } from '../client/cli-process.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('stopping a worker', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('lets running activities finish within BULK_DELETE_SHUTDOWN_GRACE before it exits', async () => {
    const { plan, env: systems } = await stack.sandbox.generate(24, 5);
    // Slow vendors: the batch activity that is running when SIGTERM comes still has calls to make.
    await stack.sandbox.faults({
      twelvelabs: { latencyMs: [400, 400] },
      uplynk: { latencyMs: [400, 400] },
      entermedia: { latencyMs: [400, 400] },
    });
    const dir = tempDir('bulk-delete-shutdown-');
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ ...plan, name: 'shutdown' }));
    const temporalEnv = {
      TEMPORAL_ADDRESS: stack.temporal.address,
      BULK_DELETE_TASK_QUEUE: uniqueTaskQueue('shutdown'),
    };
    const worker = startCli(['worker'], {
      env: cleanEnv({
        ...temporalEnv,
        ...systems,
        BULK_DELETE_SHUTDOWN_GRACE: '60s',
        TWELVELABS_CONCURRENCY: '2',
        UPLYNK_CONCURRENCY: '2',
        ENTERMEDIA_CONCURRENCY: '2',
      }),
    });
    const mutations = async () => {
      const { mutations: m } = await stack.sandbox.stats();
      return m.twelvelabs + m.uplynk + m.entermedia;
    };
    try {
      await eventually(() => Promise.resolve(worker.output().stderr.includes('worker polling')), 60_000);
      const started = await runCli(['run', planFile, '--json'], { env: cleanEnv(temporalEnv) });
      assert.equal(started.code, 0, started.stderr);
      await eventually(async () => (await mutations()) > 0, 60_000);
    } catch (error) {
      worker.child.kill('SIGKILL');
      throw error;
    }
    const atStop = await mutations();
    const stoppedAt = Date.now();
    worker.child.kill('SIGTERM');
    const ended = await worker.done;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /^worker stopped$/m);
    // With a grace of 0 the running activity was cancelled at once; now it finishes its calls first.
    const afterStop = await mutations();
    assert.ok(afterStop > atStop, `mutations went on after SIGTERM: ${atStop} -> ${afterStop}`);
    assert.ok(Date.now() - stoppedAt < 60_000, 'and the worker exits within the grace');
    assert.doesNotMatch(ended.stderr, /CancelledFailure|cancelled/i);
  });
});
