import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { serveCodec, type RunningCodecServer } from '../../client/codec-server.js';
import { COMPRESSED_ENCODING, CompressionCodec, encodingOf } from '../../config/payload-codec.js';
import { findTemporalCli } from '../../scripts/temporal-paths.js';
import { freePort } from '../helpers/ports.js';
import { startTestServer, uniqueTaskQueue } from '../helpers/temporal.js';
import { eventually, runCli, startCli } from './cli-process.js';

const run = promisify(execFile);
const UI = 'http://127.0.0.1:8233';

/** A chunk's record as large as a few hundred items. */
const record = {
  items: Array.from({ length: 600 }, (_, i) => ({ item: `item-${i}`, state: 'done', notes: [] })),
};

describe('codec server: the Web UI and the Temporal CLI read compressed payloads', () => {
  let codec: RunningCodecServer;
  let temporal: TestWorkflowEnvironment;
  before(async () => {
    codec = await serveCodec({ bind: '127.0.0.1:0', origins: [UI] });
    temporal = await startTestServer();
  });
  after(async () => {
    await codec?.close();
    await temporal?.teardown();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${codec.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const wire = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });

  it('decodes what the worker compressed, and passes other payloads through', async () => {
    const [compressed] = await new CompressionCodec().encode([defaultPayloadConverter.toPayload(record)]);
    assert.equal(encodingOf(compressed!), COMPRESSED_ENCODING);
    const small = defaultPayloadConverter.toPayload({ name: 'small' });
    const res = await post('/decode', { payloads: [wire(compressed!), wire(small)] }, { origin: UI });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    const { payloads } = (await res.json()) as {
      payloads: Array<{ metadata: Record<string, string>; data: string }>;
    };
    assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
    assert.deepEqual(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString()), record);
    assert.deepEqual(payloads[1], wire(small));
  });

  it("answers the Web UI's preflight for its own origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${codec.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-namespace',
        },
      });
    const ours = await preflight(UI);
    assert.equal(ours.status, 204);
    assert.equal(ours.headers.get('access-control-allow-origin'), UI);
    assert.match(ours.headers.get('access-control-allow-headers') ?? '', /x-namespace/);
    const other = await preflight('http://elsewhere.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('says what is wrong with a request', async () => {
    const bad = await post('/decode', { payloads: [{ data: 'not base64!' }] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /payloads\[0\]\.data|data/);
    const notJson = await post('/decode', '{');
    assert.equal(notJson.status, 400);
    const notCompressed = await post('/decode', {
      payloads: [{ metadata: { encoding: Buffer.from('binary/zlib').toString('base64') }, data: 'AAAA' }],
    });
    assert.equal(notCompressed.status, 400);
    assert.match(((await notCompressed.json()) as { error: string }).error, /does not inflate/);
    assert.equal((await post('/other', { payloads: [] })).status, 404);
    assert.equal((await post('/a/b/decode', { payloads: [] })).status, 404);
    // Under a namespace, as the CLI's `{namespace}` template makes it.
    assert.equal((await post('/default/decode', { payloads: [] })).status, 200);
    assert.equal((await fetch(`${codec.url}/decode`)).status, 405);
  });

  it('is the endpoint the Temporal CLI encodes and decodes with (--codec-endpoint)', async () => {
    const workflowId = uniqueTaskQueue('codec');
    const address = ['--address', temporal.address, '--namespace', 'default'];
    // Started by the CLI through the endpoint: a large input is stored compressed; nobody runs it.
    await run(findTemporalCli(), [
      'workflow',
      'start',
      ...address,
      '--type',
      'bulkDeleteWorkflow',
      '--task-queue',
      uniqueTaskQueue('nobody'),
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(record),
      '--codec-endpoint',
      codec.url,
    ]);
    try {
      const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      assert.equal(encodingOf(input!), COMPRESSED_ENCODING, 'stored compressed');
      // The CLI shows it decoded through the endpoint, and compressed without it.
      const shown = async (...extra: string[]) => {
        const { stdout } = await run(
          findTemporalCli(),
          ['workflow', 'show', ...address, '--workflow-id', workflowId, '--output', 'json', ...extra],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const { events } = JSON.parse(stdout) as {
          events: Array<{
            workflowExecutionStartedEventAttributes?: {
              input: { payloads: Array<{ metadata: { encoding: string }; data: string }> };
            };
          }>;
        };
        const payload = events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
        return {
          encoding: Buffer.from(payload.metadata.encoding, 'base64').toString(),
          data: Buffer.from(payload.data, 'base64'),
        };
      };
      const decoded = await shown('--codec-endpoint', codec.url);
      assert.equal(decoded.encoding, 'json/plain');
      assert.deepEqual(JSON.parse(decoded.data.toString()), record);
      assert.equal((await shown()).encoding, COMPRESSED_ENCODING);
    } finally {
      await temporal.client.workflow.getHandle(workflowId).terminate('test over');
    }
  });

  it('runs as "bulk-delete codec-server" for a Web UI elsewhere, and refuses a bad address', async () => {
    const port = await freePort();
    const origin = 'http://ui.example:8080';
    const cli = startCli(['codec-server', '--bind', `127.0.0.1:${port}`, '--origin', origin]);
    try {
      await eventually(() => Promise.resolve(/^codec endpoint /m.test(cli.output().stderr)));
      assert.match(
        cli.output().stderr,
        new RegExp(`^codec endpoint http://127\\.0\\.0\\.1:${port} for ${origin};`, 'm'),
      );
      const [compressed] = await new CompressionCodec().encode([defaultPayloadConverter.toPayload(record)]);
      const res = await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ payloads: [wire(compressed!)] }),
      });
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      const { payloads } = (await res.json()) as { payloads: Array<{ data: string }> };
      assert.deepEqual(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString()), record);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const ended = await cli.done;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /^codec endpoint stopped$/m);

    const bad = await runCli(['codec-server', '--bind', 'everywhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--bind must be HOST:PORT, e\.g\. 0\.0\.0\.0:8234, got "everywhere"/);
    const badOrigin = await runCli(['codec-server', '--origin', 'ui.example']);
    assert.equal(badOrigin.code, 2);
    assert.match(badOrigin.stderr, /--origin must be a Web UI origin/);
  });
});
