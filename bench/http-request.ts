/**
 * What one HTTP request costs the worker's main thread, by client, side by side in one process against
 * one local server (in a child process, so that its CPU is not counted): the connectors' client
 * (activities/http-client.ts, undici's `Agent.request`), got 14 as the connectors called it until
 * 2026-12-07 (its lean request options aside), Node's `fetch` and Node's `http.request`.
 *
 *   node --import tsx bench/http-request.ts [requests=20000] [inFlight=32] [rounds=3]
 *
 * Prints CPU microseconds and wall milliseconds per contender and round, and the medians, as JSON.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import got from 'got';
import { z } from 'zod';
import { createHttpClient } from '../activities/http-client.js';
import { createRateLimiter } from '../activities/rate-limiter.js';
import { quantile } from './stats.js';

const [requests = 20_000, inFlight = 32, rounds = 3] = process.argv.slice(2).map(Number);

const server = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('content-type', 'application/json'); s.end('{"ok":true}'); }); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [portLine] = (await once(server.stdout, 'data')) as [Buffer];
const port = Number(portLine.toString().trim());
const headers = { 'user-agent': 'bulk-delete', 'x-api-key': 'bench' };
const Ok = z.object({ ok: z.boolean() });

// The connectors' client, with a limiter that never holds a call back (inFlight is the bound here).
const connectors = createHttpClient({
  system: 'twelvelabs',
  baseUrl: `http://127.0.0.1:${port}/v1`,
  headers,
  timeoutMs: 30_000,
  limiter: createRateLimiter({ concurrency: inFlight }),
  secrets: [],
});
// As the connectors called got: one instance, JSON, no got retry, a request timeout, no redirects.
const gotInstance = got.extend({
  prefixUrl: `http://127.0.0.1:${port}/v1/`,
  responseType: 'json',
  retry: { limit: 0 },
  timeout: { request: 30_000 },
  headers,
  followRedirect: false,
});

const contenders: Record<string, () => Promise<unknown>> = {
  'undici (the connectors)': () =>
    connectors.call({ method: 'GET', route: '/assets/{id}', path: '/assets/a1', schema: Ok }),
  got: async () => Ok.parse((await gotInstance('assets/a1')).body),
  fetch: async () =>
    Ok.parse(
      await (await fetch(`http://127.0.0.1:${port}/v1/assets/a1`, { headers, redirect: 'manual' })).json(),
    ),
  'http.request': () =>
    new Promise((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port, path: '/v1/assets/a1', headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => resolve(Ok.parse(JSON.parse(Buffer.concat(chunks).toString()))));
        },
      );
      request.once('error', reject);
      request.end();
    }),
};

async function measure(send: () => Promise<unknown>): Promise<{ cpuMicros: number; wallMs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < requests) await send();
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuMicros: (used.user + used.system) / requests, wallMs: performance.now() - started };
}

const results: Record<string, Array<{ cpuMicros: number; wallMs: number }>> = {};
for (const [name, send] of Object.entries(contenders)) {
  results[name] = [];
  await measure(send); // warm-up
}
for (let round = 0; round < rounds; round++) {
  for (const [name, send] of Object.entries(contenders)) results[name]!.push(await measure(send));
}
server.kill();

// The upper of the two middle values when their count is even.
const median = (values: number[]) => quantile(values, 0.5);
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      requests,
      inFlight,
      contenders: Object.fromEntries(
        Object.entries(results).map(([name, runs]) => [
          name,
          {
            cpuMicrosPerRequest: runs.map((r) => Math.round(r.cpuMicros)),
            wallMs: runs.map((r) => Math.round(r.wallMs)),
            medianCpuMicros: Math.round(median(runs.map((r) => r.cpuMicros))),
          },
        ]),
      ),
    },
    null,
    2,
  ),
);
