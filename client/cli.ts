import { CliError, EXIT, processIo, type Command, type Io } from './command.js';
import { approveCommand } from './commands/approve.js';
import { cancelCommand } from './commands/cancel.js';
import { devCommand } from './commands/dev.js';
import { planCommand } from './commands/plan.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { sandboxCommand } from './commands/sandbox.js';
import { scheduleCommand } from './commands/schedule.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  planCommand,
  statusCommand,
  approveCommand,
  cancelCommand,
  reportCommand,
  scheduleCommand,
  workerCommand,
  sandboxCommand,
  devCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: bulk-delete <command> [options]   ("bulk-delete <command> --help" for one command)',
    '',
    'Deletes media assets across TwelveLabs, Uplynk and EnterMediaDB as a durable Temporal workflow.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'exit codes: 0 every item deleted, already absent or skipped; 1 some failed;',
    '            2 bad input or configuration (nothing started); 3 cancelled',
    'configuration: environment variables, see .env.example (TEMPORAL_ADDRESS, BULK_DELETE_TASK_QUEUE, ...)',
  ].join('\n');
}

/** Runs one command line and answers its exit code; every error becomes a message, never a stack trace. */
export async function runCli(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const text = usage();
    if (name === undefined) {
      io.err(text);
      return EXIT.badInput;
    }
    io.out(text);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command "${name}"\n\n${usage()}`);
    return EXIT.badInput;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(error.message);
      return error.exitCode;
    }
    io.err(`bulk-delete ${name} failed: ${(error as Error).message ?? String(error)}`);
    if (io.env.BULK_DELETE_DEBUG) io.err(String((error as Error).stack));
    return EXIT.failed;
  }
}
