import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Plan } from '../../plan/index.js';
import { startBulkDelete } from '../../client/start.js';
import { bulkDeleteWorkflow } from '../../workflows/index.js';
import { startTestServer, uniqueTaskQueue, withWorker } from '../helpers/temporal.js';

describe('bulk delete workflow on a real dev server', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTestServer();
  });
  after(async () => {
    await env?.teardown();
  });

  it('validates the plan and returns its item count', async () => {
    const plan = Plan.parse({
      name: 'first-slice',
      items: [
        { id: 'ep-1', twelvelabs: { assetId: '6298d673f1090f1100476d4c' } },
        { id: 'ep-2', entermedia: { assetId: '101' } },
      ],
    });
    const taskQueue = uniqueTaskQueue();
    const result = await withWorker(env, taskQueue, {}, async () => {
      const handle = await startBulkDelete(env.client, plan, { taskQueue });
      return handle.result();
    });
    assert.deepEqual(result, { plan: 'first-slice', items: 2 });
  });

  it('fails without retry when a client sends a plan that does not validate', async () => {
    const taskQueue = uniqueTaskQueue();
    await withWorker(env, taskQueue, {}, async () => {
      const handle = await env.client.workflow.start(bulkDeleteWorkflow, {
        args: [{ plan: { name: 'bad', items: [{ id: 'x', twelvelabs: { assetId: 'not-hex' } }] } }],
        taskQueue,
        workflowId: uniqueTaskQueue('bad-plan'),
      });
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(
          String(error.cause?.message),
          /items\[0\]\.twelvelabs\.assetId|items.0.twelvelabs.assetId/,
        );
        return true;
      });
    });
  });
});
