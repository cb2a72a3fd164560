import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../config/payload-codec.js';
import type { PhaseAnswer } from '../../plan/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../activities/index.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { startTestServer, uniqueTaskQueue } from '../helpers/temporal.js';
import { activitiesFor, countRequests, hexId, sandboxEnv, seedWith } from './support.js';
import type { CallActivityInput } from './fixtures/call-activity.workflow.js';

const WORKFLOWS = fileURLToPath(new URL('./fixtures/call-activity.workflow.ts', import.meta.url));
const DELETE_ASSET = 'DELETE /assets/{asset_id}';

describe('the activities on a real Temporal worker', () => {
  let temporal: TestWorkflowEnvironment;
  let sandbox: TestSandbox;
  const assets = Array.from({ length: 20 }, (_, i) => hexId('a', i));
  before(async () => {
    [temporal, sandbox] = await Promise.all([startTestServer(), startTestSandbox()]);
  });
  after(async () => {
    await Promise.all([temporal?.teardown(), sandbox?.close()]);
  });
  beforeEach(async () => {
    await sandbox.reset();
    await sandbox.seed(seedWith({ twelvelabs: { assets: assets.map((_id) => ({ _id })) } }));
  });

  async function call(args: CallActivityInput, env = sandboxEnv(sandbox)): Promise<unknown> {
    const taskQueue = uniqueTaskQueue('activities');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace ?? 'default',
      taskQueue,
      workflowsPath: WORKFLOWS,
      dataConverter,
      activities: activitiesFor(env),
    });
    return worker.runUntil(
      temporal.client.workflow.execute('callActivityWorkflow', {
        args: [args],
        taskQueue,
        workflowId: uniqueTaskQueue('call'),
      }),
    );
  }

  it('Temporal retries a phase through 5xx answers and each attempt resumes from the last heartbeat, never repeating a delete', async () => {
    // BULK_DELETE_CALL_RETRY_MS=0: each 5xx fails the attempt at once, so that Temporal (not the HTTP
    // client) retries, and the heartbeat details it delivers are what each attempt resumes from.
    await sandbox.faults({ seed: 7, twelvelabs: { error5xx: 0.2 } });
    const answer = (await call(
      {
        name: 'deleteAssets',
        input: { assets: assets.map((assetId) => ({ item: `item-${assetId}`, assetId, known: [] })) },
        maximumAttempts: 50,
      },
      sandboxEnv(sandbox, {
        TWELVELABS_CONCURRENCY: '1',
        BULK_DELETE_UNITS_PER_SLOT: '1',
        BULK_DELETE_CALL_RETRY_MS: '0',
      }),
    )) as PhaseAnswer;
    assert.deepEqual(
      answer.entries.map((e) => [e.item, e.step, e.target, e.answer]).sort(),
      assets.map((id) => [`item-${id}`, 'delete-asset', id, 'deleted']).sort(),
    );
    assert.deepEqual(answer.failures, []);
    const stats = await sandbox.stats();
    assert.ok(
      countRequests(stats, { route: DELETE_ASSET, status: 500 }) +
        countRequests(stats, { route: DELETE_ASSET, status: 503 }) >
        0,
      'some attempts failed on a delete',
    );
    // Had a retry repeated a delete that had succeeded, the sandbox would have answered it 404.
    assert.equal(countRequests(stats, { route: DELETE_ASSET, status: 404 }), 0);
    assert.equal(countRequests(stats, { route: DELETE_ASSET, status: 200 }), assets.length);
    assert.equal(stats.mutations.twelvelabs, assets.length);
  });

  it('a missing key fails the workflow’s activity once, without retry, as MissingCredentialsError', async () => {
    const started = Date.now();
    await assert.rejects(
      call(
        {
          name: 'deleteAssets',
          input: { assets: [{ item: 'i', assetId: assets[0], known: [] }] },
          maximumAttempts: 5,
          nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
        },
        sandboxEnv(sandbox, { TWELVELABS_API_KEY: '' }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ActivityFailure);
        const failure = error.cause.cause;
        assert.ok(failure instanceof ApplicationFailure);
        assert.equal(failure.type, 'MissingCredentialsError');
        assert.match(failure.message, /TWELVELABS_API_KEY/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000);
  });
});
