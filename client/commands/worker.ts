import { SYSTEMS } from '../../plan/index.js';
import { missingVariables } from '../../activities/system-settings.js';
import { describeSystems, loadSystemsConfig } from '../../worker/systems-config.js';
import { startWorker, type RunningWorker } from '../../worker/main.js';
import { TemporalConnectError } from '../../config/temporal-config.js';
import { CliError, EXIT, commandSpec, type Io, defineCommand } from '../command.js';
import { temporalConfigFrom } from '../temporal-client.js';

const spec = commandSpec({
  usage: 'worker [--allow-unconfigured]',
  description: `
Runs a worker on BULK_DELETE_TASK_QUEUE (default bulk-delete): the workflows and the activities that
call TwelveLabs, Uplynk and EnterMediaDB. Configuration comes from the environment (see .env.example);
secrets stay in this process. A malformed variable or a missing credential stops it before it starts
(exit 2). Ctrl-C or SIGTERM stops it: it takes no new tasks, lets running activities finish for up
to BULK_DELETE_SHUTDOWN_GRACE (default 60s), then cancels the rest, which Temporal retries on
another worker.`,
  options: { 'allow-unconfigured': { type: 'boolean' } },
  optionHelp: {
    'allow-unconfigured':
      'start even when a system lacks credentials (its activities then fail with MissingCredentialsError)',
  },
  positionals: [],
});

/**
 * The worker's configuration checked as the worker will read it. A system without credentials is an
 * error unless allowed. @throws CliError (exit 2) naming the variables, never their values.
 */
export function checkWorkerEnv(
  env: NodeJS.ProcessEnv,
  options: { allowUnconfigured?: boolean } = {},
): string[] {
  temporalConfigFrom(env);
  let systems;
  try {
    systems = loadSystemsConfig(env);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const missing = SYSTEMS.flatMap((system) => missingVariables(systems, system));
  if (missing.length && !options.allowUnconfigured) {
    throw new CliError(
      `missing credentials: ${missing.join(', ')} must be set in the worker's environment (see .env.example)\n` +
        'nothing was started ("--allow-unconfigured" starts anyway; those systems then fail)',
    );
  }
  return describeSystems(systems);
}

/**
 * Starts the worker; a setting the worker itself refuses (e.g. its telemetry) is a configuration error.
 * @throws CliError (exit 2) for bad configuration.
 */
export async function startConfiguredWorker(env: NodeJS.ProcessEnv): Promise<RunningWorker> {
  try {
    return await startWorker(env);
  } catch (error) {
    const message = (error as Error).message;
    if (/^bad [\w ]+ configuration/.test(message) || error instanceof TemporalConnectError) {
      throw new CliError(message);
    }
    throw error;
  }
}

/** Runs until SIGINT/SIGTERM. */
async function runUntilSignal(env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const running = await startConfiguredWorker(env);
  const config = temporalConfigFrom(env);
  io.err(
    `worker polling ${config.BULK_DELETE_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS} (namespace ${config.TEMPORAL_NAMESPACE}); Ctrl-C stops it`,
  );
  const stop = () => void running.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await running.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  io.err('worker stopped');
  return EXIT.ok;
}

/** `bulk-delete worker`. */
export const workerCommand = defineCommand('worker', spec, async (args, io) => {
  // Checked here to refuse a bad setting with exit 2; the worker logs where each system points.
  checkWorkerEnv(io.env, { allowUnconfigured: args.values['allow-unconfigured'] ?? false });
  try {
    return await runUntilSignal(io.env, io);
  } catch (error) {
    // A worker that failed after it was built can leave the SDK's workflow thread behind, which keeps the
    // process up, neither working nor ending: end it once the failure is told (with its exit code).
    setTimeout(() => process.exit(), 1000).unref();
    throw error;
  }
});
