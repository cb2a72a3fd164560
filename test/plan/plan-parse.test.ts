import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Plan,
  formatIssue,
  parseJsonDocument,
  parsePlanText,
  type PlanParseOptions,
} from '../../plan/index.js';
import { z } from 'zod';

const TL = '6298d673f1090f1100476d4c';
const TL2 = '6298d673f1090f1100476d4d';

/** The messages a user would see for a plan text, or the plan. */
function messages(text: string, options: PlanParseOptions): string[] {
  const result = parsePlanText(text, options);
  return result.ok ? [] : result.issues.map(formatIssue);
}

const json = (text: string, source = 'plan.json') => messages(text, { source, format: 'json' });
const csv = (text: string, source = 'plan.csv', extra: Partial<PlanParseOptions> = {}) =>
  messages(text, { source, format: 'csv', ...extra });

describe('parsing JSON plans', () => {
  it('accepts the plan of the design document and fills in default options', () => {
    const result = parsePlanText(
      JSON.stringify({
        name: 'takedown-2026-11',
        items: [
          {
            id: 'ep-1042',
            twelvelabs: { assetId: TL },
            uplynk: { assetId: '789012', libraryIds: ['8b69f969c65e481385281331520cf1e2'] },
            entermedia: { assetId: '101' },
          },
        ],
      }),
      { source: 'plan.json', format: 'json' },
    );
    assert.ok(result.ok);
    assert.equal(result.value.name, 'takedown-2026-11');
    assert.equal(result.value.items[0]?.uplynk?.libraryIds[0], '8b69f969c65e481385281331520cf1e2');
    assert.equal(result.value.options.lastEntityAsset, 'force-unlink');
  });

  it('names the file, the line and the field of a bad TwelveLabs ID, with the value', () => {
    const text = `{
  "name": "t",
  "items": [
    {
      "id": "ep-1",
      "twelvelabs": {
        "assetId": "not-an-id"
      }
    }
  ]
}`;
    assert.deepEqual(json(text), [
      'plan.json:7: items[0].twelvelabs.assetId: must be a TwelveLabs ID: 24 lower-case hex characters (got "not-an-id")',
    ]);
  });

  it('reports an unknown field once, on its own line, with the fields that are accepted', () => {
    const text = `{
  "name": "t",
  "items": [
    { "id": "ep-1",
      "twelvelabs": { "assetId": "${TL}" },
      "colour": "red" }
  ]
}`;
    assert.deepEqual(json(text), [
      'plan.json:6: items[0].colour: unknown field (expected one of: id, twelvelabs, uplynk, entermedia)',
    ]);
  });

  it('reports an unknown option and an unknown top-level field', () => {
    const text = `{
  "name": "t",
  "items": [{ "id": "a", "entermedia": { "assetId": "1" } }],
  "options": { "dryrun": true },
  "owner": "me"
}`;
    const out = json(text);
    assert.equal(out.length, 2);
    assert.match(out[0]!, /^plan\.json:4: options\.dryrun: unknown field \(expected one of: lastEntityAsset/);
    assert.equal(out[1], 'plan.json:5: owner: unknown field (expected one of: name, items, options)');
  });

  it('reports a duplicate item id with the line of the first one', () => {
    const text = `{ "name": "t", "items": [
  { "id": "ep-1", "entermedia": { "assetId": "1" } },
  { "id": "ep-1", "entermedia": { "assetId": "2" } }
] }`;
    assert.deepEqual(json(text), [
      'plan.json:3: items[1].id: duplicate item id "ep-1": already in items[0] (line 2)',
    ]);
  });

  it('reports two items that delete the same asset', () => {
    const text = `{ "name": "t", "items": [
  { "id": "ep-1", "twelvelabs": { "assetId": "${TL}" } },
  { "id": "ep-2", "twelvelabs": { "assetId": "${TL}" } }
] }`;
    assert.deepEqual(json(text), [
      `plan.json:3: items[1].twelvelabs.assetId: duplicate TwelveLabs asset "${TL}": already in items[0] (line 2)`,
    ]);
  });

  it('refuses, in the schema itself (any client), two items that share an asset of any system', () => {
    const cases = [
      ['twelvelabs', { assetId: TL }, 'TwelveLabs asset'],
      ['uplynk', { assetId: 'u1', libraryIds: ['lib'] }, 'Uplynk asset'],
      ['entermedia', { assetId: 'd1' }, 'EnterMediaDB asset'],
    ] as const;
    for (const [part, value, label] of cases) {
      const result = Plan.safeParse({
        name: 't',
        items: [
          { id: 'ep-1', [part]: value },
          { id: 'ep-2', [part]: value },
        ],
      });
      assert.equal(result.success, false, part);
      assert.deepEqual(
        (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`),
        [`items.1.${part}.assetId: duplicate ${label} "${value.assetId}" (first at items[0])`],
      );
    }
    assert.equal(
      Plan.safeParse({
        name: 't',
        items: [
          { id: 'ep-1', twelvelabs: { assetId: TL } },
          { id: 'ep-2', twelvelabs: { assetId: TL2 } },
        ],
      }).success,
      true,
    );
  });

  it('reports every problem of a plan, each once, in line order', () => {
    const text = `{
  "name": "t",
  "items": [
    { "id": "a", "twelvelabs": { "assetId": "abc" } },
    { "id": "b", "uplynk": { "assetId": "x" } },
    { "id": "c" }
  ]
}`;
    assert.deepEqual(json(text), [
      'plan.json:4: items[0].twelvelabs.assetId: must be a TwelveLabs ID: 24 lower-case hex characters (got "abc")',
      'plan.json:5: items[1].uplynk.libraryIds: required',
      'plan.json:6: items[2]: must name at least one system (twelvelabs, uplynk or entermedia)',
    ]);
  });

  it('gives the line and column of a JSON syntax error', () => {
    const text = `{
  "name": "t",
  "items": [ { "id": "a", } ]
}`;
    assert.deepEqual(json(text), [
      'plan.json:3:27: invalid JSON: unexpected "}", expected a field name in double quotes',
    ]);
  });

  it('refuses a field given twice in one object, which JSON.parse would silently overwrite', () => {
    const text = `{ "name": "t",
  "name": "u", "items": [] }`;
    assert.deepEqual(json(text), ['plan.json:2:3: invalid JSON: duplicate field "name"']);
  });

  it('refuses a field given twice deep in a valid large plan, where the parsed value alone looks valid', () => {
    const items = Array.from(
      { length: 1500 },
      (_, i) => `{ "id": "i${i}", "entermedia": { "assetId": "${i}" } }`,
    );
    items[777] = `{ "id": "i777", "entermedia": { "assetId": "777", "assetId": "x" } }`;
    const text = `{ "name": "t", "options": { "maxItems": 2000 }, "items": [\n${items.join(',\n')}\n] }`;
    assert.deepEqual(json(text), ['plan.json:779:51: invalid JSON: duplicate field "assetId"']);
    const valid = text.replace('"assetId": "777", "assetId": "x"', '"assetId": "777"');
    const result = parsePlanText(`\uFEFF${valid}\n`, { source: 'plan.json', format: 'json' });
    assert.ok(result.ok);
    assert.equal(result.value.items.length, 1500);
    assert.deepEqual(result.value.items[777], { id: 'i777', entermedia: { assetId: '777' } });
  });

  it('refuses an empty file and trailing text', () => {
    assert.deepEqual(json('  \n'), [
      'plan.json:2:1: invalid JSON: the file is empty, expected a JSON object',
    ]);
    assert.deepEqual(json('{ "name": "t" } x'), [
      'plan.json:1:17: invalid JSON: unexpected "x" after the end of the JSON value',
    ]);
  });

  it('reports a plan with more items than its maxItems on the items line', () => {
    const text = `{ "name": "t",
  "options": { "maxItems": 1 },
  "items": [
    { "id": "a", "entermedia": { "assetId": "1" } },
    { "id": "b", "entermedia": { "assetId": "2" } } ] }`;
    assert.deepEqual(json(text), [
      'plan.json:3: items: the plan has 2 items, more than options.maxItems (1)',
    ]);
  });

  it('lets a caller override the name and options', () => {
    const result = parsePlanText(
      `{ "name": "t", "items": [{ "id": "a", "entermedia": { "assetId": "1" } }] }`,
      {
        source: 'plan.json',
        format: 'json',
        name: 'other',
        options: { failureThreshold: 0.1 },
      },
    );
    assert.ok(result.ok);
    assert.equal(result.value.name, 'other');
    assert.equal(result.value.options.failureThreshold, 0.1);
  });
});

describe('parsing CSV plans', () => {
  const header = 'id,twelvelabs.assetId,uplynk.assetId,uplynk.libraryIds,entermedia.assetId';

  it('reads every column, quoted fields and ";"-separated libraries, and names the plan after the file', () => {
    const text = `${header}\r\nep-1,${TL},789012,"lib-a; lib-b",101\r\n"ep-2",,,,"102"\r\n\r\nep-3,${TL2},,,\r\n`;
    const result = parsePlanText(text, { source: 'plans/takedown-2026.csv', format: 'csv' });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.name, 'takedown-2026');
    assert.deepEqual(result.value.items, [
      {
        id: 'ep-1',
        twelvelabs: { assetId: TL },
        uplynk: { assetId: '789012', libraryIds: ['lib-a', 'lib-b'] },
        entermedia: { assetId: '101' },
      },
      { id: 'ep-2', entermedia: { assetId: '102' } },
      { id: 'ep-3', twelvelabs: { assetId: TL2 } },
    ]);
  });

  it('accepts columns in any order and a subset of them, with options and a name from the caller', () => {
    const result = parsePlanText(`entermedia.assetId,id\n101,ep-1\n`, {
      source: 'x y.csv',
      format: 'csv',
      name: 'named',
      options: { maxItems: 5 },
    });
    assert.ok(result.ok);
    assert.equal(result.value.name, 'named');
    assert.equal(result.value.options.maxItems, 5);
    assert.deepEqual(result.value.items, [{ id: 'ep-1', entermedia: { assetId: '101' } }]);
  });

  it('names the line and column of a bad ID', () => {
    assert.deepEqual(csv(`${header}\nep-1,${TL},,,\nep-2,xyz,,,\n`), [
      'plan.csv:3: twelvelabs.assetId: must be a TwelveLabs ID: 24 lower-case hex characters (got "xyz")',
    ]);
  });

  it('reads a doubled quote inside a quoted field as one quote', () => {
    assert.deepEqual(csv(`id,entermedia.assetId\n"ep-1","10""2"\n`), [
      'plan.csv:2: entermedia.assetId: must be 1 to 64 characters of letters, digits, "_", "." or "-" (got "10\\"2")',
    ]);
  });

  it('names a line with the wrong number of fields', () => {
    assert.deepEqual(csv(`${header}\nep-1,${TL},,,\nep-2,${TL2},,\n`), [
      'plan.csv:3: broken line: 4 fields, expected 5 (id, twelvelabs.assetId, uplynk.assetId, uplynk.libraryIds, entermedia.assetId)',
    ]);
  });

  it('names the line where a quote is never closed', () => {
    assert.deepEqual(csv(`${header}\nep-1,${TL},,,\n"ep-2,${TL2},,,\nep-3,,,,1\n`), [
      'plan.csv:3: broken line: a quoted field is never closed',
    ]);
  });

  it('names an unknown column in the header', () => {
    assert.deepEqual(csv(`id,twelvelabs.assetID\nep-1,${TL}\n`), [
      'plan.csv:1: twelvelabs.assetID: unknown column (expected: id, twelvelabs.assetId, uplynk.assetId, uplynk.libraryIds, entermedia.assetId)',
    ]);
  });

  it('names a duplicate item with the line of the first', () => {
    assert.deepEqual(csv(`id,entermedia.assetId\nep-1,1\nep-2,2\nep-1,3\n`), [
      'plan.csv:4: id: duplicate item id "ep-1": already in items[0] (line 2)',
    ]);
  });

  it('asks for the libraries when an Uplynk asset has none', () => {
    assert.deepEqual(csv(`id,uplynk.assetId,uplynk.libraryIds\nep-1,789,\n`), [
      'plan.csv:2: uplynk.libraryIds: must name at least one library',
    ]);
  });

  it('asks for --name when the file name is not a valid plan name', () => {
    const out = csv(`id,entermedia.assetId\nep-1,1\n`, 'my plan!.csv');
    assert.equal(out.length, 1);
    assert.match(
      out[0]!,
      /^my plan!\.csv: name: the plan name "my plan!" taken from the file name .*give --name$/,
    );
  });

  it('refuses a file with a header and no items', () => {
    assert.deepEqual(csv(`${header}\n`), ['plan.csv:1: no items after the header line']);
  });
});

describe('parsing other JSON documents with positions', () => {
  it('places the issues of any zod schema on their lines', () => {
    const Schema = z.strictObject({ every: z.string(), max: z.int() });
    const result = parseJsonDocument(`{\n  "every": "1d",\n  "max": 2.5\n}`, Schema, { source: 'p.json' });
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map(formatIssue), [
      'p.json:3: max: Invalid input: expected int, received number (got 2.5)',
    ]);
  });
});
