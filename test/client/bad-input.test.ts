import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cleanEnv, connectionCounter, runCli } from './cli-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const TL = '6298d673f1090f1100476d4c';

describe('bad input starts nothing and exits 2 with one clear message', () => {
  let dir: string;
  let temporal: Awaited<ReturnType<typeof connectionCounter>>;
  let env: NodeJS.ProcessEnv;

  /** A worker's environment with every system's credentials (fake ones), and `extra`. */
  function configuredWorker(extra: Record<string, string>): NodeJS.ProcessEnv {
    return cleanEnv({
      TEMPORAL_ADDRESS: temporal.address,
      TWELVELABS_API_KEY: 'k',
      UPLYNK_OWNER_ID: 'o',
      UPLYNK_API_KEY: 'k',
      ENTERMEDIA_BASE_URL: 'http://127.0.0.1:9/dam',
      ENTERMEDIA_KEY: 'k',
      ...extra,
    });
  }

  before(async () => {
    dir = tempDir('bulk-delete-bad-input-');
    // Where Temporal would be: any connection to it means the command went ahead with bad input.
    temporal = await connectionCounter();
    env = cleanEnv({ TEMPORAL_ADDRESS: temporal.address });
  });
  after(async () => {
    assert.equal(temporal.count(), 0, 'a command with bad input connected to Temporal');
    await temporal.close();
  });

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  async function refused(args: string[], expected: RegExp[], extraEnv: NodeJS.ProcessEnv = env) {
    const result = await runCli(args, { env: extraEnv, cwd: dir });
    assert.equal(result.code, 2, `exit code of ${args.join(' ')}\n${result.stderr}`);
    for (const pattern of expected) assert.match(result.stderr, pattern);
    assert.equal(result.stdout, '', 'nothing on stdout');
    return result;
  }

  it('a malformed JSON plan names the line and column', async () => {
    file('broken.json', `{\n  "name": "t",\n  "items": [ { "id": "a", } ]\n}\n`);
    await refused(
      ['run', 'broken.json'],
      [
        /^broken\.json:3:27: invalid JSON: unexpected "}", expected a field name in double quotes$/m,
        /nothing was started/,
      ],
    );
  });

  it('an unknown field names the file, its line and the field', async () => {
    file(
      'unknown.json',
      `{\n  "name": "t",\n  "items": [\n    { "id": "a",\n      "twelvelabs": { "assetId": "${TL}" },\n      "youtube": { "id": "x" } }\n  ]\n}\n`,
    );
    const result = await refused(
      ['run', 'unknown.json', '--wait'],
      [/^unknown\.json:6: items\[0\]\.youtube: unknown field/m],
    );
    assert.equal(result.stderr.split('\n').filter((l) => l.startsWith('unknown.json')).length, 1);
  });

  it('a bad ID names the line and field and shows the value', async () => {
    file(
      'bad-id.json',
      `{ "name": "t",\n  "items": [\n    { "id": "a", "twelvelabs": { "assetId": "XYZ" } } ] }\n`,
    );
    await refused(
      ['run', 'bad-id.json'],
      [
        /^bad-id\.json:3: items\[0\]\.twelvelabs\.assetId: must be a TwelveLabs ID: 24 lower-case hex characters \(got "XYZ"\)$/m,
      ],
    );
  });

  it('a duplicate item names both lines', async () => {
    file(
      'dup.json',
      `{ "name": "t", "items": [\n  { "id": "ep-1", "entermedia": { "assetId": "1" } },\n  { "id": "ep-1", "entermedia": { "assetId": "2" } } ] }\n`,
    );
    await refused(
      ['plan', 'dup.json'],
      [/^dup\.json:3: items\[1\]\.id: duplicate item id "ep-1": already in items\[0\] \(line 2\)$/m],
    );
  });

  it('a CSV line with the wrong number of fields is named', async () => {
    file('plan.csv', `id,twelvelabs.assetId,entermedia.assetId\nep-1,${TL},101\nep-2,,102,extra\n`);
    await refused(
      ['run', 'plan.csv'],
      [/^plan\.csv:3: broken line: 4 fields, expected 3 \(id, twelvelabs\.assetId, entermedia\.assetId\)$/m],
    );
  });

  it('a CSV quote that is never closed names its line', async () => {
    file('quote.csv', `id,entermedia.assetId\nep-1,101\n"ep-2,102\nep-3,103\n`);
    await refused(['run', 'quote.csv'], [/^quote\.csv:3: broken line: a quoted field is never closed$/m]);
  });

  it('a bad ID in a CSV names the line and the column', async () => {
    file('ids.csv', `id,twelvelabs.assetId\nep-1,${TL}\nep-2,not-hex\n`);
    await refused(['run', 'ids.csv'], [/^ids\.csv:3: twelvelabs\.assetId: must be a TwelveLabs ID/m]);
  });

  it('a missing plan file, an unknown extension and a bad flag value are refused', async () => {
    await refused(['run', 'nowhere.json'], [/^nowhere\.json: cannot read the plan: no such file$/m]);
    file('plan.txt', '{}');
    await refused(
      ['run', 'plan.txt'],
      [/cannot tell the format from the file name: name it \.json or \.csv, or give --format json\|csv/],
    );
    file('ok.csv', `id,entermedia.assetId\nep-1,101\n`);
    await refused(
      ['run', 'ok.csv', '--max-items', 'lots'],
      [/--max-items must be a whole number from 1 to 10000000, got "lots"/],
    );
    // Beyond what a run takes: refused, not quietly lowered.
    await refused(
      ['run', 'ok.csv', '--chunk-size', '5000'],
      [/--chunk-size must be a whole number from 1 to 2000, got "5000"/],
    );
    await refused(
      ['run', 'ok.csv', '--window', '64'],
      [/--window must be a whole number from 1 to 50, got "64"/],
    );
    await refused(
      ['run', 'ok.csv', '--last-entity-asset', 'ignore'],
      [/--last-entity-asset must be one of force-unlink, delete-entity, skip-item/],
    );
    // A value that starts with "-" reads as another option: the flag is named, and how to give it.
    const negative = await refused(
      ['run', 'ok.csv', '--max-items', '-1'],
      [/^--max-items needs a value; one that starts with "-" is given as --max-items=-1$/m],
    );
    assert.doesNotMatch(negative.stderr, /takes no value/);
    await refused(
      ['run', 'ok.csv', '--max-items=-1'],
      [/--max-items must be a whole number from 1 to 10000000, got "-1"/],
    );
  });

  it('an unknown option or a missing argument shows the usage', async () => {
    await refused(['run'], [/missing PLAN/, /usage: bulk-delete run PLAN/]);
    await refused(['status', 'x', '--folow'], [/Unknown option '--folow'/, /usage: bulk-delete status ID/]);
    await refused(['frobnicate'], [/unknown command "frobnicate"/]);
    await refused(['approve', 'some-id'], [/missing --digest D/]);
    // An empty argument (an unset shell variable in quotes) is as missing as none.
    for (const command of ['status', 'report', 'cancel', 'retry']) {
      await refused(
        [command, ''],
        [/^ID must not be empty$/m, new RegExp(`usage: bulk-delete ${command} ID`)],
      );
    }
    await refused(['run', ''], [/^PLAN must not be empty$/m]);
    await refused(
      ['approve', 'some-id', '--digest', 'abc'],
      [/--digest must be 64 lower-case hex characters/],
    );
  });

  it('a bad Temporal address is a configuration error', async () => {
    file('good.json', JSON.stringify({ name: 'good', items: [{ id: 'a', entermedia: { assetId: '1' } }] }));
    await refused(
      ['run', 'good.json'],
      [/TEMPORAL_ADDRESS/, /must be host:port/],
      cleanEnv({ TEMPORAL_ADDRESS: 'not an address' }),
    );
  });

  it('a bad clean-up policy names its line and field, and no schedule is made', async () => {
    file(
      'policy.json',
      `{\n  "name": "expired",\n  "select": { "twelvelabsMetadata": { "feild": "delete_after" } },\n  "maxItems": 5000\n}\n`,
    );
    const result = await refused(
      ['schedule', 'create', 'expired', '--policy', 'policy.json', '--every', '24h'],
      [
        /^policy\.json:3: select\.twelvelabsMetadata\.feild: unknown field/m,
        /^policy\.json:3: select\.twelvelabsMetadata\.field: required/m,
        /no schedule was created/,
      ],
    );
    assert.doesNotMatch(result.stderr, /at \w+ \(/, 'no stack trace');
    // A location no run can read (each run reads a path or an http(s) URL): refused now, not at every run.
    file(
      'ftp.json',
      `{\n  "name": "takedowns",\n  "select": { "manifest": "ftp://files.example/plan.json" }\n}\n`,
    );
    await refused(
      ['schedule', 'create', 'takedowns', '--policy', 'ftp.json', '--every', '24h'],
      [
        /^ftp\.json: select\.manifest: must be a plan file path or an http\(s\) URL \(got "ftp:\/\/files\.example\/plan\.json"\)$/m,
        /no schedule was created/,
      ],
    );
  });

  it('a schedule needs exactly one of --every and --cron, and a readable interval', async () => {
    file('p.json', JSON.stringify({ name: 'p', select: { manifest: 'plan.json' } }));
    await refused(
      ['schedule', 'create', 'p', '--policy', 'p.json'],
      [/give exactly one of --every \(e\.g\. 24h\) or --cron/],
    );
    await refused(
      ['schedule', 'create', 'p', '--policy', 'p.json', '--every', 'daily'],
      [/--every must be a number and a unit/],
    );
    await refused(['schedule', 'fly', 'p'], [/unknown schedule command "fly"/]);
  });

  it('a worker without credentials names the variables, never a value, and does not start', async () => {
    const result = await refused(
      ['worker'],
      [/missing credentials: .*TWELVELABS_API_KEY.*UPLYNK_OWNER_ID.*ENTERMEDIA_KEY/, /nothing was started/],
      cleanEnv({
        TEMPORAL_ADDRESS: temporal.address,
        UPLYNK_API_KEY: 'secret-uplynk-value',
        ENTERMEDIA_BASE_URL: 'http://127.0.0.1:9/dam',
      }),
    );
    assert.doesNotMatch(result.stderr, /secret-uplynk-value/);
  });

  it('a worker with a malformed base URL names the variable', async () => {
    await refused(
      ['worker', '--allow-unconfigured'],
      [/TWELVELABS_BASE_URL/, /must be an http\(s\) URL/],
      cleanEnv({ TEMPORAL_ADDRESS: temporal.address, TWELVELABS_BASE_URL: 'ftp://x' }),
    );
  });

  it('a worker with a malformed telemetry setting names the variable', async () => {
    await refused(
      ['worker'],
      [/bad telemetry configuration/, /BULK_DELETE_METRICS_BIND/],
      configuredWorker({
        BULK_DELETE_METRICS_BIND: 'everywhere',
      }),
    );
  });

  it('a worker whose metrics address is taken names BULK_DELETE_METRICS_BIND and does not start', async () => {
    // The address of the stand-in for Temporal is one a process already listens on.
    const result = await refused(
      ['worker'],
      [/bad telemetry configuration/, /cannot serve metrics on 127\.0\.0\.1:\d+/, /BULK_DELETE_METRICS_BIND/],
      configuredWorker({
        BULK_DELETE_METRICS_BIND: temporal.address,
      }),
    );
    assert.doesNotMatch(result.stderr, /already set up/);
  });

  it('a worker whose health check address is taken names BULK_DELETE_HEALTH_BIND and exits 2 before connecting', async () => {
    await refused(
      ['worker'],
      [
        /bad worker configuration/,
        /cannot serve the health check on 127\.0\.0\.1:\d+/,
        /BULK_DELETE_HEALTH_BIND/,
      ],
      configuredWorker({
        BULK_DELETE_HEALTH_BIND: temporal.address,
      }),
    );
  });

  it('a worker with a malformed S3 endpoint names BULK_DELETE_S3_ENDPOINT before it starts, not when a run archives', async () => {
    await refused(
      ['worker'],
      [/bad worker configuration/, /must be an http\(s\) URL/, /BULK_DELETE_S3_ENDPOINT/],
      configuredWorker({
        BULK_DELETE_REPORT_STORE: 's3://reports/bulk-delete',
        // The scheme forgotten: the AWS SDK only refuses it when the first report is written.
        BULK_DELETE_S3_ENDPOINT: 'minio:9000',
      }),
    );
  });

  it('a report store that is not a store location is named by "report", exit 2, before connecting', async () => {
    await refused(
      ['report', 'some-run'],
      [/^BULK_DELETE_REPORT_STORE "gs:\/\/reports" is not a store location: /m],
      { ...env, BULK_DELETE_REPORT_STORE: 'gs://reports' },
    );
  });

  it('dev with a bad plan starts nothing', async () => {
    file('dev-bad.json', `{ "name": "t", "items": [ { "id": "a", "entermedia": { "assetId": "1 1" } } ] }`);
    await refused(
      ['dev', '--once', '--plan', 'dev-bad.json'],
      [/^dev-bad\.json:1: items\[0\]\.entermedia\.assetId: must be 1 to 64 characters/m],
    );
  });

  it('a --id that is empty, has a "/" or characters a shell would mangle is refused, naming the flag', async () => {
    file('id-plan.json', JSON.stringify({ name: 't', items: [{ id: 'a', twelvelabs: { assetId: TL } }] }));
    for (const id of ['', 'other-run/chunk-00000', 'épisode ☃', '-x']) {
      await refused(
        ['run', 'id-plan.json', `--id=${id}`],
        [new RegExp(`^--id must be 1 to 200 characters of letters, digits.*got ${JSON.stringify(id)}$`, 'm')],
      );
    }
  });

  it('a plan store that is not a store location is named before a large plan is uploaded or started', async () => {
    const items = Array.from({ length: 1001 }, (_, i) => ({
      id: `i${i}`,
      entermedia: { assetId: String(i + 1) },
    }));
    file('large.json', JSON.stringify({ name: 'large', items }));
    await refused(
      ['run', 'large.json', '--max-items', '2000'],
      [/^BULK_DELETE_PLAN_STORE "s3:\/bad" is not a store location: .*; nothing was started$/m],
      { ...env, BULK_DELETE_PLAN_STORE: 's3:/bad' },
    );
  });

  it('--approval-timeout without --require-approval is refused: it would bound a wait that never comes', async () => {
    file(
      'timeout-plan.json',
      JSON.stringify({ name: 't', items: [{ id: 'a', twelvelabs: { assetId: TL } }] }),
    );
    await refused(
      ['run', 'timeout-plan.json', '--approval-timeout', '1h'],
      [/^--approval-timeout bounds the wait for an approval: give it with --require-approval$/m],
    );
  });

  it('numbers and durations are read as written, within bounds: no hex, no exponent, no century-long wait', async () => {
    file(
      'bounds-plan.json',
      JSON.stringify({ name: 't', items: [{ id: 'a', twelvelabs: { assetId: TL } }] }),
    );
    for (const [args, message] of [
      [['--max-items', '0x10'], /^--max-items must be a whole number from 1 to 10000000, got "0x10"$/m],
      [['--chunk-size', '1e3'], /^--chunk-size must be a whole number from 1 to \d+, got "1e3"$/m],
      [['--start-within', '99999999999d'], /^--start-within must be at most 366d, got "99999999999d"$/m],
      [
        ['--require-approval', '--approval-timeout', '400d'],
        /^--approval-timeout must be at most 366d, got "400d"$/m,
      ],
    ] as const) {
      await refused(['run', 'bounds-plan.json', ...args], [message]);
    }
    await refused(
      ['schedule', 'create', 'x', '--policy', 'p.json', '--every', '99999999999d'],
      [/^--every must be at most 366d, got "99999999999d"$/m],
    );
  });

  it('a .env that cannot be read is named in one line, without a stack, for any command', async () => {
    for (const [value, message] of [
      ['nope.env', /^bulk-delete: BULK_DELETE_ENV_FILE: no such file .*nope\.env$/m],
      ['.', /^bulk-delete: BULK_DELETE_ENV_FILE: .* is not a file$/m],
    ] as const) {
      for (const args of [['status', 'x'], ['--help']]) {
        const result = await refused(args, [message], { ...env, BULK_DELETE_ENV_FILE: value });
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      }
    }
  });

  it('output to a reader that stopped reading (| head) ends the command quietly, not with a stack', async () => {
    // The reading end is closed before the command writes: its write fails with EPIPE.
    const child = spawn(process.execPath, [CLI, 'run', '--help'], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error/);
  });

  it('every command answers --help with its usage and exit 0', async () => {
    for (const command of [
      'run',
      'plan',
      'status',
      'approve',
      'cancel',
      'report',
      'retry',
      'verify',
      'schedule',
      'worker',
      'sandbox',
      'dev',
    ]) {
      const result = await runCli([command, '--help'], { env, cwd: dir });
      assert.equal(result.code, 0, `${command} --help: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`usage: bulk-delete ${command}`, 'i'));
    }
    const top = await runCli(['--help'], { env, cwd: dir });
    assert.equal(top.code, 0);
    assert.match(top.stdout, /exit codes: 0 every item deleted/);
    assert.match(top.stdout, /130 interrupted with Ctrl-C \(the run goes on\)/);
  });
});
