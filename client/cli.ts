import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';
import { CliError, EXIT, processIo, type Command, type Io } from './command.js';

/** The package's version, as package.json says. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** A command as the list shows it; its module loads only when it runs, so that each starts quickly. */
interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'validate a plan (JSON or CSV) and start deleting; --wait follows it to the end',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  {
    name: 'plan',
    summary: 'dry run: discover every reference and print the steps that run would take, with a digest',
    load: async () => (await import('./commands/plan.js')).planCommand,
  },
  {
    name: 'status',
    summary: 'progress of a run by phase and system; --follow shows it live until the end',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'approve',
    summary: 'approve a run that waits for approval, quoting the digest of its discovered steps',
    load: async () => (await import('./commands/approve.js')).approveCommand,
  },
  {
    name: 'cancel',
    summary: 'stop a run cleanly: what has started finishes its step, the rest is skipped',
    load: async () => (await import('./commands/cancel.js')).cancelCommand,
  },
  {
    name: 'report',
    summary: 'the per-item report of a run as JSON, CSV or Markdown',
    load: async () => (await import('./commands/report.js')).reportCommand,
  },
  {
    name: 'retry',
    summary: 'a new run over the failed, skipped and partial items of a finished run',
    load: async () => (await import('./commands/retry.js')).retryCommand,
  },
  {
    name: 'verify',
    summary: 'check a deletion receipt offline: names the first ledger entry that does not match',
    load: async () => (await import('./commands/verify.js')).verifyCommand,
  },
  {
    name: 'schedule',
    summary:
      'recurring clean-up with Temporal Schedules: create, list, describe, pause, unpause, trigger, delete',
    load: async () => (await import('./commands/schedule.js')).scheduleCommand,
  },
  {
    name: 'worker',
    summary: 'a worker on the configured task queue (Ctrl-C stops it)',
    load: async () => (await import('./commands/worker.js')).workerCommand,
  },
  {
    name: 'sandbox',
    summary: 'local stand-ins for TwelveLabs, Uplynk and EnterMediaDB, with controls under /_sandbox',
    load: async () => (await import('./commands/sandbox.js')).sandboxCommand,
  },
  {
    name: 'codec-server',
    summary: "decodes the project's compressed payloads for the Temporal Web UI and CLI",
    load: async () => (await import('./commands/codec-server.js')).codecServerCommand,
  },
  {
    name: 'dev',
    summary: 'everything local: Temporal dev server + Web UI, sandbox, worker, example plan',
    load: async () => (await import('./commands/dev.js')).devCommand,
  },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: bulk-delete <command> [options]   ("bulk-delete <command> --help" for one command)',
    '       bulk-delete --version',
    '',
    'Deletes media assets across TwelveLabs, Uplynk and EnterMediaDB as a durable Temporal workflow.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'exit codes: 0 every item deleted, already absent or skipped; 1 some failed;',
    '            2 bad input or configuration (nothing started); 3 cancelled;',
    '            130 interrupted with Ctrl-C (the run goes on)',
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
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`bulk-delete ${cliVersion()}`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.err(`unknown command "${name}"\n\n${usage()}`);
    return EXIT.badInput;
  }
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(error.message);
      return error.exitCode;
    }
    // Loaded here only: the command line starts without Temporal's configuration code.
    const temporal = await import('../config/temporal-config.js');
    if (temporal.isNamespaceNotFound(error)) {
      let config: { TEMPORAL_ADDRESS: string; TEMPORAL_NAMESPACE: string } | undefined;
      try {
        config = temporal.loadTemporalConfig(io.env);
      } catch {
        config = undefined;
      }
      const { TEMPORAL_ADDRESS = '?', TEMPORAL_NAMESPACE = '?' } = config ?? {};
      io.err(temporal.namespaceNotFound(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).message);
      return EXIT.badInput;
    }
    io.err(`bulk-delete ${name} failed: ${(error as Error).message ?? String(error)}`);
    if (io.env.BULK_DELETE_DEBUG) io.err(String((error as Error).stack));
    return EXIT.failed;
  }
}
