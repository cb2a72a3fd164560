import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { dataConverter } from '../../config/payload-codec.js';
import { queryProgress } from '../../client/run-watch.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan } from '../../plan/index.js';
import { sandboxEnv } from '../../sandbox/index.js';
import { credentialsNamed, generateWithCredentials } from '../helpers/sandbox.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startBackgroundWorker, type BackgroundWorker } from './stack-worker.js';

const CREDENTIALS = credentialsNamed('progress');

describe('live progress on a dev server and the sandbox', () => {
  let stack: Stack;
  let worker: BackgroundWorker | undefined;
  before(async () => {
    stack = await startStack();
    // One EnterMediaDB call at a time, each slow: the delete-dam phase settles its items one by one.
    worker = await startBackgroundWorker(stack.temporal, {
      ...sandboxEnv(stack.sandbox.url, CREDENTIALS),
      ENTERMEDIA_CONCURRENCY: '1',
    });
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
  });

  it('the items of a running phase count as they settle, read from its heartbeat, not all at its end', async () => {
    const plan = await generateWithCredentials(stack.sandbox, CREDENTIALS, 12, 51);
    // EnterMediaDB parts only: one phase, delete-dam.
    const items = plan.items.flatMap((i) => (i.entermedia ? [{ id: i.id, entermedia: i.entermedia }] : []));
    assert.ok(items.length >= 4, `the catalogue has ${items.length} DAM assets`);
    await stack.sandbox.faults({ entermedia: { latencyMs: [700, 700] } });

    const client = new Client({ connection: stack.temporal.connection, dataConverter });
    const handle = await startBulkDelete(
      client,
      { plan: Plan.parse({ ...plan, name: 'progress-live', items }) },
      { taskQueue: worker!.taskQueue, workflowId: 'progress-live-1' },
    );
    const seen = new Set<number>();
    let ended = false;
    const result = handle.result().finally(() => (ended = true));
    while (!ended) {
      const progress = await queryProgress(client, handle.workflowId, 2000);
      if (progress && progress.status === 'running') seen.add(progress.itemsDone);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await result;
    await stack.sandbox.faults({});
    const between = [...seen].filter((n) => n > 0 && n < items.length);
    assert.ok(
      between.length >= 2,
      `counts seen while running: ${[...seen].sort((a, b) => a - b).join(', ')}`,
    );
  });
});
