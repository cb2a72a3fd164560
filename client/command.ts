/**
 * What every command of the command line shares: exit codes, the error that carries one, and argument
 * parsing with `--help` (node:util parseArgs).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The exit codes of every command. */
export const EXIT = {
  /** Every item ended deleted, already absent or skipped (or the command did what it was asked). */
  ok: 0,
  /** Some items failed, or the run failed. */
  failed: 1,
  /** Bad input or configuration: nothing was started. */
  badInput: 2,
  /** The run was cancelled. */
  cancelled: 3,
} as const;

/** An error that ends the command with a message (already clear to a user) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.badInput,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where a command writes: results on stdout, progress and messages on stderr. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Raw text on stderr, no newline added: a progress bar redrawn in place. */
  draw(text: string): void;
  /** stderr is a terminal: progress may redraw one line. */
  isTty: boolean;
  /** The terminal's width now, when stderr is one (it changes when the window is resized). */
  columns?: () => number | undefined;
  env: NodeJS.ProcessEnv;
}

/** The process's own streams. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    draw: (text) => process.stderr.write(text),
    isTty: Boolean(process.stderr.isTTY),
    columns: () => (process.stderr.isTTY ? process.stderr.columns : undefined),
    env: process.env,
  };
}

/** One command of the command line. */
export interface Command {
  name: string;
  run(argv: string[], io: Io): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options> {
  /** e.g. `run PLAN [--dry-run] [--wait]`. */
  usage: string;
  /** What the command does, a few lines. */
  description: string;
  options: O;
  /** Help for each option, in the order to show. */
  optionHelp: { [K in keyof O]?: string };
  /** How a string option's value is shown in the help, e.g. `{ id: 'ID' }`. @default VALUE */
  valueNames?: { [K in keyof O]?: string };
  /** Names of the positional arguments, e.g. ['PLAN']; all required unless `optionalPositionals`. */
  positionals: string[];
  /** How many trailing positionals may be left out. @default 0 */
  optionalPositionals?: number;
}

/** Keeps the literal option types of a spec, so that parsed values are typed. */
export function commandSpec<const O extends Options>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

function helpText<O extends Options>(spec: CommandSpec<O>): string {
  const lines = [`usage: bulk-delete ${spec.usage}`, '', spec.description.trim()];
  const names = Object.keys(spec.optionHelp);
  if (names.length) {
    lines.push('', 'options:');
    const labels = names.map((name) => {
      const option = spec.options[name];
      const short = option?.short ? `-${option.short}, ` : '';
      const value = spec.valueNames?.[name] ?? 'VALUE';
      return `${short}--${name}${option?.type === 'string' ? ` ${value}` : ''}`;
    });
    const width = Math.max(...labels.map((l) => l.length), 'help'.length + 2) + 2;
    names.forEach((name, i) => lines.push(`  ${labels[i]!.padEnd(width)}${spec.optionHelp[name] ?? ''}`));
    lines.push(`  ${'--help'.padEnd(width)}this help`);
  }
  return lines.join('\n');
}

/** The parsed arguments, or `undefined` when `--help` was asked for (the help is then printed). */
export type Parsed<O extends Options> = {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
};

/**
 * Parses a command's arguments. `--help` prints the help and answers `undefined`; an unknown option, a
 * missing value or a wrong number of positionals throws a {@link CliError} (exit 2) with the usage line.
 */
export function parseCommand<O extends Options>(
  argv: string[],
  spec: CommandSpec<O>,
  io: Io,
): Parsed<O> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(helpText(spec));
    return undefined;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(
      `${argumentError(error as Error & { code?: string }, spec, argv)}\nusage: bulk-delete ${spec.usage}`,
    );
  }
  const max = spec.positionals.length;
  const min = max - (spec.optionalPositionals ?? 0);
  if (parsed.positionals.length < min) {
    throw new CliError(
      `missing ${spec.positionals.slice(parsed.positionals.length, min).join(' ')}\nusage: bulk-delete ${spec.usage}`,
    );
  }
  if (parsed.positionals.length > max) {
    throw new CliError(`unexpected argument "${parsed.positionals[max]}"\nusage: bulk-delete ${spec.usage}`);
  }
  // An empty argument ("$ID" with ID unset) would reach Temporal, which answers only "Failed to describe".
  const empty = parsed.positionals.findIndex((p) => p.trim() === '');
  if (empty >= 0) {
    throw new CliError(`${spec.positionals[empty]} must not be empty\nusage: bulk-delete ${spec.usage}`);
  }
  return parsed as unknown as Parsed<O>;
}

/**
 * A command whose arguments are parsed with `spec` before `run` gets them: `--help` prints the help and
 * exits 0 without running it; bad arguments throw a {@link CliError} (exit 2), as {@link parseCommand} says.
 * @example
 * export const cancelCommand = defineCommand('cancel', spec, async (args, io) => { ... });
 */
export function defineCommand<O extends Options>(
  name: string,
  spec: CommandSpec<O>,
  run: (args: Parsed<O>, io: Io) => number | Promise<number>,
): Command {
  return {
    name,
    async run(argv, io) {
      const args = parseCommand(argv, spec, io);
      if (!args) return EXIT.ok;
      return run(args, io);
    },
  };
}

/** What parseArgs refused, said for a user: the option at fault and the options the command takes. */
function argumentError<O extends Options>(
  error: Error & { code?: string },
  spec: CommandSpec<O>,
  argv: readonly string[],
): string {
  const given = /'(-[^' ]+)/.exec(error.message)?.[1];
  const names = Object.keys(spec.options);
  const known = [...names.map((name) => `--${name}`), '--help'].join(', ');
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && given) {
    const bare = given.replace(/^-+/, '').split('=')[0] ?? '';
    const near = names.find((name) => name.startsWith(bare.slice(0, 3)) && bare.length > 1);
    return `Unknown option '${given}'${near ? ` (did you mean --${near}?)` : ''}; this command takes ${known}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && given) {
    if (/argument is ambiguous/.test(error.message)) {
      // The value that followed starts with "-": parseArgs will not take it for the flag's value.
      const value = argv[argv.indexOf(given) + 1] ?? '-…';
      return `${given} needs a value; one that starts with "-" is given as ${given}=${value}`;
    }
    return /argument missing/.test(error.message) ? `${given} needs a value` : `${given} takes no value`;
  }
  return error.message;
}

/** The longest duration a flag takes: a year and a day (a run or a schedule further out is a typo). */
export const MAX_DURATION_DAYS = 366;

/**
 * A duration flag such as `90s`, `10m`, `2h` or `1d`, in milliseconds, at most {@link MAX_DURATION_DAYS}.
 * @throws CliError naming the flag.
 */
export function durationFlag(name: string, raw: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2]!]! : 0;
  if (!match || ms < 1000) {
    throw new CliError(`--${name} must be a number and a unit (s, m, h or d), e.g. 10m or 2h, got "${raw}"`);
  }
  if (ms > MAX_DURATION_DAYS * 86_400_000) {
    throw new CliError(`--${name} must be at most ${MAX_DURATION_DAYS}d, got "${raw}"`);
  }
  return ms;
}

/** `1 item`, `2 items`: a count and its noun. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/**
 * A workflow ID given with `--id`, or undefined when absent. Kept to characters a shell passes as they are
 * (the commands this prints are pasted back), and without "/": a run's children are named `ID/chunk-N`, so
 * a "/" could name another run's child. @throws CliError naming the flag.
 */
export function workflowIdFlag(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/.test(raw)) {
    throw new CliError(
      `--id must be 1 to 200 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/** A positive integer flag, or undefined when absent. @throws CliError naming the flag. */
export function intFlag(name: string, raw: string | undefined, min = 1, max = 1_000_000): number | undefined {
  if (raw === undefined) return undefined;
  // Digits only: Number() would also take "0x10", "1e3" or " 7 ".
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CliError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
