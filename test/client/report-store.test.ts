import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { openObjectStore, type ObjectStore } from '../../activities/object-store.js';
import { chunkIdsOf, type MemoResult } from '../../client/report-fetch.js';
import { Receipt, Report, verifyReceipt } from '../../plan/index.js';
import { sandboxEnv } from '../../sandbox/index.js';
import { valueOfPayload } from '../../config/payload-codec.js';
import type { BulkDeleteInput } from '../../workflows/definitions.js';
import { writePlanFile } from '../helpers/plan-file.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { startS3FaultProxy } from '../helpers/s3-faults.js';
import { credentialsNamed, generateWithCredentials } from '../helpers/sandbox.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { cleanEnv, eventually, runCli, startCli } from './cli-process.js';
import { startBackgroundWorker, type BackgroundWorker } from './stack-worker.js';
import { tempDir } from '../helpers/temp-dir.js';

const CREDENTIALS = credentialsNamed('store-test');

describe('the report store: every run archives its report and receipt; report and verify read them after the workflows are gone', () => {
  let stack: Stack;
  let s3: TestS3;
  let worker: BackgroundWorker;
  let brokenWorker: BackgroundWorker;
  let wrongKeysWorker: BackgroundWorker;
  let store: ObjectStore;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [stack, s3] = await Promise.all([startStack(), startTestS3()]);
    const reportStore = `s3://${s3.bucket}/reports`;
    const workerEnv = { ...sandboxEnv(stack.sandbox.url, CREDENTIALS) };
    worker = await startBackgroundWorker(stack.temporal, workerEnv, { reportStore, storeEnv: s3.env });
    // A worker whose store cannot be written: its bucket does not exist.
    brokenWorker = await startBackgroundWorker(stack.temporal, workerEnv, {
      reportStore: 's3://no-such-bucket/reports',
      storeEnv: s3.env,
    });
    // A worker whose every vendor key is wrong: every item of its runs fails.
    wrongKeysWorker = await startBackgroundWorker(
      stack.temporal,
      { ...workerEnv, TWELVELABS_API_KEY: 'wrong', UPLYNK_API_KEY: 'wrong', ENTERMEDIA_KEY: 'wrong' },
      { reportStore, storeEnv: s3.env },
    );
    store = openObjectStore(reportStore, s3.env);
    dir = tempDir('bulk-delete-report-store-');
    env = cleanEnv({
      TEMPORAL_ADDRESS: stack.temporal.address,
      BULK_DELETE_TASK_QUEUE: worker.taskQueue,
      BULK_DELETE_REPORT_STORE: reportStore,
      ...s3.env,
    });
  });
  after(async () => {
    await worker?.stop();
    await brokenWorker?.stop();
    await wrongKeysWorker?.stop();
    await stack?.close();
    await s3?.close();
  });

  /** A fresh catalogue with the worker's credentials, and the plan file that deletes it. */
  async function generatedPlan(items: number, seed: number, name: string): Promise<string> {
    const plan = await generateWithCredentials(stack.sandbox, CREDENTIALS, items, seed);
    return writePlanFile(dir, name, plan).path;
  }

  async function archived(workflowId: string): Promise<{ report: Report; receipt: Receipt }> {
    const [report, receipt] = await Promise.all([
      store.get(`${workflowId}/report.json`),
      store.get(`${workflowId}/receipt.json`),
    ]);
    assert.ok(report && receipt, `${workflowId} is archived`);
    return {
      report: Report.parse(JSON.parse(report.toString('utf8'))),
      receipt: Receipt.parse(JSON.parse(receipt.toString('utf8'))),
    };
  }

  /** Deletes a run and its chunks from Temporal, as retention or `temporal workflow delete` would. */
  async function deleteRun(workflowId: string): Promise<void> {
    const { client, namespace } = stack.temporal;
    const description = await client.workflow.getHandle(workflowId).describe();
    const ids = [workflowId, ...chunkIdsOf(workflowId, description.memo?.result as MemoResult)];
    for (const id of ids) {
      await client.workflowService.deleteWorkflowExecution({
        namespace: namespace ?? 'default',
        workflowExecution: { workflowId: id },
      });
    }
    // The server deletes in the background (about 30 s on the dev server): wait until each is gone.
    for (const id of ids) {
      await eventually(
        () =>
          client.workflow
            .getHandle(id)
            .describe()
            .then(
              () => false,
              (error: unknown) => error instanceof WorkflowNotFoundError,
            ),
        150_000,
      );
    }
  }

  it('a completed run is archived; once its workflows are deleted, report answers the same rows from the store, and its receipt verifies', async () => {
    const path = await generatedPlan(5, 31, 'store-done');
    const run = await runCli(['run', path, '--wait', '--json', '--id', 'store-done-1'], { env });
    assert.equal(run.code, 0, run.stderr);
    const fromHistory = Report.parse((JSON.parse(run.stdout) as { report: unknown }).report);
    assert.equal(fromHistory.status, 'completed');
    assert.ok(fromHistory.mutations.length > 0);

    const { report, receipt } = await archived('store-done-1');
    assert.deepEqual(report, fromHistory);
    assert.equal(receipt.head, fromHistory.head);
    assert.equal(receipt.entries.length, fromHistory.mutations.length);

    await deleteRun('store-done-1');
    const fromStore = await runCli(['report', 'store-done-1', '--format', 'json'], { env });
    assert.equal(fromStore.code, 0, fromStore.stderr);
    assert.match(fromStore.stderr, /store-done-1 is no longer in Temporal: the report archived in s3:\/\//);
    assert.deepEqual(Report.parse(JSON.parse(fromStore.stdout)), fromHistory);
    // Without the store, the deleted run is unknown.
    const unknown = await runCli(['report', 'store-done-1'], {
      env: { ...env, BULK_DELETE_REPORT_STORE: '' },
    });
    assert.equal(unknown.code, 2);

    // The receipt, as an auditor gets it, verifies; changed or shortened, it names the entry.
    const file = (name: string, value: Receipt): string => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(value));
      return p;
    };
    const reportFile = join(dir, 'report.json');
    writeFileSync(reportFile, fromStore.stdout);
    const valid = await runCli(['verify', file('receipt.json', receipt), '--report', reportFile], { env });
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    assert.match(valid.stdout, new RegExp(`head ${receipt.head}`));

    const tampered = structuredClone(receipt);
    const victim = tampered.entries[1]!;
    victim.answer = victim.answer === 'already-absent' ? 'deleted' : 'already-absent';
    const bad = await runCli(['verify', file('tampered.json', tampered)], { env });
    assert.equal(bad.code, 1);
    assert.ok(
      bad.stdout.includes(`INVALID at entry 1 (item ${victim.item}, target ${victim.target})`),
      bad.stdout,
    );

    const shortened = structuredClone(receipt);
    shortened.entries.splice(1, 1);
    const next = shortened.entries[1]!;
    const short = await runCli(['verify', file('shortened.json', shortened)], { env });
    assert.equal(short.code, 1);
    assert.ok(
      short.stdout.includes(`INVALID at entry 1 (item ${next.item}, target ${next.target})`),
      short.stdout,
    );
  });

  it('run --approval-timeout 2s: not approved in time, the run ends Failed, deletes nothing, says why on every row, and is archived', async () => {
    const path = await generatedPlan(3, 32, 'store-timeout');
    const before = await stack.sandbox.state();
    const run = await runCli(
      [
        'run',
        path,
        '--require-approval',
        '--approval-timeout',
        '2s',
        '--wait',
        '--json',
        '--id',
        'store-timeout-1',
      ],
      { env },
    );
    assert.equal(run.code, 1, run.stderr);
    const report = Report.parse((JSON.parse(run.stdout) as { report: unknown }).report);
    assert.equal(report.status, 'failed');
    assert.ok(report.rows.length >= 3);
    for (const row of report.rows) {
      assert.equal(row.outcome, 'skipped', JSON.stringify(row));
      assert.match(row.detail, /not approved within 2 s \(approvalTimeout\): nothing was deleted/);
    }
    assert.deepEqual(report.mutations, []);
    assert.deepEqual((await stack.sandbox.stats()).mutations, { twelvelabs: 0, uplynk: 0, entermedia: 0 });
    assert.deepEqual(await stack.sandbox.state(), before);
    const description = await stack.temporal.client.workflow.getHandle('store-timeout-1').describe();
    assert.equal(description.status.name, 'FAILED');
    const stored = await archived('store-timeout-1');
    assert.deepEqual(stored.report, report);
    assert.equal(verifyReceipt(stored.receipt).valid, true);
  });

  it('a cancelled run is archived with status cancelled', async () => {
    const path = await generatedPlan(2, 33, 'store-cancel');
    const waiting = startCli(['run', path, '--require-approval', '--wait', '--id', 'store-cancel-1'], {
      env,
    });
    await eventually(async () => {
      const status = await runCli(['status', 'store-cancel-1', '--json'], { env });
      return (
        status.code === 0 &&
        (JSON.parse(status.stdout) as { progress?: { status?: string } }).progress?.status ===
          'awaiting-approval'
      );
    });
    const cancelled = await runCli(['cancel', 'store-cancel-1'], { env });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((await waiting.done).code, 3);
    const { report, receipt } = await archived('store-cancel-1');
    assert.equal(report.status, 'cancelled');
    assert.equal(receipt.status, 'cancelled');
  });

  it('a store that cannot be written never fails the run: it completes, its memo says the archive failed, and run, status and report say so', async () => {
    const path = await generatedPlan(2, 34, 'store-broken');
    const brokenEnv = { ...env, BULK_DELETE_TASK_QUEUE: brokenWorker.taskQueue };
    const run = await runCli(['run', path, '--wait', '--id', 'store-broken-1'], { env: brokenEnv });
    assert.equal(run.code, 0, run.stderr);
    const description = await stack.temporal.client.workflow.getHandle('store-broken-1').describe();
    assert.equal(description.status.name, 'COMPLETED');
    assert.match(String(description.memo?.archive), /^failed: .*bucket/i);
    // Whoever relies on the store hears that this report is not in it, while it can still be kept.
    const warning =
      /^warning: the report of store-broken-1 was not archived in BULK_DELETE_REPORT_STORE \(cannot write s3:\/\/no-such-bucket\/reports\/store-broken-1\/receipt\.json: the bucket no-such-bucket does not exist \(HTTP 404\)\); keep it with "bulk-delete report store-broken-1 --out FILE" before the run leaves Temporal$/m;
    assert.match(run.stderr, warning);
    const status = await runCli(['status', 'store-broken-1'], { env: brokenEnv });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stderr, warning);
    const statusJson = await runCli(['status', 'store-broken-1', '--json'], { env: brokenEnv });
    assert.match(
      String((JSON.parse(statusJson.stdout) as { archive?: string }).archive),
      /^failed: cannot write s3:/,
    );
    const report = await runCli(['report', 'store-broken-1', '--out', join(dir, 'broken.md')], {
      env: brokenEnv,
    });
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stderr, warning);
  });

  it('retry of a run whose plan is in the s3:// plan store reads it from there, and its own large plan goes there too', async () => {
    const plan = await generateWithCredentials(stack.sandbox, CREDENTIALS, 1002, 35);
    const { path } = writePlanFile(dir, 'store-retry', {
      ...plan,
      options: { ...plan.options, maxItems: 2000, failureThreshold: 1 },
    });
    const planStore = `s3://${s3.bucket}/plan-store`;
    const withStore = { ...env, BULK_DELETE_PLAN_STORE: planStore };
    const first = await runCli(['run', path, '--wait', '--json', '--id', 'store-rt-1'], {
      env: { ...withStore, BULK_DELETE_TASK_QUEUE: wrongKeysWorker.taskQueue },
    });
    assert.equal(first.code, 1, first.stderr);
    const firstReport = Report.parse((JSON.parse(first.stdout) as { report: unknown }).report);
    assert.equal(firstReport.summary.deleted, 0);

    const retried = await runCli(['retry', 'store-rt-1', '--wait', '--json'], { env: withStore });
    assert.equal(retried.code, 0, retried.stderr);
    const out = JSON.parse(retried.stdout) as { workflowId: string; items: number; report: unknown };
    assert.equal(out.workflowId, 'store-rt-1-retry-1');
    assert.equal(out.items, 1002);
    const report = Report.parse(out.report);
    assert.equal(report.summary.failed, 0);
    assert.equal(new Set(report.rows.map((r) => r.item)).size, 1002);
    // The retry's 1,002 items travel by reference, through the plan store, not this machine's disk.
    const history = await stack.temporal.client.workflow.getHandle(out.workflowId).fetchHistory();
    const input = await valueOfPayload<BulkDeleteInput>(
      stack.temporal.client.options.loadedDataConverter,
      history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!,
    );
    assert.match(input.planRef?.uri ?? '', new RegExp(`^${planStore}/plans/[0-9a-f]{64}\\.json$`));
  });

  it('report of a run gone from Temporal says what is wrong with the store: no archive, no bucket, 503 SlowDown, a store gone silent', async () => {
    // A workflow ID Temporal does not know, as one that retention removed.
    const gone = ['report', 'store-gone-1'];
    const empty = await runCli(gone, { env });
    assert.equal(empty.code, 2);
    assert.equal(
      empty.stderr.trim(),
      `no workflow "store-gone-1" in namespace default, and no report of it in BULK_DELETE_REPORT_STORE s3://${s3.bucket}/reports`,
    );

    const noBucket = await runCli(gone, {
      env: { ...env, BULK_DELETE_REPORT_STORE: 's3://no-such-bucket/r' },
    });
    assert.equal(noBucket.code, 1);
    assert.equal(
      noBucket.stderr.trim(),
      'store-gone-1 is no longer in Temporal, and its report cannot be read from BULK_DELETE_REPORT_STORE: ' +
        'cannot read s3://no-such-bucket/r/store-gone-1/report.json: the bucket no-such-bucket does not exist (HTTP 404)',
    );

    const proxy = await startS3FaultProxy(s3.endpoint);
    try {
      const viaProxy = { ...env, BULK_DELETE_S3_ENDPOINT: proxy.endpoint };
      proxy.fault('slow-down');
      const slowDown = await runCli(gone, { env: viaProxy });
      assert.equal(slowDown.code, 1);
      assert.equal(
        slowDown.stderr.trim(),
        'store-gone-1 is no longer in Temporal, and its report cannot be read from BULK_DELETE_REPORT_STORE: ' +
          `cannot read s3://${s3.bucket}/reports/store-gone-1/report.json: SlowDown: Please reduce your request rate. (HTTP 503)`,
      );

      // A store that accepts the connection and never answers: the command ends, saying so.
      proxy.fault('silent');
      const started = Date.now();
      const silent = await runCli(gone, { env: viaProxy, timeoutMs: 150_000 });
      const took = Date.now() - started;
      assert.equal(silent.code, 1, `after ${took} ms: ${silent.stderr}`);
      assert.match(
        silent.stderr,
        new RegExp(
          `^store-gone-1 is no longer in Temporal, and its report cannot be read from BULK_DELETE_REPORT_STORE: cannot read s3://${s3.bucket}/reports/store-gone-1/report\\.json: no answer from the store \\(.*30000 ms of inactivity`,
        ),
      );
      assert.ok(took < 100_000, `ended after ${took} ms`);
    } finally {
      await proxy.close();
    }
  });

  it('a run whose first chunk retention already removed: report, status and retry use its archived report, or say why they cannot', async () => {
    const path = await generatedPlan(30, 36, 'store-chunk-gone');
    const first = await runCli(
      ['run', path, '--wait', '--json', '--id', 'store-chunk-gone-1', '--chunk-size', '10'],
      { env: { ...env, BULK_DELETE_TASK_QUEUE: wrongKeysWorker.taskQueue } },
    );
    assert.equal(first.code, 1, first.stderr);
    const fromHistory = Report.parse((JSON.parse(first.stdout) as { report: unknown }).report);
    assert.equal(fromHistory.summary.items, 30);
    assert.equal(fromHistory.summary.deleted, 0);

    // Chunks close before their run, so retention removes them first: the run is still there.
    const { client, namespace } = stack.temporal;
    const chunk = 'store-chunk-gone-1/chunk-00000';
    await client.workflowService.deleteWorkflowExecution({
      namespace: namespace ?? 'default',
      workflowExecution: { workflowId: chunk },
    });
    await eventually(
      () =>
        client.workflow
          .getHandle(chunk)
          .describe()
          .then(
            () => false,
            (error: unknown) => error instanceof WorkflowNotFoundError,
          ),
      150_000,
    );

    const withoutStore = { ...env, BULK_DELETE_REPORT_STORE: '' };
    const gone =
      `${chunk} is no longer in Temporal: the report of store-chunk-gone-1 cannot be assembled from its history ` +
      "(retention removes a run's chunks before the run), and BULK_DELETE_REPORT_STORE is not set: set it to where the workers archive reports";
    const bare = await runCli(['report', 'store-chunk-gone-1'], { env: withoutStore });
    assert.equal(bare.code, 1);
    assert.equal(bare.stderr.trim(), gone);
    const bareRetry = await runCli(['retry', 'store-chunk-gone-1'], { env: withoutStore });
    assert.equal(bareRetry.code, 1);
    assert.equal(bareRetry.stderr.trim(), gone);

    const note = `${chunk} is no longer in Temporal: the report of store-chunk-gone-1 archived in s3://${s3.bucket}/reports`;
    const report = await runCli(['report', 'store-chunk-gone-1', '--format', 'json'], { env });
    assert.equal(report.code, 1, report.stderr);
    assert.equal(report.stderr.trim(), note);
    assert.deepEqual(Report.parse(JSON.parse(report.stdout)), fromHistory);
    const status = await runCli(['status', 'store-chunk-gone-1'], { env });
    assert.equal(status.code, 1, status.stderr);
    assert.match(status.stdout, new RegExp(`^plan store-chunk-gone: ${fromHistory.status}, 30 items$`, 'm'));
    // The retry takes the failed items from the archived report: all 30, none left out for lack of rows.
    const retried = await runCli(['retry', 'store-chunk-gone-1', '--wait', '--json'], { env });
    assert.equal(retried.code, 0, retried.stderr);
    const out = JSON.parse(retried.stdout) as { items: number; report: unknown };
    assert.equal(out.items, 30);
    assert.equal(Report.parse(out.report).summary.failed, 0);
  });
});
