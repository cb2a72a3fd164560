/**
 * What one got request costs the worker's main thread, with got's own request options and with the lean
 * build (activities/got-request-options.ts), side by side in one process against one local server (in a
 * child process, so that its CPU is not counted).
 *
 *   node --import tsx bench/got-request.ts [requests=20000] [inFlight=32] [rounds=3]
 *
 * Prints CPU microseconds and wall milliseconds per contender and round, and the medians, as JSON.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import got, { Options } from 'got';
import { gotsOwnBuild, leanRequestOptions } from '../activities/got-request-options.js';
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

leanRequestOptions();
const proto = Options.prototype as unknown as { createNativeRequestOptions: unknown };
const builds = { lean: proto.createNativeRequestOptions, "got's own": gotsOwnBuild() };

// As the connectors call it: one instance, JSON, no got retry, a request timeout, no redirects.
const instance = got.extend({
  prefixUrl: `http://127.0.0.1:${port}/`,
  responseType: 'json',
  retry: { limit: 0 },
  timeout: { request: 30_000 },
  headers: { 'user-agent': 'bulk-delete', 'x-api-key': 'bench' },
  followRedirect: false,
});

async function measure(): Promise<{ cpuMicros: number; wallMs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < requests) await instance('assets/a1');
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuMicros: (used.user + used.system) / requests, wallMs: performance.now() - started };
}

const results: Record<string, Array<{ cpuMicros: number; wallMs: number }>> = { lean: [], "got's own": [] };
for (const name of Object.keys(builds)) {
  proto.createNativeRequestOptions = builds[name as keyof typeof builds];
  await measure(); // warm-up
}
for (let round = 0; round < rounds; round++) {
  for (const name of Object.keys(builds)) {
    proto.createNativeRequestOptions = builds[name as keyof typeof builds];
    results[name]!.push(await measure());
  }
}
server.kill();

// The upper of the two middle values when their count is even, as it always reported.
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
