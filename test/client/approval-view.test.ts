import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PlanInput, PlannedStep } from '../../plan/index.js';
import { writePlanFile } from '../helpers/plan-file.js';
import { credentialsNamed, generateWithCredentials } from '../helpers/sandbox.js';
import { eventually, runCli } from './cli-process.js';
import { cliStackForSuite } from './stack-worker.js';

const CREDENTIALS = credentialsNamed('approval-view');
/** A TwelveLabs ID that the catalogue does not hold: the item's asset is already gone. */
const GONE = 'feedfacefeedfacefeedface';

describe('the approval view: plan and report of a run waiting for approval show what discovery read', () => {
  const cli = cliStackForSuite(CREDENTIALS, 'approval-view');

  /** A generated catalogue, its plan, plus one item whose TwelveLabs asset is already gone. */
  async function planFile(name: string, seed: number): Promise<{ path: string; plan: PlanInput }> {
    const plan = await generateWithCredentials(cli.stack.sandbox, CREDENTIALS, 4, seed);
    const items = [...plan.items, { id: 'gone', twelvelabs: { assetId: GONE } }];
    return writePlanFile(cli.dir, name, { ...plan, items });
  }

  it('plan shows each asset with its filename and status, indexes and entities by name, and what is already gone', async () => {
    const { path } = await planFile('view-dry', 31);
    const result = await runCli(['plan', path], { env: cli.env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^item\s+system\s+step\s+target\s+discovered\s+note/m);
    assert.match(result.stdout, /delete-asset\s+[0-9a-f]{24}\s+item-\d+\.mp4, ready/);
    assert.match(result.stdout, /delete-indexed-asset\s+\S+\s+index (marengo-main|pegasus-search|archive)/);
    assert.match(
      result.stdout,
      new RegExp(
        `^gone\\s+twelvelabs\\s+already-absent\\s+${GONE}\\s+TwelveLabs asset not found: skipped`,
        'm',
      ),
    );
    assert.match(result.stdout, /^\d+ steps for 5 items of plan view-dry; nothing was changed$/m);
    assert.match(result.stderr, /dry run: 5 items discovered/);
    assert.doesNotMatch(result.stderr, /0% 0\/5/);
    const stats = await cli.stack.sandbox.stats();
    assert.deepEqual(stats.mutations, { twelvelabs: 0, uplynk: 0, entermedia: 0 });
    assert.ok(
      stats.requests.some((r) => r.route === 'GET /assets/{asset_id}'),
      'the dry run read the assets',
    );
  });

  it('a plain run reads no asset: filename and status cost a call only where the steps are reviewed', async () => {
    const { path } = await planFile('view-plain', 33);
    const result = await runCli(['run', path, '--wait'], { env: cli.env });
    assert.equal(result.code, 0, result.stderr);
    const reads = (await cli.stack.sandbox.stats()).requests.filter(
      (r) => r.route === 'GET /assets/{asset_id}',
    );
    assert.deepEqual(reads, []);
  });

  it('report of a run waiting for approval shows its planned steps and the digest to quote, as text and JSON', async () => {
    const { path } = await planFile('view-approval', 32);
    const started = await runCli(['run', path, '--require-approval', '--json'], { env: cli.env });
    assert.equal(started.code, 0, started.stderr);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    const report = await eventually(async () => {
      const r = await runCli(['report', workflowId], { env: cli.env });
      return r.code === 0 && /digest: [0-9a-f]{64}/.test(r.stdout) ? r : undefined;
    });
    assert.match(report.stderr, /is waiting for approval: nothing was deleted yet/);
    assert.match(report.stdout, /item-\d+\.mp4, ready/);
    assert.match(report.stdout, /already-absent/);
    assert.match(report.stdout, /^\d+ steps for 5 items; digest: [0-9a-f]{64}$/m);
    const digest = /digest: ([0-9a-f]{64})/.exec(report.stdout)![1]!;
    assert.match(report.stdout, new RegExp(`approve: bulk-delete approve ${workflowId} --digest ${digest}`));

    const json = await runCli(['report', workflowId, '--json'], { env: cli.env });
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { status: string; digest: string; steps: PlannedStep[] };
    assert.equal(body.status, 'awaiting-approval');
    assert.equal(body.digest, digest);
    assert.ok(body.steps.some((s) => s.step === 'delete-asset' && /\.mp4/.test(s.seen ?? '')));

    const file = join(cli.dir, 'steps.md');
    const written = await runCli(['report', workflowId, '--out', file], { env: cli.env });
    assert.equal(written.code, 0, written.stderr);
    assert.match(readFileSync(file, 'utf8'), new RegExp(`digest: ${digest}`));

    // The digest shown is the one approve takes: the view added nothing to it.
    const approved = await runCli(['approve', workflowId, '--digest', digest], { env: cli.env });
    assert.equal(approved.code, 0, approved.stderr);
    const followed = await runCli(['status', workflowId, '--follow'], { env: cli.env });
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /^plan view-approval: completed, 5 items$/m);
  });
});
