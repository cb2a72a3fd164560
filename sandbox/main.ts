import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startSandbox } from './index.js';
import { SandboxState } from './state-schema.js';

/** The port `bulk-delete sandbox` listens on when `--port` is not given. */
export const DEFAULT_SANDBOX_PORT = 8790;

const USAGE = `Usage: bulk-delete sandbox [--port <port>] [--host <host>] [--seed <file.json>] [--state-file <file.json>]

Serves local stand-ins for TwelveLabs (/twelvelabs/v1.3), Uplynk (/uplynk/api/v4) and
EnterMediaDB (/entermedia), with controls under /_sandbox (seed, state, generate, faults, stats, reset).

Options:
  --port <port>          port to listen on, 0 for a free one (default ${DEFAULT_SANDBOX_PORT})
  --host <host>          address to listen on (default 127.0.0.1)
  --seed <file.json>     initial state, in the shape of POST /_sandbox/seed
  --state-file <file>    keep the state in this JSON file (read at start, written after changes)
  -h, --help             show this help
`;

/**
 * `bulk-delete sandbox`: runs the sandbox until SIGINT or SIGTERM. Prints
 * `sandbox listening on http://127.0.0.1:<port>` once it accepts connections.
 * @returns the process exit code: 0 after a clean stop, 2 for bad arguments or seed, 1 when it cannot start.
 */
export async function runSandboxCommand(argv: string[]): Promise<number> {
  let values: { port?: string; host?: string; seed?: string; 'state-file'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        'state-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_SANDBOX_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer from 0 to 65535, got "${values.port}"\n`);
    return 2;
  }
  let seed: SandboxState | undefined;
  if (values.seed !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(values.seed, 'utf8'));
    } catch (err) {
      process.stderr.write(`cannot read the seed ${values.seed}: ${(err as Error).message}\n`);
      return 2;
    }
    const parsed = SandboxState.safeParse(raw);
    if (!parsed.success) {
      process.stderr.write(
        `the seed ${values.seed} is not a sandbox state:\n${z.prettifyError(parsed.error)}\n`,
      );
      return 2;
    }
    seed = parsed.data;
  }

  // Listen for signals before the sandbox starts and before the line is printed: whoever waits for the
  // line may signal at once, and a signal without a listener would kill the process uncleanly.
  let stopRequested!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = () => stopRequested();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let sandbox;
    try {
      sandbox = await startSandbox({
        port,
        ...(values.host ? { host: values.host } : {}),
        ...(seed ? { seed } : {}),
        ...(values['state-file'] ? { stateFile: values['state-file'] } : {}),
      });
    } catch (err) {
      process.stderr.write(`sandbox cannot start: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`sandbox listening on ${sandbox.url}\n`);
    await stopSignal;
    try {
      await sandbox.close();
      return 0;
    } catch (err) {
      process.stderr.write(`sandbox did not stop cleanly: ${(err as Error).message}\n`);
      return 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
