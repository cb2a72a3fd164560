/**
 * The production rehearsal (`npm run test:cluster`, also run by .ci/run): Temporal Server 1.29.1 on
 * PostgreSQL 15, set up as temporal-compose.yml sets it up, two `bulk-delete worker` processes and the
 * command line against `bulk-delete sandbox`. A 2,000-item plan travels by reference, one worker is
 * SIGKILLed mid-run, and the run must still complete with a report that agrees, row by row, with what
 * changed in the sandbox. The plan travels through the plan store on a real S3-compatible server (s3rver),
 * the workers archive the report and receipt there, and once the workflows are deleted from Temporal the
 * report is read back from the store and the receipt verifies. Not part of `npm test` (it needs the
 * server build and PostgreSQL).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import type { PlanInput } from '../../plan/index.js';
import type { SandboxEnv, SandboxState, SandboxStats } from '../../sandbox/index.js';
import {
  PROJECT_ROOT,
  PROJECT_TEMPORAL,
  PROJECT_TEMPORAL_SERVER_FILES,
} from '../../scripts/temporal-paths.js';
import { cleanEnv, eventually, runCli, startCli } from '../client/cli-process.js';
import { openObjectStore } from '../../activities/object-store.js';
import { freePort } from '../helpers/ports.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { composeEnvironment, runSetup, startCluster, type TestCluster } from './temporal-cluster.js';

const ITEMS = 2000;
const SEED = 1129;
type Running = ReturnType<typeof startCli>;
/** The workers and the command line run compiled, as in production (npm run build; no tsx). */
const DIST_BIN = join(PROJECT_ROOT, 'dist', 'bin', 'bulk-delete.js');

/** The sandbox as a process of its own, driven over HTTP. */
async function startSandboxProcess(): Promise<{ url: string; process: Running }> {
  const port = await freePort();
  const sandbox = startCli(['sandbox', '--port', String(port)], { env: cleanEnv() });
  await eventually(() => Promise.resolve(sandbox.output().stdout.includes('sandbox listening')), 60_000);
  return { url: `http://127.0.0.1:${port}`, process: sandbox };
}

async function control<T>(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/_sandbox${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} /_sandbox${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * The plan file the command line reads. It goes to the workers through the plan store
 * (`BULK_DELETE_PLAN_STORE=s3://...`): the test removes the file once the run has started, so a worker
 * that read it from this disk would fail.
 */
function planForWorkers(plan: PlanInput): string {
  const file = join(tempDir('bulk-delete-rehearsal-'), 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

/** Whether an item's object is present in one system of a sandbox state. */
function present(state: SandboxState, item: PlanInput['items'][number], system: string): boolean {
  switch (system) {
    case 'twelvelabs':
      return state.twelvelabs.assets.some((a) => a._id === item.twelvelabs?.assetId);
    case 'uplynk':
      return state.uplynk.libraries.some(
        (l) => item.uplynk?.libraryIds.includes(l.id) && l.asset_ids.includes(item.uplynk.assetId),
      );
    case 'entermedia':
      return state.entermedia.assets.some((a) => a.id === item.entermedia?.assetId);
    default:
      throw new Error(`unknown system ${system}`);
  }
}

/** True when one of the run's chunks has an activity running on the worker process `pid` now. */
function runningOn(cluster: TestCluster, workflowId: string, chunks: number, pid: number): boolean {
  for (let i = 0; i < chunks; i++) {
    let described: { pendingActivities?: Array<{ state?: string; lastWorkerIdentity?: string }> };
    try {
      described = JSON.parse(
        execFileSync(
          PROJECT_TEMPORAL,
          [
            'workflow',
            'describe',
            '-w',
            `${workflowId}/chunk-${String(i).padStart(5, '0')}`,
            '--address',
            cluster.address,
            '-n',
            cluster.namespace,
            '-o',
            'json',
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
        ),
      ) as typeof described;
    } catch {
      continue; // not started yet
    }
    const held = (described.pendingActivities ?? []).some(
      (a) => a.state === 'PENDING_ACTIVITY_STATE_STARTED' && a.lastWorkerIdentity?.startsWith(`${pid}@`),
    );
    if (held) return true;
  }
  return false;
}

/** Activities retried and workflow tasks timed out in the namespace's histories: the work the killed worker held. */
function timedOutTasks(cluster: TestCluster): { activities: number; workflowTasks: number } {
  const temporal = (args: string[]) =>
    execFileSync(
      PROJECT_TEMPORAL,
      [...args, '--address', cluster.address, '-n', cluster.namespace, '-o', 'jsonl'],
      {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      },
    );
  const ids = temporal(['workflow', 'list', '--limit', '1000'])
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { execution: { workflowId: string; runId: string } }).execution);
  // A retried activity shows in its ActivityTaskStarted event with attempt > 1 (the timed-out attempts
  // themselves are not recorded); a workflow task lost with the worker times out visibly.
  let activities = 0;
  let workflowTasks = 0;
  for (const { workflowId, runId } of ids) {
    const history = temporal(['workflow', 'show', '-w', workflowId, '-r', runId]);
    for (const match of history.matchAll(
      /"activityTaskStartedEventAttributes":\{[^{}]*?"attempt":\s*(\d+)/g,
    )) {
      if (Number(match[1]) > 1) activities++;
    }
    workflowTasks += history.split('workflowTaskTimedOutEventAttributes').length - 1;
  }
  return { activities, workflowTasks };
}

const ReportJson = z.looseObject({
  workflowId: z.string(),
  status: z.string(),
  rows: z.array(z.looseObject({ item: z.string(), system: z.string(), outcome: z.string() })),
});

describe(`rehearsal on a real cluster: Temporal Server 1.29.1 on PostgreSQL 15, ${ITEMS} items`, () => {
  let postgres: TestPostgres | undefined;
  let cluster: TestCluster | undefined;
  let sandbox: Awaited<ReturnType<typeof startSandboxProcess>> | undefined;
  let s3: TestS3 | undefined;
  const workers: Running[] = [];
  const metricsUrls = new Map<Running, string>();

  before(async () => {
    const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr + build.stdout);
    postgres = await startPostgres();
    cluster = await startCluster(postgres);
    sandbox = await startSandboxProcess();
    s3 = await startTestS3('rehearsal');
  });

  after(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    sandbox?.process.child.kill('SIGTERM');
    await cluster?.stop();
    postgres?.stop();
    await s3?.close();
  });

  it('setup.sh can run again (compose runs it at every up), and fails loudly when it cannot succeed', async () => {
    await runSetup('namespace', {
      ...composeEnvironment('temporal-namespace', { TEMPORAL_NAMESPACE: cluster!.namespace }),
      TEMPORAL_ADDRESS: cluster!.address,
    });
    await assert.rejects(
      runSetup('schema', {
        POSTGRES_SEEDS: postgres!.host,
        DB_PORT: String(postgres!.port),
        POSTGRES_PWD: 'wrong password',
        TEMPORAL_SCHEMA_DIR: join(PROJECT_TEMPORAL_SERVER_FILES, 'schema', 'postgresql', 'v12'),
        SETUP_ATTEMPTS: '2',
      }),
      /setup: FAILED: create database temporal \(gave up after 2 attempts\)/,
    );
  });

  it('registers the namespace with a retention of 30 days and the search attributes', () => {
    const described = JSON.parse(
      execFileSync(
        PROJECT_TEMPORAL,
        [
          'operator',
          'namespace',
          'describe',
          '-n',
          cluster!.namespace,
          '--address',
          cluster!.address,
          '-o',
          'json',
        ],
        { encoding: 'utf8' },
      ),
    ) as { config: { workflowExecutionRetentionTtl: string } };
    assert.equal(described.config.workflowExecutionRetentionTtl, `${30 * 24 * 3600}s`);
    const attributes = execFileSync(
      PROJECT_TEMPORAL,
      ['operator', 'search-attribute', 'list', '-n', cluster!.namespace, '--address', cluster!.address],
      { encoding: 'utf8' },
    );
    for (const name of ['BulkDeletePlan', 'BulkDeleteStatus', 'BulkDeleteItems', 'BulkDeleteFailed']) {
      assert.match(attributes, new RegExp(name));
    }
  });

  it('completes a run by reference although a worker is SIGKILLed mid-run, and reports exactly what changed', async () => {
    const { plan, env: systems } = await control<{ plan: PlanInput; env: SandboxEnv }>(
      sandbox!.url,
      'POST',
      '/generate',
      { items: ITEMS, seed: SEED },
    );
    // Every call takes 20 to 40 ms, as a vendor's might (the sandbox alone answers in ~5): a run of 2,000
    // items then lasts long enough for the second worker to start, and the first to be killed, while
    // chunks still run (at 5 ms the whole run can end within the second worker's start-up).
    const latency = { latencyMs: [20, 40] };
    await control(sandbox!.url, 'POST', '/faults', {
      twelvelabs: latency,
      uplynk: latency,
      entermedia: latency,
    });
    const before = await control<SandboxState>(sandbox!.url, 'GET', '/state');
    const taskQueue = `rehearsal-${SEED}-${Date.now()}`;
    const temporalEnv = {
      TEMPORAL_ADDRESS: cluster!.address,
      TEMPORAL_NAMESPACE: cluster!.namespace,
      BULK_DELETE_TASK_QUEUE: taskQueue,
      // The client and the workers share the S3 server: plans in, reports and receipts out.
      ...s3!.env,
      BULK_DELETE_PLAN_STORE: `s3://${s3!.bucket}`,
      BULK_DELETE_REPORT_STORE: `s3://${s3!.bucket}/reports`,
    };
    const startWorker = async () => {
      const metricsPort = await freePort();
      const worker = startCli(['worker'], {
        bin: DIST_BIN,
        env: cleanEnv({
          ...temporalEnv,
          ...systems,
          NODE_ENV: 'production',
          BULK_DELETE_METRICS_BIND: `127.0.0.1:${metricsPort}`,
        }),
      });
      metricsUrls.set(worker, `http://127.0.0.1:${metricsPort}/metrics`);
      workers.push(worker);
      await eventually(() => Promise.resolve(worker.output().stderr.includes('worker polling')), 120_000);
      return worker;
    };
    // The first worker runs alone until a tenth of the deletions is done, so that it surely holds running
    // activities and open workflow tasks when it dies; the second starts then, and must finish the run.
    const doomed = await startWorker();

    const planFile = planForWorkers({ ...plan, name: `rehearsal-${SEED}` });
    const workflowId = `rehearsal-${SEED}-${Date.now()}`;
    const run = startCli(['run', planFile, '--id', workflowId, '--wait', '--json'], {
      bin: DIST_BIN,
      env: cleanEnv(temporalEnv),
    });
    const mutations = async () => {
      const stats = await control<SandboxStats>(sandbox!.url, 'GET', '/stats');
      return stats.mutations.twelvelabs + stats.mutations.uplynk + stats.mutations.entermedia;
    };
    await eventually(async () => (await mutations()) >= ITEMS / 10, 300_000);
    // The run has started: from now on the plan exists only in the plan store.
    rmSync(dirname(planFile), { recursive: true, force: true });
    await startWorker();
    // Kill it while it holds a running phase activity (its calls in flight die with it), not between two.
    await eventually(
      () => Promise.resolve(runningOn(cluster!, workflowId, Math.ceil(ITEMS / 500), doomed.child.pid!)),
      120_000,
    );
    const killedAt = await mutations();
    doomed.child.kill('SIGKILL');
    assert.equal((await doomed.done).code, null, 'the worker was killed, it did not exit');

    const ended = await run.done;
    assert.equal(ended.code, 0, `run --wait: ${ended.stderr.slice(-3000)}`);
    assert.ok((await mutations()) > killedAt, 'the surviving worker carried on');

    const reported = await runCli(['report', workflowId, '--format', 'json'], {
      bin: DIST_BIN,
      env: cleanEnv(temporalEnv),
    });
    assert.equal(reported.code, 0, reported.stderr);
    const report = ReportJson.parse(JSON.parse(reported.stdout));
    assert.equal(report.status, 'completed');
    const afterState = await control<SandboxState>(sandbox!.url, 'GET', '/state');

    // One row per item and system the plan names, and each row's outcome is what the sandbox shows.
    const items = new Map(plan.items.map((item) => [item.id, item]));
    const expected = plan.items.flatMap((item) =>
      (['twelvelabs', 'uplynk', 'entermedia'] as const).filter((s) => item[s]).map((s) => `${item.id}/${s}`),
    );
    assert.deepEqual(report.rows.map((r) => `${r.item}/${r.system}`).sort(), expected.sort());
    const wrong: string[] = [];
    for (const row of report.rows) {
      const item = items.get(row.item)!;
      const was = present(before, item, row.system);
      const is = present(afterState, item, row.system);
      const agrees =
        row.outcome === 'deleted' ? was && !is : row.outcome === 'already-absent' ? !was && !is : is === was; // skipped or failed: left as it was
      if (!agrees)
        wrong.push(`${row.item}/${row.system}: ${row.outcome}, present before ${was}, after ${is}`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} rows disagree with the sandbox`);
    const outcomes = new Map<string, number>();
    for (const row of report.rows) outcomes.set(row.outcome, (outcomes.get(row.outcome) ?? 0) + 1);
    console.log(`rehearsal: ${report.rows.length} rows, ${JSON.stringify(Object.fromEntries(outcomes))}`);
    assert.equal(outcomes.get('failed') ?? 0, 0);
    // The surviving worker's metrics: the vendor calls it made, Temporal's own under standard names.
    const metrics = await (await fetch(metricsUrls.get(workers[1]!)!)).text();
    assert.match(metrics, /^bulk_delete_vendor_calls\w*\{[^}]*system="uplynk"[^}]*\} [1-9]/m);
    assert.match(metrics, /^temporal_activity_execution_latency/m);
    const lost = timedOutTasks(cluster!);
    console.log(
      `rehearsal: tasks lost with the killed worker and retried elsewhere: ${JSON.stringify(lost)}`,
    );

    // The workers archived the report and the receipt. Once the run and its chunks are deleted from
    // Temporal, report answers the same rows from the store, and the receipt verifies offline.
    const temporal = (args: string[]) =>
      execFileSync(PROJECT_TEMPORAL, [...args, '--address', cluster!.address, '-n', cluster!.namespace], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    const ids = temporal(['workflow', 'list', '--limit', '1000', '-o', 'jsonl'])
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { execution: { workflowId: string } }).execution.workflowId);
    for (const id of new Set(ids)) temporal(['workflow', 'delete', '-w', id]);
    const fromStore = await eventually(async () => {
      const answer = await runCli(['report', workflowId, '--format', 'json'], {
        bin: DIST_BIN,
        env: cleanEnv(temporalEnv),
      });
      return answer.code === 0 && answer.stderr.includes('no longer in Temporal') ? answer : undefined;
    }, 180_000);
    assert.deepEqual(JSON.parse(fromStore.stdout), JSON.parse(reported.stdout));
    const receipt = await openObjectStore(`s3://${s3!.bucket}/reports`, s3!.env).get(
      `${workflowId}/receipt.json`,
    );
    assert.ok(receipt, 'the receipt is archived');
    const receiptFile = join(tempDir('bulk-delete-receipt-'), 'receipt.json');
    writeFileSync(receiptFile, receipt);
    const verified = await runCli(['verify', receiptFile], { bin: DIST_BIN, env: cleanEnv() });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.ok(verified.stdout.includes(`head ${(JSON.parse(reported.stdout) as { head: string }).head}`));
    console.log(
      `rehearsal: ${ids.length} workflows deleted; report read back from the store; ${verified.stdout.trim()}`,
    );

    // Asserted last, so that a run whose kill fell between activities still checks the stores above.
    assert.ok(lost.activities > 0, 'the killed worker held running activities');
    workers[1]!.child.kill('SIGTERM');
    assert.equal((await workers[1]!.done).code, 0);
  });
});
