import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, createLimiters } from '../../activities/index.js';
import { openObjectStore } from '../../activities/object-store.js';
import { valueOfPayload } from '../../config/payload-codec.js';
import { Report } from '../../plan/index.js';
import { sandboxEnv } from '../../sandbox/index.js';
import type { BulkDeleteInput } from '../../workflows/definitions.js';
import { createWorker } from '../../worker/create-worker.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import { writePlanFile } from '../helpers/plan-file.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { startS3FaultProxy } from '../helpers/s3-faults.js';
import { credentialsNamed, generateWithCredentials } from '../helpers/sandbox.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cleanEnv, eventually, runCli, startCli } from './cli-process.js';

const CREDENTIALS = credentialsNamed('plan-store-run');

describe('a plan in the plan store that changes during its run, on a dev server, the sandbox and s3rver', () => {
  let stack: Stack;
  let s3: TestS3;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const taskQueue = uniqueTaskQueue('plan-store-run');

  /** A worker as `bulk-delete worker` builds it: a fresh one has read no plan yet. */
  async function startWorker(storeEnv: Record<string, string> = s3.env): Promise<() => Promise<void>> {
    const systems = loadSystemsConfig({ ...sandboxEnv(stack.sandbox.url, CREDENTIALS) });
    const worker = await createWorker({
      connection: stack.temporal.nativeConnection,
      namespace: stack.temporal.namespace ?? 'default',
      taskQueue,
      activities: createActivities({ systems, limiters: createLimiters(systems), storeEnv }),
    });
    const running = worker.run();
    return async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    };
  }

  before(async () => {
    [stack, s3] = await Promise.all([startStack(), startTestS3()]);
    dir = tempDir('bulk-delete-plan-store-run-');
    env = cleanEnv({
      TEMPORAL_ADDRESS: stack.temporal.address,
      BULK_DELETE_TASK_QUEUE: taskQueue,
      BULK_DELETE_PLAN_STORE: `s3://${s3.bucket}/plans`,
      ...s3.env,
    });
  });
  after(async () => {
    await stack?.close();
    await s3?.close();
  });

  it('replaced after some chunks: the run stops naming the plan, touches nothing of the new bytes, and its report holds what it deleted', async () => {
    const generated = await generateWithCredentials(stack.sandbox, CREDENTIALS, 1200, 51);
    const { path, plan } = writePlanFile(dir, 'replaced', {
      ...generated,
      options: { ...generated.options, maxItems: 2000 },
    });
    // Slow enough that the run is still going when the plan is replaced.
    const latency = { latencyMs: [20, 30] as [number, number] };
    await stack.sandbox.faults({ twelvelabs: latency, uplynk: latency, entermedia: latency });
    let stopWorker = await startWorker();
    try {
      const run = startCli(
        ['run', path, '--wait', '--json', '--id', 'replaced-1', '--chunk-size', '200', '--window', '1'],
        { env },
      );
      await eventually(async () => {
        const status = await runCli(['status', 'replaced-1', '--json'], { env });
        const json =
          status.code === 0
            ? (JSON.parse(status.stdout) as { progress?: { chunks?: { done: number } } })
            : {};
        return (json.progress?.chunks?.done ?? 0) >= 2;
      }, 60_000);

      // Someone overwrites the stored plan; the next worker to read it is a fresh one.
      const history = await stack.temporal.client.workflow.getHandle('replaced-1').fetchHistory();
      const input = await valueOfPayload<BulkDeleteInput>(
        stack.temporal.client.options.loadedDataConverter,
        history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!,
      );
      const uri = input.planRef!.uri;
      const prefix = `s3://${s3.bucket}/plans/`;
      assert.ok(uri.startsWith(prefix), uri);
      const store = openObjectStore(prefix, s3.env);
      const key = uri.slice(prefix.length);
      const original = (await store.get(key))!.toString('utf8');
      await store.put(key, original.replace('"name": "replaced"', '"name":  "replaced"'));
      await stopWorker();
      stopWorker = await startWorker();
      await stack.sandbox.faults({});

      const ended = await run.done;
      assert.equal(ended.code, 1, ended.stderr);
      const out = JSON.parse(ended.stdout) as { error?: string; report: unknown };
      assert.match(
        out.error ?? '',
        new RegExp(
          `^the run failed: replaced-1/observe-\\d{5}: plan ${uri.replace(/[.]/g, '\\.')} changed since it was submitted`,
        ),
      );
      // The report is the record of what was done: the items of the chunks that finished, all deleted.
      const report = Report.parse(out.report);
      assert.equal(report.status, 'failed');
      const reported = [...new Set(report.rows.map((r) => r.item))];
      assert.ok(
        reported.length >= 2 && reported.length < plan.items.length,
        `${reported.length} items reported`,
      );
      assert.deepEqual(
        reported,
        plan.items.slice(0, reported.length).map((i) => i.id),
      );
      assert.ok(report.rows.every((r) => r.outcome === 'deleted'));
      assert.equal(report.summary.deleted, reported.length);
      assert.ok(report.mutations.length > 0);
      // Nothing after them was touched: their DAM assets are all still there.
      const left = new Set((await stack.sandbox.state()).entermedia.assets.map((a) => a.id));
      const untouched = plan.items
        .slice(reported.length)
        .flatMap((i) => (i.entermedia ? [i.entermedia.assetId] : []));
      assert.ok(untouched.length > 0);
      assert.deepEqual(
        untouched.filter((id) => !left.has(id)),
        [],
      );

      const status = await runCli(['status', 'replaced-1'], { env });
      assert.equal(status.code, 1);
      assert.match(
        status.stdout,
        /^the run failed: replaced-1\/observe-\d{5}: plan .* changed since it was submitted/m,
      );
      assert.match(status.stdout, new RegExp(`^plan replaced: failed, ${reported.length} items$`, 'm'));
      const fromReport = await runCli(['report', 'replaced-1', '--format', 'json'], { env });
      assert.equal(fromReport.code, 1);
      assert.match(fromReport.stderr, /replaced-1 failed before it ended: replaced-1\/observe-\d{5}: plan /);
      assert.deepEqual(Report.parse(JSON.parse(fromReport.stdout)), report);
    } finally {
      await stopWorker();
    }
  });

  it('the plan store answering 503 SlowDown for 30 s when a worker first reads the plan: the run waits it out and deletes every item', async () => {
    const generated = await generateWithCredentials(stack.sandbox, CREDENTIALS, 1010, 52);
    const { path, plan } = writePlanFile(dir, 'slow-store', {
      ...generated,
      options: { ...generated.options, maxItems: 2000 },
    });
    const proxy = await startS3FaultProxy(s3.endpoint);
    // The command line uploads to the store itself; the worker reads through the failing proxy.
    const stopWorker = await startWorker({ ...s3.env, BULK_DELETE_S3_ENDPOINT: proxy.endpoint });
    try {
      proxy.fault('slow-down');
      const run = startCli(['run', path, '--wait', '--json', '--id', 'slow-store-1'], { env });
      await eventually(() => Promise.resolve(proxy.requests.length > 0), 60_000);
      await new Promise((resolve) => setTimeout(resolve, 30_000));
      const refused = proxy.requests.length;
      proxy.fault('none');
      const ended = await run.done;
      assert.ok(refused >= 5, `${refused} reads refused`);
      assert.equal(ended.code, 0, ended.stderr);
      const report = Report.parse((JSON.parse(ended.stdout) as { report: unknown }).report);
      assert.equal(report.status, 'completed');
      assert.equal(new Set(report.rows.map((r) => r.item)).size, plan.items.length);
      assert.equal(report.summary.failed, 0);
    } finally {
      await stopWorker();
      await proxy.close();
    }
  });
});
