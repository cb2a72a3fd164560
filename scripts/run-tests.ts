/**
 * Runs every test file under test/ with node:test (Node 20's --test takes no glob). Extra arguments are
 * passed through: `npm test -- test/plan` runs only what is below that folder.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from './temporal-paths.js';

function testFiles(dir: string): string[] {
  const stat = statSync(dir);
  if (stat.isFile()) return dir.endsWith('.test.ts') ? [dir] : [];
  return readdirSync(dir)
    .filter((name) => name !== 'artifacts' && name !== 'node_modules')
    .sort()
    .flatMap((name) => testFiles(join(dir, name)));
}

const roots = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const files = (roots.length ? roots : [join(PROJECT_ROOT, 'test')]).flatMap((root) => testFiles(root));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    ...flags,
    ...files.map((f) => relative(PROJECT_ROOT, f)),
  ],
  { stdio: 'inherit', cwd: PROJECT_ROOT },
);
process.exit(result.status ?? 1);
