import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Report } from '../../plan/index.js';
import type { SandboxStateInput } from '../../sandbox/index.js';
import { findTemporalCli } from '../../scripts/temporal-paths.js';
import type { ScheduledCleanupResult } from '../../workflows/index.js';
import { eventually, runCli } from './cli-process.js';
import { cliStackForSuite } from './stack-worker.js';

const run = promisify(execFile);

const id = (n: number) => `5f00000000000000000000${n.toString(16).padStart(2, '0')}`;
const CREDENTIALS = {
  twelvelabs: { apiKey: 'schedule-test-key' },
  uplynk: { ownerId: 'schedule-owner', apiKey: 'schedule-uplynk-key' },
  entermedia: { key: 'schedule-dam-key' },
};

/**
 * Three assets expired long ago (oldest first), one that expires far ahead, one without a date, and one
 * whose date is not a date (free text that Date.parse would read as 2001).
 */
const CATALOGUE: SandboxStateInput = {
  entityReadyAfterMs: 50,
  twelvelabs: {
    ...CREDENTIALS.twelvelabs,
    assets: [
      {
        _id: id(1),
        user_metadata: {
          delete_after: '2000-01-01',
          uplynk_asset_id: 'u-1',
          uplynk_library_ids: 'lib-a, lib-b',
          entermedia_asset_id: 'd-1',
        },
      },
      { _id: id(2), user_metadata: { delete_after: '2001-01-01T00:00:00Z', entermedia_asset_id: 'd-2' } },
      { _id: id(3), user_metadata: { delete_after: '2002-01-01' } },
      {
        _id: id(4),
        user_metadata: {
          delete_after: '2999-01-01',
          uplynk_asset_id: 'u-4',
          uplynk_library_ids: 'lib-a',
          entermedia_asset_id: 'd-4',
        },
      },
      { _id: id(5), user_metadata: {} },
      { _id: id(6), user_metadata: { delete_after: 'keep 1', entermedia_asset_id: 'd-9' } },
    ],
    indexes: [{ _id: id(100) }],
    indexedAssets: [{ _id: id(101), index_id: id(100), asset_id: id(1) }],
  },
  uplynk: {
    ...CREDENTIALS.uplynk,
    libraries: [
      { id: 'lib-a', asset_ids: ['u-1', 'u-4'] },
      { id: 'lib-b', asset_ids: ['u-1'] },
    ],
  },
  entermedia: {
    ...CREDENTIALS.entermedia,
    assets: [{ id: 'd-1' }, { id: 'd-2' }, { id: 'd-4' }, { id: 'd-9' }],
  },
};

interface DescribeJson {
  paused: boolean;
  note?: string;
  spec: string;
  overlap: string;
  nextRuns: string[];
  recentRuns: Array<{ workflowId: string; bulkDeleteWorkflowId: string }>;
}

describe('bulk-delete schedule: recurring clean-up with Temporal Schedules on a dev server', () => {
  const cli = cliStackForSuite(CREDENTIALS, 'bulk-delete-schedule');

  function file(name: string, content: unknown): string {
    const path = join(cli.dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  }

  async function describeJson(name: string): Promise<DescribeJson> {
    const result = await runCli(['schedule', 'describe', name, '--json'], { env: cli.env });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as DescribeJson;
  }

  /** Triggers a schedule and answers the result of the clean-up run it started. */
  async function triggerAndWait(
    name: string,
    before: number,
  ): Promise<{ workflowId: string; result: ScheduledCleanupResult }> {
    const triggered = await runCli(['schedule', 'trigger', name], { env: cli.env });
    assert.equal(triggered.code, 0, triggered.stderr);
    const said = new RegExp(`^triggered schedule ${name}: started (cleanup-${name}-\\S+)$`, 'm').exec(
      triggered.stdout,
    );
    assert.ok(said, `trigger names the run it started:\n${triggered.stdout}`);
    const described = await eventually(async () => {
      const d = await describeJson(name);
      return d.recentRuns.length > before ? d : undefined;
    });
    const workflowId = described.recentRuns[described.recentRuns.length - 1]!.workflowId;
    assert.equal(said[1], workflowId);
    const result = (await cli.stack.temporal.client.workflow
      .getHandle(workflowId)
      .result()) as ScheduledCleanupResult;
    return { workflowId, result };
  }

  it('creates a schedule that "temporal schedule list" sees, and describe shows its next run times', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    const policy = file('expired.policy.json', {
      name: 'expired-assets',
      select: {
        twelvelabsMetadata: {
          field: 'delete_after',
          uplynkAssetIdField: 'uplynk_asset_id',
          uplynkLibraryIdsField: 'uplynk_library_ids',
          entermediaAssetIdField: 'entermedia_asset_id',
        },
      },
      maxItems: 2,
    });
    const created = await runCli(['schedule', 'create', 'expired', '--policy', policy, '--every', '24h'], {
      env: cli.env,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.match(
      created.stdout,
      /^created schedule expired: every 24h, TwelveLabs assets whose user_metadata\.delete_after is past$/m,
    );
    assert.match(created.stdout, /^next runs: \d{4}-\d\d-\d\dT/m);

    // The Temporal CLI lists it (visibility is eventually consistent).
    const listed = await eventually(async () => {
      const { stdout } = await run(findTemporalCli(), [
        'schedule',
        'list',
        '--address',
        cli.stack.temporal.address,
        '--namespace',
        'default',
      ]);
      return stdout.includes('expired') ? stdout : undefined;
    });
    assert.match(listed, /expired/);
    const ours = await eventually(async () => {
      const result = await runCli(['schedule', 'list'], { env: cli.env });
      return result.stdout.includes('expired') ? result : undefined;
    });
    assert.match(ours.stdout, /^expired\s+active\s+\d{4}-\d\d-\d\dT\S+\s+expired-assets$/m);

    const text = await runCli(['schedule', 'describe', 'expired'], { env: cli.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^when: every 24h; overlapping runs: skip$/m);
    assert.match(
      text.stdout,
      /^policy expired-assets: TwelveLabs assets whose user_metadata\.delete_after is past; at most 2 items a run$/m,
    );
    assert.match(text.stdout, /^mode: deletes$/m, 'what a run does, on a line of its own with its label');
    const described = await describeJson('expired');
    assert.ok(described.nextRuns.length >= 2, 'several next run times');
    const [first, second] = described.nextRuns.map((t) => Date.parse(t));
    assert.equal(second! - first!, 24 * 3600 * 1000);
    assert.ok(first! > Date.now() - 1000);
  });

  it('a triggered run deletes the longest-expired assets everywhere, up to maxItems, and leaves the rest', async () => {
    const { workflowId, result } = await triggerAndWait('expired', 0);
    assert.match(workflowId, /^cleanup-expired-/);
    assert.equal(result.selected, 2);
    assert.equal(result.remaining, 1);
    assert.equal(result.result?.status, 'completed');
    assert.equal(result.bulkDeleteWorkflowId, `${workflowId}/bulk-delete`);

    const report = await runCli(['report', result.bulkDeleteWorkflowId, '--json'], { env: cli.env });
    assert.equal(report.code, 0, report.stderr);
    // The scheduled run's own ID, as "schedule describe" lists it, leads to the same bulk delete.
    const byScheduledId = await runCli(['report', workflowId, '--format', 'json'], { env: cli.env });
    assert.equal(byScheduledId.code, 0, byScheduledId.stderr);
    assert.match(byScheduledId.stderr, /is a scheduled clean-up run: its bulk delete is \S+\/bulk-delete/);
    assert.deepEqual(JSON.parse(byScheduledId.stdout), JSON.parse(report.stdout));
    const status = await runCli(['status', workflowId], { env: cli.env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^${workflowId}/bulk-delete: completed$`, 'm'));
    // What the run selected, what it left to later runs, and what it left alone and why.
    for (const shown of [status, byScheduledId]) {
      assert.match(shown.stderr, /^it selected 2 items; 1 more left to later runs \(maxItems\)$/m);
      assert.match(
        shown.stderr,
        new RegExp(`^  asset ${id(6)} left alone: its delete_after "keep 1" is not an ISO 8601 date`, 'm'),
      );
    }
    const rows = Report.parse(JSON.parse(report.stdout)).rows;
    assert.deepEqual(
      rows.map((r) => `${r.item} ${r.system} ${r.outcome}`).sort(),
      [
        `${id(1)} entermedia deleted`,
        `${id(1)} twelvelabs deleted`,
        `${id(1)} uplynk deleted`,
        `${id(2)} entermedia deleted`,
        `${id(2)} twelvelabs deleted`,
      ].sort(),
    );

    const state = await cli.stack.sandbox.state();
    assert.deepEqual(state.twelvelabs.assets.map((a) => a._id).sort(), [id(3), id(4), id(5), id(6)]);
    assert.deepEqual(state.twelvelabs.indexedAssets, []);
    assert.deepEqual(
      state.uplynk.libraries.map((l) => [l.id, l.asset_ids]),
      [
        ['lib-a', ['u-4']],
        ['lib-b', []],
      ],
    );
    assert.deepEqual(state.entermedia.assets.map((a) => a.id).sort(), ['d-4', 'd-9']);

    // The next run picks up what was left.
    const next = await triggerAndWait('expired', 1);
    assert.equal(next.result.selected, 1);
    assert.equal(next.result.remaining, 0);
    assert.deepEqual((await cli.stack.sandbox.state()).twelvelabs.assets.map((a) => a._id).sort(), [
      id(4),
      id(5),
      id(6),
    ]);
  });

  it('create refuses a manifest policy that every run would fail, and a manifest not named .json or .csv', async () => {
    file('five.json', {
      name: 'five',
      items: Array.from({ length: 5 }, (_, i) => ({ id: `f-${i}`, entermedia: { assetId: `f${i}` } })),
    });
    const cases: Array<[unknown, RegExp]> = [
      [
        { name: 'over', select: { manifest: 'five.json' }, maxItems: 2 },
        /maxItems: the manifest five\.json lists 5 items, more than maxItems \(2\): every run would fail/,
      ],
      [
        { name: 'txt', select: { manifest: 'later.txt' } },
        /select\.manifest: must name a \.json or \.csv plan file/,
      ],
    ];
    for (const [policy, why] of cases) {
      const path = file('refused.policy.json', policy);
      const result = await runCli(['schedule', 'create', 'refused', '--policy', path, '--every', '1h'], {
        env: cli.env,
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, why);
      assert.equal((await runCli(['schedule', 'describe', 'refused'], { env: cli.env })).code, 2);
    }
  });

  it('a cron expression the server refuses exits 2 naming it, and creates nothing', async () => {
    const policy = join(cli.dir, 'expired.policy.json');
    const result = await runCli(
      ['schedule', 'create', 'bad-cron', '--policy', policy, '--cron', '0 25 * * *'],
      {
        env: cli.env,
      },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^--cron "0 25 \* \* \*" was refused by Temporal: .*/m);
    assert.equal((await runCli(['schedule', 'describe', 'bad-cron'], { env: cli.env })).code, 2);
  });

  it('a subcommand refuses the options of another, and nothing is changed', async () => {
    const result = await runCli(['schedule', 'delete', 'expired', '--every', '1h'], { env: cli.env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^"schedule delete" does not take --every; it takes --json$/m);
    assert.equal((await describeJson('expired')).paused, false, 'the schedule is still there');
  });

  it('pause and unpause show in describe and list', async () => {
    const paused = await runCli(['schedule', 'pause', 'expired', '--note', 'holiday freeze'], {
      env: cli.env,
    });
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout.trim(), 'paused schedule expired');
    let described = await describeJson('expired');
    assert.equal(described.paused, true);
    assert.equal(described.note, 'holiday freeze');
    const listed = await eventually(async () => {
      const result = await runCli(['schedule', 'list'], { env: cli.env });
      return /^expired\s+paused/m.test(result.stdout) ? result : undefined;
    });
    assert.match(listed.stdout, /^expired\s+paused/m);
    // A trigger runs whatever the pause (Temporal's rule): the command says so before it starts one.
    const ran = await runCli(['schedule', 'trigger', 'expired'], { env: cli.env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /^schedule expired is paused \("holiday freeze"\): this run goes anyway$/m);
    const run = /started (cleanup-expired-\S+)$/m.exec(ran.stdout)?.[1];
    assert.ok(run, ran.stdout);
    await cli.stack.temporal.client.workflow.getHandle(run).result();

    const unpaused = await runCli(['schedule', 'unpause', 'expired'], { env: cli.env });
    assert.equal(unpaused.code, 0, unpaused.stderr);
    described = await describeJson('expired');
    assert.equal(described.paused, false);
  });

  it('a manifest policy reads the plan file afresh at each run, on a cron schedule', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    const manifest = file('manifest.json', {
      name: 'weekly-takedown',
      items: [{ id: 'first', entermedia: { assetId: 'd-9' } }],
    });
    file('manifest.policy.json', { name: 'weekly', select: { manifest: 'manifest.json' }, maxItems: 10 });
    const created = await runCli(
      [
        'schedule',
        'create',
        'weekly',
        '--policy',
        join(cli.dir, 'manifest.policy.json'),
        '--cron',
        '0 3 * * 1',
      ],
      { env: cli.env },
    );
    assert.equal(created.code, 0, created.stderr);
    const described = await describeJson('weekly');
    assert.equal(described.spec, 'cron "0 3 * * 1"');
    for (const time of described.nextRuns) {
      const at = new Date(time);
      assert.equal(at.getUTCDay(), 1, `${time} is a Monday`);
      assert.equal(at.getUTCHours(), 3);
    }

    // The manifest changes after the schedule was made: the run reads what it says now.
    writeFileSync(
      manifest,
      JSON.stringify({ name: 'weekly-takedown', items: [{ id: 'second', entermedia: { assetId: 'd-4' } }] }),
    );
    const { result } = await triggerAndWait('weekly', 0);
    assert.equal(result.selected, 1);
    assert.equal(result.result?.plan, 'weekly-takedown');
    assert.deepEqual((await cli.stack.sandbox.state()).entermedia.assets.map((a) => a.id).sort(), [
      'd-1',
      'd-2',
      'd-9',
    ]);
  });

  it('trigger while a run still goes starts no second run: overlapping runs are skipped, as for its own times', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    file('held.json', { name: 'held', items: [{ id: 'held-1', entermedia: { assetId: 'd-9' } }] });
    // Each run waits for an approval that never comes: the first one is still going at the second trigger.
    const policy = file('held.policy.json', {
      name: 'held',
      select: { manifest: 'held.json' },
      maxItems: 10,
      requireApproval: true,
    });
    const created = await runCli(['schedule', 'create', 'held', '--policy', policy, '--every', '7d'], {
      env: cli.env,
    });
    assert.equal(created.code, 0, created.stderr);
    const first = await runCli(['schedule', 'trigger', 'held'], { env: cli.env });
    const run = /^triggered schedule held: started (cleanup-held-\S+)$/m.exec(first.stdout)?.[1];
    assert.ok(run, first.stdout);
    await eventually(async () => {
      const status = await runCli(['status', run, '--json'], { env: cli.env });
      const progress = (JSON.parse(status.stdout || '{}') as { progress?: { status?: string } }).progress;
      return progress?.status === 'awaiting-approval';
    });

    const second = await runCli(['schedule', 'trigger', 'held'], { env: cli.env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      new RegExp(
        `^triggered schedule held: no run started: ${run} is still running \\(overlapping runs are skipped\\)$`,
        'm',
      ),
    );
    const described = await describeJson('held');
    assert.deepEqual(
      described.recentRuns.map((r) => r.workflowId),
      [run],
    );
    const cancelled = await runCli(['cancel', run, '--wait'], { env: cli.env });
    assert.equal(cancelled.code, 3, cancelled.stderr);
    assert.ok(
      (await cli.stack.sandbox.state()).entermedia.assets.some((a) => a.id === 'd-9'),
      'nothing deleted',
    );
    assert.equal((await runCli(['schedule', 'delete', 'held'], { env: cli.env })).code, 0);
  });

  it('an asset whose delete_after was pushed ahead after selection, here while the run awaited approval, is read again and skipped, in every system', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    const policy = file('approved.policy.json', {
      name: 'approved',
      select: {
        twelvelabsMetadata: { field: 'delete_after', entermediaAssetIdField: 'entermedia_asset_id' },
      },
      maxItems: 10,
      requireApproval: true,
    });
    const created = await runCli(['schedule', 'create', 'approved', '--policy', policy, '--every', '7d'], {
      env: cli.env,
    });
    assert.equal(created.code, 0, created.stderr);
    const triggered = await runCli(['schedule', 'trigger', 'approved'], { env: cli.env });
    const run = /^triggered schedule approved: started (cleanup-approved-\S+)$/m.exec(triggered.stdout)?.[1];
    assert.ok(run, triggered.stdout);
    const digest = await eventually(async () => {
      const report = await runCli(['report', run, '--json'], { env: cli.env });
      const steps = JSON.parse(report.stdout || '{}') as { status?: string; digest?: string };
      return steps.status === 'awaiting-approval' ? steps.digest : undefined;
    });

    // Someone keeps asset 2 (and its DAM asset d-2) for years more, before the run is approved.
    const state = await cli.stack.sandbox.state();
    const kept = state.twelvelabs.assets.find((a) => a._id === id(2))!;
    kept.user_metadata = { ...kept.user_metadata, delete_after: '2999-01-01' };
    await cli.stack.sandbox.seed(state);

    const approved = await runCli(['approve', run, '--digest', digest], { env: cli.env });
    assert.equal(approved.code, 0, approved.stderr);
    const result = (await cli.stack.temporal.client.workflow
      .getHandle(run)
      .result()) as ScheduledCleanupResult;
    assert.equal(result.selected, 3);
    const after = await cli.stack.sandbox.state();
    assert.deepEqual(after.twelvelabs.assets.map((a) => a._id).sort(), [id(2), id(4), id(5), id(6)]);
    assert.deepEqual(after.entermedia.assets.map((a) => a.id).sort(), ['d-2', 'd-4', 'd-9']);
    const report = await runCli(['report', run, '--json'], { env: cli.env });
    assert.equal(report.code, 0, report.stderr);
    const rows = Report.parse(JSON.parse(report.stdout)).rows.filter((r) => r.item === id(2));
    assert.deepEqual(
      rows.map((r) => `${r.system} ${r.outcome}`),
      ['twelvelabs skipped', 'entermedia skipped'],
    );
    for (const row of rows) {
      assert.match(row.detail ?? '', /no longer selected: its delete_after is now "2999-01-01"/);
    }

    // Retrying the run retries its skipped item under the same selection: read again, skipped again.
    const retried = await runCli(['retry', run], { env: cli.env });
    assert.equal(retried.code, 0, retried.stderr);
    const retry = /^started (\S+): retries 1 item of /m.exec(retried.stdout)?.[1];
    assert.ok(retry, retried.stdout);
    const retryDigest = await eventually(async () => {
      const steps = await runCli(['report', retry, '--json'], { env: cli.env });
      const parsed = JSON.parse(steps.stdout || '{}') as { status?: string; digest?: string };
      return parsed.status === 'awaiting-approval' ? parsed.digest : undefined;
    });
    assert.equal((await runCli(['approve', retry, '--digest', retryDigest], { env: cli.env })).code, 0);
    await cli.stack.temporal.client.workflow.getHandle(retry).result();
    const afterRetry = await cli.stack.sandbox.state();
    assert.ok(
      afterRetry.twelvelabs.assets.some((a) => a._id === id(2)),
      'asset 2 is still there',
    );
    assert.ok(
      afterRetry.entermedia.assets.some((a) => a.id === 'd-2'),
      'its DAM asset too',
    );
    assert.equal((await runCli(['schedule', 'delete', 'approved'], { env: cli.env })).code, 0);
  });

  it('an item taken out of the manifest while the run awaited approval is read again and skipped', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    const manifest = file('takedowns.json', {
      name: 'takedowns',
      items: [
        { id: 'gone-1', entermedia: { assetId: 'd-9' } },
        { id: 'gone-2', entermedia: { assetId: 'd-4' } },
      ],
    });
    const policy = file('takedowns.policy.json', {
      name: 'takedowns',
      select: { manifest: 'takedowns.json' },
      maxItems: 10,
      requireApproval: true,
    });
    const created = await runCli(['schedule', 'create', 'takedowns', '--policy', policy, '--every', '7d'], {
      env: cli.env,
    });
    assert.equal(created.code, 0, created.stderr);
    const triggered = await runCli(['schedule', 'trigger', 'takedowns'], { env: cli.env });
    const run = /^triggered schedule takedowns: started (cleanup-takedowns-\S+)$/m.exec(
      triggered.stdout,
    )?.[1];
    assert.ok(run, triggered.stdout);
    const digest = await eventually(async () => {
      const report = await runCli(['report', run, '--json'], { env: cli.env });
      const steps = JSON.parse(report.stdout || '{}') as { status?: string; digest?: string };
      return steps.status === 'awaiting-approval' ? steps.digest : undefined;
    });

    // The takedown of d-4 is withdrawn before the run is approved.
    writeFileSync(
      manifest,
      JSON.stringify({ name: 'takedowns', items: [{ id: 'gone-1', entermedia: { assetId: 'd-9' } }] }),
    );
    const approved = await runCli(['approve', run, '--digest', digest], { env: cli.env });
    assert.equal(approved.code, 0, approved.stderr);
    await cli.stack.temporal.client.workflow.getHandle(run).result();
    assert.deepEqual((await cli.stack.sandbox.state()).entermedia.assets.map((a) => a.id).sort(), [
      'd-1',
      'd-2',
      'd-4',
    ]);
    const report = await runCli(['report', run, '--json'], { env: cli.env });
    assert.equal(report.code, 0, report.stderr);
    const rows = Report.parse(JSON.parse(report.stdout)).rows;
    assert.deepEqual(
      rows.map((r) => `${r.item} ${r.system} ${r.outcome}`),
      ['gone-1 entermedia deleted', 'gone-2 entermedia skipped'],
    );
    assert.match(rows[1]!.detail ?? '', /no longer selected: no longer in the manifest/);
    assert.equal((await runCli(['schedule', 'delete', 'takedowns'], { env: cli.env })).code, 0);
  });

  it('a run that selects nothing says so and exits 0 in status, report and retry', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    const policy = file('none.policy.json', {
      name: 'none',
      select: { twelvelabsMetadata: { field: 'never_set_anywhere' } },
      maxItems: 10,
    });
    const created = await runCli(['schedule', 'create', 'none', '--policy', policy, '--every', '7d'], {
      env: cli.env,
    });
    assert.equal(created.code, 0, created.stderr);
    const { workflowId, result } = await triggerAndWait('none', 0);
    assert.equal(result.selected, 0);
    for (const command of ['status', 'report', 'retry']) {
      const read = await runCli([command, workflowId], { env: cli.env });
      assert.equal(read.code, 0, `${command}: ${read.stderr}`);
      assert.match(
        read.stderr,
        new RegExp(`^${workflowId} is a scheduled clean-up run that selected nothing to delete`, 'm'),
      );
    }
    assert.equal((await runCli(['schedule', 'delete', 'none'], { env: cli.env })).code, 0);
  });

  it('cancel while a run still selects stops it before its bulk delete: nothing is deleted', async () => {
    await cli.stack.sandbox.seed(CATALOGUE);
    const before = await cli.stack.sandbox.state();
    const policy = file('slow.policy.json', {
      name: 'slow',
      select: {
        twelvelabsMetadata: { field: 'delete_after', entermediaAssetIdField: 'entermedia_asset_id' },
      },
      maxItems: 10,
    });
    assert.equal(
      (await runCli(['schedule', 'create', 'slow', '--policy', policy, '--every', '7d'], { env: cli.env }))
        .code,
      0,
    );
    // Listing the catalogue takes seconds: the run is still selecting when it is cancelled.
    await cli.stack.sandbox.faults({ twelvelabs: { latencyMs: [3000, 3000] } });
    try {
      const triggered = await runCli(['schedule', 'trigger', 'slow'], { env: cli.env });
      const run = /^triggered schedule slow: started (cleanup-slow-\S+)$/m.exec(triggered.stdout)?.[1];
      assert.ok(run, triggered.stdout);
      const cancelled = await runCli(['cancel', run, '--wait'], { env: cli.env });
      assert.equal(cancelled.code, 3, cancelled.stderr);
      assert.match(
        cancelled.stdout,
        new RegExp(`^cancellation requested for ${run}: it was still selecting`, 'm'),
      );
      const status = await runCli(['status', run], { env: cli.env });
      assert.equal(status.code, 3, status.stderr);
      assert.match(status.stderr, /is a scheduled clean-up run that was cancelled before any delete$/m);
    } finally {
      await cli.stack.sandbox.faults({});
    }
    assert.deepEqual(await cli.stack.sandbox.state(), before, 'nothing was deleted');
    assert.equal((await runCli(['schedule', 'delete', 'slow'], { env: cli.env })).code, 0);
  });

  it('a schedule name is used once; delete removes it', async () => {
    const twice = await runCli(
      ['schedule', 'create', 'weekly', '--policy', join(cli.dir, 'manifest.policy.json'), '--every', '7d'],
      { env: cli.env },
    );
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /a schedule "weekly" already exists/);

    for (const name of ['weekly', 'expired']) {
      const deleted = await runCli(['schedule', 'delete', name], { env: cli.env });
      assert.equal(deleted.code, 0, deleted.stderr);
      const gone = await runCli(['schedule', 'describe', name], { env: cli.env });
      assert.equal(gone.code, 2);
      assert.match(gone.stderr, new RegExp(`^no schedule "${name}"$`, 'm'));
    }
  });
});
