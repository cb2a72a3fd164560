import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from '../helpers/ports.js';
import { startTestServer, uniqueTaskQueue } from '../helpers/temporal.js';
import { cleanEnv, eventually, runCli, startCli } from './cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Runs that no worker picks up: said at once, and Ctrl-C says that the run goes on. */
describe('a run on a task queue that no worker polls', () => {
  let temporal: TestWorkflowEnvironment;
  let env: NodeJS.ProcessEnv;
  let plan: string;
  const started: string[] = [];

  before(async () => {
    temporal = await startTestServer();
    env = cleanEnv({ TEMPORAL_ADDRESS: temporal.address, BULK_DELETE_TASK_QUEUE: uniqueTaskQueue('nobody') });
    const dir = tempDir('bulk-delete-no-worker-');
    plan = join(dir, 'lonely.json');
    writeFileSync(
      plan,
      JSON.stringify({ name: 'lonely', items: [{ id: 'a', entermedia: { assetId: '1' } }] }),
    );
  });
  after(async () => {
    // Nothing will ever run them: end them so that the server stops cleanly.
    for (const id of started) await temporal.client.workflow.getHandle(id).terminate('test over');
    await temporal.teardown();
  });

  it('plan says that no worker polls the task queue and starts nothing (exit 2)', async () => {
    const result = await runCli(['plan', plan], { env });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^no worker polls task queue "nobody-\S+" \(namespace default\)/m);
    assert.match(result.stderr, /npx bulk-delete worker/);
    assert.match(result.stderr, /^nothing was started$/m);
    const runs = [];
    for await (const run of temporal.client.workflow.list()) runs.push(run.workflowId);
    assert.deepEqual(runs, []);
  });

  it('run --wait warns at once and keeps waiting; Ctrl-C says the run goes on and how to follow or cancel it', async () => {
    const running = startCli(['run', plan, '--wait', '--id', 'lonely-1', '--start-within', '5m'], { env });
    started.push('lonely-1');
    const warnedAfter = Date.now();
    await eventually(
      () => Promise.resolve(/no worker polls task queue/.test(running.output().stderr)),
      15_000,
    );
    assert.ok(Date.now() - warnedAfter < 10_000, 'the warning comes at once');
    assert.equal(running.child.exitCode, null, 'and it keeps waiting');

    running.child.kill('SIGINT');
    const result = await running.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted: lonely-1 goes on without this command/);
    assert.match(result.stderr, /it is still queued: no worker has picked it up yet/);
    assert.match(result.stderr, /^ {2}follow it: npx bulk-delete status lonely-1 --follow$/m);
    assert.match(result.stderr, /^ {2}cancel it: npx bulk-delete cancel lonely-1$/m);

    // The start deadline travels with the run, for the workflow to end it unstarted.
    const history = await temporal.client.workflow.getHandle('lonely-1').fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { startWithinMs?: number };
    assert.equal(input.startWithinMs, 5 * 60_000);
  });

  it('run without --wait starts the run, warns and gives the default start deadline of 10 minutes', async () => {
    const result = await runCli(['run', plan, '--id', 'lonely-2'], { env });
    started.push('lonely-2');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^started lonely-2: plan lonely, 1 item$/m);
    assert.match(result.stderr, /^warning: no worker polls task queue/m);
    const status = await runCli(['status', 'lonely-2'], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^no progress yet: no worker has picked the run up$/m);
    assert.match(status.stderr, /^warning: no worker polls task queue "nobody-/m);
    const history = await temporal.client.workflow.getHandle('lonely-2').fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { startWithinMs?: number };
    assert.equal(input.startWithinMs, 10 * 60_000);
  });

  it('Web UI links say 127.0.0.1, as the dev server banner does, when Temporal is addressed as localhost', async () => {
    const port = temporal.address.split(':').pop()!;
    const result = await runCli(['run', plan, '--id', 'lonely-3', '--json'], {
      env: { ...env, TEMPORAL_ADDRESS: `localhost:${port}` },
    });
    started.push('lonely-3');
    assert.equal(result.code, 0, result.stderr);
    const { webUiUrl } = JSON.parse(result.stdout) as { webUiUrl: string };
    assert.match(webUiUrl, /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/lonely-3\//);
  });

  it('a namespace the server does not have is named, with how to create it, by the worker and the commands (exit 2)', async () => {
    const missing = { ...env, TEMPORAL_NAMESPACE: 'no-such-namespace' };
    const expected = new RegExp(
      `^Temporal at ${temporal.address.replace(/\./g, '\\.')} has no namespace "no-such-namespace" \\(TEMPORAL_NAMESPACE\\).*` +
        'temporal operator namespace create --namespace no-such-namespace\\)$',
      'm',
    );
    for (const args of [
      ['status', 'x'],
      ['worker', '--allow-unconfigured'],
    ]) {
      const result = await runCli(args, { env: missing });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr, /Status \{|tonic|failed:/);
    }
  });

  it('a worker that cannot reach Temporal says where it looked and why, in one line, and exits 2', async () => {
    const port = await freePort();
    const result = await runCli(['worker', '--allow-unconfigured'], {
      env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS\\): connection refused$`,
        'm',
      ),
    );
    assert.doesNotMatch(result.stderr, /tonic|ConnectError/);
  });

  it('a command with TLS on against a server without TLS says that TLS is on, not only that nothing answered', async () => {
    for (const tls of [{ TEMPORAL_TLS: 'true' }, { TEMPORAL_API_KEY: 'SECRET-KEY-VALUE' }]) {
      const result = await runCli(['status', 'x'], { env: { ...env, ...tls } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^cannot reach Temporal at \S+ \(TEMPORAL_ADDRESS\): no answer in time with TLS on \(TEMPORAL_TLS, TEMPORAL_API_KEY or a certificate\)/m,
      );
      assert.doesNotMatch(result.stderr, /SECRET-KEY-VALUE/);
    }
  });

  it('a start deadline that is not a duration is refused before anything starts', async () => {
    const result = await runCli(['run', plan, '--start-within', 'soon'], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--start-within must be a number and a unit \(s, m, h or d\), e\.g\. 10m/);
  });
});

describe('the command line without a server', () => {
  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^bulk-delete \d+\.\d+\.\d+$/m);
  });

  it('an unknown option is named with the options the command takes, and a near one', async () => {
    const result = await runCli(['status', 'x', '--folow']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^Unknown option '--folow' \(did you mean --follow\?\); this command takes --follow, --json, --help$/m,
    );
    assert.doesNotMatch(result.stderr, /positional argument/, "not Node's raw parser message");
    const missing = await runCli(['run', 'plan.json', '--id']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^--id needs a value$/m);
    // A value with a leading dash reads as an option: said so, not "takes no value".
    const dashed = await runCli(['schedule', 'create', 'x', '--policy', 'p.json', '--every', '-1h']);
    assert.equal(dashed.code, 2);
    assert.match(dashed.stderr, /^--every needs a value; one that starts with "-" is given as --every=-1h$/m);
  });

  it('schedule refuses an option that its subcommand does not take, before connecting', async () => {
    const result = await runCli(['schedule', 'delete', 'x', '--every', '1h'], {
      env: cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }),
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^"schedule delete" does not take --every; it takes --json$/m);
  });
});
