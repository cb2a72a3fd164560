import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Report } from '../../plan/index.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { cleanEnv, eventually, runCli, startCli } from './cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('bulk-delete worker: the worker the command line runs', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('runs plans started by "run" with the credentials of its own environment, and stops cleanly on SIGINT', async () => {
    const { plan, env: systems } = await stack.sandbox.generate(4, 31);
    const dir = tempDir('bulk-delete-worker-');
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ ...plan, name: 'worker-cli' }));
    const taskQueue = uniqueTaskQueue('worker-cli');
    const temporalEnv = { TEMPORAL_ADDRESS: stack.temporal.address, BULK_DELETE_TASK_QUEUE: taskQueue };

    const worker = startCli(['worker'], { env: cleanEnv({ ...temporalEnv, ...systems }) });
    try {
      await eventually(() => Promise.resolve(worker.output().stderr.includes('worker polling')), 60_000);
      const stderr = worker.output().stderr;
      assert.match(
        stderr,
        new RegExp(`^worker polling ${taskQueue} on ${stack.temporal.address.replace(/\./g, '\\.')}`, 'm'),
      );
      // Each start-up line once: logged by the worker, not printed again by the command line.
      const systemLines = stderr.match(
        /twelvelabs: http:\/\/127\.0\.0\.1:\d+\/twelvelabs\/v1\.3 \(configured.*$/gm,
      );
      assert.equal(systemLines?.length, 1, stderr);
      assert.match(stderr, /INFO +bulk-delete worker: twelvelabs: http/);
      for (const secret of [systems.TWELVELABS_API_KEY, systems.UPLYNK_API_KEY, systems.ENTERMEDIA_KEY]) {
        assert.ok(!stderr.includes(secret), 'no secret in the worker output');
      }

      // The command that starts the run has no credentials at all: they live with the worker only.
      const run = await runCli(['run', planFile, '--wait', '--json'], { env: cleanEnv(temporalEnv) });
      assert.equal(run.code, 0, run.stderr);
      const report = Report.parse((JSON.parse(run.stdout) as { report: unknown }).report);
      assert.equal(report.summary.items, 4);
      assert.equal(report.summary.failed, 0);
    } finally {
      worker.child.kill('SIGINT');
    }
    const ended = await worker.done;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /^worker stopped$/m);
  });
});
