/**
 * Memory and speed of the sandbox with a large generated catalogue: starts `bulk-delete sandbox` as its
 * own process (so that this script's memory does not count), generates ITEMS items, reads the child's
 * RSS from /proc, then lists and deletes a little to show the indexes stay O(1).
 *
 * Usage: node --import tsx bench/sandbox-memory.ts [items=100000]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const items = Number(process.argv[2] ?? 100_000);
const SCRIPT = `import { runSandboxCommand } from './sandbox/main.ts';
process.exitCode = await runSandboxCommand(process.argv.slice(1));`;

function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', '--port', '0'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const m = /sandbox listening on (\S+)/.exec(out);
    if (m?.[1]) resolve(m[1]);
  });
  child.on('exit', () => reject(new Error('the sandbox exited before listening')));
});
const pid = child.pid as number;

try {
  const idle = memoryMb(pid);
  let started = performance.now();
  const res = await fetch(`${url}/_sandbox/generate`, {
    method: 'POST',
    body: JSON.stringify({ items, seed: 1 }),
  });
  const generated = (await res.json()) as {
    plan: { items: Array<{ twelvelabs?: { assetId: string } }> };
    env: { TWELVELABS_API_KEY: string };
  };
  const generateMs = Math.round(performance.now() - started);
  const afterGenerate = memoryMb(pid);

  started = performance.now();
  const state = await (await fetch(`${url}/_sandbox/state`)).text();
  const stateMs = Math.round(performance.now() - started);

  // Lookups on the last items cost the same as on the first: maps by ID and by asset ID.
  const headers = { 'x-api-key': generated.env.TWELVELABS_API_KEY };
  const assetIds = generated.plan.items
    .flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : []))
    .slice(-1000);
  started = performance.now();
  for (const id of assetIds) {
    const base = `${url}/twelvelabs/v1.3/assets/${id}`;
    await (await fetch(`${base}/indexed-assets?page_limit=50`, { headers })).text();
    await (await fetch(`${base}/entities?page_limit=50`, { headers })).text();
    await (await fetch(`${base}?force=true`, { method: 'DELETE', headers })).text();
  }
  const perAssetMs = (performance.now() - started) / assetIds.length;
  const end = memoryMb(pid);

  console.log(
    JSON.stringify(
      {
        items,
        idleRssMb: idle.rss,
        generateMs,
        rssAfterGenerateMb: afterGenerate.rss,
        stateJsonMb: Math.round(state.length / 1e5) / 10,
        stateMs,
        discoverAndDeleteOneAssetMs: Math.round(perAssetMs * 100) / 100,
        rssAtEndMb: end.rss,
        peakRssMb: end.peak,
      },
      null,
      2,
    ),
  );
} finally {
  child.kill('SIGTERM');
}
