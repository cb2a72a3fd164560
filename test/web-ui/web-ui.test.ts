import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser } from 'playwright-core';
import { serveCodec, type RunningCodecServer } from '../../client/codec-server.js';
import { COMPRESSED_ENCODING, dataConverter, encodingOf } from '../../config/payload-codec.js';
import { SEARCH_ATTRIBUTES } from '../../plan/index.js';
import { PROJECT_ROOT, findTemporalCli } from '../../scripts/temporal-paths.js';
import { cleanEnv, runCli } from '../client/cli-process.js';
import { startBackgroundWorker, type BackgroundWorker } from '../client/stack-worker.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');

describe('the Temporal Web UI shows a bulk delete run, found by its plan name', () => {
  let temporal: TestWorkflowEnvironment;
  let sandbox: TestSandbox;
  let worker: BackgroundWorker;
  let browser: Browser;
  let uiPort: number;
  let codec: RunningCodecServer;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is not installed at ${CHROMIUM}: the Web UI test needs it ("apt-get update && apt-get install -y chromium"; CI installs it in .ci/run)`,
    );
    uiPort = await freePort();
    codec = await serveCodec({ bind: '127.0.0.1:0', origins: [`http://127.0.0.1:${uiPort}`] });
    temporal = await TestWorkflowEnvironment.createLocal({
      client: { dataConverter },
      server: {
        // As `npm run temporal:dev` and `bulk-delete dev` set it: compressed payloads shown decoded.
        extraArgs: ['--ui-codec-endpoint', codec.url],
        executable: { type: 'existing-path', path: findTemporalCli() },
        ip: '127.0.0.1',
        ui: true,
        uiPort,
        searchAttributes: [...SEARCH_ATTRIBUTES],
        log: { format: 'pretty', level: 'error' },
      },
    });
    sandbox = await startTestSandbox();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
    await sandbox?.close();
    await temporal?.teardown();
    await codec?.close();
  });

  /**
   * Generates `items` items in the sandbox, starts a worker with their credentials (in place of the last
   * one) and runs them with `bulk-delete run --wait --json` under `id`.
   */
  async function runGenerated(items: number, seed: number, name: string, id: string) {
    const { plan, env: systemsEnv } = await sandbox.generate(items, seed);
    await worker?.stop();
    worker = await startBackgroundWorker(temporal, { ...systemsEnv });
    const planFile = join(tempDir('bulk-delete-web-ui-'), 'plan.json');
    writeFileSync(planFile, JSON.stringify({ ...plan, name }));
    const env = cleanEnv({
      TEMPORAL_ADDRESS: temporal.address,
      BULK_DELETE_TASK_QUEUE: worker.taskQueue,
      TEMPORAL_UI_PORT: String(uiPort),
    });
    const result = await runCli(['run', planFile, '--wait', '--json', '--id', id], { env });
    assert.equal(result.code, 0, result.stderr);
    return result;
  }

  it('lists the run under BulkDeletePlan="..." as Completed, and its page shows the summary', async () => {
    const planName = 'web-ui-takedown';
    const result = await runGenerated(3, 21, planName, 'web-ui-run-1');
    const { webUiUrl } = JSON.parse(result.stdout) as { webUiUrl: string };
    assert.ok(webUiUrl.startsWith(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/web-ui-run-1/`));

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      // The list, filtered by the plan's search attribute, as a user would type it.
      const query = encodeURIComponent(`BulkDeletePlan="${planName}"`);
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${query}`);
      const row = page.locator('tr', { hasText: 'web-ui-run-1' }).first();
      await row.waitFor({ timeout: 30_000 });
      assert.match(await row.innerText(), /Completed/);
      assert.match(await row.innerText(), /bulkDeleteWorkflow/);
      await page.screenshot({ path: join(ARTIFACTS, 'web-ui-list.png') });

      // The link the command line printed opens the run: its status and the summary in its result.
      await page.goto(webUiUrl);
      await page.getByText('"alreadyAbsent"').first().waitFor({ timeout: 30_000 });
      const text = await page.locator('body').innerText();
      assert.match(text, /Completed/);
      assert.match(text, /web-ui-run-1/);
      assert.match(text, /"status": "completed"/);
      assert.match(text, /"deleted": 3/);
      assert.match(text, /"failed": 0/);
      await page.screenshot({ path: join(ARTIFACTS, 'web-ui-run.png'), fullPage: false });

      // The run's summary line, set when it started, under User Metadata (the UI renders it in a frame).
      await page.getByText('User Metadata').first().click();
      await page.waitForURL(/\/user-metadata$/);
      const summary = `Delete 3 items of plan ${planName}`;
      const deadline = Date.now() + 15_000;
      let shown = false;
      while (!shown && Date.now() < deadline) {
        for (const frame of page.frames()) {
          const body = await frame
            .locator('body')
            .innerText()
            .catch(() => '');
          if (body.includes(summary)) shown = true;
        }
        if (!shown) await page.waitForTimeout(250);
      }
      assert.ok(shown, `the User Metadata tab shows "${summary}"`);
      await page.screenshot({ path: join(ARTIFACTS, 'web-ui-user-metadata.png') });
    } finally {
      await page.close();
    }
  });

  it("shows a chunk's compressed record decoded, through the codec endpoint", async () => {
    // 40 items in one chunk, whose record (over 16 KiB) is stored compressed.
    await runGenerated(40, 22, 'web-ui-codec', 'web-ui-run-2');
    const { chunkWorkflowIds } = (await temporal.client.workflow.getHandle('web-ui-run-2').result()) as {
      chunkWorkflowIds: string[];
    };
    // The last chunk, the largest (40 items make one chunk here).
    const chunk = chunkWorkflowIds.at(-1)!;
    const history = await temporal.client.workflow.getHandle(chunk).fetchHistory();
    const stored = history.events?.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    assert.equal(encodingOf(stored!), COMPRESSED_ENCODING, "the chunk's result is stored compressed");
    const { items } = (await temporal.client.workflow.getHandle(chunk).result()) as {
      items: Array<{ item: string }>;
    };
    const first = items[0]!.item;

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      const decoded = page.waitForResponse((r) => r.url().startsWith(`${codec.url}/decode`) && r.ok(), {
        timeout: 30_000,
      });
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(chunk)}`);
      await decoded;
      // The record's own words (the inline plan in the input says "id", not "item"), which the
      // compressed bytes do not show.
      await page.getByText(`"item": "${first}"`).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'web-ui-chunk-result.png') });
    } finally {
      await page.close();
    }
  });
});
