import { readFileSync } from 'node:fs';
import {
  canonicalJson,
  formatIssue,
  parseJsonWithPositions,
  verifyReceipt,
  type Verdict,
} from '../../plan/index.js';
import { CliError, EXIT, commandSpec, defineCommand } from '../command.js';

const spec = commandSpec({
  usage: 'verify RECEIPT [--report FILE] [--json]',
  description: `
Checks a deletion receipt (receipt.json, as the worker archives it in BULK_DELETE_REPORT_STORE) offline:
every entry of the ledger must hash to what it says and link to the entry before it, and the last one
must be the receipt's head. With --report, the report (report.json) must quote the same run, plan,
status and head, and list the same ledger entries (its "mutations").
Needs no Temporal server.

Exit codes: 0 the receipt is intact; 1 it is not (the first entry that does not match is named, by index,
item and target); 2 the file cannot be read or is not JSON.`,
  options: { report: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: {
    report:
      "also check that this report (report.json) quotes the receipt's run, status and head, and holds its ledger",
    json: 'print the verdict as JSON on stdout',
  },
  valueNames: { report: 'FILE' },
  positionals: ['RECEIPT'],
});

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // Parsed again only to say where (a receipt can be large: the fast parser goes first).
    const parsed = parseJsonWithPositions(text, path);
    throw new CliError(parsed.ok ? `${path}: not JSON` : parsed.issues.map(formatIssue).join('\n'));
  }
}

/** A report field, as JSON, to name it in a message. */
function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/**
 * A valid receipt must also be the one the report quotes: same run, plan and status, same head, and the
 * report's own ledger (`mutations`) the receipt's entries, one for one: a report whose ledger was edited
 * while it still quotes the head would otherwise pass.
 */
function matchReport(
  verdict: Verdict & { valid: true },
  receipt: { workflowId: string; plan?: unknown; status?: unknown; entries: Record<string, unknown>[] },
  path: string,
): Verdict {
  const report = readJson(path) as {
    workflowId?: unknown;
    plan?: unknown;
    status?: unknown;
    head?: unknown;
    mutations?: unknown;
  } | null;
  if (report?.workflowId !== receipt.workflowId) {
    return {
      valid: false,
      index: -1,
      reason: `the report ${path} is of run ${String(report?.workflowId)}, the receipt of ${receipt.workflowId}`,
    };
  }
  if (report.head !== verdict.head) {
    return {
      valid: false,
      index: -1,
      reason: `the report ${path} quotes head ${String(report.head)}, the receipt ends at ${verdict.head}`,
    };
  }
  for (const field of ['plan', 'status'] as const) {
    if (report[field] !== receipt[field]) {
      return {
        valid: false,
        index: -1,
        reason: `the report ${path} says ${field} ${shown(report[field])}, the receipt ${shown(receipt[field])}`,
      };
    }
  }
  const mutations = Array.isArray(report.mutations) ? (report.mutations as unknown[]) : undefined;
  if (!mutations) {
    return { valid: false, index: -1, reason: `the report ${path} has no ledger (mutations)` };
  }
  const count = Math.max(mutations.length, receipt.entries.length);
  for (let index = 0; index < count; index++) {
    const entry = receipt.entries[index];
    const ledgerOf = entry ? (({ prev: _p, hash: _h, ...rest }) => rest)(entry) : undefined;
    if (canonicalJson(mutations[index] ?? null) === canonicalJson(ledgerOf ?? null)) continue;
    const at = (entry ?? (mutations[index] as Record<string, unknown>)) as {
      item?: unknown;
      target?: unknown;
    };
    return {
      valid: false,
      index,
      ...(typeof at.item === 'string' ? { item: at.item } : {}),
      ...(typeof at.target === 'string' ? { target: at.target } : {}),
      reason:
        index >= mutations.length || index >= receipt.entries.length
          ? `the report ${path} lists ${mutations.length} ledger entries, the receipt ${receipt.entries.length}`
          : `the report ${path} has another ledger entry ${index} than the receipt`,
    };
  }
  return verdict;
}

/** `bulk-delete verify RECEIPT`. */
export const verifyCommand = defineCommand('verify', spec, (args, io) => {
  const path = args.positionals[0]!;
  const json = readJson(path);
  let verdict = verifyReceipt(json);
  if (verdict.valid && args.values.report !== undefined) {
    verdict = matchReport(
      verdict,
      json as { workflowId: string; entries: Record<string, unknown>[] },
      args.values.report,
    );
  }
  if (args.values.json) io.out(JSON.stringify(verdict, null, 2));
  if (verdict.valid) {
    if (!args.values.json) io.out(`${path}: valid, ${verdict.entries} entries, head ${verdict.head}`);
    return EXIT.ok;
  }
  if (!args.values.json) {
    const which =
      verdict.index < 0
        ? ''
        : ` at entry ${verdict.index}${verdict.item !== undefined ? ` (item ${verdict.item}, target ${verdict.target ?? '?'})` : ''}`;
    io.out(`${path}: INVALID${which}: ${verdict.reason}`);
  }
  return EXIT.failed;
});
