import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadWorkerEnv } from '../../worker/worker-env.js';

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
});
