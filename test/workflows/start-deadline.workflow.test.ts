/**
 * A run that no worker picks up within its start deadline ends without deleting anything when a worker
 * finally comes, and says why: a forgotten run must not delete later against a changed catalogue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchReport } from '../../client/report-fetch.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan } from '../../plan/index.js';
import { activitiesFor, startStack, type Stack } from '../helpers/stack.js';
import { uniqueTaskQueue, withWorker } from '../helpers/temporal.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

describe('start deadline', () => {
  it('a run picked up after startWithinMs ends Failed, deletes nothing and says why', async () => {
    await stack.sandbox.reset();
    const { plan: generated, env } = await stack.sandbox.generate(6, 31);
    const plan = Plan.parse(generated);
    const was = await stack.sandbox.state();
    const taskQueue = uniqueTaskQueue('late');
    const handle = await startBulkDelete(
      stack.temporal.client,
      { plan },
      { taskQueue, workflowId: uniqueTaskQueue('late-run'), startWithinMs: 1000 },
    );
    // No worker polls for longer than the deadline.
    await new Promise((r) => setTimeout(r, 2500));
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      await assert.rejects(handle.result(), (error: Error) =>
        /no worker picked the run up within 1 s/.test(String((error.cause as Error | undefined)?.message)),
      );
    });
    const { report } = await fetchReport(stack.temporal.client, handle.workflowId);
    assert.equal(report.status, 'failed');
    assert.equal(report.summary.items, 6);
    assert.equal(report.summary.skipped, 6);
    assert.deepEqual(report.mutations, []);
    assert.ok(
      report.rows.every((r) => r.step === 'not-started' && /no worker picked the run up/.test(r.detail)),
    );
    assert.deepEqual(await stack.sandbox.state(), was, 'nothing changed in any system');
  });
});
