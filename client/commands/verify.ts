import { readFileSync } from 'node:fs';
import { verifyReceipt } from '../../plan/index.js';
import { CliError, EXIT, commandSpec, parseCommand, type Command } from '../command.js';

const spec = commandSpec({
  usage: 'verify RECEIPT [--json]',
  description: `
Checks a deletion receipt (receipt.json, as the worker archives it in BULK_DELETE_REPORT_STORE) offline:
every entry of the ledger must hash to what it says and link to the entry before it, and the last one
must be the receipt's head (the report quotes the same head). Needs no Temporal server.

Exit codes: 0 the receipt is intact; 1 it is not (the first entry that does not match is named, by index,
item and target); 2 the file cannot be read or is not JSON.`,
  options: { json: { type: 'boolean' } },
  optionHelp: { json: 'print the verdict as JSON on stdout' },
  positionals: ['RECEIPT'],
});

/** `bulk-delete verify RECEIPT`. */
export const verifyCommand: Command = {
  name: 'verify',
  // eslint-disable-next-line @typescript-eslint/require-await -- every command answers a promise
  async run(argv, io) {
    const args = parseCommand(argv, spec, io);
    if (!args) return EXIT.ok;
    const path = args.positionals[0]!;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(`cannot read ${path}: ${code ?? (error as Error).message}`);
    }
    const verdict = verifyReceipt(json);
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
  },
};
