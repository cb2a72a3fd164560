/**
 * Reading a CSV plan with csv-parse: records with the line each starts on, the header's columns, and
 * the items in the shape of a JSON plan, for plan-parse.ts to validate. Pure: the caller reads the file.
 */
// The self-contained build: workflow code imports plan/index.ts, and the workflow sandbox has no
// Buffer, which the Node build of csv-parse uses as it loads.
import { CsvError, parse as parseCsv } from 'csv-parse/browser/esm/sync';
import type { InputIssue, JsonPath, ParseResult, PlanParseOptions } from './plan-parse.js';
import { PlanName } from './plan-schema.js';

/** The columns a CSV plan may have; `id` is required, the others optional, in any order. */
export const CSV_COLUMNS = [
  'id',
  'twelvelabs.assetId',
  'uplynk.assetId',
  'uplynk.libraryIds',
  'entermedia.assetId',
] as const;

/**
 * RFC 4180 records with the line each starts on (csv-parse counts the line each ends on). A quote inside
 * an unquoted field is kept as it is; lines of blanks are skipped.
 */
function splitCsv(text: string, source: string): ParseResult<Array<{ line: number; fields: string[] }>> {
  let lastLine = 0;
  try {
    const records = parseCsv(text, {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
      on_record: (record, context) => ((lastLine = context.lines), record),
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    const lineBreaks = (fields: string[]) => fields.join('').split(/\r\n|\r|\n/).length - 1;
    return {
      ok: true,
      value: records
        .filter(({ record }) => !(record.length === 1 && record[0]!.trim() === ''))
        .map(({ record, info }) => ({ line: info.lines - lineBreaks(record), fields: record })),
    };
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    // The broken record starts on the first line with text after the last whole record.
    const lines = text.split(/\r\n|\r|\n/);
    let line = lastLine;
    while (line < lines.length - 1 && lines[line]!.trim() === '') line++;
    const message = error.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted field is never closed' : error.message;
    return { ok: false, issues: [{ source, line: line + 1, message: `broken line: ${message}` }] };
  }
}

/** The plan name a file name suggests: `plans/takedown-2026.csv` -> `takedown-2026`. */
export function planNameFromSource(source: string): string {
  const base = source.split(/[\\/]/).pop() ?? source;
  return base.replace(/\.[^.]*$/, '');
}

/** The issues of a CSV header: unknown and repeated columns, a missing `id`. */
function headerIssues(columns: string[], source: string, line: number): InputIssue[] {
  const expected = `unknown column (expected: ${CSV_COLUMNS.join(', ')})`;
  const issues = columns.flatMap((name, i): InputIssue[] => {
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      return [{ source, line, field: name || `column ${i + 1}`, message: expected }];
    }
    return columns.indexOf(name) !== i ? [{ source, line, field: name, message: 'column named twice' }] : [];
  });
  if (columns.includes('id')) return issues;
  return [...issues, { source, line, field: 'id', message: 'missing column: every item needs an id' }];
}

/** A CSV plan read into the shape of a JSON plan, and how to place an issue of `items[i]` on its line and column. */
export interface CsvPlan {
  raw: { name: string; items: object[]; options?: object };
  lineOf: (path: JsonPath) => number | undefined;
  /** `twelvelabs.assetId` for `items[i].twelvelabs.assetId`: the column, as the file names it. */
  fieldOf: (path: JsonPath) => string;
}

/**
 * Reads a CSV plan: a header of {@link CSV_COLUMNS} in any order, then one item a line. Issues of the
 * file's shape (header, field counts, quotes, the name taken from the file name) are reported here;
 * the values are left to the plan's schema.
 */
export function readCsvPlan(text: string, options: PlanParseOptions): ParseResult<CsvPlan> {
  const { source } = options;
  const split = splitCsv(text, source);
  if (!split.ok) return split;
  const [header, ...records] = split.value;
  if (!header)
    return { ok: false, issues: [{ source, message: 'the file is empty, expected a header line' }] };
  const columns = header.fields.map((name) => name.trim());
  const issues = headerIssues(columns, source, header.line);
  if (issues.length) return { ok: false, issues };
  if (records.length === 0) {
    return { ok: false, issues: [{ source, line: header.line, message: 'no items after the header line' }] };
  }
  const rows = records.filter((row) => row.fields.length === columns.length);
  for (const row of records.filter((r) => r.fields.length !== columns.length)) {
    const message = `broken line: ${row.fields.length} fields, expected ${columns.length} (${columns.join(', ')})`;
    issues.push({ source, line: row.line, message });
  }
  if (issues.length) return { ok: false, issues };

  const items = rows.map((row) => {
    const cell = (column: (typeof CSV_COLUMNS)[number]) =>
      row.fields[columns.indexOf(column)]?.trim() || undefined;
    const [twelvelabs, uplynk, libraries, entermedia] = CSV_COLUMNS.slice(1).map(cell);
    return {
      id: cell('id') ?? '',
      ...(twelvelabs !== undefined ? { twelvelabs: { assetId: twelvelabs } } : {}),
      ...(uplynk !== undefined || libraries !== undefined
        ? { uplynk: { assetId: uplynk, libraryIds: libraries?.split(';').map((id) => id.trim()) ?? [] } }
        : {}),
      ...(entermedia !== undefined ? { entermedia: { assetId: entermedia } } : {}),
    };
  });
  const name = options.name ?? planNameFromSource(source);
  const nameCheck = PlanName.safeParse(name);
  if (!nameCheck.success) {
    const why = nameCheck.error.issues[0]?.message ?? 'is not valid';
    const message = `the plan name ${JSON.stringify(name)} taken from the file name ${why}: rename the file or give --name`;
    return { ok: false, issues: [{ source, field: 'name', message }] };
  }
  return {
    ok: true,
    value: {
      raw: { name, items, ...(options.options ? { options: options.options } : {}) },
      lineOf: (path) =>
        path[0] === 'items' && typeof path[1] === 'number' ? rows[path[1]]?.line : undefined,
      fieldOf: (path) => {
        const rest = path.slice(2).filter((p): p is string => typeof p === 'string');
        return rest.length ? rest.join('.') : `item ${typeof path[1] === 'number' ? path[1] + 1 : ''}`.trim();
      },
    },
  };
}
