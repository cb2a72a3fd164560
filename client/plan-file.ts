/**
 * Reading a plan file from the command line: JSON or CSV, validated with plan/plan-parse.ts, and how it
 * travels to the workflow (inline when small, by reference when large).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  digestOf,
  formatIssue,
  LastEntityAsset,
  parsePlanText,
  planFormatOf,
  type Plan,
  type PlanParseOptions,
} from '../plan/index.js';
import { storeLocationProblem } from '../activities/object-store.js';
import { CliError, intFlag } from './command.js';
import { INLINE_PLAN_MAX_ITEMS, storePlan, type PlanSource } from './start.js';

/** The flags that shape how a plan file is read; `run` and `plan` share them. */
export const PLAN_FILE_OPTIONS = {
  format: { type: 'string' },
  name: { type: 'string' },
  'last-entity-asset': { type: 'string' },
  'max-items': { type: 'string' },
  'failure-threshold': { type: 'string' },
} as const;

export const PLAN_FILE_OPTION_HELP = {
  format: 'json or csv (default: from the file extension)',
  name: 'the plan name (default for a CSV plan: the file name without extension)',
  'last-entity-asset': 'force-unlink | delete-entity | skip-item: when an asset is the last of an entity',
  'max-items': 'refuse a plan with more items than this (default 1000)',
  'failure-threshold': 'stop when more than this share of processed items failed, 0..1 (default 0.5)',
} as const;

export const PLAN_FILE_VALUE_NAMES = {
  format: 'json|csv',
  name: 'NAME',
  'last-entity-asset': 'MODE',
  'max-items': 'N',
  'failure-threshold': 'SHARE',
} as const;

export interface PlanFile {
  plan: Plan;
  /** Absolute path of the file. */
  path: string;
  /** SHA-256 (hex) of the bytes read and validated. */
  sha256: string;
  format: 'json' | 'csv';
  /** True when flags changed the plan as written (name, options), or it was CSV. */
  rewritten: boolean;
}

type PlanFileFlags = { [K in keyof typeof PLAN_FILE_OPTIONS]?: string };

/** The plan options given as flags, checked. @throws CliError (exit 2) naming the flag. */
function optionsFromFlags(flags: PlanFileFlags): PlanParseOptions['options'] {
  const options: NonNullable<PlanParseOptions['options']> = {};
  if (flags['last-entity-asset'] !== undefined) {
    const parsed = LastEntityAsset.safeParse(flags['last-entity-asset']);
    if (!parsed.success) {
      throw new CliError(
        `--last-entity-asset must be one of ${LastEntityAsset.options.join(', ')}, got "${flags['last-entity-asset']}"`,
      );
    }
    options.lastEntityAsset = parsed.data;
  }
  const maxItems = intFlag('max-items', flags['max-items'], 1, 10_000_000);
  if (maxItems !== undefined) options.maxItems = maxItems;
  if (flags['failure-threshold'] !== undefined) {
    const value = Number(flags['failure-threshold']);
    if (flags['failure-threshold'].trim() === '' || !(value >= 0 && value <= 1)) {
      throw new CliError(
        `--failure-threshold must be a number from 0 to 1, got "${flags['failure-threshold']}"`,
      );
    }
    options.failureThreshold = value;
  }
  return Object.keys(options).length ? options : undefined;
}

/**
 * Reads and validates a plan file. Nothing is started when it fails: the error lists every problem,
 * one line each, naming the file, the line and the field.
 * @throws CliError with exit code 2.
 */
export function readPlanFile(file: string, flags: PlanFileFlags = {}): PlanFile {
  const format = flags.format ?? planFormatOf(file);
  if (format !== 'json' && format !== 'csv') {
    throw new CliError(
      flags.format === undefined
        ? `${file}: cannot tell the format from the file name: name it .json or .csv, or give --format json|csv`
        : `--format must be json or csv, got "${flags.format}"`,
    );
  }
  const options = optionsFromFlags(flags);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new CliError(`${file}: cannot read the plan: ${why ?? (error as Error).message}`);
  }
  const parsed = parsePlanText(bytes.toString('utf8'), { source: file, format, name: flags.name, options });
  if (!parsed.ok) {
    const shown = parsed.issues.slice(0, 50).map(formatIssue);
    if (parsed.issues.length > shown.length)
      shown.push(`... and ${parsed.issues.length - shown.length} more`);
    throw new CliError(`${shown.join('\n')}\nnothing was started: fix the plan and try again`);
  }
  return {
    plan: parsed.value,
    path: resolve(file),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    format,
    rewritten: format === 'csv' || flags.name !== undefined || options !== undefined,
  };
}

/**
 * How the plan travels to the workflow: inline up to {@link INLINE_PLAN_MAX_ITEMS} items, else by
 * reference. A JSON file as written is referenced where it is; a CSV plan, or one that flags changed, is
 * first written as JSON under the system's temporary directory (workers on other machines need a URL).
 */
export async function planSourceOf(file: PlanFile, env: NodeJS.ProcessEnv = {}): Promise<PlanSource> {
  if (file.plan.items.length <= INLINE_PLAN_MAX_ITEMS) return { plan: file.plan };
  let path = file.path;
  let sha256 = file.sha256;
  if (file.rewritten) {
    const dir = join(tmpdir(), 'bulk-delete', 'plans');
    mkdirSync(dir, { recursive: true });
    path = join(dir, `${file.plan.name}-${digestOf(file.plan).slice(0, 16)}.json`);
    const json = Buffer.from(JSON.stringify(file.plan));
    writeFileSync(path, json);
    sha256 = createHash('sha256').update(json).digest('hex');
  }
  // The bytes that were validated, by their hash: the file is not read again (a plan of 1,000,000
  // items is ~1 GB parsed), and a file changed since is refused by the workers (PlanChangedError).
  const ref = { uri: pathToFileURL(path).href, sha256, name: file.plan.name, items: file.plan.items.length };
  const store = env.BULK_DELETE_PLAN_STORE?.trim();
  const problem = store ? storeLocationProblem(store) : undefined;
  if (problem) throw new CliError(`BULK_DELETE_PLAN_STORE ${problem}; nothing was started`);
  return { planRef: store ? await storePlan(ref, path, store, env) : ref };
}
