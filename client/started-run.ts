/**
 * What `run` and `retry` do once their workflow has started: leave it running, or follow it to its end.
 */
import type { Client } from '@temporalio/client';
import { EXIT, type Io } from './command.js';
import { archiveWarning } from './report-fetch.js';
import { watchRun, type RunOutcome } from './run-watch.js';
import { warnWithoutWorker } from './worker-check.js';

/** The run a command started, as `--json` prints it: the workflow, its run and its Web UI link, and more. */
export interface StartedRun {
  workflowId: string;
  runId: string;
  webUiUrl: string;
  [field: string]: unknown;
}

export interface FollowOptions {
  /** `--wait`: follow the run to its end. */
  wait: boolean;
  /** `--json`: print JSON on stdout. */
  json: boolean;
  /** With `--wait --json`: fields of the outcome printed after those of `started`. */
  outcomeFields?: (outcome: RunOutcome) => Record<string, unknown>;
  /** With `--wait` and without `--json`: prints the outcome (its error is already on stderr). */
  printOutcome(outcome: RunOutcome): void;
}

/**
 * Without `--wait`: warns when no worker polls `taskQueue`, then prints `started` (JSON) or the command
 * that follows the run, and answers exit 0. With `--wait`: follows the run to its end (live progress),
 * prints `started` with the outcome's fields, its error and its report (JSON) or the error on stderr
 * and then `printOutcome`, and answers the run's exit code.
 */
export async function leaveOrFollow(
  client: Client,
  taskQueue: string,
  started: StartedRun,
  io: Io,
  options: FollowOptions,
): Promise<number> {
  if (!options.wait) {
    await warnWithoutWorker(client, taskQueue, io);
    if (options.json) io.out(JSON.stringify(started, null, 2));
    else io.out(`follow it with: bulk-delete status ${started.workflowId} --follow`);
    return EXIT.ok;
  }
  const outcome = await watchRun(client, started.workflowId, io);
  if (options.json) {
    io.out(
      JSON.stringify(
        {
          ...started,
          ...options.outcomeFields?.(outcome),
          ...(outcome.error ? { error: outcome.error } : {}),
          ...(outcome.archiveFailure ? { archive: `failed: ${outcome.archiveFailure}` } : {}),
          report: outcome.report,
        },
        null,
        2,
      ),
    );
    return outcome.exitCode;
  }
  if (outcome.error) io.err(outcome.error);
  options.printOutcome(outcome);
  if (outcome.archiveFailure) io.err(archiveWarning(started.workflowId, outcome.archiveFailure));
  return outcome.exitCode;
}
