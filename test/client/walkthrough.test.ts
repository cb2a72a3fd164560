/**
 * The README's walkthrough, command by command, against the local stack that `npm start` runs: the
 * commands are read from the README's fenced block, so that the README stays true.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Report } from '../../plan/index.js';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';
import { freePort } from '../helpers/ports.js';
import { cleanEnv, eventually, runCli, startCli, type CliResult } from './cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The commands of the README's walkthrough block, without their comments. */
export function walkthroughCommands(readme: string): string[] {
  const section = readme.split(/^## Walkthrough$/m)[1];
  const block = section && /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1];
  assert.ok(block, 'the README has a "## Walkthrough" section with a ```sh block');
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

describe('the README walkthrough, on the local stack of npm start', () => {
  const commands = walkthroughCommands(readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8'));
  let dev: ReturnType<typeof startCli>;
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  const values: Record<string, string> = {};
  const timings: Record<string, number> = {};

  before(async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const data = tempDir('bulk-delete-walkthrough-');
    const devEnv = cleanEnv({
      TEMPORAL_DEV_PORT: String(port),
      TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_CODEC_PORT: String(await freePort()),
      TEMPORAL_DB_FILE: join(data, 'temporal.sqlite'),
    });
    // What "npm start" runs; the README's commands then talk to it from another folder.
    const started = Date.now();
    dev = startCli(['dev'], { env: devEnv });
    await eventually(() => Promise.resolve(/^Web UI: http/m.test(dev.output().stderr)), 120_000);
    timings.firstWebUiLinkMs = Date.now() - started;
    await eventually(() => Promise.resolve(/the local stack stays up/.test(dev.output().stderr)), 120_000);
    timings.stackUpMs = Date.now() - started;
    env = cleanEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_UI_PORT: String(uiPort) });
    cwd = tempDir('bulk-delete-walkthrough-cwd-');
    symlinkSync(join(PROJECT_ROOT, 'examples'), join(cwd, 'examples'));
  });
  after(async () => {
    if (dev.child.exitCode === null) dev.child.kill('SIGINT');
    const result = await dev.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^local stack stopped$/m);
    console.log(`walkthrough timings: ${JSON.stringify(timings)}`);
  });

  /** Runs one README command (`npx bulk-delete ...`) with its placeholders filled in. */
  async function readme(command: string): Promise<CliResult> {
    assert.match(command, /^npx bulk-delete /, 'every example uses npx bulk-delete');
    const filled = command.replace(/<([a-z ]+)>/g, (_, name: string) => {
      assert.ok(values[name], `a value for <${name}> from an earlier command`);
      return values[name];
    });
    const result = await runCli(filled.replace(/^npx bulk-delete /, '').split(/\s+/), { env, cwd });
    assert.equal(result.code, 0, `${filled}\n${result.stderr}`);
    return result;
  }

  const at = (prefix: string): string => {
    const command = commands.find((c) => c.startsWith(prefix));
    assert.ok(command, `the walkthrough has "${prefix} ..."`);
    return command;
  };

  it('the stack of npm start ran the example plan and stays up with a live Web UI link', async () => {
    const { stderr } = dev.output();
    assert.match(stderr, /^Temporal dev server on 127\.0\.0\.1:\d+, Web UI http:\/\/127\.0\.0\.1:\d+$/m);
    const link = /^Web UI of the run: (http\S+)$/m.exec(dev.output().stdout)?.[1];
    assert.ok(link, 'the run has a Web UI link');
    const page = await fetch(link);
    assert.equal(page.status, 200, 'the Web UI answers the link while the stack is up');
    // Where the run's report is, from another terminal (this stack is not on the default port).
    const reportLine =
      /^the run's report, one row per item and system: TEMPORAL_ADDRESS=127\.0\.0\.1:\d+ npx bulk-delete report bulk-delete-dev-takedown-2026-11-\S+$/m;
    await eventually(() => Promise.resolve(reportLine.test(dev.output().stderr)));
  });

  it('npx resolves bulk-delete in a clone', async () => {
    const { stdout } = await promisify(execFile)('npx', ['bulk-delete', '--version'], {
      cwd: PROJECT_ROOT,
      env: cleanEnv(),
    });
    assert.match(stdout, /^bulk-delete \d+\.\d+\.\d+$/m);
  });

  it('plan shows the steps of the second example plan, which the first one left, and a digest', async () => {
    const { stdout } = await readme(at('npx bulk-delete plan '));
    assert.match(stdout, /^\d+ steps for 3 items of plan archive-2026-11; nothing was changed$/m);
    assert.match(stdout, /^digest: [0-9a-f]{64}$/m);
  });

  it('run --require-approval starts the run and names it', async () => {
    const { stdout } = await readme(at('npx bulk-delete run '));
    const started = /^started (\S+): plan archive, 3 items$/m.exec(stdout);
    assert.ok(started, stdout);
    values['workflow id'] = started[1]!;
  });

  it('status says the run waits for approval once discovery is done, and where to review it', async () => {
    const command = at('npx bulk-delete status <workflow id>');
    const result = await eventually(async () => {
      const r = await readme(command);
      return /^ {2}then approve them: .* --digest [0-9a-f]{64}$/m.test(r.stdout) ? r : undefined;
    }, 60_000);
    assert.match(
      result.stdout,
      new RegExp(
        `^awaiting approval: review its steps with bulk-delete report ${values['workflow id']}$`,
        'm',
      ),
    );
  });

  it('report lists the steps to review and the digest that approves them', async () => {
    const { stdout, stderr } = await readme(at('npx bulk-delete report <workflow id>'));
    assert.match(stderr, /is waiting for approval: nothing was deleted yet/);
    assert.match(stdout, /^item\s+system\s+step\s+target/m);
    assert.match(stdout, /^\d+ steps for 3 items; digest: [0-9a-f]{64}$/m);
    values.digest = /^approve: bulk-delete approve \S+ --digest ([0-9a-f]{64})$/m.exec(stdout)![1]!;
  });

  it('a wrong digest is refused without showing the right one', async () => {
    const wrong = await runCli(['approve', values['workflow id']!, '--digest', '0'.repeat(64)], { env, cwd });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /does not match the discovered steps/);
    assert.ok(!wrong.stderr.includes(values.digest!), 'the refusal does not print the right digest');
  });

  it('approve, status --follow and report delete the items and write the report', async () => {
    await readme(at('npx bulk-delete approve '));
    await readme(at('npx bulk-delete status <workflow id> --follow'));
    await readme(at('npx bulk-delete report <workflow id> --out '));
    assert.ok(existsSync(join(cwd, 'report.md')), 'report.md was written');
    const json = await runCli(['report', values['workflow id']!, '--format', 'json'], { env, cwd });
    const report = Report.parse(JSON.parse(json.stdout));
    assert.equal(report.summary.items, 3);
    assert.deepEqual([...new Set(report.rows.map((r) => `${r.item} ${r.system}`))].sort(), [
      'ep-1060 entermedia',
      'ep-1060 twelvelabs',
      'ep-1061 entermedia',
      'ep-1061 twelvelabs',
      'ep-1061 uplynk',
      'ep-1062 entermedia',
    ]);
  });

  it('the schedule commands create, trigger and describe a recurring clean-up', async () => {
    await readme(at('npx bulk-delete schedule create '));
    const triggered = await readme(at('npx bulk-delete schedule trigger '));
    const run = /^triggered schedule expired: started (\S+)$/m.exec(triggered.stdout)?.[1];
    assert.ok(run, triggered.stdout);
    const described = await readme(at('npx bulk-delete schedule describe '));
    assert.match(described.stdout, /^next runs:$/m);

    // The triggered run deletes the two promos whose delete_after is past, and no other asset.
    const follow = await runCli(['status', run, '--follow'], { env, cwd });
    assert.equal(follow.code, 0, follow.stderr);
    const json = await runCli(['report', run, '--format', 'json'], { env, cwd });
    assert.equal(json.code, 0, json.stderr);
    const report = Report.parse(JSON.parse(json.stdout));
    assert.equal(report.summary.items, 2);
  });

  it('every command of the walkthrough was run', () => {
    const covered = [
      'npx bulk-delete plan ',
      'npx bulk-delete run ',
      'npx bulk-delete status <workflow id>',
      'npx bulk-delete report <workflow id>',
      'npx bulk-delete approve ',
      'npx bulk-delete status <workflow id> --follow',
      'npx bulk-delete report <workflow id> --out ',
      'npx bulk-delete schedule create ',
      'npx bulk-delete schedule trigger ',
      'npx bulk-delete schedule describe ',
    ];
    assert.deepEqual(
      commands.filter((c) => !covered.some((prefix) => c.startsWith(prefix))),
      [],
      'a README command that no test step runs',
    );
    assert.equal(commands.length, covered.length);
  });
});
