import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';

// No Docker engine here: the Dockerfile is checked by reading it, instruction by instruction.
const text = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
/** Instructions with continuation lines joined, comments dropped. */
const instructions = text
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const stages = instructions.filter((i) => i.keyword === 'FROM');
const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));
const ignored = readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8').split('\n');

describe('Dockerfile', () => {
  it('builds in stages on the current Node LTS and runs the compiled code without dev dependencies', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.match(text, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    assert.ok(instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)));
    assert.ok(instructions.some((i) => i.keyword === 'RUN' && /npm ci --omit=dev/.test(i.args)));
    const entry = finalStage.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '';
    assert.match(entry, /"node", "dist\/bin\/bulk-delete\.js"/);
    assert.doesNotMatch(finalStage.map((i) => i.args).join('\n'), /tsx/);
    assert.ok(finalStage.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args)));
  });

  it('runs as a non-root user with a healthcheck', () => {
    const user = finalStage.filter((i) => i.keyword === 'USER').at(-1)?.args;
    assert.ok(user && user !== 'root' && user !== '0', `USER ${user}`);
    const health = finalStage.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    assert.match(health, /\/healthz/);
    assert.match(text, /BULK_DELETE_HEALTH_BIND=127\.0\.0\.1:9465/);
  });

  it('keeps secrets, local state and build output out of the build context', () => {
    for (const entry of ['.env', 'node_modules', 'dist', '.git', '.temporal', '.data']) {
      assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
    }
  });
});
