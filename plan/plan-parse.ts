/**
 * Turns the text of a plan file (JSON or CSV) into a validated {@link Plan}, or into messages that name
 * the file, the line and the field at fault. Pure: the caller reads the file. JSON is read with
 * jsonc-parser (strict: no comments, no trailing commas), which keeps where every value starts; CSV by
 * plan-csv.ts.
 */
import * as jsonc from 'jsonc-parser';
import type { z } from 'zod';
import { readCsvPlan } from './plan-csv.js';
import { Plan, PlanItem, PlanOptions } from './plan-schema.js';

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
  const where = [issue.source, issue.line, issue.column].filter((part) => part !== undefined).join(':');
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
// JSON with positions

/** A JSON value, and the line where the deepest prefix of a path that it has starts (a member: its key). */
export type LocatedJson = { value: unknown; lineOf: (path: JsonPath) => number | undefined };

/** What jsonc-parser's errors mean to a user, by error name; `%` is what was found instead. */
const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected %, expected a value',
  PropertyNameExpected: 'unexpected %, expected a field name in double quotes',
  ValueExpected: 'unexpected %, expected a value',
  ColonExpected: 'unexpected %, expected ":" after a field name',
  CommaExpected: 'unexpected %, expected ","',
  CloseBraceExpected: 'unexpected %, expected "," or "}"',
  CloseBracketExpected: 'unexpected %, expected "," or "]"',
  EndOfFileExpected: 'unexpected % after the end of the JSON value',
  InvalidCommentToken: 'unexpected %: JSON has no comments',
  UnexpectedEndOfString: 'unterminated string',
  InvalidUnicode: 'invalid escape in string',
  InvalidEscapeCharacter: 'invalid escape in string',
  InvalidCharacter: 'control character in string',
};

/**
 * Parses JSON text and keeps where every value starts. Only the first syntax error is reported (the
 * others follow from it). Duplicate keys in one object are an error: JSON.parse would keep the last.
 */
export function parseJsonWithPositions(text: string, source: string): ParseResult<LocatedJson> {
  const lineStarts = [0, ...Array.from(text.matchAll(/\n/g), (m) => m.index + 1)];
  const at = (offset: number) => {
    let line = 0;
    for (let step = 1 << 30; step > 0; step >>= 1) {
      if (line + step < lineStarts.length && lineStarts[line + step]! <= offset) line += step;
    }
    return { line: line + 1, column: offset - lineStarts[line]! + 1 };
  };
  const fail = (offset: number, message: string): ParseResult<LocatedJson> => ({
    ok: false,
    issues: [{ source, ...at(offset), message: `invalid JSON: ${message}` }],
  });
  const body = jsonBody(text);
  if (body.trim() === '') return fail(text.length, 'the file is empty, expected a JSON object');
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(body, errors, { disallowComments: true });
  const first = errors[0];
  if (first || !tree) {
    const offset = first?.offset ?? 0;
    let name = first ? jsonc.printParseErrorCode(first.error) : 'ValueExpected';
    if (tree && name === 'InvalidSymbol' && offset >= tree.offset + tree.length) name = 'EndOfFileExpected';
    const found = offset >= text.length ? 'the end of the file' : JSON.stringify(text[offset]);
    return fail(offset, (SYNTAX_MESSAGES[name] ?? 'unexpected %').replace('%', found));
  }
  const repeated = scanJson(body).repeated;
  if (repeated) return fail(repeated.offset, `duplicate field ${JSON.stringify(repeated.name)}`);
  const lineOf = (path: JsonPath): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = jsonc.findNodeAtLocation(tree, path.slice(0, n));
      if (node) return at(node.parent?.type === 'property' ? node.parent.offset : node.offset).line;
    }
    return undefined;
  };
  return { ok: true, value: { value: jsonc.getNodeValue(tree), lineOf } };
}

/** A byte-order mark is whitespace, as JSON.parse has it; a space in its place keeps the offsets. */
function jsonBody(text: string): string {
  return text.replace(/^\uFEFF/, ' ');
}

/**
 * One pass over JSON text that builds nothing: whether it has a syntax error, and the first field given
 * twice in one object (in the first such object, by where objects start), which JSON.parse would
 * silently overwrite.
 */
function scanJson(body: string): { syntaxError: boolean; repeated?: { name: string; offset: number } } {
  let syntaxError = false;
  let repeated: { name: string; offset: number; object: number } | undefined;
  const open: Array<{ start: number; fields: Set<string> }> = [];
  jsonc.visit(
    body,
    {
      onObjectBegin: (offset) => void open.push({ start: offset, fields: new Set() }),
      onObjectProperty: (name, offset) => {
        const object = open.at(-1);
        if (!object) return;
        if (object.fields.has(name) && !(repeated && repeated.object <= object.start)) {
          repeated = { name, offset, object: object.start };
        }
        object.fields.add(name);
      },
      onObjectEnd: () => void open.pop(),
      onError: () => {
        syntaxError = true;
      },
    },
    { disallowComments: true },
  );
  return { syntaxError, ...(repeated ? { repeated: { name: repeated.name, offset: repeated.offset } } : {}) };
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
    return ` (got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)})`;
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
  const part = first === 'items' && path.length === 3 ? PlanItem.shape[system as 'uplynk'] : undefined;
  return part && Object.keys(part.unwrap().shape);
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
  return error.issues.flatMap((issue): InputIssue[] => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const { source } = locator;
    if (issue.code === 'unrecognized_keys') {
      const accepted = locator.fieldsAt?.(path);
      const message = `unknown field${accepted ? ` (expected one of: ${accepted.join(', ')})` : ''}`;
      return issue.keys.map((key) => {
        const keyPath = [...path, key];
        return { source, line: locator.lineOf(keyPath), field: locator.fieldOf(keyPath), message };
      });
    }
    const value = locator.valueAt(path);
    let message = issue.message;
    if (issue.code === 'invalid_type' && value === undefined) message = 'required';
    else if (issue.code !== 'custom') message += gotSuffix(value);
    return [{ source, line: locator.lineOf(path), field: locator.fieldOf(path) || undefined, message }];
  });
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
  const issues = issuesFromZod(parsed.error, {
    ...options,
    lineOf: located.value.lineOf,
    fieldOf: formatPath,
    valueAt: (path) => valueAt(located.value.value, path),
  });
  return { ok: false, issues: sortIssues(issues) };
}

/** In line order; issues of one line keep their order. */
function sortIssues(issues: InputIssue[]): InputIssue[] {
  return issues.toSorted((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

// ---------------------------------------------------------------------------------------------------
// Checks that a plan's schema leaves to the parser because they read across items.

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
    items.forEach((item: unknown, index) => {
      const value = valueAt(item, check.path);
      if (typeof value !== 'string' || value === '') return;
      const first = seen.get(value);
      if (first === undefined) return void seen.set(value, index);
      const [path, firstLine] = [
        ['items', index, ...check.path],
        locator.lineOf(['items', first, ...check.path]),
      ];
      const message = `duplicate ${check.label} ${JSON.stringify(value)}: already in items[${first}]`;
      const where = firstLine !== undefined ? ` (line ${firstLine})` : '';
      const { source } = locator;
      issues.push({
        source,
        line: locator.lineOf(path),
        field: locator.fieldOf(path),
        message: message + where,
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
  // The schema's own duplicate-ID check repeats one of ours: keep ours, which gives the first line.
  const ours = new Set(duplicates.map((d) => `${d.line}|${d.field}`));
  const kept = (parsed.success ? [] : issuesFromZod(parsed.error, locator)).filter(
    (issue) => !(issue.message.startsWith('duplicate') && ours.has(`${issue.line}|${issue.field}`)),
  );
  return { ok: false, issues: sortIssues([...kept, ...duplicates]) };
}

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
  const extension = /\.(json|csv)$/i.exec(path)?.[1]?.toLowerCase();
  return extension as 'json' | 'csv' | undefined;
}

/** The plan as read, with the name and options given on the command line over its own. */
function withOverrides(raw: unknown, options: PlanParseOptions): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const plan = raw as { options?: object };
  return {
    ...plan,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.options !== undefined ? { options: { ...plan.options, ...options.options } } : {}),
  };
}

/**
 * A valid JSON plan, read without keeping where each value starts: a scan for syntax errors and repeated
 * fields that builds nothing, then `JSON.parse` and the same checks. Undefined at the first doubt: the
 * caller then reads the plan with positions, for messages that name the line. The tree with positions
 * takes kilobytes an item (a plan of 1,000,000 items did not fit in a 4 GB heap); this path holds the
 * parsed plan once.
 */
function validPlanWithoutPositions(text: string, options: PlanParseOptions): Plan | undefined {
  const body = jsonBody(text);
  const scan = scanJson(body);
  if (scan.syntaxError || scan.repeated) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const raw = withOverrides(json, options);
  const checked = validatePlan(raw, {
    source: options.source,
    lineOf: () => undefined,
    fieldOf: formatPath,
    valueAt: (path) => valueAt(raw, path),
  });
  return checked.ok ? checked.value : undefined;
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
  if (options.format === 'csv') {
    const read = readCsvPlan(text, options);
    if (!read.ok) return read;
    const { raw, lineOf, fieldOf } = read.value;
    return validatePlan(raw, {
      source: options.source,
      lineOf,
      fieldOf: (path) => (path[0] === 'items' ? fieldOf(path) : formatPath(path)),
      valueAt: (path) => valueAt(raw, path),
      fieldsAt: planFieldsAt,
    });
  }
  const valid = validPlanWithoutPositions(text, options);
  if (valid) return { ok: true, value: valid };
  const located = parseJsonWithPositions(text, options.source);
  if (!located.ok) return located;
  const raw = withOverrides(located.value.value, options);
  return validatePlan(raw, {
    source: options.source,
    lineOf: located.value.lineOf,
    fieldOf: formatPath,
    valueAt: (path) => valueAt(raw, path),
    fieldsAt: planFieldsAt,
  });
}
