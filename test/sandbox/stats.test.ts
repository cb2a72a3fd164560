import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxForSuite } from '../helpers/sandbox.js';
import { entermedia, hexId, twelvelabs, uplynk } from './clients.js';

describe('sandbox stats', () => {
  const sandbox = sandboxForSuite();

  it('counts requests by system, route template and status, and mutations only for changes', async () => {
    await sandbox.reset();
    await sandbox.seed({
      twelvelabs: { apiKey: 'k', assets: [{ _id: hexId(1) }, { _id: hexId(2) }] },
      uplynk: { ownerId: 'o', apiKey: 'u', libraries: [{ id: 'lib', asset_ids: ['a'] }] },
      entermedia: { key: 'e', assets: [{ id: '7' }] },
    });
    const tl = twelvelabs(sandbox.url, 'k');
    await tl('GET', `/assets/${hexId(1)}`);
    await tl('GET', `/assets/${hexId(2)}`);
    await tl('DELETE', `/assets/${hexId(1)}`);
    await tl('DELETE', `/assets/${hexId(1)}`);
    await twelvelabs(sandbox.url, 'bad')('GET', `/assets/${hexId(2)}`);
    const up = uplynk(sandbox.url, 'o', 'u');
    await up('DELETE', '/libraries/lib/assets', { ids: 'a' });
    await up('DELETE', '/libraries/lib/assets', { ids: 'a' });
    const em = entermedia(sandbox.url, 'e');
    await em('deleteassets', { assetid: '7' });
    await em('deleteassets', { assetid: '7' });

    const stats = await sandbox.stats();
    const sorted = [...stats.requests].sort((a, b) =>
      `${a.system}${a.route}${a.status}`.localeCompare(`${b.system}${b.route}${b.status}`),
    );
    assert.deepEqual(sorted, [
      {
        system: 'entermedia',
        method: 'POST',
        route: 'POST /assets/mediadb/services/module/asset/deleteassets',
        status: 200,
        count: 2,
      },
      { system: 'twelvelabs', method: 'DELETE', route: 'DELETE /assets/{asset_id}', status: 200, count: 1 },
      { system: 'twelvelabs', method: 'DELETE', route: 'DELETE /assets/{asset_id}', status: 404, count: 1 },
      { system: 'twelvelabs', method: 'GET', route: 'GET /assets/{asset_id}', status: 200, count: 2 },
      { system: 'twelvelabs', method: 'GET', route: 'GET /assets/{asset_id}', status: 401, count: 1 },
      {
        system: 'uplynk',
        method: 'DELETE',
        route: 'DELETE /libraries/{library_id}/assets',
        status: 200,
        count: 2,
      },
    ]);
    assert.deepEqual(stats.mutations, { twelvelabs: 1, uplynk: 1, entermedia: 1 });
    assert.ok(stats.peakRequestsPerSecond.twelvelabs >= 3 && stats.peakRequestsPerSecond.twelvelabs <= 5);
    assert.ok(stats.peakRequestsPerSecond.uplynk >= 1);
    assert.ok(stats.busySeconds.twelvelabs >= 1 && stats.busySeconds.twelvelabs <= 2);
  });

  it('the peak is the busiest calendar second', async () => {
    await sandbox.reset();
    await sandbox.seed({ twelvelabs: { apiKey: 'k', assets: [{ _id: hexId(1) }] } });
    const tl = twelvelabs(sandbox.url, 'k');
    await Promise.all(Array.from({ length: 40 }, () => tl('GET', `/assets/${hexId(1)}`)));
    const { peakRequestsPerSecond } = await sandbox.stats();
    // 40 requests within a few ms fall into one second, or two when they straddle a boundary.
    assert.ok(peakRequestsPerSecond.twelvelabs >= 20 && peakRequestsPerSecond.twelvelabs <= 40);
  });

  it('counts each busy second on its own, the peak among them', async () => {
    await sandbox.reset();
    await sandbox.seed({ twelvelabs: { apiKey: 'k', assets: [{ _id: hexId(1) }] } });
    const tl = twelvelabs(sandbox.url, 'k');
    await Promise.all(Array.from({ length: 12 }, () => tl('GET', `/assets/${hexId(1)}`)));
    await new Promise((r) => setTimeout(r, 1000));
    await tl('GET', `/assets/${hexId(1)}`);
    const { requestsPerSecond, peakRequestsPerSecond, busySeconds } = await sandbox.stats();
    const counts = requestsPerSecond.twelvelabs;
    assert.equal(counts.length, busySeconds.twelvelabs);
    assert.equal(
      counts.reduce((a, n) => a + n, 0),
      13,
    );
    assert.equal(counts.at(-1), 1, 'the request a second later is a second of its own');
    assert.equal(Math.max(...counts), peakRequestsPerSecond.twelvelabs);
  });

  it('control calls are not counted, and reset clears the counts', async () => {
    await sandbox.reset();
    await sandbox.state();
    await sandbox.faults({});
    const stats = await sandbox.stats();
    assert.deepEqual(stats, {
      requests: [],
      mutations: { twelvelabs: 0, uplynk: 0, entermedia: 0 },
      peakRequestsPerSecond: { twelvelabs: 0, uplynk: 0, entermedia: 0 },
      busySeconds: { twelvelabs: 0, uplynk: 0, entermedia: 0 },
      requestsPerSecond: { twelvelabs: [], uplynk: [], entermedia: [] },
    });
  });
});
