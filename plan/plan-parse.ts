/**
 * Turns the text of a plan file (JSON or CSV) into a validated {@link Plan}, or into messages that name
 * the file, the line and the field at fault. Pure: the caller reads the file.
 */
import type { z } from 'zod';
import {
  EnterMediaPart,
  Plan,
  PlanItem,
  PlanName,
  PlanOptions,
  TwelveLabsPart,
  UplynkPart,
} from './plan-schema.js';

/** A path into a JSON document: object keys and array indexes. */
export type JsonPath = ReadonlyArray<string | number>;

/** One thing wrong with an input file, placed as precisely as the format allows. */
export interface InputIssue {
  /** The file as the user named it, e.g. `plans/takedown.json`. */
  source: string;
  /** 1-based line; absent when the issue concerns the file as a whole. */
  line?: number;
  /** 1-based column, for syntax errors. */
  column?: number;
  /** The field at fault, e.g. `items[0].twelvelabs.assetId` or, in a CSV, `twelvelabs.assetId`. */
  field?: string;
  message: string;
}

/** `plan.json:7: items[0].twelvelabs.assetId: must be a TwelveLabs ID ...` */
export function formatIssue(issue: InputIssue): string {
  let where = issue.source;
  if (issue.line !== undefined) where += `:${issue.line}`;
  if (issue.column !== undefined) where += `:${issue.column}`;
  return `${where}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: InputIssue[] };

/** `items[0].twelvelabs.assetId` */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// JSON with positions: a small recursive-descent parser that records where every value and key starts.

interface Position {
  line: number;
  column: number;
}

/** A JSON value and the line of every value and key in it, by path. */
export interface LocatedJson {
  value: unknown;
  /** Where the value at a path starts (its key, for object members). Keyed by {@link pathKey}. */
  positions: Map<string, Position>;
}

function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
  }
}

/**
 * Parses JSON text and records the position of every value. Duplicate keys in one object are an error
 * (JSON.parse would silently keep the last).
 */
export function parseJsonWithPositions(text: string, source: string): ParseResult<LocatedJson> {
  const positions = new Map<string, Position>();
  let index = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Position => ({ line, column: index - lineStart + 1 });
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, here());
  };
  const describe = (): string =>
    index >= text.length ? 'the end of the file' : `${JSON.stringify(text[index])}`;

  function skipWhitespace(): void {
    while (index < text.length) {
      const c = text[index];
      if (c === '\n') {
        index++;
        line++;
        lineStart = index;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') index++;
      else break;
    }
  }

  function parseString(): string {
    // text[index] is the opening quote
    const start = here();
    index++;
    let out = '';
    for (;;) {
      if (index >= text.length) throw new JsonSyntaxError('unterminated string', start);
      const c = text[index]!;
      if (c === '"') {
        index++;
        return out;
      }
      if (c === '\n') throw new JsonSyntaxError('unterminated string (line break inside a string)', start);
      if (c === '\\') {
        const e = text[index + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          index += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6))) {
          out += String.fromCharCode(parseInt(text.slice(index + 2, index + 6), 16));
          index += 6;
        } else {
          index++;
          fail('invalid escape in string');
        }
      } else if (c < ' ') {
        fail('control character in string');
      } else {
        out += c;
        index++;
      }
    }
  }

  function parseNumber(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(index));
    if (!match) fail(`unexpected ${describe()}`);
    index += match![0].length;
    return Number(match![0]);
  }

  function parseValue(path: (string | number)[]): unknown {
    skipWhitespace();
    if (!positions.has(pathKey(path))) positions.set(pathKey(path), here());
    const c = text[index];
    if (c === '{') return parseObject(path);
    if (c === '[') return parseArray(path);
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, index)) {
        index += word.length;
        return value;
      }
    }
    return fail(`unexpected ${describe()}, expected a value`);
  }

  function parseObject(path: (string | number)[]): Record<string, unknown> {
    index++; // {
    const out: Record<string, unknown> = {};
    skipWhitespace();
    if (text[index] === '}') {
      index++;
      return out;
    }
    for (;;) {
      skipWhitespace();
      if (text[index] !== '"') fail(`unexpected ${describe()}, expected a field name in double quotes`);
      const keyPosition = here();
      const key = parseString();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw new JsonSyntaxError(`duplicate field ${JSON.stringify(key)}`, keyPosition);
      }
      const childPath = [...path, key];
      positions.set(pathKey(childPath), keyPosition);
      skipWhitespace();
      if (text[index] !== ':') fail(`unexpected ${describe()}, expected ":" after a field name`);
      index++;
      out[key] = parseValue(childPath);
      skipWhitespace();
      if (text[index] === ',') {
        index++;
        continue;
      }
      if (text[index] === '}') {
        index++;
        return out;
      }
      fail(`unexpected ${describe()}, expected "," or "}"`);
    }
  }

  function parseArray(path: (string | number)[]): unknown[] {
    index++; // [
    const out: unknown[] = [];
    skipWhitespace();
    if (text[index] === ']') {
      index++;
      return out;
    }
    for (;;) {
      out.push(parseValue([...path, out.length]));
      skipWhitespace();
      if (text[index] === ',') {
        index++;
        continue;
      }
      if (text[index] === ']') {
        index++;
        return out;
      }
      fail(`unexpected ${describe()}, expected "," or "]"`);
    }
  }

  try {
    skipWhitespace();
    if (index >= text.length) fail('the file is empty, expected a JSON object');
    const value = parseValue([]);
    skipWhitespace();
    if (index < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return { ok: true, value: { value, positions } };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    return {
      ok: false,
      issues: [
        {
          source,
          line: error.position.line,
          column: error.position.column,
          message: `invalid JSON: ${error.message}`,
        },
      ],
    };
  }
}

/** The line of the deepest recorded prefix of `path`. */
function lineOf(located: LocatedJson, path: JsonPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const position = located.positions.get(pathKey(path.slice(0, n)));
    if (position) return position.line;
  }
  return undefined;
}

function valueAt(root: unknown, path: JsonPath): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** `(got "abc")` for short scalar values, so that a user sees which value was refused. */
function gotSuffix(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return ` (got ${JSON.stringify(shown)})`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return ` (got ${String(value)})`;
  return '';
}

/** The fields a strict object at this path of a plan accepts, for "unknown field" messages. */
function planFieldsAt(path: JsonPath): string[] | undefined {
  const [first, , system] = path;
  if (path.length === 0) return Object.keys(Plan.shape);
  if (first === 'options' && path.length === 1) return Object.keys(PlanOptions.shape);
  if (first === 'items' && path.length === 2) return Object.keys(PlanItem.shape);
  if (first === 'items' && path.length === 3) {
    if (system === 'twelvelabs') return Object.keys(TwelveLabsPart.shape);
    if (system === 'uplynk') return Object.keys(UplynkPart.shape);
    if (system === 'entermedia') return Object.keys(EnterMediaPart.shape);
  }
  return undefined;
}

/**
 * Where an issue is reported and how its field is named. JSON plans use paths (`items[0].id`) and their
 * lines; CSV plans map `items[i]` to a record's line and name the column.
 */
export interface IssueLocator {
  source: string;
  lineOf(path: JsonPath): number | undefined;
  fieldOf(path: JsonPath): string;
  valueAt(path: JsonPath): unknown;
  /** Accepted fields of a strict object at a path, if known. */
  fieldsAt?(path: JsonPath): string[] | undefined;
}

/** One message per zod issue (one per unknown key), placed by the locator. */
export function issuesFromZod(error: z.ZodError, locator: IssueLocator): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const accepted = locator.fieldsAt?.(path);
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        issues.push({
          source: locator.source,
          line: locator.lineOf(keyPath),
          field: locator.fieldOf(keyPath),
          message: `unknown field${accepted ? ` (expected one of: ${accepted.join(', ')})` : ''}`,
        });
      }
      continue;
    }
    const value = locator.valueAt(path);
    let message = issue.message;
    if (issue.code === 'invalid_type' && value === undefined) message = 'required';
    else if (issue.code !== 'custom') message += gotSuffix(value);
    issues.push({
      source: locator.source,
      line: locator.lineOf(path),
      field: locator.fieldOf(path) || undefined,
      message,
    });
  }
  return issues;
}

/**
 * Parses a JSON document with a zod schema; issues name the file, the line and the field.
 * @example parseJsonDocument(text, CleanupPolicy, { source: 'policy.json' })
 */
export function parseJsonDocument<S extends z.ZodType>(
  text: string,
  schema: S,
  options: { source: string; fieldsAt?: (path: JsonPath) => string[] | undefined },
): ParseResult<z.output<S>> {
  const located = parseJsonWithPositions(text, options.source);
  if (!located.ok) return located;
  const parsed = schema.safeParse(located.value.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: sortIssues(
      issuesFromZod(parsed.error, {
        source: options.source,
        lineOf: (path) => lineOf(located.value, path),
        fieldOf: formatPath,
        valueAt: (path) => valueAt(located.value.value, path),
        fieldsAt: options.fieldsAt,
      }),
    ),
  };
}

function sortIssues(issues: InputIssue[]): InputIssue[] {
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.order - b.order)
    .map(({ issue }) => issue);
}

// ---------------------------------------------------------------------------------------------------
// Checks that a plan's schema leaves to the parser because they read across items.

/** One item as written, before validation: what the cross-item checks look at. */
interface RawItem {
  id: unknown;
  twelvelabs?: unknown;
  uplynk?: unknown;
  entermedia?: unknown;
}

const CROSS_CHECKS: Array<{ path: string[]; label: string }> = [
  { path: ['id'], label: 'item id' },
  { path: ['twelvelabs', 'assetId'], label: 'TwelveLabs asset' },
  { path: ['uplynk', 'assetId'], label: 'Uplynk asset' },
  { path: ['entermedia', 'assetId'], label: 'EnterMediaDB asset' },
];

/** Items that repeat an item ID, or an asset another item already deletes: one message each. */
function duplicateIssues(items: unknown, locator: IssueLocator): InputIssue[] {
  if (!Array.isArray(items)) return [];
  const issues: InputIssue[] = [];
  for (const check of CROSS_CHECKS) {
    const seen = new Map<string, number>();
    items.forEach((item: RawItem, index) => {
      const value = valueAt(item, check.path);
      if (typeof value !== 'string' || value === '') return;
      const first = seen.get(value);
      if (first === undefined) {
        seen.set(value, index);
        return;
      }
      const firstLine = locator.lineOf(['items', first, ...check.path]);
      const path = ['items', index, ...check.path];
      issues.push({
        source: locator.source,
        line: locator.lineOf(path),
        field: locator.fieldOf(path),
        message: `duplicate ${check.label} ${JSON.stringify(value)}: already in items[${first}]${
          firstLine !== undefined ? ` (line ${firstLine})` : ''
        }`,
      });
    });
  }
  return issues;
}

/** Validates a plan object as read from a file, adding the cross-item checks to the schema's. */
function validatePlan(raw: unknown, locator: IssueLocator): ParseResult<Plan> {
  const duplicates = duplicateIssues(valueAt(raw, ['items']), locator);
  const parsed = Plan.safeParse(raw);
  if (parsed.success && duplicates.length === 0) return { ok: true, value: parsed.data };
  const schemaIssues = parsed.success ? [] : issuesFromZod(parsed.error, locator);
  // The schema's own duplicate-ID check repeats one of ours: keep ours, which gives the first line.
  const duplicateFields = new Set(duplicates.map((d) => `${d.line}|${d.field}`));
  const kept = schemaIssues.filter(
    (issue) =>
      !(issue.message.startsWith('duplicate') && duplicateFields.has(`${issue.line}|${issue.field}`)),
  );
  return { ok: false, issues: sortIssues([...kept, ...duplicates]) };
}

// ---------------------------------------------------------------------------------------------------
// CSV

/** The columns a CSV plan may have; `id` is required, the others optional, in any order. */
export const CSV_COLUMNS = [
  'id',
  'twelvelabs.assetId',
  'uplynk.assetId',
  'uplynk.libraryIds',
  'entermedia.assetId',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

interface CsvRecord {
  line: number;
  fields: string[];
}

/** RFC 4180 records: comma-separated, `"` quotes, `""` inside quotes, line breaks allowed inside quotes. */
function splitCsv(text: string, source: string): ParseResult<CsvRecord[]> {
  const records: CsvRecord[] = [];
  let index = text.startsWith('\uFEFF') ? 1 : 0;
  let line = 1;
  while (index < text.length) {
    const recordLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let fieldStart = true;
    let ended = false;
    while (index < text.length && !ended) {
      const c = text[index]!;
      if (quoted) {
        if (c === '"' && text[index + 1] === '"') {
          field += '"';
          index += 2;
        } else if (c === '"') {
          quoted = false;
          index++;
          const next = text[index];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
            return {
              ok: false,
              issues: [
                {
                  source,
                  line,
                  field: CSV_COLUMNS[fields.length],
                  message: `broken line: unexpected ${JSON.stringify(next)} after a closing quote`,
                },
              ],
            };
          }
        } else {
          if (c === '\n') line++;
          field += c;
          index++;
        }
      } else if (c === '"' && fieldStart) {
        quoted = true;
        fieldStart = false;
        index++;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        fieldStart = true;
        index++;
      } else if (c === '\n' || c === '\r') {
        index += c === '\r' && text[index + 1] === '\n' ? 2 : 1;
        line++;
        ended = true;
      } else {
        field += c;
        fieldStart = false;
        index++;
      }
    }
    if (quoted) {
      return {
        ok: false,
        issues: [{ source, line: recordLine, message: 'broken line: a quoted field is never closed' }],
      };
    }
    fields.push(field);
    if (!(fields.length === 1 && fields[0]!.trim() === '')) records.push({ line: recordLine, fields });
  }
  return { ok: true, value: records };
}

/** The plan name a file name suggests: `plans/takedown-2026.csv` -> `takedown-2026`. */
export function planNameFromSource(source: string): string {
  const base = source.split(/[\\/]/).pop() ?? source;
  return base.replace(/\.[^.]*$/, '');
}

function parseCsvPlan(text: string, options: PlanParseOptions): ParseResult<Plan> {
  const { source } = options;
  const split = splitCsv(text, source);
  if (!split.ok) return split;
  const [header, ...rows] = split.value;
  if (!header)
    return { ok: false, issues: [{ source, message: 'the file is empty, expected a header line' }] };

  const columns = header.fields.map((name) => name.trim());
  const issues: InputIssue[] = [];
  columns.forEach((name, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      issues.push({
        source,
        line: header.line,
        field: name || `column ${i + 1}`,
        message: `unknown column (expected: ${CSV_COLUMNS.join(', ')})`,
      });
    } else if (columns.indexOf(name) !== i) {
      issues.push({ source, line: header.line, field: name, message: 'column named twice' });
    }
  });
  if (!columns.includes('id')) {
    issues.push({
      source,
      line: header.line,
      field: 'id',
      message: 'missing column: every item needs an id',
    });
  }
  if (issues.length) return { ok: false, issues };
  if (rows.length === 0) {
    return { ok: false, issues: [{ source, line: header.line, message: 'no items after the header line' }] };
  }

  const items: Array<Record<string, unknown>> = [];
  for (const row of rows) {
    if (row.fields.length !== columns.length) {
      issues.push({
        source,
        line: row.line,
        message: `broken line: ${row.fields.length} fields, expected ${columns.length} (${columns.join(', ')})`,
      });
      continue;
    }
    const cell = (column: CsvColumn): string | undefined => {
      const i = columns.indexOf(column);
      const value = i < 0 ? undefined : row.fields[i]?.trim();
      return value === '' ? undefined : value;
    };
    const item: Record<string, unknown> = { id: cell('id') ?? '' };
    const twelvelabs = cell('twelvelabs.assetId');
    if (twelvelabs !== undefined) item.twelvelabs = { assetId: twelvelabs };
    const uplynkAsset = cell('uplynk.assetId');
    const uplynkLibraries = cell('uplynk.libraryIds');
    if (uplynkAsset !== undefined || uplynkLibraries !== undefined) {
      item.uplynk = {
        assetId: uplynkAsset,
        libraryIds: uplynkLibraries?.split(';').map((id) => id.trim()) ?? [],
      };
    }
    const entermedia = cell('entermedia.assetId');
    if (entermedia !== undefined) item.entermedia = { assetId: entermedia };
    items.push(item);
  }
  if (issues.length) return { ok: false, issues };

  const name = options.name ?? planNameFromSource(source);
  const nameCheck = PlanName.safeParse(name);
  if (!nameCheck.success) {
    return {
      ok: false,
      issues: [
        {
          source,
          field: 'name',
          message: `the plan name ${JSON.stringify(name)} taken from the file name ${
            nameCheck.error.issues[0]?.message ?? 'is not valid'
          }: rename the file or give --name`,
        },
      ],
    };
  }
  const raw = { name, items, ...(options.options ? { options: options.options } : {}) };
  const recordLine = (i: number): number | undefined =>
    rows.filter((r) => r.fields.length === columns.length)[i]?.line;
  return validatePlan(raw, {
    source,
    lineOf: (path) => (path[0] === 'items' && typeof path[1] === 'number' ? recordLine(path[1]) : undefined),
    fieldOf: (path) => {
      if (path[0] !== 'items') return formatPath(path);
      const rest = path.slice(2).filter((p): p is string => typeof p === 'string');
      if (rest.length === 0) return `item ${typeof path[1] === 'number' ? path[1] + 1 : ''}`.trim();
      return rest.join('.');
    },
    valueAt: (path) => valueAt(raw, path),
    fieldsAt: planFieldsAt,
  });
}

// ---------------------------------------------------------------------------------------------------

export interface PlanParseOptions {
  /** The file as the user named it; every message starts with it. */
  source: string;
  format: 'json' | 'csv';
  /** The plan name; a CSV plan otherwise takes the file name (without extension). */
  name?: string;
  /** Plan options for a CSV plan (a JSON plan carries its own; these are merged over them). */
  options?: z.input<typeof PlanOptions>;
}

/** `json` for `.json` files, `csv` for `.csv` files, else undefined. */
export function planFormatOf(path: string): 'json' | 'csv' | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  return undefined;
}

/**
 * Parses and validates the text of a plan file. Every problem is reported, one message each, naming the
 * file, the line and the field: syntax errors (with the column), unknown fields, bad IDs, duplicate items
 * (an item ID or an asset that another item already names), CSV lines with the wrong number of fields or
 * an unclosed quote.
 * @example
 * const result = parsePlanText(text, { source: 'plan.json', format: 'json' });
 * if (!result.ok) console.error(result.issues.map(formatIssue).join('\n'));
 */
export function parsePlanText(text: string, options: PlanParseOptions): ParseResult<Plan> {
  if (options.format === 'csv') return parseCsvPlan(text, options);
  const located = parseJsonWithPositions(text, options.source);
  if (!located.ok) return located;
  let raw = located.value.value;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const plan = raw as Record<string, unknown>;
    if (options.name !== undefined || options.options !== undefined) {
      raw = {
        ...plan,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.options !== undefined
          ? { options: { ...(plan.options as object | undefined), ...options.options } }
          : {}),
      };
    }
  }
  return validatePlan(raw, {
    source: options.source,
    lineOf: (path) => lineOf(located.value, path),
    fieldOf: formatPath,
    valueAt: (path) => valueAt(raw, path),
    fieldsAt: planFieldsAt,
  });
}
