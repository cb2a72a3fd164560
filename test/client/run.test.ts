import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Report, type PlanInput } from '../../plan/index.js';
import { sandboxEnv } from '../../sandbox/index.js';
import { writePlanFile } from '../helpers/plan-file.js';
import { credentialsNamed, generateWithCredentials } from '../helpers/sandbox.js';
import { eventually, runCli, startCli } from './cli-process.js';
import { startBackgroundWorker, cliStackForSuite } from './stack-worker.js';

/** The credentials of every catalogue in this file, and of its worker. */
const CREDENTIALS = credentialsNamed('cli-test');

interface RunJson {
  workflowId: string;
  runId: string;
  webUiUrl: string;
  report?: Report;
}

describe('bulk-delete run, plan, status, approve, cancel and report against a dev server and the sandbox', () => {
  const cli = cliStackForSuite(CREDENTIALS, 'bulk-delete-cli');

  /**
   * A fresh catalogue of `items` items and the plan that deletes them all. generate() makes credentials
   * of its own; the catalogue is seeded again with the ones the file's worker holds.
   */
  function generate(items: number, seed: number): Promise<PlanInput> {
    return generateWithCredentials(cli.stack.sandbox, CREDENTIALS, items, seed);
  }

  /** A fresh catalogue and the plan file that deletes it. */
  async function generatedPlan(
    items: number,
    seed: number,
    name: string,
  ): Promise<{ path: string; plan: PlanInput }> {
    return writePlanFile(cli.dir, name, await generate(items, seed));
  }

  async function progressOf(id: string): Promise<{ status?: string; digest?: string } | undefined> {
    const result = await runCli(['status', id, '--json'], { env: cli.env });
    if (result.code !== 0) return undefined;
    return (JSON.parse(result.stdout) as { progress?: { status?: string; digest?: string } }).progress;
  }

  it('run --wait --json deletes every item, exits 0 and prints the workflow, its Web UI link and the report', async () => {
    const { path, plan } = await generatedPlan(6, 11, 'cli-wait-json');
    const result = await runCli(['run', path, '--wait', '--json', '--id', 'cli-wait-json-1'], {
      env: cli.env,
    });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as RunJson;
    assert.equal(out.workflowId, 'cli-wait-json-1');
    assert.match(out.runId, /^[0-9a-f-]{36}$/);
    assert.match(
      out.webUiUrl,
      /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/cli-wait-json-1\//,
    );
    const report = Report.parse(out.report);
    assert.equal(report.status, 'completed');
    assert.equal(report.plan, 'cli-wait-json');
    assert.equal(report.summary.items, plan.items.length);
    assert.equal(report.summary.failed, 0);
    const state = await cli.stack.sandbox.state();
    const left = new Set(state.twelvelabs.assets.map((a) => a._id));
    for (const item of plan.items) if (item.twelvelabs) assert.ok(!left.has(item.twelvelabs.assetId));
  });

  it('run --wait prints plain progress lines off a TTY and ends with a summary table', async () => {
    const { path } = await generatedPlan(4, 12, 'cli-wait-text');
    const result = await runCli(['run', path, '--wait'], { env: cli.env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^started bulk-delete-cli-wait-text-[0-9a-f]{16}: plan cli-wait-text, 4 items$/m,
    );
    assert.match(result.stderr, /^\[#+\] 100% 4\/4 items · completed$/m);
    assert.ok(
      !result.stderr.includes('\r') && !result.stderr.includes('\u001b['),
      'no terminal control codes off a TTY',
    );
    assert.match(result.stdout, /^plan cli-wait-text: completed, 4 items$/m);
    assert.match(result.stdout, /^\s+deleted\s+already-absent\s+partial\s+skipped\s+failed$/m);
    assert.match(result.stdout, /^items\s+4\s+0\s+0\s+0\s+0$/m);
    assert.match(result.stdout, /^Web UI: http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\//m);

    // The same plan again answers the run it already started.
    const again = await runCli(['run', path], { env: cli.env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /this plan already has a run \(completed\): bulk-delete-cli-wait-text-/);
  });

  it('a CSV plan runs like a JSON one, named after its file', async () => {
    const plan = await generate(3, 13);
    const rows = plan.items.map((item) =>
      [
        item.id,
        item.twelvelabs?.assetId ?? '',
        item.uplynk?.assetId ?? '',
        item.uplynk ? `"${item.uplynk.libraryIds.join(';')}"` : '',
        item.entermedia?.assetId ?? '',
      ].join(','),
    );
    const path = join(cli.dir, 'csv-takedown.csv');
    writeFileSync(
      path,
      ['id,twelvelabs.assetId,uplynk.assetId,uplynk.libraryIds,entermedia.assetId', ...rows].join('\n'),
    );
    const result = await runCli(['run', path, '--wait', '--json'], { env: cli.env });
    assert.equal(result.code, 0, result.stderr);
    const report = Report.parse((JSON.parse(result.stdout) as RunJson).report);
    assert.equal(report.plan, 'csv-takedown');
    assert.equal(report.summary.items, 3);
    assert.equal(report.summary.failed, 0);
  });

  it('plan prints the steps and their digest, and changes nothing', async () => {
    const { path } = await generatedPlan(3, 14, 'cli-dry');
    const result = await runCli(['plan', path], { env: cli.env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^item\s+system\s+step\s+target/m);
    assert.match(result.stdout, /delete-asset/);
    assert.match(result.stdout, /^\d+ steps for 3 items of plan cli-dry; nothing was changed$/m);
    assert.match(result.stdout, /^digest: [0-9a-f]{64}$/m);
    assert.deepEqual((await cli.stack.sandbox.stats()).mutations, {
      twelvelabs: 0,
      uplynk: 0,
      entermedia: 0,
    });
  });

  it('a dry run started without --wait reads back as its steps and digest in status and report, and changes nothing', async () => {
    const { path } = await generatedPlan(3, 21, 'cli-dry-later');
    const planned = await runCli(['plan', path], { env: cli.env });
    const digest = /^digest: ([0-9a-f]{64})$/m.exec(planned.stdout)?.[1];
    assert.ok(digest, planned.stdout);
    // Slow reads: the report asked for while it still discovers says so, with no digest yet.
    await cli.stack.sandbox.faults({ twelvelabs: { latencyMs: [4000, 4000] } });
    const started = await runCli(['run', path, '--dry-run', '--json', '--id', 'cli-dry-later-1'], {
      env: cli.env,
    });
    assert.equal(started.code, 0, started.stderr);
    const early = await runCli(['report', 'cli-dry-later-1', '--json'], { env: cli.env });
    await cli.stack.sandbox.faults({});
    assert.equal(early.code, 0, early.stderr);
    const soFar = JSON.parse(early.stdout) as { status: string; digest?: string };
    assert.equal(soFar.status, 'discovering', early.stdout);
    assert.equal(soFar.digest, undefined);

    const followed = await runCli(['status', 'cli-dry-later-1', '--follow'], { env: cli.env });
    assert.equal(followed.code, 0, followed.stderr);
    const summary = new RegExp(
      `^dry run: \\d+ steps for 3 items, digest ${digest}; nothing was changed\\nthe steps: bulk-delete report cli-dry-later-1$`,
      'm',
    );
    assert.match(followed.stdout, summary);
    const status = await runCli(['status', 'cli-dry-later-1'], { env: cli.env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, summary);
    assert.doesNotMatch(status.stdout, /0 items/);

    const report = await runCli(['report', 'cli-dry-later-1'], { env: cli.env });
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stderr, /is a dry run: nothing was deleted; these are the steps it found/);
    assert.match(report.stdout, /^item\s+system\s+step\s+target/m);
    assert.match(report.stdout, new RegExp(`^\\d+ steps for 3 items; digest: ${digest}$`, 'm'));
    const json = await runCli(['report', 'cli-dry-later-1', '--json'], { env: cli.env });
    const parsed = JSON.parse(json.stdout) as {
      status: string;
      digest: string;
      steps: Array<{ item: string }>;
    };
    assert.equal(parsed.status, 'dry-run');
    assert.equal(parsed.digest, digest);
    assert.deepEqual(new Set(parsed.steps.map((s) => s.item)).size, 3);
    // Written to a file, in the format its name says: CSV, one line per step under a header.
    const csvFile = join(cli.dir, 'dry-steps.csv');
    const csv = await runCli(['report', 'cli-dry-later-1', '--out', csvFile], { env: cli.env });
    assert.equal(csv.code, 0, csv.stderr);
    const lines = readFileSync(csvFile, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'item,system,step,target,seen,note');
    assert.equal(lines.length, parsed.steps.length + 1);
    assert.match(
      csv.stderr,
      new RegExp(`^wrote \\d+ steps \\(csv\\) to ${csvFile.replace(/[.\\/]/g, '\\$&')}$`, 'm'),
    );
    const mdFile = join(cli.dir, 'dry-steps.md');
    const md = await runCli(['report', 'cli-dry-later-1', '--out', mdFile, '--json'], { env: cli.env });
    assert.equal(md.code, 0, md.stderr);
    const told = JSON.parse(md.stdout) as { status: string; format: string; out: string; digest: string };
    assert.deepEqual([told.status, told.format, told.out, told.digest], ['dry-run', 'md', mdFile, digest]);
    assert.match(readFileSync(mdFile, 'utf8'), new RegExp(`^- digest: ${digest}$`, 'm'));
    assert.deepEqual((await cli.stack.sandbox.stats()).mutations, {
      twelvelabs: 0,
      uplynk: 0,
      entermedia: 0,
    });
  });

  it('approve refuses a wrong digest, then the right one lets the run delete; status --follow ends with 0', async () => {
    const { path } = await generatedPlan(3, 15, 'cli-approve');
    const started = await runCli(['run', path, '--require-approval', '--json'], { env: cli.env });
    assert.equal(started.code, 0, started.stderr);
    const { workflowId } = JSON.parse(started.stdout) as RunJson;

    const progress = await eventually(async () => {
      const p = await progressOf(workflowId);
      return p?.status === 'awaiting-approval' && p.digest ? p : undefined;
    });
    const status = await runCli(['status', workflowId], { env: cli.env });
    // The steps to review come first, then the command that approves them.
    assert.match(
      status.stdout,
      new RegExp(
        `awaiting approval: review its steps with bulk-delete report ${workflowId}\\n` +
          `  then approve them: bulk-delete approve ${workflowId} --digest ${progress.digest}`,
      ),
    );

    const wrong = await runCli(['approve', workflowId, '--digest', '0'.repeat(64)], { env: cli.env });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /does not match the discovered steps/);
    assert.deepEqual((await cli.stack.sandbox.stats()).mutations, {
      twelvelabs: 0,
      uplynk: 0,
      entermedia: 0,
    });

    const right = await runCli(['approve', workflowId, '--digest', progress.digest!], { env: cli.env });
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /^approved /);

    const followed = await runCli(['status', workflowId, '--follow'], { env: cli.env });
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /^plan cli-approve: completed, 3 items$/m);
    assert.match(followed.stdout, /^items\s+3\s+0\s+0\s+0\s+0$/m);
  });

  it('cancel stops a run that waits for approval; run --wait then exits 3 and the report says cancelled', async () => {
    const { path } = await generatedPlan(3, 16, 'cli-cancel');
    const waiting = startCli(['run', path, '--require-approval', '--wait', '--id', 'cli-cancel-1'], {
      env: cli.env,
    });
    await eventually(async () => (await progressOf('cli-cancel-1'))?.status === 'awaiting-approval');
    // The CLI polls twice a second: give it the time to say so.
    await eventually(() =>
      Promise.resolve(
        /awaiting approval of the discovered steps \(digest [0-9a-f]{64}\)/.test(waiting.output().stderr),
      ),
    );

    const cancelled = await runCli(['cancel', 'cli-cancel-1'], { env: cli.env });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /cancellation requested for cli-cancel-1/);
    const run = await waiting.done;
    assert.equal(run.code, 3, run.stderr);

    const report = await runCli(['report', 'cli-cancel-1', '--json'], { env: cli.env });
    assert.equal(report.code, 3);
    assert.equal(Report.parse(JSON.parse(report.stdout)).status, 'cancelled');
    assert.deepEqual((await cli.stack.sandbox.stats()).mutations, {
      twelvelabs: 0,
      uplynk: 0,
      entermedia: 0,
    });
    const again = await runCli(['cancel', 'cli-cancel-1'], { env: cli.env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is already cancelled: nothing to cancel/);
  });

  it('report writes JSON, CSV and Markdown with one row per item and system', async () => {
    const { path } = await generatedPlan(3, 17, 'cli-report');
    const run = await runCli(['run', path, '--wait', '--id', 'cli-report-1'], { env: cli.env });
    assert.equal(run.code, 0, run.stderr);

    const json = await runCli(['report', 'cli-report-1', '--format', 'json'], { env: cli.env });
    assert.equal(json.code, 0, json.stderr);
    const report = Report.parse(JSON.parse(json.stdout));
    assert.equal(report.workflowId, 'cli-report-1');
    assert.ok(report.rows.length >= 3);
    assert.ok(report.rows.every((row) => row.outcome === 'deleted' || row.outcome === 'already-absent'));

    const csvFile = join(cli.dir, 'report.csv');
    const csv = await runCli(['report', 'cli-report-1', '--out', csvFile], { env: cli.env });
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stderr, new RegExp(`wrote ${report.rows.length} rows \\(csv\\) to `));
    const lines = readFileSync(csvFile, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'item,system,outcome,step,detail,at');
    assert.equal(lines.length, report.rows.length + 1);

    const md = await runCli(['report', 'cli-report-1', '--format', 'md'], { env: cli.env });
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^# Bulk delete report: cli-report$/m);
    assert.match(md.stdout, /^\| item \| system \| outcome \| step \| detail \| at \|$/m);
    const rowsSection = md.stdout.split('## Calls that changed state')[0]!;
    assert.equal(
      rowsSection.split('\n').filter((l) => /^\| .* \| (twelvelabs|uplynk|entermedia) \| /.test(l)).length,
      report.rows.length,
    );
    assert.match(md.stdout, /^## Calls that changed state \(ledger\)$/m);

    const status = await runCli(['status', 'cli-report-1'], { env: cli.env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^cli-report-1: completed$/m);
    assert.match(status.stdout, /^plan cli-report: completed, 3 items$/m);
  });

  it('exits 1 when items fail, and the summary says why, without the secret', async () => {
    const { path } = await generatedPlan(3, 18, 'cli-failing');
    const failing = await startBackgroundWorker(cli.stack.temporal, {
      ...sandboxEnv(cli.stack.sandbox.url, CREDENTIALS),
      TWELVELABS_API_KEY: 'a-wrong-secret-key',
    });
    try {
      const result = await runCli(['run', path, '--wait', '--failure-threshold', '1'], {
        env: { ...cli.env, BULK_DELETE_TASK_QUEUE: failing.taskQueue },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /^failed:$/m);
      assert.match(result.stdout, /twelvelabs .*401|TwelveLabs/);
      assert.doesNotMatch(result.stdout + result.stderr, /a-wrong-secret-key/);
    } finally {
      await failing.stop();
    }
  });

  it('status of an unknown workflow exits 2', async () => {
    const result = await runCli(['status', 'no-such-run'], { env: cli.env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^no workflow "no-such-run" in namespace default$/m);
  });
});
