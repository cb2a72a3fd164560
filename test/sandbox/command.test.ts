import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hexId } from './clients.js';

const SCRIPT = `import { runSandboxCommand } from './sandbox/main.ts';
process.exitCode = await runSandboxCommand(process.argv.slice(1));`;

function run(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /sandbox listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (m?.[1]) resolve(m[1]);
    });
    void exit.then(() => reject(new Error(`exited: ${stderr}`)));
  });
  // Tests that expect an early exit never wait for the line.
  line.catch(() => undefined);
  return { child, line, exit, output: () => ({ stdout, stderr }) };
}

describe('bulk-delete sandbox command', () => {
  it('prints the listening line with the port, serves the seed and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cmd-'));
    try {
      const seed = join(dir, 'seed.json');
      writeFileSync(seed, JSON.stringify({ twelvelabs: { apiKey: 'cmd-key', assets: [{ _id: hexId(9) }] } }));
      const proc = run(['--port', '0', '--seed', seed]);
      const url = await proc.line;
      assert.equal(proc.output().stdout, `sandbox listening on ${url}\n`);
      const res = await fetch(`${url}/twelvelabs/v1.3/assets/${hexId(9)}`, {
        headers: { 'x-api-key': 'cmd-key' },
      });
      assert.equal(res.status, 200);
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exit, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops cleanly on SIGINT', async () => {
    const proc = run(['--port', '0']);
    await proc.line;
    proc.child.kill('SIGINT');
    assert.equal(await proc.exit, 0);
  });

  it('--help prints the usage and exits 0', async () => {
    const proc = run(['--help']);
    assert.equal(await proc.exit, 0);
    assert.match(proc.output().stdout, /Usage: bulk-delete sandbox/);
  });

  it('a bad port or an unknown option exits 2 with a message', async () => {
    for (const args of [['--port', 'abc'], ['--nope']]) {
      const proc = run(args);
      assert.equal(await proc.exit, 2);
      assert.notEqual(proc.output().stderr, '');
    }
  });

  it('a seed that is not a sandbox state, a plan among them, or is missing exits 2 and names what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cmd-'));
    try {
      const seed = join(dir, 'seed.json');
      writeFileSync(seed, JSON.stringify({ entityReadyAfterMs: 'soon' }));
      const proc = run(['--port', '0', '--seed', seed]);
      assert.equal(await proc.exit, 2);
      assert.match(proc.output().stderr, /entityReadyAfterMs/);
      // A plan is not a catalogue: read as one, it would be an empty sandbox.
      const plan = join(dir, 'plan.json');
      writeFileSync(plan, JSON.stringify({ name: 'p', items: [{ id: 'a', entermedia: { assetId: '1' } }] }));
      const asPlan = run(['--port', '0', '--seed', plan]);
      assert.equal(await asPlan.exit, 2);
      assert.match(asPlan.output().stderr, /is not a sandbox state:\n.*Unrecognized keys: "name", "items"/);
      const missing = run(['--port', '0', '--seed', join(dir, 'missing.json')]);
      assert.equal(await missing.exit, 2);
      assert.match(missing.output().stderr, /^cannot read the seed .*missing\.json: ENOENT/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
