import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { installTelemetry } from '../../worker/telemetry.js';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';
import { freePort } from '../helpers/ports.js';

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
        env: { ...process.env, BULK_DELETE_METRICS_BIND: `127.0.0.1:${port}` },
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
