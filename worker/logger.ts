import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import {
  DefaultLogger,
  type LogEntry,
  type LogLevel,
  type LogMetadata,
  type Logger,
} from '@temporalio/worker';
import { pino } from 'pino';

/** `json`: one JSON object a line (pino), for production; `pretty`: readable lines, for development. */
export type LogFormat = 'json' | 'pretty';

/**
 * Whether a failure is one Temporal will retry as a matter of course (a 5xx, a 429, an entity still
 * processing): logged as type and message only, without a stack trace that would suggest a bug.
 */
export function isExpectedRetry(error: unknown): boolean {
  if (error instanceof ApplicationFailure) {
    return error.category === ApplicationFailureCategory.BENIGN || !error.nonRetryable;
  }
  return (error as { disposition?: unknown } | undefined)?.disposition === 'retry';
}

/** The metadata as it is logged: errors as `{ type, message, stack }`, without the stack when expected. */
export function loggedMeta(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value instanceof Error) {
      const type = value instanceof ApplicationFailure && value.type ? value.type : value.name;
      out[key] = isExpectedRetry(value)
        ? { type, message: value.message, expected: 'retry' }
        : { type, message: value.message, stack: value.stack };
    } else {
      out[key] = value;
    }
  }
  return out;
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The logger of the Temporal runtime (`Runtime.install({ logger })`): the SDK's own lines (worker state,
 * activity and workflow failures) and the project's go through it.
 */
export function createLogger(format: LogFormat, level: LogLevel, destination = process.stderr): Logger {
  if (format === 'pretty') {
    return new DefaultLogger(level, (entry: LogEntry) => {
      const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString().slice(11, 23);
      const meta = loggedMeta(entry.meta);
      const fields = Object.entries(meta)
        .filter(([key]) => key !== 'sdkComponent')
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
      destination.write(`${time} ${entry.level.padEnd(5)} ${[entry.message, ...fields].join(' ')}\n`);
    });
  }
  const log = pino(
    {
      level: PINO_LEVEL[level],
      base: { service: 'bulk-delete', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const write = (lvl: LogLevel, message: string, meta?: LogMetadata) =>
    log[PINO_LEVEL[lvl]](loggedMeta(meta), message);
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
