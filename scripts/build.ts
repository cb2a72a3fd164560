/**
 * `npm run build`: compiles the project to dist/ with tsc, prebuilds the workflow bundle the workers load
 * (dist/workflow-bundle.js, so that no worker runs webpack at start), writes the compiled command line
 * dist/bin/bulk-delete.js, and copies the examples `bulk-delete dev` uses. Production runs dist/ with node
 * alone: no tsx, no TypeScript.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from './temporal-paths.js';

const DIST = join(PROJECT_ROOT, 'dist');
const started = Date.now();

rmSync(DIST, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  },
);

const { code } = await bundleWorkflowCode({
  workflowsPath: join(PROJECT_ROOT, 'workflows', 'index.ts'),
  logger: {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: console.warn,
    error: console.error,
  },
});
writeFileSync(join(DIST, 'workflow-bundle.js'), code);

mkdirSync(join(DIST, 'bin'), { recursive: true });
const bin = join(DIST, 'bin', 'bulk-delete.js');
writeFileSync(
  bin,
  "#!/usr/bin/env node\n// The compiled command line (npm run build): node only.\nimport '../client/main.js';\n",
);
chmodSync(bin, 0o755);
cpSync(join(PROJECT_ROOT, 'examples'), join(DIST, 'examples'), { recursive: true });
writeFileSync(join(DIST, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');

console.log(
  `built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (workflow bundle ${(code.length / 1024).toFixed(0)} KiB)`,
);
