import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Plan } from '../../plan/index.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

describe('sandbox controls', () => {
  let sandbox: TestSandbox;
  before(async () => {
    sandbox = await startTestSandbox();
  });
  after(() => sandbox.close());

  it('a seeded state reads back in the same shape', async () => {
    await sandbox.seed({
      twelvelabs: { apiKey: 'k', assets: [{ _id: 'a'.repeat(24), filename: 'x.mp4' }] },
      entermedia: { key: 'e', assets: [{ id: '101', name: 'x' }] },
    });
    const state = await sandbox.state();
    assert.equal(state.twelvelabs.apiKey, 'k');
    assert.equal(state.twelvelabs.assets[0]?.filename, 'x.mp4');
    assert.deepEqual(state.entermedia.assets, [{ id: '101', name: 'x' }]);
    assert.equal(state.entityReadyAfterMs, 300);
  });

  it('generate answers a valid plan and an env that points at the sandbox', async () => {
    const { plan, env } = await sandbox.generate(50, 3);
    const parsed = Plan.safeParse(plan);
    assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
    assert.equal(plan.items.length, 50);
    assert.equal(plan.name, 'generated-3-50');
    assert.equal(env.TWELVELABS_BASE_URL, `${sandbox.url}/twelvelabs/v1.3`);
  });
});
