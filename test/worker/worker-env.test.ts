import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { DEFAULT_WORKER_V8_FLAGS, WORKER_PROCESS_ENV, describeHeap } from '../../worker/memory.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS, loadWorkerEnv } from '../../worker/worker-env.js';

describe('worker settings', () => {
  it('gives running activities 60 seconds to finish on shutdown unless BULK_DELETE_SHUTDOWN_GRACE says otherwise', () => {
    assert.equal(loadWorkerEnv({}).BULK_DELETE_SHUTDOWN_GRACE, 60_000);
    assert.equal(loadWorkerEnv({ BULK_DELETE_SHUTDOWN_GRACE: '' }).BULK_DELETE_SHUTDOWN_GRACE, 60_000);
    assert.equal(loadWorkerEnv({ BULK_DELETE_SHUTDOWN_GRACE: '2m' }).BULK_DELETE_SHUTDOWN_GRACE, 120_000);
    assert.equal(loadWorkerEnv({ BULK_DELETE_SHUTDOWN_GRACE: '90' }).BULK_DELETE_SHUTDOWN_GRACE, 90_000);
    assert.equal(loadWorkerEnv({ BULK_DELETE_SHUTDOWN_GRACE: '0ms' }).BULK_DELETE_SHUTDOWN_GRACE, 0);
  });

  it('refuses a malformed shutdown grace, naming the variable', () => {
    assert.throws(
      () => loadWorkerEnv({ BULK_DELETE_SHUTDOWN_GRACE: 'one minute' }),
      /BULK_DELETE_SHUTDOWN_GRACE/,
    );
  });

  it('caches 100 workflow runs unless BULK_DELETE_MAX_CACHED_WORKFLOWS says otherwise', () => {
    assert.equal(DEFAULT_MAX_CACHED_WORKFLOWS, 100);
    assert.equal(loadWorkerEnv({}).BULK_DELETE_MAX_CACHED_WORKFLOWS, 100);
    assert.equal(
      loadWorkerEnv({ BULK_DELETE_MAX_CACHED_WORKFLOWS: ' ' }).BULK_DELETE_MAX_CACHED_WORKFLOWS,
      100,
    );
    assert.equal(
      loadWorkerEnv({ BULK_DELETE_MAX_CACHED_WORKFLOWS: '20' }).BULK_DELETE_MAX_CACHED_WORKFLOWS,
      20,
    );
    for (const bad of ['1', '0', '2.5', 'many']) {
      assert.throws(
        () => loadWorkerEnv({ BULK_DELETE_MAX_CACHED_WORKFLOWS: bad }),
        /BULK_DELETE_MAX_CACHED_WORKFLOWS/,
      );
    }
  });

  it('sets the lean V8 flags unless BULK_DELETE_V8_FLAGS says otherwise (none: none)', () => {
    assert.deepEqual(loadWorkerEnv({}).BULK_DELETE_V8_FLAGS, DEFAULT_WORKER_V8_FLAGS.split(' '));
    assert.deepEqual(loadWorkerEnv({ BULK_DELETE_V8_FLAGS: 'none' }).BULK_DELETE_V8_FLAGS, []);
    assert.deepEqual(
      loadWorkerEnv({ BULK_DELETE_V8_FLAGS: ' --heap-growing-percent=30  --max-semi-space-size=2 ' })
        .BULK_DELETE_V8_FLAGS,
      ['--heap-growing-percent=30', '--max-semi-space-size=2'],
    );
    for (const bad of ['heap-growing-percent=30', '--heap-growing-percent=30;rm', '-x']) {
      assert.throws(() => loadWorkerEnv({ BULK_DELETE_V8_FLAGS: bad }), /BULK_DELETE_V8_FLAGS/);
    }
  });

  it('refuses a V8 flag this Node does not know, naming it, where V8 would only print a warning', () => {
    // A bool flag, its negation and a valued one, as node --v8-options lists them.
    assert.deepEqual(
      loadWorkerEnv({
        BULK_DELETE_V8_FLAGS: '--no-concurrent-marking --parallel-compaction --stack-size=2000',
      }).BULK_DELETE_V8_FLAGS,
      ['--no-concurrent-marking', '--parallel-compaction', '--stack-size=2000'],
    );
    for (const bad of ['--bogus-flag', '--no-bogus-flag', '--max-semi-space-size=4 --max-semi-spaces=4']) {
      assert.throws(
        () => loadWorkerEnv({ BULK_DELETE_V8_FLAGS: bad }),
        (error: Error) =>
          error.message.includes(`${bad.split(' ').pop()!}: not a flag of this Node's V8`) &&
          error.message.includes('BULK_DELETE_V8_FLAGS'),
      );
    }
  });

  it('starts in the image with the environment the start-up log checks (NODE_OPTIONS, MALLOC_ARENA_MAX)', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    assert.ok(dockerfile.includes(`NODE_OPTIONS="${WORKER_PROCESS_ENV.NODE_OPTIONS}"`));
    assert.ok(dockerfile.includes(`MALLOC_ARENA_MAX=${WORKER_PROCESS_ENV.MALLOC_ARENA_MAX}`));
    assert.match(
      describeHeap([], { ...WORKER_PROCESS_ENV }),
      /young generation at most 16 MiB; MALLOC_ARENA_MAX=2$/,
    );
    assert.match(
      describeHeap([], {}),
      /NODE_OPTIONS=--max-semi-space-size=8 lowers it.*MALLOC_ARENA_MAX=2 lowers/,
    );
  });
});
