import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ItemBook,
  PlanItem,
  planChunk,
  replanForeignEntity,
  replanRefusedUnlink,
  replanRefusedUnlinkApproved,
  rowsOf,
  runTally,
  summarize,
  thresholdBreach,
  windowSize,
  PlanOptions,
  type DiscoveredAsset,
  type LastEntityAsset,
  type LedgerEntry,
  type PlannerFlags,
} from '../../plan/index.js';

const hex = (n: number): string => n.toString(16).padStart(24, '0');
const A1 = hex(0xa1);
const A2 = hex(0xa2);
const A3 = hex(0xa3);
const OTHER = hex(0xff);
const COLL = hex(0xc0);
const entity = (id: number, assetIds: string[]) => ({
  id: hex(id),
  collectionId: COLL,
  assetIds,
  status: 'ready' as const,
});

function item(id: string, assetId?: string, extra: Partial<PlanItem> = {}): PlanItem {
  return PlanItem.parse({ id, ...(assetId ? { twelvelabs: { assetId } } : {}), ...extra });
}

function found(
  assetId: string,
  entities: DiscoveredAsset['entities'],
  indexed: number[] = [],
): DiscoveredAsset {
  return {
    assetId,
    exists: true,
    entities,
    indexedAssets: indexed.map((n) => ({ id: hex(n), indexId: hex(0x1d) })),
  };
}

/** The planner as chunks plan now: under delete-entity, every item of an entity the plan empties deletes it. */
const NOW = { entityDeleteByEveryItem: true } as const;

/** The planned steps as short strings, `item step target`. */
function stepsOf(
  items: PlanItem[],
  discovered: DiscoveredAsset[],
  mode: LastEntityAsset,
  flags: PlannerFlags = NOW,
): string[] {
  return planChunk(items, discovered, mode, flags).steps.map((s) => `${s.item} ${s.step} ${s.target}`);
}

describe('planner: an item and its references become its calls, in the mission order', () => {
  it('plans, per item, unlinks, indexed assets, the forced asset delete, library removals and the DAM delete', () => {
    const items = [
      item('ep-1', A1, {
        uplynk: { assetId: 'u1', libraryIds: ['lib1', 'lib2'] },
        entermedia: { assetId: 'd1' },
      }),
    ];
    const e1 = entity(0xe1, [A1, OTHER]);
    const plan = planChunk(items, [found(A1, [e1], [0x1a])], 'force-unlink');
    assert.deepEqual(
      plan.items[0]!.calls.map((c) => `${c.system} ${c.step} ${c.target}`),
      [
        `twelvelabs unlink-entity ${e1.id}/${A1}`,
        `twelvelabs delete-indexed-asset ${hex(0x1d)}/${hex(0x1a)}`,
        `twelvelabs delete-asset ${A1}`,
        'uplynk remove-from-library lib1/u1',
        'uplynk remove-from-library lib2/u1',
        'entermedia delete-dam-asset d1',
      ],
    );
    assert.equal(plan.digest.length, 64);
  });

  const lastAsset: Array<[LastEntityAsset, string[]]> = [
    // The entity holds exactly the plan's two assets: the forced deletes empty it, no unlink is needed.
    [
      'force-unlink',
      [
        `a1 leave-to-force-delete ${hex(0xe1)}`,
        `a2 leave-to-force-delete ${hex(0xe1)}`,
        `a1 delete-asset ${A1}`,
        `a2 delete-asset ${A2}`,
      ],
    ],
    // Every item of the entity deletes it (one call for the chunk): the chunk that finds only its own
    // live items' assets in it, read again, deletes it.
    [
      'delete-entity',
      [
        `a1 delete-entity ${hex(0xe1)}`,
        `a2 delete-entity ${hex(0xe1)}`,
        `a1 delete-asset ${A1}`,
        `a2 delete-asset ${A2}`,
      ],
    ],
    ['skip-item', [`a2 skip `, `a1 unlink-entity ${hex(0xe1)}/${A1}`, `a1 delete-asset ${A1}`]],
  ];
  for (const [mode, expected] of lastAsset) {
    it(`when the plan takes all of an entity's assets, lastEntityAsset ${mode} decides`, () => {
      const e1 = entity(0xe1, [A1, A2]);
      const items = [item('a1', A1), item('a2', A2)];
      assert.deepEqual(stepsOf(items, [found(A1, [e1]), found(A2, [e1])], mode), expected);
    });
  }

  it('chunks planned before every item deleted the entity: the item of its last asset deletes it', () => {
    // Old histories replay with this plan (workflow patch entity-delete-by-whichever-chunk-is-last).
    const e1 = entity(0xe1, [A1, A2]);
    const items = [item('a1', A1), item('a2', A2)];
    assert.deepEqual(stepsOf(items, [found(A1, [e1]), found(A2, [e1])], 'delete-entity', {}), [
      `a1 leave-to-force-delete ${hex(0xe1)}`,
      `a2 delete-entity ${hex(0xe1)}`,
      `a1 delete-asset ${A1}`,
      `a2 delete-asset ${A2}`,
    ]);
  });

  it('delete-entity: an entity with assets outside the plan is unlinked from; one the plan empties is deleted by each chunk of it', () => {
    // E1 holds A1 and an asset outside the plan; E2 holds A1 (this chunk) and A2 (another chunk's).
    const e1 = entity(0xe1, [A1, OTHER]);
    const e2 = { ...entity(0xe2, [A1, A2]), planAssetIds: [A1, A2] };
    const plan = planChunk([item('a1', A1)], [found(A1, [e1, e2])], 'delete-entity', NOW);
    assert.deepEqual(
      plan.steps.map((s) => `${s.item} ${s.step} ${s.target}`),
      [`a1 unlink-entity ${e1.id}/${A1}`, `a1 delete-entity ${e2.id}`, `a1 delete-asset ${A1}`],
    );
    assert.match(
      plan.steps[1]!.note ?? '',
      /read again first, it is deleted only if it holds no asset but those of this chunk's live items/,
    );
  });

  it('skip-item: skipping an item keeps its asset in all its entities, which can save another item', () => {
    // E1 = {A1, A2}, E2 = {A2}: A2 is E2's last asset, so a2 is skipped; then E1 keeps A2 and a1 is unlinked.
    const e1 = entity(0xe1, [A1, A2]);
    const e2 = entity(0xe2, [A2]);
    const plan = planChunk(
      [item('a1', A1), item('a2', A2)],
      [found(A1, [e1]), found(A2, [e1, e2])],
      'skip-item',
    );
    assert.match(plan.items[1]!.skip ?? '', /last asset of entity/);
    assert.deepEqual(plan.items[1]!.calls, []);
    assert.deepEqual(
      plan.items[0]!.calls.map((c) => c.step),
      ['unlink-entity', 'delete-asset'],
    );
  });

  it('an asset already gone is absent in TwelveLabs and keeps its other systems; a read that failed fails only its item', () => {
    const items = [item('gone', A1, { entermedia: { assetId: 'd1' } }), item('bad', A2), item('ok', A3)];
    const plan = planChunk(
      items,
      [
        { assetId: A1, exists: false, entities: [], indexedAssets: [] },
        { assetId: A2, exists: true, entities: [], error: { type: 'PermissionDeniedError', message: '403' } },
        found(A3, []),
      ],
      'force-unlink',
    );
    assert.deepEqual(plan.items[0]!.absent, ['twelvelabs']);
    assert.deepEqual(
      plan.items[0]!.calls.map((c) => c.step),
      ['delete-dam-asset'],
    );
    assert.match(plan.items[1]!.failure?.detail ?? '', /PermissionDeniedError/);
    assert.deepEqual(plan.items[1]!.calls, []);
    assert.deepEqual(
      plan.items[2]!.calls.map((c) => c.step),
      ['delete-asset'],
    );
  });

  it('an entity shared with other chunks is decided alike in every chunk, before or after the others ran', () => {
    // E holds A1 (this chunk) and A2 (another chunk of the plan): the plan takes all of it.
    const before = { ...entity(0xe1, [A1, A2]), planAssetIds: [A1, A2] };
    // What this chunk sees if the other chunk ran first: under force-unlink, A2's forced delete left A1
    // alone in E; under delete-entity, A2's item deleted E.
    const afterForce = { ...entity(0xe1, [A1]), planAssetIds: [A1] };
    const calls = (mode: LastEntityAsset, e: DiscoveredAsset['entities'], flags: PlannerFlags = NOW) =>
      stepsOf([item('a1', A1)], [found(A1, e)], mode, flags).filter(
        (s) => !s.includes('leave-to-force-delete'),
      );
    assert.deepEqual(calls('force-unlink', [before]), calls('force-unlink', [afterForce]));
    // delete-entity: the other chunk, finding A1 still in E, unlinked A2 and left E to this chunk, which
    // deletes it either way (read again first).
    assert.deepEqual(calls('delete-entity', [before]), calls('delete-entity', [afterForce]));
    assert.deepEqual(calls('delete-entity', [before]), [
      `a1 delete-entity ${hex(0xe1)}`,
      `a1 delete-asset ${A1}`,
    ]);
    // Chunks planned before: A2's item deleted E, whichever chunk ran first.
    assert.deepEqual(calls('delete-entity', [before], {}), calls('delete-entity', [], {}));
    // skip-item: A2 (the greater ID) is the last asset, so the other chunk skips its item and a1 is unlinked.
    assert.deepEqual(stepsOf([item('a1', A1)], [found(A1, [before])], 'skip-item'), [
      `a1 unlink-entity ${hex(0xe1)}/${A1}`,
      `a1 delete-asset ${A1}`,
    ]);
  });

  it('the same references give the same steps and digest, whatever the order discovery answered in', () => {
    const e1 = entity(0xe1, [A1, A2, OTHER]);
    const items = [item('a1', A1), item('a2', A2)];
    const one = planChunk(items, [found(A1, [e1], [1]), found(A2, [e1], [2])], 'force-unlink');
    const two = planChunk(items, [found(A2, [e1], [2]), found(A1, [e1], [1])], 'force-unlink');
    assert.equal(one.digest, two.digest);
    assert.deepEqual(one.steps, two.steps);
  });
});

describe('re-planning when a vendor refuses or the world changed', () => {
  const e1 = { id: hex(0xe1), collectionId: COLL };
  const refused = [
    { item: 'a1', assetId: A1 },
    { item: 'a2', assetId: A2 },
  ];
  const table: Array<[LastEntityAsset, { skip: string[]; calls: string[]; notes: string[] }]> = [
    ['force-unlink', { skip: [], calls: [], notes: ['a1', 'a2'] }],
    ['delete-entity', { skip: [], calls: ['a2 delete-entity'], notes: ['a1', 'a2'] }],
    ['skip-item', { skip: ['a2'], calls: ['a1 unlink-entity'], notes: [] }],
  ];
  for (const [mode, expected] of table) {
    it(`a refused unlink (it would empty the entity) under ${mode}`, () => {
      const replan = replanRefusedUnlink(refused, e1, mode);
      assert.deepEqual(
        replan.skip.map((s) => s.item),
        expected.skip,
      );
      assert.deepEqual(
        replan.calls.map((c) => `${c.item} ${c.step}`),
        expected.calls,
      );
      assert.deepEqual(
        replan.notes.map((n) => n.item),
        expected.notes,
      );
    });
  }

  it('in an approved run, a refused unlink under delete-entity skips its items rather than delete the entity', () => {
    const replan = replanRefusedUnlinkApproved(refused, e1, 'delete-entity');
    assert.deepEqual(replan.calls, []);
    assert.deepEqual(
      replan.skip.map((s) => s.item),
      ['a1', 'a2'],
    );
    assert.match(replan.skip[0]!.reason, /changed after approval/);
    // The other modes add no call outside the approved steps: as without approval.
    for (const mode of ['force-unlink', 'skip-item'] as const) {
      assert.deepEqual(
        replanRefusedUnlinkApproved(refused, e1, mode),
        replanRefusedUnlink(refused, e1, mode),
      );
    }
  });

  it('an entity that now holds assets outside the plan is not deleted: its plan assets are unlinked instead', () => {
    const replan = replanForeignEntity(refused, e1, [OTHER]);
    assert.deepEqual(
      replan.calls.map((c) => `${c.item} ${c.step} ${c.target}`),
      [`a1 unlink-entity ${e1.id}/${A1}`, `a2 unlink-entity ${e1.id}/${A2}`],
    );
    assert.match(replan.notes[0]!.note, /not deleted: it now also holds 1 asset\(s\) outside the plan/);
    // Chunks that count only their own live items' assets say so, and who deletes the entity.
    const chunk = replanForeignEntity(refused, e1, [OTHER], true);
    assert.deepEqual(chunk.calls, replan.calls);
    assert.match(
      chunk.notes[0]!.note,
      /not deleted: it now also holds 1 asset\(s\) outside this chunk's live items .*; unlinked instead, the entity is deleted by the chunk that finds only its own live items' assets in it/,
    );
  });
});

describe('item book: an item skipped or failed gets no further call, and rows follow the ledger', () => {
  const at = '2026-11-23T00:00:00.000Z';
  const items = [
    item('a1', A1, { uplynk: { assetId: 'u1', libraryIds: ['lib1'] }, entermedia: { assetId: 'd1' } }),
    item('a2', A2, { entermedia: { assetId: 'd2' } }),
  ];
  const e1 = entity(0xe1, [A1, A2]);
  const plan = () => planChunk(items, [found(A1, [e1], [1]), found(A2, [e1])], 'skip-item');
  const entry = (
    e: Partial<LedgerEntry> & Pick<LedgerEntry, 'item' | 'step' | 'target' | 'answer'>,
  ): LedgerEntry => ({
    system: 'twelvelabs',
    at,
    ...e,
  });
  const uplynkRemoved = () =>
    entry({
      item: 'a1',
      system: 'uplynk',
      step: 'remove-from-library',
      target: 'lib1/u1',
      answer: 'removal-requested',
    });

  it("a skip decided during the run drops the item's later calls in every system", () => {
    const book = new ItemBook(plan(), () => at);
    // Discovery planned a2 as skipped already (last asset); now a1's unlink is refused at run time too.
    book.record(
      {
        entries: [],
        failures: [],
        refused: [{ item: 'a1', step: 'unlink-entity', target: `${e1.id}/${A1}`, entity: e1, assetId: A1 }],
      },
      ['unlink-entity'],
    );
    book.apply(replanRefusedUnlink([{ item: 'a1', assetId: A1 }], e1, 'skip-item'));
    assert.equal(book.live('a1'), false);
    for (const step of ['delete-asset', 'remove-from-library', 'delete-dam-asset'] as const) {
      assert.deepEqual(book.pending(step), [], `no ${step} for a skipped item`);
    }
    const rows = rowsOf(book.finals(), book.ledger);
    assert.deepEqual(
      rows.map((r) => `${r.item} ${r.system} ${r.outcome}`),
      [
        'a1 twelvelabs skipped',
        'a1 uplynk skipped',
        'a1 entermedia skipped',
        'a2 twelvelabs skipped',
        'a2 entermedia skipped',
      ],
    );
  });

  it('an item stopped after irreversible calls is partial, and its detail lists exactly what was done', () => {
    const book = new ItemBook(plan(), () => at);
    book.record(
      {
        entries: [entry({ item: 'a1', step: 'unlink-entity', target: `${e1.id}/${A1}`, answer: 'unlinked' })],
        failures: [],
      },
      ['unlink-entity'],
    );
    book.record(
      {
        entries: [
          entry({
            item: 'a1',
            step: 'delete-indexed-asset',
            target: `${hex(0x1d)}/${hex(1)}`,
            answer: 'deleted',
          }),
        ],
        failures: [],
      },
      ['delete-indexed-asset'],
    );
    book.stopAll('cancelled by request');
    const rows = rowsOf(book.finals(), book.ledger);
    const tl = rows.find((r) => r.item === 'a1' && r.system === 'twelvelabs')!;
    assert.equal(tl.outcome, 'partial');
    assert.match(tl.detail, /unlink-entity .*: unlinked; delete-indexed-asset .*: deleted/);
    assert.equal(rows.find((r) => r.item === 'a1' && r.system === 'entermedia')!.outcome, 'skipped');
    assert.equal(summarize(rows).partial, 1);
  });

  it('a failed call fails its own item only, names its step, and the call without an answer fails its item', () => {
    const book = new ItemBook(planChunk(items, [found(A1, []), found(A2, [])], 'force-unlink'), () => at);
    book.record(
      {
        entries: [
          entry({
            item: 'a1',
            step: 'delete-asset',
            target: A1,
            answer: 'failed',
            detail: 'PermissionDeniedError: 403',
          }),
        ],
        failures: [],
      },
      ['delete-asset'],
    );
    const rows = rowsOf(book.finals(), book.ledger);
    const byKey = Object.fromEntries(rows.map((r) => [`${r.item}/${r.system}`, r]));
    assert.equal(byKey['a1/twelvelabs']!.outcome, 'failed');
    assert.match(byKey['a1/twelvelabs']!.detail, /403/);
    assert.equal(byKey['a1/uplynk']!.outcome, 'skipped');
    // a2's delete-asset had no answer: it cannot go on safely.
    assert.equal(byKey['a2/twelvelabs']!.outcome, 'failed');
    assert.match(byKey['a2/twelvelabs']!.detail, /no answer/);
    assert.deepEqual(book.pending('delete-dam-asset'), []);
  });

  it('Uplynk rows say only what Uplynk confirms', () => {
    const book = new ItemBook(
      planChunk([items[0]!], [{ assetId: A1, exists: false, entities: [] }], 'force-unlink'),
      () => at,
    );
    book.record({ entries: [uplynkRemoved()], failures: [] }, ['remove-from-library']);
    const row = rowsOf(book.finals(), book.ledger).find((r) => r.system === 'uplynk')!;
    assert.match(row.detail, /removal requested; Uplynk does not say whether it was a member/);
  });
  // The whole of a1, one call each: the indexed asset, the asset, its library, its DAM asset.
  const whole = () => new ItemBook(planChunk([items[0]!], [found(A1, [], [1])], 'force-unlink'), () => at);
  const twelveLabsDone = [
    entry({ item: 'a1', step: 'delete-indexed-asset', target: `${hex(0x1d)}/${hex(1)}`, answer: 'deleted' }),
    entry({ item: 'a1', step: 'delete-asset', target: A1, answer: 'deleted' }),
  ];
  const outcomes = (book: ItemBook): string[] =>
    rowsOf(book.finals(), book.ledger).map((r) => `${r.system} ${r.outcome}`);

  it('a system that made all its calls before its item failed elsewhere is deleted, not partial', () => {
    const book = whole();
    book.record({ entries: twelveLabsDone, failures: [] }, ['delete-indexed-asset', 'delete-asset']);
    book.record({ entries: [uplynkRemoved()], failures: [] }, ['remove-from-library']);
    book.record(
      {
        entries: [
          entry({
            item: 'a1',
            system: 'entermedia',
            step: 'delete-dam-asset',
            target: 'd1',
            answer: 'failed',
            detail: 'HTTPError: 403',
          }),
        ],
        failures: [],
      },
      ['delete-dam-asset'],
    );
    const rows = rowsOf(book.finals(), book.ledger);
    assert.deepEqual(outcomes(book), ['twelvelabs deleted', 'uplynk deleted', 'entermedia failed']);
    assert.match(
      rows[0]!.detail,
      /delete-asset .*: deleted; then entermedia failed at step delete-dam-asset/,
    );
    assert.match(rows[1]!.detail, /removal requested/);
    assert.deepEqual(summarize(rows), { ...summarize([]), items: 1, failed: 1 });
  });

  it('an item stopped between systems: the finished system is deleted, the others skipped, the item partial', () => {
    const book = whole();
    book.record({ entries: twelveLabsDone, failures: [] }, ['delete-indexed-asset', 'delete-asset']);
    book.stopAll('cancelled by request');
    const rows = rowsOf(book.finals(), book.ledger);
    assert.deepEqual(outcomes(book), ['twelvelabs deleted', 'uplynk skipped', 'entermedia skipped']);
    assert.match(rows[0]!.detail, /then the item was stopped \(cancelled by request\)/);
    assert.deepEqual(summarize(rows), { ...summarize([]), items: 1, partial: 1 });
  });

  it('a system gone at discovery reads already absent when its item stops elsewhere', () => {
    const book = new ItemBook(
      planChunk([items[0]!], [{ assetId: A1, exists: false, entities: [] }], 'force-unlink'),
      () => at,
    );
    book.stopAll('cancelled by request');
    const rows = rowsOf(book.finals(), book.ledger);
    assert.deepEqual(outcomes(book), ['twelvelabs already-absent', 'uplynk skipped', 'entermedia skipped']);
    assert.match(rows[0]!.detail, /already absent at discovery; then the item was stopped/);
    assert.deepEqual(summarize(rows), { ...summarize([]), items: 1, skipped: 1 });
  });
});

describe('run policy: threshold and window', () => {
  const options = PlanOptions.parse({ failureThreshold: 0.5, failureThresholdMinItems: 10 });
  const table: Array<[number, number, boolean]> = [
    [9, 9, false], // fewer than failureThresholdMinItems settled
    [10, 5, false], // exactly 50%: not more than the threshold
    [10, 6, true],
    [100, 51, true],
  ];
  for (const [settled, failed, breach] of table) {
    it(`${failed} failed of ${settled} settled ${breach ? 'stops' : 'goes on'}`, () => {
      assert.equal(thresholdBreach({ settled, failed }, options) !== undefined, breach);
    });
  }
  it("counts running chunks' tallies with finished chunks", () => {
    const finished = { items: 5, deleted: 3, alreadyAbsent: 0, skipped: 0, partial: 0, failed: 2 };
    assert.deepEqual(runTally(finished, [{ settled: 5, failed: 4 }]), { settled: 10, failed: 6 });
  });
  it('the first chunk runs alone until it ends or enough items settled', () => {
    const base = { window: 4, failureThresholdMinItems: 10 };
    assert.equal(windowSize({ ...base, chunksDone: 0, settled: 0 }), 1);
    assert.equal(windowSize({ ...base, chunksDone: 0, settled: 10 }), 4);
    assert.equal(windowSize({ ...base, chunksDone: 1, settled: 3 }), 4);
  });
});

describe('the approval view of the steps', () => {
  const A4 = hex(0xa4);
  const BAD = hex(0xb0);
  const jane = (assetIds: string[]) => ({ ...entity(0xe1, assetIds), name: 'Jane' });
  const items = [
    item('a1', A1),
    item('a2', A2, { entermedia: { assetId: 'd2' } }),
    item('a3', A3),
    item('gone', A4, { uplynk: { assetId: 'u4', libraryIds: ['lib'] } }),
    item('bad', BAD),
  ];
  const discovered: DiscoveredAsset[] = [
    {
      assetId: A1,
      exists: true,
      filename: 'one.mp4',
      status: 'ready',
      entities: [jane([A1, A2])],
      indexedAssets: [{ id: hex(0x11), indexId: hex(0x1d), indexName: 'marengo' }],
    },
    { assetId: A2, exists: true, entities: [jane([A1, A2])], indexedAssets: [] },
    { assetId: A3, exists: true, entities: [entity(0xe2, [A3, OTHER])], indexedAssets: [] },
    { assetId: A4, exists: false, entities: [], indexedAssets: [] },
    { assetId: BAD, exists: true, entities: [], error: { type: 'PermissionDeniedError', message: '403' } },
  ];

  it('the digest covers the calls and skips only: the same as before notes, names and parts already gone were shown', () => {
    // Computed by the planner before the approval view (commit 100b3ec): runs approved then still match.
    const before: Record<LastEntityAsset, string> = {
      'force-unlink': '63dfe16c0914cf68926473fd78c51e70afa456c08d7154c8f28494d5e646837c',
      'delete-entity': '72ab6a0aad5081044af900eb4fb83cd4d76b3e353f2056f1b8acb8ebf0d949b3',
      'skip-item': '0279901c8fefc7ebff05d8a69af1d599665a78b593ffc7516156c8a24b503fc5',
    };
    for (const mode of Object.keys(before) as LastEntityAsset[]) {
      assert.equal(planChunk(items, discovered, mode).digest, before[mode], mode);
    }
    // Chunks planned now differ only under delete-entity (every item of the entity deletes it).
    for (const mode of ['force-unlink', 'skip-item'] as const) {
      assert.equal(planChunk(items, discovered, mode, NOW).digest, before[mode], mode);
    }
    assert.notEqual(planChunk(items, discovered, 'delete-entity', NOW).digest, before['delete-entity']);
  });

  it('each step shows what discovery read, the planner notes, and the parts already gone or not read', () => {
    const steps = planChunk(items, discovered, 'force-unlink').steps;
    const show = (s: (typeof steps)[number]) => `${s.item} ${s.step} ${s.seen ?? '-'} | ${s.note ?? '-'}`;
    assert.deepEqual(steps.map(show), [
      'bad not-discovered - | PermissionDeniedError: 403: the item fails, nothing of it is deleted',
      'gone already-absent - | TwelveLabs asset not found: skipped',
      'a3 unlink-entity - | -',
      `a1 leave-to-force-delete entity Jane | last asset of entity ${hex(0xe1)}: unlinked by the forced asset delete`,
      `a2 leave-to-force-delete entity Jane | last asset of entity ${hex(0xe1)}: unlinked by the forced asset delete`,
      'a1 delete-indexed-asset index marengo | -',
      'a1 delete-asset one.mp4, ready | -',
      'a2 delete-asset - | -',
      'a3 delete-asset - | -',
      'gone remove-from-library - | -',
      'a2 delete-dam-asset - | -',
    ]);
    const entityDelete = planChunk(items, discovered, 'delete-entity').steps.find(
      (s) => s.step === 'delete-entity',
    );
    assert.equal(entityDelete?.note, `entity ${hex(0xe1)} deleted: the plan takes all its assets`);
    const entityDeletes = planChunk(items, discovered, 'delete-entity', NOW)
      .steps.filter((s) => s.step === 'delete-entity')
      .map(show);
    const note = `entity ${hex(0xe1)} deleted: the plan takes all its assets; read again first, it is deleted only if it holds no asset but those of this chunk's live items, else this item's asset is unlinked from it and the chunk that reaches it last deletes it`;
    assert.deepEqual(entityDeletes, [
      `a1 delete-entity entity Jane | ${note}`,
      `a2 delete-entity entity Jane | ${note}`,
    ]);
  });
});
