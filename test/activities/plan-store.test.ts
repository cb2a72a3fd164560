import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openObjectStore, storeLocationProblem } from '../../activities/object-store.js';
import { loadWorkerEnv } from '../../worker/worker-env.js';
import { createPlanSource } from '../../activities/plan-source.js';
import { planSourceOf, readPlanFile } from '../../client/plan-file.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A CSV plan of `items` EnterMediaDB items, over the inline limit when items > 1000. */
function csvPlan(dir: string, name: string, items: number): string {
  const path = join(dir, `${name}.csv`);
  const rows = Array.from({ length: items }, (_, i) => `ep-${i},${i + 1}`);
  writeFileSync(path, ['id,entermedia.assetId', ...rows].join('\n'));
  return path;
}

describe('plan store and object stores, on a real S3-compatible server (s3rver) and a directory', () => {
  let s3: TestS3;
  let dir: string;
  before(async () => {
    s3 = await startTestS3();
    dir = tempDir('bulk-delete-plan-store-');
  });
  after(async () => {
    await s3.close();
  });

  it('an s3:// store writes, reads back, and answers undefined for a missing key', async () => {
    const store = openObjectStore(`s3://${s3.bucket}/runs/`, s3.env);
    assert.equal(await store.put('a/b.json', '{"x":1}'), `s3://${s3.bucket}/runs/a/b.json`);
    assert.equal((await store.get('a/b.json'))?.toString('utf8'), '{"x":1}');
    assert.equal(await store.get('a/missing.json'), undefined);
  });

  it('a directory store writes, reads back, and refuses keys that climb out of it', async () => {
    const store = openObjectStore(join(dir, 'reports'));
    const uri = await store.put('wf/1/report.json', 'r');
    assert.equal(readFileSync(fileURLToPath(uri), 'utf8'), 'r');
    assert.equal((await store.get('wf/1/report.json'))?.toString('utf8'), 'r');
    assert.equal(await store.get('wf/2/report.json'), undefined);
    await assert.rejects(store.put('../escape.json', 'x'), /"\.\." segment/);
  });

  it('a location that is neither s3://bucket, file:///dir nor a path is refused, not taken for a directory', () => {
    for (const good of [
      's3://bulk-delete-test',
      's3://my.bucket/runs/',
      'file:///var/reports',
      'reports',
      '/data/r',
    ]) {
      assert.equal(storeLocationProblem(good), undefined, good);
    }
    for (const [bad, why] of [
      ['s3:/bulk-delete-test', /is not a store location/],
      ['s3:bulk-delete-test', /is not a store location/],
      ['gs://bucket', /is not a store location/],
      ['https://example.com/r', /is not a store location/],
      ['s3://', /does not name an S3 bucket/],
      ['s3://Bad_Bucket', /does not name an S3 bucket/],
      ['file://host/dir', /is not a file URL/],
      ['  ', /is empty/],
    ] as const) {
      assert.match(storeLocationProblem(bad) ?? '', why, bad);
      assert.throws(() => openObjectStore(bad), why);
    }
    assert.throws(
      () => loadWorkerEnv({ BULK_DELETE_REPORT_STORE: 's3:/bad' }),
      (error: Error) =>
        /BULK_DELETE_REPORT_STORE/.test(error.message) &&
        /"s3:\/bad" is not a store location/.test(error.message),
    );
  });

  it('with BULK_DELETE_PLAN_STORE on s3, a large plan is uploaded under its SHA-256 and the workers read it by s3:// reference', async () => {
    const file = readPlanFile(csvPlan(dir, 'big-s3', 1001), { 'max-items': '2000' });
    const env = { ...s3.env, BULK_DELETE_PLAN_STORE: `s3://${s3.bucket}/plans-in` };
    const source = await planSourceOf(file, env);
    assert.ok('planRef' in source);
    const { planRef } = source;
    assert.equal(planRef.uri, `s3://${s3.bucket}/plans-in/plans/${planRef.sha256}.json`);
    const stored = await openObjectStore(`s3://${s3.bucket}/plans-in`, s3.env).get(
      `plans/${planRef.sha256}.json`,
    );
    assert.equal(createHash('sha256').update(stored!).digest('hex'), planRef.sha256);

    const plans = createPlanSource({ env: s3.env });
    const summary = await plans.readPlanSummary({ ref: planRef });
    assert.deepEqual([summary.name, summary.items, summary.systems.entermedia], ['big-s3', 1001, 1001]);
    const page = await plans.readPlanPage({ ref: planRef, offset: 1000, limit: 10 });
    assert.deepEqual(
      page.map((i) => i.id),
      ['ep-1000'],
    );
  });

  it('with BULK_DELETE_PLAN_STORE a directory, the plan is copied there; a small plan still travels inline', async () => {
    const file = readPlanFile(csvPlan(dir, 'big-dir', 1001), { 'max-items': '2000' });
    const source = await planSourceOf(file, { BULK_DELETE_PLAN_STORE: join(dir, 'store') });
    assert.ok('planRef' in source);
    assert.equal(
      fileURLToPath(source.planRef.uri),
      join(dir, 'store', 'plans', `${source.planRef.sha256}.json`),
    );
    const small = readPlanFile(csvPlan(dir, 'small', 3));
    assert.ok('plan' in (await planSourceOf(small, { BULK_DELETE_PLAN_STORE: join(dir, 'store') })));
  });

  it('an s3:// plan changed after it was submitted, or gone, fails without retry naming it', async () => {
    const store = openObjectStore(`s3://${s3.bucket}`, s3.env);
    const body = JSON.stringify({ name: 'p', items: [{ id: 'a', entermedia: { assetId: '1' } }] });
    const uri = await store.put('changed.json', body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    await store.put('changed.json', body.replace('"1"', '"2"'));
    const plans = createPlanSource({ env: s3.env });
    await assert.rejects(plans.readPlanSummary({ ref: { uri, sha256, name: 'p', items: 1 } }), {
      type: 'PlanChangedError',
      nonRetryable: true,
    });
    await assert.rejects(
      plans.readPlanSummary({
        ref: { uri: `s3://${s3.bucket}/gone.json`, sha256, name: 'p', items: 1 },
      }),
      (error: Error & { type?: string }) =>
        error.type === 'PlanUnreadableError' && /gone\.json: no such object/.test(error.message),
    );
  });

  it('a plan file changed between its validation and its upload is refused, not stored under the validated name', async () => {
    const items = Array.from({ length: 1001 }, (_, i) => ({
      id: `ep-${i}`,
      entermedia: { assetId: String(i + 1) },
    }));
    const path = join(dir, 'changed-before-upload.json');
    writeFileSync(path, JSON.stringify({ name: 'validated', items, options: { maxItems: 2000 } }));
    const validated = readPlanFile(path);
    // Meanwhile an editor or a script writes another plan to the same file.
    writeFileSync(path, JSON.stringify({ name: 'other', items, options: { maxItems: 2000 } }));
    const env = { ...s3.env, BULK_DELETE_PLAN_STORE: `s3://${s3.bucket}/changed` };
    await assert.rejects(
      planSourceOf(validated, env),
      (error: Error) =>
        error.message.startsWith(`cannot store the plan`) === false &&
        error.message.includes(`${path} changed since it was validated`) &&
        error.message.endsWith(`validated ${validated.sha256}): nothing was stored or started`),
    );
    const store = openObjectStore(`s3://${s3.bucket}/changed`, s3.env);
    assert.equal(await store.get(`plans/${validated.sha256}.json`), undefined);
  });

  it('an s3:// plan is read as it arrives, as a file is: the worker never holds its bytes whole', async () => {
    const items = Array.from({ length: 100_000 }, (_, i) => ({
      id: `ep-${i}`,
      twelvelabs: { assetId: i.toString(16).padStart(24, '0') },
      entermedia: { assetId: String(i + 1) },
    }));
    const body = Buffer.from(JSON.stringify({ name: 'streamed', items, options: { maxItems: 200_000 } }));
    const sha256 = createHash('sha256').update(body).digest('hex');
    const uri = await openObjectStore(`s3://${s3.bucket}`, s3.env).put('streamed.json', body);
    // Bytes outside V8's heap (Buffers): held whole, the plan took three times its size at once (the
    // SDK's copy and ours, 55 MB for this 18 MB plan); streamed, a few MB.
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }, 5);
    const plans = createPlanSource({ env: s3.env });
    try {
      const summary = await plans.readPlanSummary({ ref: { uri, sha256, name: 'streamed', items: 100_000 } });
      assert.equal(summary.items, 100_000);
    } finally {
      clearInterval(sampler);
      await plans.close();
    }
    assert.ok(
      peak < body.length / 2,
      `${(peak / 1e6).toFixed(1)} MB of buffers at once for a ${(body.length / 1e6).toFixed(1)} MB plan`,
    );
  });
});
