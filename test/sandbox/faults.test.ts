/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   Vendor JSON is read loosely on purpose: these tests pin its shape with assertions, not with types. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { seededSandboxForSuite } from '../helpers/sandbox.js';
import { entermedia, hexId, twelvelabs, uplynk } from './clients.js';

const KEY = 'tl-key';
const ASSETS = Array.from({ length: 5 }, (_, i) => hexId(i + 1));

/** Status of each request in turn; 0 when the sandbox dropped the connection. */
async function statuses(tl: ReturnType<typeof twelvelabs>, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push((await tl('GET', `/assets/${ASSETS[i % ASSETS.length]}`)).status);
    } catch {
      out.push(0);
    }
  }
  return out;
}

describe('sandbox faults', () => {
  const sandbox = seededSandboxForSuite({
    twelvelabs: { apiKey: KEY, assets: ASSETS.map((_id) => ({ _id })) },
    uplynk: { ownerId: 'owner', apiKey: 'ukey', libraries: [{ id: 'lib1', asset_ids: ['x'] }] },
    entermedia: { key: 'ekey', assets: [{ id: '1' }] },
  });
  let tl: ReturnType<typeof twelvelabs>;
  before(() => {
    tl = twelvelabs(sandbox.url, KEY);
  });

  it('the same fault seed gives the same answers to the same order of requests', async () => {
    const settings = { seed: 42, twelvelabs: { error5xx: 0.2, error429: 0.2, drop: 0.1 } };
    await sandbox.faults(settings);
    const first = await statuses(tl, 60);
    await sandbox.faults(settings);
    const second = await statuses(tl, 60);
    assert.deepEqual(second, first);
    for (const status of [0, 200, 429])
      assert.ok(first.includes(status), `expected some ${status}: ${first.join()}`);
    assert.ok(first.some((s) => s === 500 || s === 503));
    await sandbox.faults({ ...settings, seed: 43 });
    assert.notDeepEqual(await statuses(tl, 60), first);
  });

  it('a 429 fault carries Retry-After and changes nothing', async () => {
    await sandbox.faults({ twelvelabs: { error429: 1, retryAfterSeconds: 7 } });
    const res = await tl('DELETE', `/assets/${ASSETS[0]}`);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(res.body.code, 'too_many_requests');
    await sandbox.faults({});
    assert.equal((await tl('GET', `/assets/${ASSETS[0]}`)).status, 200);
  });

  it('a 429 gives its Retry-After in seconds, as an HTTP date, or not at all, as asked', async () => {
    await sandbox.faults({ twelvelabs: { error429: 1, retryAfterSeconds: 7, retryAfterAs: 'date' } });
    const before = Date.now();
    const dated = await tl('DELETE', `/assets/${ASSETS[0]}`);
    assert.equal(dated.status, 429);
    const header = dated.headers.get('retry-after') ?? '';
    assert.match(header, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const ahead = Date.parse(header) - before;
    assert.ok(ahead >= 7_000 && ahead <= 8_500, `${ahead} ms ahead`);
    await sandbox.faults({ twelvelabs: { error429: 1, retryAfterAs: 'none' } });
    const bare = await tl('DELETE', `/assets/${ASSETS[0]}`);
    assert.equal(bare.status, 429);
    assert.equal(bare.headers.get('retry-after'), null);
    await sandbox.faults({});
    assert.equal((await tl('GET', `/assets/${ASSETS[0]}`)).status, 200);
  });

  it('a 403 fault refuses in the vendor shape and changes nothing', async () => {
    await sandbox.faults({ entermedia: { error403: 1 } });
    const em = await entermedia(sandbox.url, 'ekey')('deleteassets', { assetid: '1' });
    assert.equal(em.status, 403);
    assert.equal(em.body.response.status, 'error');
    await sandbox.faults({});
    assert.equal((await sandbox.state()).entermedia.assets.length, 1);
  });

  it('a 5xx fault answers 500 or 503 in the vendor shape and changes nothing', async () => {
    await sandbox.faults({ uplynk: { error5xx: 1 }, entermedia: { error5xx: 1 } });
    const up = await uplynk(sandbox.url, 'owner', 'ukey')('DELETE', '/libraries/lib1/assets', { ids: 'x' });
    assert.ok([500, 503].includes(up.status));
    assert.equal(up.body['@type'], 'Error');
    assert.equal(up.body.status_code, up.status);
    const em = await entermedia(sandbox.url, 'ekey')('deleteassets', { assetid: '1' });
    assert.ok([500, 503].includes(em.status));
    assert.equal(em.body.response.status, 'error');
    // TwelveLabs has no faults set, so it answers normally.
    assert.equal((await tl('GET', `/assets/${ASSETS[0]}`)).status, 200);
    await sandbox.faults({});
    const state = await sandbox.state();
    assert.deepEqual(state.uplynk.libraries[0]?.asset_ids, ['x']);
    assert.equal(state.entermedia.assets.length, 1);
  });

  it('a dropped connection happens after the change was applied', async () => {
    await sandbox.faults({ twelvelabs: { drop: 1 } });
    await assert.rejects(tl('DELETE', `/assets/${ASSETS[0]}`));
    await sandbox.faults({});
    assert.equal((await tl('GET', `/assets/${ASSETS[0]}`)).status, 404);
    const stats = await sandbox.stats();
    const dropped = stats.requests.find((r) => r.route === 'DELETE /assets/{asset_id}');
    assert.deepEqual(dropped, {
      system: 'twelvelabs',
      method: 'DELETE',
      route: 'DELETE /assets/{asset_id}',
      status: 0,
      count: 1,
    });
    assert.equal(stats.mutations.twelvelabs, 1);
  });

  it('latency delays each answer within the range', async () => {
    await sandbox.faults({ twelvelabs: { latencyMs: [120, 150] } });
    const started = Date.now();
    assert.equal((await tl('GET', `/assets/${ASSETS[0]}`)).status, 200);
    assert.ok(Date.now() - started >= 115, `took ${Date.now() - started} ms`);
  });

  it('requests over maxRequestsPerSecond in one second are answered 429 with Retry-After', async () => {
    await sandbox.faults({ twelvelabs: { maxRequestsPerSecond: 5 } });
    const answers = await Promise.all(Array.from({ length: 30 }, () => tl('GET', `/assets/${ASSETS[0]}`)));
    const ok = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    // 30 requests may straddle two calendar seconds, so at most 2 x 5 pass.
    assert.ok(ok >= 5 && ok <= 10, `${ok} passed`);
    assert.equal(ok + limited.length, 30);
    assert.ok(limited.every((a) => a.headers.get('retry-after') === '1'));
  });

  it('a fault setting out of range is refused with 400 and a readable message', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ twelvelabs: { error5xx: 2, latencyMs: [50, 10] } }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /error5xx/);
    assert.match(body.error, /latencyMs/);
  });

  it('a new fault setting replaces the whole previous one', async () => {
    await sandbox.faults({ twelvelabs: { error5xx: 1 } });
    await sandbox.faults({ uplynk: { error5xx: 1 } });
    assert.equal((await tl('GET', `/assets/${ASSETS[0]}`)).status, 200);
  });
});
