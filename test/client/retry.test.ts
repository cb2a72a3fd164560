import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection, Client } from '@temporalio/client';
import { dataConverter } from '../../config/payload-codec.js';
import { BulkDeleteRetryOf, Plan, type PlanInput, type Report, type ReportRow } from '../../plan/index.js';
import { retryItems } from '../../client/retry-plan.js';
import { sandboxEnv } from '../../sandbox/index.js';
import { writePlanFile } from '../helpers/plan-file.js';
import { credentialsNamed, generateWithCredentials } from '../helpers/sandbox.js';
import { eventually, runCli } from './cli-process.js';
import { startBackgroundWorker, cliStackForSuite } from './stack-worker.js';

const CREDENTIALS = credentialsNamed('retry');

interface RetryJson {
  workflowId: string;
  retryOf: string;
  items: number;
  report?: Report;
  message?: string;
}

describe('bulk-delete retry: a new run over what failed, against a dev server and the sandbox', () => {
  const cli = cliStackForSuite(CREDENTIALS, 'retry');

  async function planFile(
    name: string,
    items: number,
    seed: number,
  ): Promise<{ path: string; plan: PlanInput }> {
    const plan = await generateWithCredentials(cli.stack.sandbox, CREDENTIALS, items, seed);
    return writePlanFile(cli.dir, name, plan);
  }

  it('after a run whose EnterMediaDB key was wrong, retry runs only the failed items again and they end deleted', async () => {
    const { path, plan } = await planFile('retry-dam', 8, 41);
    const dam = plan.items.filter((i) => i.entermedia).map((i) => i.id);
    assert.ok(
      dam.length > 0 && dam.length < plan.items.length,
      'the plan has items with and without a DAM asset',
    );

    const wrongKey = await startBackgroundWorker(cli.stack.temporal, {
      ...sandboxEnv(cli.stack.sandbox.url, CREDENTIALS),
      ENTERMEDIA_KEY: 'a-wrong-entermedia-key',
    });
    let original: string;
    try {
      const first = await runCli(['run', path, '--wait', '--json', '--id', 'retry-dam-1'], {
        env: { ...cli.env, BULK_DELETE_TASK_QUEUE: wrongKey.taskQueue },
      });
      assert.equal(first.code, 1, first.stderr);
      original = (JSON.parse(first.stdout) as { workflowId: string }).workflowId;
    } finally {
      await wrongKey.stop();
    }
    const firstReport = JSON.parse(
      (await runCli(['report', original, '--json'], { env: cli.env })).stdout,
    ) as Report;
    const notDeleted = [
      ...new Set(
        firstReport.rows.filter((r) => r.outcome === 'failed' || r.outcome === 'partial').map((r) => r.item),
      ),
    ].sort();
    assert.deepEqual(notDeleted, [...dam].sort());

    // The key is right on the file's own worker: the retry deletes what the first run could not.
    const retried = await runCli(['retry', original, '--wait', '--json'], { env: cli.env });
    assert.equal(retried.code, 0, retried.stderr);
    const out = JSON.parse(retried.stdout) as RetryJson;
    assert.equal(out.workflowId, `${original}-retry-1`);
    assert.equal(out.retryOf, original);
    assert.equal(out.items, dam.length);
    assert.deepEqual([...new Set(out.report!.rows.map((r) => r.item))].sort(), [...dam].sort());
    assert.ok(
      out.report!.rows.filter((r) => r.system === 'entermedia').every((r) => r.outcome === 'deleted'),
    );
    assert.equal(out.report!.summary.failed, 0);
    const state = await cli.stack.sandbox.state();
    assert.deepEqual(
      state.entermedia.assets.filter((a) =>
        dam.some((id) => plan.items.find((i) => i.id === id)?.entermedia?.assetId === a.id),
      ),
      [],
    );

    // Linked to the original by memo and search attribute; its own report.
    const connection = await Connection.connect({ address: cli.stack.temporal.address });
    try {
      const client = new Client({ connection, dataConverter });
      const description = await client.workflow.getHandle(out.workflowId).describe();
      assert.equal(description.memo?.retryOf, original);
      assert.equal(description.typedSearchAttributes.get(BulkDeleteRetryOf), original);
    } finally {
      await connection.close();
    }
    const own = await runCli(['report', out.workflowId, '--json'], { env: cli.env });
    assert.equal(own.code, 0, own.stderr);
    assert.equal((JSON.parse(own.stdout) as Report).summary.items, dam.length);

    // Now every item is deleted: nothing to retry, exit 0.
    const again = await runCli(['retry', out.workflowId], { env: cli.env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^nothing to retry: every item of .* ended deleted or already absent$/m);
  });

  it('a run cancelled before its approval is retried under approval: nothing is deleted until approved', async () => {
    const { path } = await planFile('retry-approval', 3, 43);
    const before = await cli.stack.sandbox.state();
    const waiting = await runCli(['run', path, '--require-approval', '--json', '--id', 'retry-approval-1'], {
      env: cli.env,
    });
    assert.equal(waiting.code, 0, waiting.stderr);
    await eventually(async () => {
      const status = await runCli(['status', 'retry-approval-1', '--json'], { env: cli.env });
      return (
        (JSON.parse(status.stdout) as { progress?: { status?: string } }).progress?.status ===
        'awaiting-approval'
      );
    });
    const cancelled = await runCli(['cancel', 'retry-approval-1', '--wait'], { env: cli.env });
    assert.equal(cancelled.code, 3, cancelled.stderr);

    // Every item ended skipped: the retry runs them all, and waits for an approval of its own.
    const retried = await runCli(['retry', 'retry-approval-1'], { env: cli.env });
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^ {2}retry-approval-1 waited for approval: this run does too/m);
    const retry = 'retry-approval-1-retry-1';
    await eventually(async () => {
      const status = await runCli(['status', retry, '--json'], { env: cli.env });
      return (
        (JSON.parse(status.stdout) as { progress?: { status?: string } }).progress?.status ===
        'awaiting-approval'
      );
    });
    assert.deepEqual(await cli.stack.sandbox.state(), before, 'nothing was deleted without an approval');
    const stopped = await runCli(['cancel', retry, '--wait'], { env: cli.env });
    assert.equal(stopped.code, 3, stopped.stderr);
    assert.deepEqual(await cli.stack.sandbox.state(), before);
  });

  it('retry of a run that deleted everything starts nothing and exits 0; retry of a dry run is refused', async () => {
    const { path } = await planFile('retry-none', 3, 42);
    const first = await runCli(['run', path, '--wait', '--id', 'retry-none-1'], { env: cli.env });
    assert.equal(first.code, 0, first.stderr);
    const retried = await runCli(['retry', 'retry-none-1', '--json'], { env: cli.env });
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal((JSON.parse(retried.stdout) as RetryJson).items, 0);
    const missing = await runCli(['status', 'retry-none-1-retry-1'], { env: cli.env });
    assert.equal(missing.code, 2);

    // A dry run reports no item: retrying it would delete the whole plan, so it is refused.
    const dry = await runCli(['run', path, '--dry-run', '--wait', '--id', 'retry-none-dry'], {
      env: cli.env,
    });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^item\s+system\s+step\s+target\s+discovered\s+note/m);
    assert.match(dry.stdout, /^dry run: \d+ steps, digest [0-9a-f]{64}; nothing was changed$/m);
    assert.doesNotMatch(dry.stdout, /completed, 0 items/);
    const refused = await runCli(['retry', 'retry-none-dry'], { env: cli.env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /is a dry run: it deleted nothing and has nothing to retry/);
    assert.equal((await runCli(['status', 'retry-none-dry-retry-1'], { env: cli.env })).code, 2);
  });
});

describe('what a retry runs again', () => {
  it('the items with a failed, skipped or partial row, or with no row at all, in plan order', () => {
    const hex = (n: number) => n.toString(16).padStart(24, '0');
    const plan = Plan.parse({
      name: 'p',
      items: ['gone', 'ok', 'failed', 'lost', 'partial', 'skipped'].map((id, n) => ({
        id,
        twelvelabs: { assetId: hex(n + 1) },
        entermedia: { assetId: String(n) },
      })),
    });
    const row = (item: string, system: ReportRow['system'], outcome: ReportRow['outcome']): ReportRow => ({
      item,
      system,
      outcome,
      step: 'delete-asset',
      detail: '',
      at: '2026-01-01T00:00:00Z',
    });
    const rows = [
      row('gone', 'twelvelabs', 'already-absent'),
      row('gone', 'entermedia', 'deleted'),
      row('ok', 'twelvelabs', 'deleted'),
      row('ok', 'entermedia', 'deleted'),
      row('failed', 'twelvelabs', 'deleted'),
      row('failed', 'entermedia', 'failed'),
      row('partial', 'twelvelabs', 'partial'),
      row('skipped', 'twelvelabs', 'skipped'),
    ];
    assert.deepEqual(
      retryItems(plan, { rows }).map((i) => i.id),
      ['failed', 'lost', 'partial', 'skipped'],
    );
    assert.deepEqual(retryItems(plan, { rows: rows.slice(0, 4) }).length, 4);
  });
});
