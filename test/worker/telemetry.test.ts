import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { installTelemetry } from '../../worker/telemetry.js';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';
import { freePort } from '../helpers/ports.js';

/** Runs a script in a process of its own (the runtime is installed once per process); answers its stderr. */
function runScript(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', () => resolve(stderr)));
}

const LOG_FAILURES = `const { installTelemetry } = await import('./worker/telemetry.ts');
  const { Runtime } = await import('@temporalio/worker');
  const { ApplicationFailure } = await import('@temporalio/common');
  installTelemetry(process.env);
  const logger = Runtime.instance().logger;
  logger.warn('Activity failed', { error: ApplicationFailure.retryable('vendor answered 503', 'VendorUnavailable') });
  logger.error('Activity failed', { error: ApplicationFailure.nonRetryable('vendor answered 400', 'VendorRejected') });`;

describe('worker logs', () => {
  it('are one JSON object a line in production, an expected retry without its stack trace', async () => {
    const stderr = await runScript(LOG_FAILURES, { NODE_ENV: 'production', BULK_DELETE_LOG_FORMAT: '' });
    const lines = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; error?: Record<string, unknown> });
    const retry = lines.find((l) => l.error?.type === 'VendorUnavailable');
    const fatal = lines.find((l) => l.error?.type === 'VendorRejected');
    assert.equal(retry?.level, 'warn');
    assert.equal(retry?.msg, 'Activity failed');
    assert.equal(retry?.error?.stack, undefined);
    assert.equal(fatal?.level, 'error');
    assert.match(String(fatal?.error?.stack), /VendorRejected|vendor answered 400/);
  });

  it('are readable lines in development', async () => {
    const stderr = await runScript(LOG_FAILURES, { NODE_ENV: 'development', BULK_DELETE_LOG_FORMAT: '' });
    assert.match(
      stderr,
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}Activity failed error=\{"type":"VendorUnavailable"/m,
    );
    assert.doesNotMatch(stderr.split('\n').find((l) => l.includes('VendorUnavailable')) ?? '', /stack/);
  });
});

describe('worker telemetry', () => {
  it('refuses a malformed metrics address, naming the variable', () => {
    assert.throws(
      () => installTelemetry({ BULK_DELETE_METRICS_BIND: 'not an address' }),
      /BULK_DELETE_METRICS_BIND/,
    );
  });

  it('serves the SDK metrics for Prometheus when BULK_DELETE_METRICS_BIND is set', async () => {
    const port = await freePort();
    // A process of its own: the runtime is installed once per process.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '--eval',
        `const { installTelemetry } = await import('./worker/telemetry.ts');
         const { Runtime } = await import('@temporalio/worker');
         console.log(installTelemetry(process.env));
         Runtime.instance();
         setTimeout(() => process.exit(0), 10000);`,
      ],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          BULK_DELETE_METRICS_BIND: `127.0.0.1:${port}`,
          BULK_DELETE_LOG_FORMAT: 'pretty',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
      );
      assert.match(line, new RegExp(`127.0.0.1:${port}/metrics`));
      let res: Response | undefined;
      for (let i = 0; i < 50 && !res; i++) {
        res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(res?.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    } finally {
      child.kill();
    }
  });
});
