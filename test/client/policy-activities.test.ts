import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createPolicyActivities } from '../../activities/policy-activities.js';
import { sandboxEnv } from '../../sandbox/index.js';
import { loadSystemsConfig } from '../../worker/systems-config.js';
import { CleanupPolicy, type CleanupPolicyInput } from '../../workflows/index.js';
import { countRequests, startTestSandbox, untilAnswered, type TestSandbox } from '../helpers/sandbox.js';
import { tempDir } from '../helpers/temp-dir.js';

const CREDENTIALS = {
  twelvelabs: { apiKey: 'policy-key' },
  uplynk: { ownerId: 'policy-owner', apiKey: 'policy-uplynk' },
  entermedia: { key: 'policy-dam' },
};
const id = (n: number) => `6a00000000000000000000${n.toString(16).padStart(2, '0')}`;
const NOW = new Date('2026-06-01T00:00:00Z');

/** Expired by metadata `gone`, naming the Uplynk asset, its libraries and the DAM asset in `up`, `libs`, `dam`. */
const METADATA_WITH_OTHER_SYSTEMS = {
  select: {
    twelvelabsMetadata: {
      field: 'gone',
      uplynkAssetIdField: 'up',
      uplynkLibraryIdsField: 'libs',
      entermediaAssetIdField: 'dam',
    },
  },
};

describe('selecting what a clean-up run deletes', () => {
  let sandbox: TestSandbox;
  let dir: string;
  let select: ReturnType<typeof createPolicyActivities>['selectCleanupItems'];
  let activities: ReturnType<typeof createPolicyActivities>;

  before(async () => {
    sandbox = await startTestSandbox();
    dir = tempDir('bulk-delete-policy-');
    const systems = loadSystemsConfig({ ...sandboxEnv(sandbox.url, CREDENTIALS) });
    activities = createPolicyActivities({ systems, now: () => NOW });
    select = (input) => activities.selectCleanupItems(input);
  });
  after(async () => {
    await sandbox?.close();
  });

  const policy = (input: Omit<CleanupPolicyInput, 'name'>) =>
    CleanupPolicy.parse({ name: 'test-policy', ...input });

  it('reads every page of the catalogue and takes expired assets by ISO date or Unix time, oldest first', async () => {
    // 60 assets: more than one page of 50. Every third expired, dated further back as n grows.
    const assets = Array.from({ length: 60 }, (_, n) => ({
      _id: id(n),
      user_metadata:
        n % 3 === 0
          ? {
              expires:
                n % 2 === 0
                  ? new Date(NOW.getTime() - (n + 1) * 86_400_000).toISOString()
                  : (NOW.getTime() - (n + 1) * 86_400_000) / 1000,
            }
          : { expires: '2999-01-01' },
    }));
    await sandbox.seed({ twelvelabs: { ...CREDENTIALS.twelvelabs, assets } });
    const picked = await select({
      policy: policy({ select: { twelvelabsMetadata: { field: 'expires' } }, maxItems: 5 }),
      planName: 'p-1',
    });
    assert.equal(picked.selected, 5);
    assert.equal(picked.remaining, 15);
    assert.ok(picked.source && 'plan' in picked.source);
    assert.deepEqual(
      picked.source.plan.items.map((item) => item.id),
      [57, 54, 51, 48, 45].map(id),
    );
    assert.equal(picked.source.plan.name, 'p-1');
    assert.equal(picked.source.plan.options.maxItems, 5);
    const stats = await sandbox.stats();
    assert.deepEqual(
      stats.requests.filter((r) => r.route === 'GET /assets').map((r) => r.count),
      [2],
    );
  });

  it("takes the other systems' IDs from named fields, and skips with a note an asset whose IDs are not valid", async () => {
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          { _id: id(1), user_metadata: { gone: '2020-01-01', up: 'u-1', libs: 'lib-a,lib-b', dam: 101 } },
          { _id: id(2), user_metadata: { gone: '2020-01-02', up: 'u 2', libs: 'lib-a' } },
          { _id: id(3), user_metadata: { gone: 'not a date' } },
          { _id: id(4), user_metadata: { gone: '2020-01-03', up: 'u-4' } },
        ],
      },
    });
    const picked = await select({
      policy: policy(METADATA_WITH_OTHER_SYSTEMS),
      planName: 'p-2',
    });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.deepEqual(picked.source.plan.items, [
      {
        id: id(1),
        twelvelabs: { assetId: id(1) },
        uplynk: { assetId: 'u-1', libraryIds: ['lib-a', 'lib-b'] },
        entermedia: { assetId: '101' },
      },
      // An Uplynk asset without libraries has nothing to remove in Uplynk.
      { id: id(4), twelvelabs: { assetId: id(4) } },
    ]);
    assert.equal(picked.notes.length, 2);
    assert.match(picked.notes[0]!, new RegExp(`^asset ${id(3)} left alone: its gone "not a date" is not`));
    assert.match(picked.notes[1]!, new RegExp(`^asset ${id(2)} skipped: .*uplynk\\.assetId`));
  });

  it('skips with a note an asset whose Uplynk or DAM asset an older expired asset already names: no two items share a target', async () => {
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          { _id: id(1), user_metadata: { gone: '2020-01-02', up: 'u-1', libs: 'lib-a', dam: 'd-1' } },
          { _id: id(2), user_metadata: { gone: '2020-01-01', up: 'u-2', libs: 'lib-a', dam: 'd-1' } },
          { _id: id(3), user_metadata: { gone: '2020-01-03', up: 'u-2', libs: 'lib-b', dam: 'd-3' } },
          { _id: id(4), user_metadata: { gone: '2020-01-04', up: 'u-4', libs: 'lib-a', dam: 'd-4' } },
        ],
      },
    });
    const picked = await select({
      policy: policy(METADATA_WITH_OTHER_SYSTEMS),
      planName: 'p-shared',
    });
    assert.ok(picked.source && 'plan' in picked.source);
    // The oldest keeps the target; an item that failed could otherwise lose it to the other item's delete.
    assert.deepEqual(
      picked.source.plan.items.map((i) => i.id),
      [id(2), id(4)],
    );
    assert.equal(picked.selected, 2);
    assert.equal(picked.notes.length, 2);
    assert.match(
      picked.notes[0]!,
      new RegExp(`^asset ${id(1)} skipped: .*EnterMediaDB asset "d-1".*${id(2)}`),
    );
    assert.match(picked.notes[1]!, new RegExp(`^asset ${id(3)} skipped: .*Uplynk asset "u-2".*${id(2)}`));
  });

  it('leaves alone, with a note, an expired asset whose Uplynk or DAM asset an asset the policy does not select still names', async () => {
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          // The DAM master d-1 of an old copy that expired, and of its re-upload that has not.
          { _id: id(1), user_metadata: { gone: '2020-01-01', dam: 'd-1' } },
          { _id: id(2), user_metadata: { gone: '2999-01-01', dam: 'd-1' } },
          // The Uplynk asset u-3 of an expired asset, also named by one whose date cannot be read.
          { _id: id(3), user_metadata: { gone: '2020-01-01', up: 'u-3', libs: 'lib-a' } },
          { _id: id(4), user_metadata: { gone: 'soon', up: 'u-3', libs: 'lib-b' } },
          // Named by no other asset: goes.
          { _id: id(5), user_metadata: { gone: '2020-01-01', up: 'u-5', libs: 'lib-a', dam: 'd-5' } },
        ],
      },
    });
    const picked = await select({ policy: policy(METADATA_WITH_OTHER_SYSTEMS), planName: 'p-live' });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.deepEqual(
      picked.source.plan.items.map((i) => i.id),
      [id(5)],
    );
    assert.deepEqual(picked.notes.slice(1), [
      `asset ${id(1)} left alone: its EnterMediaDB asset "d-1" is also named by asset ${id(2)}, which the policy does not select`,
      `asset ${id(3)} left alone: its Uplynk asset "u-3" is also named by asset ${id(4)}, which the policy does not select`,
    ]);
  });

  it('names at most 20 assets of each kind in its notes and counts the rest, and cuts a long value short', async () => {
    // 25 assets of each kind a note names: an unreadable date (the first one 5,000 characters long), IDs
    // that are not valid, a DAM asset also named by an asset the policy does not select, and a DAM asset
    // an older expired asset already names. Only the 25 older expired assets go.
    const of = (from: number, make: (n: number) => Record<string, unknown>) =>
      Array.from({ length: 25 }, (_, k) => ({ _id: id(from + k), user_metadata: make(from + k) }));
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          ...of(0, (n) => ({ gone: n === 0 ? 'x'.repeat(5000) : `later ${n}` })),
          ...of(25, () => ({ gone: '2020-01-01', up: 'u x', libs: 'lib-a' })),
          ...of(50, (n) => ({ gone: '2020-01-01', dam: `held-${n}` })),
          ...of(75, (n) => ({ gone: '2020-01-02', dam: `shared-${n}` })),
          ...of(100, (n) => ({ gone: '2999-01-01', dam: `held-${n - 50}` })),
          ...of(125, (n) => ({ gone: '2020-01-01', dam: `shared-${n - 50}` })),
        ],
      },
    });
    const picked = await select({ policy: policy(METADATA_WITH_OTHER_SYSTEMS), planName: 'p-notes' });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.deepEqual(
      picked.source.plan.items.map((i) => i.id).sort(),
      Array.from({ length: 25 }, (_, k) => id(125 + k)).sort(),
    );
    const count = (pattern: RegExp) => picked.notes.filter((note) => pattern.test(note)).length;
    assert.equal(count(/^asset \S+ left alone: its gone .* is not an ISO 8601 date/), 20);
    assert.equal(count(/^asset \S+ skipped: .*uplynk\.assetId/), 20);
    assert.equal(count(/^asset \S+ left alone: its EnterMediaDB asset "held-/), 20);
    assert.equal(count(/^asset \S+ skipped: its EnterMediaDB asset "shared-/), 20);
    assert.deepEqual(picked.notes.slice(80), [
      '5 more assets left alone: their gone is not an ISO 8601 date nor a Unix time',
      '5 more assets skipped: the IDs their metadata names are not valid',
      '5 more assets left alone: an asset of another system they name is also named by an asset the policy does not select',
      '5 more assets skipped: an asset of another system they name is already named by an older expired asset',
    ]);
    assert.equal(
      picked.notes[0],
      `asset ${id(0)} left alone: its gone "${'x'.repeat(79)}… (5002 characters) is not an ISO 8601 date (2026-06-01, 2026-06-01T09:00:00Z) nor a Unix time in seconds or milliseconds`,
    );
  });

  it('takes only ISO 8601 dates and Unix times: any other value is left alone with a note, never read as some other date', async () => {
    // Each value below is one an operator or a DAM export may well write into delete_after.
    const values: Array<[unknown, boolean]> = [
      ['2020-01-01', true],
      ['2026-05-30T23:00:00Z', true],
      ['2026-05-31T20:00:00-03:00', true],
      ['2026-05-30 23:00:00.5Z', true], // a space for the T, as database exports write it
      [NOW.getTime() / 1000 - 3600, true], // Unix seconds, an hour ago
      [NOW.getTime() - 3600_000, true], // Unix milliseconds
      ['keep 1', false], // free text with a digit: Date.parse reads it as 1 January 2001
      ['1', false],
      ['-1', false],
      ['hold until 5', false],
      ['01/06/2026', false], // 1 June 2026 written day first: Date.parse reads 6 January
      ['2026-02-30', false], // no such day: Date.parse rolls it over to 2 March
      [0, false], // "not set": Unix time 0 is 1970
      [20991231, false], // 31 December 2099 as a number: as Unix seconds it is 1970
      [2099, false], // a year as a number
      [true, false],
    ];
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          ...values.map(([value], n) => ({ _id: id(n), user_metadata: { gone: value } })),
          // Not set: left alone without a note.
          { _id: id(90), user_metadata: { gone: null } },
          { _id: id(91), user_metadata: { gone: ' ' } },
          { _id: id(92), user_metadata: {} },
        ],
      },
    });
    const picked = await select({
      policy: policy({ select: { twelvelabsMetadata: { field: 'gone' } } }),
      planName: 'p-dates',
    });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.deepEqual(
      picked.source.plan.items.map((i) => i.id).sort(),
      values.flatMap(([, past], n) => (past ? [id(n)] : [])).sort(),
    );
    assert.deepEqual(
      picked.notes,
      values.flatMap(([value, past], n) =>
        past
          ? []
          : [
              `asset ${id(n)} left alone: its gone ${JSON.stringify(value)} is not an ISO 8601 date (2026-06-01, 2026-06-01T09:00:00Z) nor a Unix time in seconds or milliseconds`,
            ],
      ),
    );
  });

  it("a date without a time zone is past only once it is past in every time zone, whatever the worker's zone", async () => {
    // NOW is 2026-06-01T00:00Z: still 31 May west of Greenwich.
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          { _id: id(1), user_metadata: { gone: '2026-05-31' } }, // the day is not over in New York
          { _id: id(2), user_metadata: { gone: '2026-05-31T20:00:00' } }, // 20:00 where? Not yet in Hawaii
          { _id: id(3), user_metadata: { gone: '2026-05-30' } }, // over everywhere since 2026-05-31T12:00Z
          { _id: id(4), user_metadata: { gone: '2026-05-31T11:00' } }, // past even at UTC-12
          { _id: id(5), user_metadata: { gone: '2026-05-31T20:00:00-05:00' } }, // 01:00Z: not yet
        ],
      },
    });
    const picked = await select({
      policy: policy({ select: { twelvelabsMetadata: { field: 'gone' } } }),
      planName: 'p-zones',
    });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.deepEqual(
      picked.source.plan.items.map((i) => i.id),
      [id(3), id(4)],
    );
    assert.deepEqual(picked.notes, []);
  });

  it('reading the selection again just before deleting drops the items whose asset is gone, whose date moved ahead, or whose IDs changed', async () => {
    const { select: selection } = METADATA_WITH_OTHER_SYSTEMS;
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          { _id: id(1), user_metadata: { gone: '2020-01-01', up: 'u-1', libs: 'lib-a', dam: 'd-1' } },
          { _id: id(2), user_metadata: { gone: '2020-01-01', dam: 'd-2' } },
          { _id: id(3), user_metadata: { gone: '2020-01-01', dam: 'd-3' } },
        ],
      },
    });
    const picked = await select({ policy: policy({ select: selection }), planName: 'p-again' });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.equal(picked.selected, 3);
    // Between selection and delete: asset 2's date moves ahead, asset 3 names another DAM asset, asset 1 stays.
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [
          { _id: id(1), user_metadata: { gone: '2020-01-01', up: 'u-1', libs: 'lib-a', dam: 'd-1' } },
          { _id: id(2), user_metadata: { gone: '2030-01-01', dam: 'd-2' } },
          { _id: id(3), user_metadata: { gone: '2020-01-01', dam: 'd-33' } },
        ],
      },
    });
    const again = (items: typeof picked.source.plan.items) =>
      activities.recheckSelection({ items, select: selection });
    assert.deepEqual(await again(picked.source.plan.items), [
      { item: id(2), reason: 'no longer selected: its gone is now "2030-01-01"' },
      { item: id(3), reason: 'no longer selected: the IDs its metadata names changed since the selection' },
    ]);
    // Asset 1 deleted meanwhile by someone else: its Uplynk and DAM IDs can no longer be confirmed.
    await sandbox.seed({ twelvelabs: { ...CREDENTIALS.twelvelabs, assets: [] } });
    assert.deepEqual(await again(picked.source.plan.items.slice(0, 1)), [
      {
        item: id(1),
        reason:
          'no longer selected: its TwelveLabs asset is gone since the selection, so its gone cannot be read again',
      },
    ]);
  });

  it('says so when the catalogue changed while it was listed: an asset that moved between pages may have been missed', async () => {
    const assets = Array.from({ length: 60 }, (_, n) => ({
      _id: id(n),
      user_metadata: { expires: '2020-01-01' },
    }));
    await sandbox.seed({ twelvelabs: { ...CREDENTIALS.twelvelabs, assets } });
    await sandbox.faults({ twelvelabs: { latencyMs: [300, 300] } });
    const listed = countRequests(await sandbox.stats(), { route: 'GET /assets' });
    try {
      const picking = select({
        policy: policy({ select: { twelvelabsMetadata: { field: 'expires' } }, maxItems: 100 }),
        planName: 'p-shift',
      });
      // Once the first page is answered, ten assets of it go (deleted by someone else): the second page
      // now starts ten assets later, and those ten are never seen.
      await untilAnswered(sandbox, 'GET /assets', listed + 1);
      await sandbox.seed({ twelvelabs: { ...CREDENTIALS.twelvelabs, assets: assets.slice(10) } });
      const picked = await picking;
      assert.equal(picked.selected, 50);
      assert.deepEqual(picked.notes, [
        'the catalogue changed while it was listed (60 assets, then 50): an asset that moved between pages may have been missed (a later run picks it up)',
      ]);
    } finally {
      await sandbox.faults({});
    }
  });

  it('selects nothing when nothing expired', async () => {
    await sandbox.seed({
      twelvelabs: {
        ...CREDENTIALS.twelvelabs,
        assets: [{ _id: id(1), user_metadata: { gone: '2999-01-01' } }],
      },
    });
    const picked = await select({
      policy: policy({ select: { twelvelabsMetadata: { field: 'gone' } } }),
      planName: 'p-3',
    });
    assert.deepEqual(picked, { selected: 0, remaining: 0, notes: [] });
  });

  it('a manifest that is not a valid plan, or lists more than maxItems, fails without retry and names the line', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, `{ "name": "m",\n  "items": [ { "id": "a", "twelvelabs": { "assetId": "nope" } } ] }`);
    await assert.rejects(
      select({ policy: policy({ select: { manifest: bad } }), planName: 'x' }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.nonRetryable, true);
        assert.equal(error.type, 'InvalidPlanError');
        assert.match(error.message, /bad\.json:2: items\[0\]\.twelvelabs\.assetId: must be a TwelveLabs ID/);
        return true;
      },
    );
    const big = join(dir, 'big.csv');
    writeFileSync(big, 'id,entermedia.assetId\na,1\nb,2\nc,3\n');
    await assert.rejects(
      select({ policy: policy({ select: { manifest: big }, maxItems: 2 }), planName: 'x' }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'PolicyLimitError');
        assert.match(
          error.message,
          /lists 3 items, more than the policy's maxItems \(2\): nothing was deleted/,
        );
        return true;
      },
    );
    await assert.rejects(
      select({ policy: policy({ select: { manifest: join(dir, 'missing.json') } }), planName: 'x' }),
      /ENOENT/,
    );
  });

  it('reading a manifest again drops the items it no longer lists or lists with other IDs; a manifest gone confirms nothing', async () => {
    const location = join(dir, 'again.csv');
    writeFileSync(location, 'id,entermedia.assetId\na,1\nb,2\nc,3\n');
    const picked = await select({ policy: policy({ select: { manifest: location } }), planName: 'x' });
    assert.ok(picked.source && 'plan' in picked.source);
    const { items } = picked.source.plan;
    writeFileSync(location, 'id,entermedia.assetId\na,1\nc,33\n');
    const recheck = { manifest: location, name: 'test-policy' };
    assert.deepEqual(await activities.recheckSelection({ items, select: recheck }), [
      { item: 'b', reason: 'no longer selected: no longer in the manifest' },
      { item: 'c', reason: 'no longer selected: the manifest now names other IDs for it' },
    ]);
    await assert.rejects(
      activities.recheckSelection({ items, select: { ...recheck, manifest: join(dir, 'gone.csv') } }),
      (error: unknown) => error instanceof ApplicationFailure && error.type === 'PlanUnreadableError',
    );
  });

  it('a CSV manifest is named after the policy', async () => {
    const csv = join(dir, 'm.csv');
    writeFileSync(csv, 'id,entermedia.assetId\na,1\n');
    const picked = await select({ policy: policy({ select: { manifest: csv } }), planName: 'x' });
    assert.ok(picked.source && 'plan' in picked.source);
    assert.equal(picked.source.plan.name, 'test-policy');
  });

  it('a policy must name exactly one selection, and a metadata selection at most 1,000 items a run', () => {
    const both = CleanupPolicy.safeParse({
      name: 'p',
      select: { manifest: 'a.json', twelvelabsMetadata: { field: 'f' } },
    });
    assert.ok(!both.success);
    assert.match(both.error.issues[0]!.message, /exactly one of "manifest" or "twelvelabsMetadata"/);
    const large = CleanupPolicy.safeParse({
      name: 'p',
      select: { twelvelabsMetadata: { field: 'f' } },
      maxItems: 5000,
    });
    assert.ok(!large.success);
    assert.deepEqual(large.error.issues[0]!.path, ['maxItems']);
  });
});
