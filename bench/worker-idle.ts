/**
 * The production worker's idle baseline: a throw-away Temporal dev server and one worker
 * (`dist/bin/bulk-delete.js worker --allow-unconfigured`, run `npm run build` first) that polls an empty
 * task queue. Prints its RSS every second, then its peak (VmHWM) and /proc/PID/smaps_rollup.
 * Started as the image starts it (NODE_OPTIONS, MALLOC_ARENA_MAX: worker/memory.ts) unless
 * BENCH_WORKER_PLAIN=1; BENCH_WORKER_NODE_ARGS adds node flags.
 *
 *   node --import tsx bench/worker-idle.ts [seconds=15]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';
import { WORKER_PROCESS_ENV } from '../worker/memory.js';
import { startDevServer } from '../scripts/dev-server.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const seconds = Number(process.argv[2] ?? 15);
const temporal = await startDevServer();
try {
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const worker = spawn(
    process.execPath,
    [...nodeArgs, 'dist/bin/bulk-delete.js', 'worker', '--allow-unconfigured'],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        ...(process.env.BENCH_WORKER_PLAIN ? {} : WORKER_PROCESS_ENV),
        NODE_ENV: 'production',
        BULK_DELETE_ENV_FILE: 'none',
        TEMPORAL_ADDRESS: temporal.connection.options.address,
        BULK_DELETE_TASK_QUEUE: `idle-${Date.now()}`,
        BULK_DELETE_LOG_LEVEL: 'ERROR',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const mb = (text: string, key: string) =>
    Math.round(Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) / 1024);
  let status = '';
  for (let s = 1; s <= seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    status = await readFile(`/proc/${worker.pid}/status`, 'utf8');
    console.error(
      `${s} s: RSS ${mb(status, 'VmRSS')} MB (anonymous ${mb(status, 'RssAnon')}, files ${mb(status, 'RssFile')})`,
    );
  }
  const rollup = await readFile(`/proc/${worker.pid}/smaps_rollup`, 'utf8');
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  console.error(rollup);
  console.log(
    JSON.stringify({
      idleRssMB: mb(status, 'VmRSS'),
      peakRssMB: mb(status, 'VmHWM'),
      anonymousMB: mb(status, 'RssAnon'),
      filesMB: mb(status, 'RssFile'),
    }),
  );
} finally {
  await temporal.teardown();
}
