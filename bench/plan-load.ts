/**
 * What a worker holds for a plan that travels by reference: a generated plan of N items is written to a
 * file, and a fresh child process (started with the worker's memory settings, worker/memory.ts) loads it
 * as the activities do (`readPlanSummary`), asks for its TwelveLabs asset IDs (what every chunk's
 * discovery asks for) and reads every page of 500 items. Prints one JSON line per size: load seconds,
 * peak RSS (VmHWM) and, after a full GC, the heap and the memory outside it that the plan keeps. Then the
 * command line: `bulk-delete run FILE` against a closed Temporal port, which validates the plan, writes
 * its reference and stops at the connection (its time and peak RSS; `cli` says how it ended).
 *
 *   node --import tsx bench/plan-load.ts [items=100000,1000000]
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';
import { DEFAULT_WORKER_V8_FLAGS, WORKER_PROCESS_ENV } from '../worker/memory.js';
import { samplePeakRss } from './cpu-sampler.js';

/** `bulk-delete run FILE` with nothing listening for it: what validating a plan costs the command line. */
async function commandLine(file: string): Promise<{ cliSeconds: number; cliPeakRssMB: number; cli: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/bulk-delete.js', 'run', file], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const peak = samplePeakRss(() => [child.pid!]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => (stderr += t));
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  const first = stderr.split('\n').find((line) => line.trim() !== '') ?? '';
  return {
    cliSeconds: Math.round((performance.now() - started) / 100) / 10,
    cliPeakRssMB: peak.stop(),
    cli: `exit ${code ?? signal}: ${first.includes('cannot reach Temporal') ? 'validated, then no server' : first.slice(0, 120)}`,
  };
}

const sizes = (process.argv[2] ?? '100000,1000000').split(',').map(Number);

/** A plan whose items name all three systems, with IDs as long as the generator's. */
async function writePlan(file: string, items: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`{"name":"plan-load-${items}","options":{"maxItems":${items}},"items":[`);
  for (let i = 0; i < items; i++) {
    const hex = i.toString(16).padStart(24, '0');
    await write(
      `${i ? ',' : ''}{"id":"item-${i}","twelvelabs":{"assetId":"${hex}"},` +
        `"uplynk":{"assetId":"up-${i}","libraryIds":["lib-${i % 50}","lib-${(i + 7) % 50}"]},` +
        `"entermedia":{"assetId":"dam-${i}"}}`,
    );
  }
  await write(']}');
  out.end();
  await once(out, 'finish');
}

/** The child: loads the plan as a worker does and reports what it held. */
const CHILD = `
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { createPlanSource } from './activities/plan-source.ts';
for (const flag of process.env.V8_FLAGS.split(' ')) v8.setFlagsFromString(flag);
const file = process.env.PLAN_FILE;
const hash = createHash('sha256');
for await (const chunk of createReadStream(file)) hash.update(chunk);
const sha256 = hash.digest('hex');
const items = Number(process.env.PLAN_ITEMS);
const ref = { uri: process.env.PLAN_URI, sha256, name: 'plan', items };
globalThis.gc();
const before = process.memoryUsage();
const source = createPlanSource();
const started = performance.now();
const summary = await source.readPlanSummary({ ref });
const loadSeconds = (performance.now() - started) / 1000;
const ids = await source.twelveLabsAssetIds(ref);
let read = 0;
for (let offset = 0; offset < items; offset += 500) read += (await source.readPlanPage({ ref, offset, limit: 500 })).length;
const allSeconds = (performance.now() - started) / 1000;
// What the worker keeps while the plan's chunks run: the source and its plan stay reachable.
globalThis.kept = { source, ids };
globalThis.gc();
const after = process.memoryUsage();
const hwm = /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
const mb = (n) => Math.round(n / 2 ** 20);
console.log(JSON.stringify({
  items: summary.items, read, assetIds: ids.size ?? ids.length,
  loadSeconds: Math.round(loadSeconds * 10) / 10, allSeconds: Math.round(allSeconds * 10) / 10,
  peakRssMB: mb(Number(hwm) * 1024),
  heapKeptMB: mb(after.heapUsed - before.heapUsed),
  outsideHeapKeptMB: mb(after.external + after.arrayBuffers - before.external - before.arrayBuffers),
  rssAfterMB: mb(after.rss),
}));
`;

const dir = await mkdtemp(join(tmpdir(), 'bulk-delete-plan-load-'));
try {
  console.log(
    `${new Date().toISOString()} · ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  for (const items of sizes) {
    const file = join(dir, `plan-${items}.json`);
    await writePlan(file, items);
    const bytes = (await readFile(file)).length;
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', CHILD],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          ...WORKER_PROCESS_ENV,
          V8_FLAGS: DEFAULT_WORKER_V8_FLAGS,
          PLAN_FILE: file,
          PLAN_URI: pathToFileURL(file).href,
          PLAN_ITEMS: String(items),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (t: string) => (text += t));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`loading ${items} items exited with ${code}`);
    const worker = JSON.parse(text.trim()) as Record<string, unknown>;
    console.log(
      JSON.stringify({ fileMB: Math.round(bytes / 2 ** 20), ...worker, ...(await commandLine(file)) }),
    );
    await rm(file);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
