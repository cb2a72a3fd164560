import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Report } from '../../plan/index.js';
import { cleanEnv, runCli } from './cli-process.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

describe('bulk-delete dev: the embedded local stack', () => {
  it('dev --once runs the example plan on the demo catalogue, prints the summary and the Web UI link, and stops everything', async () => {
    const [port, uiPort, codecPort] = [await freePort(), await freePort(), await freePort()];
    const env = cleanEnv({
      TEMPORAL_DEV_PORT: String(port),
      TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_CODEC_PORT: String(codecPort),
      TEMPORAL_DB_FILE: join(tempDir('bulk-delete-dev-'), 'temporal.sqlite'),
    });
    const result = await runCli(['dev', '--once'], { env, timeoutMs: 180_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^Temporal dev server on 127\\.0\\.0\\.1:${port}, Web UI http://127\\.0\\.0\\.1:${uiPort}$`,
        'm',
      ),
    );
    assert.match(
      result.stderr,
      /^sandbox on http:\/\/127\.0\.0\.1:\d+, seeded from examples\/demo-catalogue\.json$/m,
    );
    assert.match(result.stderr, /^\[#+\] 100% 5\/5 items · completed$/m);
    assert.match(result.stdout, /^plan takedown-2026-11: completed, 5 items$/m);
    // ep-1045 names assets the catalogue does not have: already absent everywhere.
    assert.match(result.stdout, /^items\s+4\s+1\s+0\s+0\s+0$/m);
    assert.match(
      result.stdout,
      new RegExp(
        `^Web UI of the run: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/bulk-delete-dev-takedown-2026-11-\\S+/[0-9a-f-]{36}/history$`,
        'm',
      ),
    );
    assert.match(result.stderr, /^local stack stopped$/m);
    assert.equal(await listening(port), false, 'the dev server stopped');
    assert.equal(await listening(uiPort), false, 'the Web UI stopped');
    assert.equal(await listening(codecPort), false, "the Web UI's codec endpoint stopped");
  });

  it('dev --once --json prints the run and its report as JSON, whatever Temporal Cloud settings and stores the environment holds', async () => {
    // A user's .env and profile for production: none of it may reach the local stack.
    const home = tempDir('bulk-delete-dev-home-');
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'temporalio', 'temporal.toml'),
      '[profile.default]\naddress = "prod.a1b2c.tmprl.cloud:7233"\nnamespace = "prod.a1b2c"\napi_key = "not-for-dev"\n',
    );
    const store = tempDir('bulk-delete-dev-store-');
    const uiPort = await freePort();
    const env = cleanEnv({
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_CODEC_PORT: String(await freePort()),
      TEMPORAL_DB_FILE: join(tempDir('bulk-delete-dev-'), 'temporal.sqlite'),
      HOME: home,
      TEMPORAL_ADDRESS: 'prod.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'prod.a1b2c',
      TEMPORAL_API_KEY: 'not-for-dev',
      TEMPORAL_TLS: 'true',
      TEMPORAL_UI_URL: 'https://cloud.temporal.io',
      BULK_DELETE_REPORT_STORE: store,
      BULK_DELETE_PLAN_STORE: store,
    });
    const result = await runCli(['dev', '--once', '--json', '--plan', 'examples/takedown.csv'], {
      env,
      timeoutMs: 180_000,
    });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { workflowId: string; webUiUrl: string; report: unknown };
    const report = Report.parse(out.report);
    assert.equal(report.plan, 'takedown');
    assert.deepEqual(report.summary, {
      items: 5,
      deleted: 4,
      alreadyAbsent: 1,
      skipped: 0,
      partial: 0,
      failed: 0,
    });
    const ep1042 = report.rows.filter((r) => r.item === 'ep-1042').map((r) => `${r.system}:${r.outcome}`);
    assert.deepEqual(ep1042.sort(), ['entermedia:deleted', 'twelvelabs:deleted', 'uplynk:deleted']);
    assert.match(out.webUiUrl, new RegExp(`^http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/`));
    assert.deepEqual(readdirSync(store), [], 'the demo run wrote nothing to the production stores');
  });

  it('dev refuses to start when the dev server port is taken, naming the variable to change', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await runCli(['dev', '--once'], { env: cleanEnv({ TEMPORAL_DEV_PORT: String(port) }) });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        new RegExp(`port ${port} is in use .*set TEMPORAL_DEV_PORT to a free port`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
