import type { Client } from '@temporalio/client';
import { webUiUrl } from '../../config/temporal-config.js';
import { EXIT, commandSpec, type Io, defineCommand } from '../command.js';
import { progressBySystem, progressLine } from '../progress-view.js';
import { archiveWarning } from '../report-fetch.js';
import { fetchReportOrArchived } from '../report-archive.js';
import { resolveRun } from '../run-ref.js';
import { countedSteps, dryRunLines, summaryLines } from '../report-format.js';
import { exitCodeOf, queryProgress, watchRun } from '../run-watch.js';
import { pendingLines, pendingWork } from '../pending-work.js';
import { withClient } from '../temporal-client.js';
import { noWorkerMessage, workflowPollers } from '../worker-check.js';

const spec = commandSpec({
  usage: 'status ID [--follow] [--json]',
  description: `
The progress of a run: status, phase, items done and failed, by system. With --follow, a live
progress bar until the run ends (with items a second and the time left while it deletes), then the
summary; the exit code then tells how it ended (0 every item deleted, already absent or skipped; 1
some failed; 3 cancelled). A finished run answers its summary and the same exit code.`,
  options: {
    follow: { type: 'boolean', short: 'f' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    follow: 'follow the run to its end, with a live progress bar',
    json: 'print JSON on stdout: { workflowId, runId, webUiUrl, temporalStatus, progress, report? }',
  },
  positionals: ['ID'],
});

async function follow(
  client: Client,
  workflowId: string,
  io: Io,
  json: boolean,
  url: string,
): Promise<number> {
  const outcome = await watchRun(client, workflowId, io);
  if (json) {
    io.out(
      JSON.stringify(
        {
          workflowId,
          webUiUrl: url,
          error: outcome.error,
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
  if (outcome.result?.reason) io.err(`stopped early: ${outcome.result.reason}`);
  if (outcome.result?.dryRun)
    io.out(dryRunLines(workflowId, outcome.steps, outcome.result.digest).join('\n'));
  else if (outcome.report) io.out(summaryLines(outcome.report).join('\n'));
  if (outcome.archiveFailure) io.err(archiveWarning(workflowId, outcome.archiveFailure));
  return outcome.exitCode;
}

/** `bulk-delete status ID`: progress by phase and system. */
export const statusCommand = defineCommand('status', spec, async (args, io) => {
  const json = args.values.json ?? false;
  return withClient(io.env, async ({ client, config }) => {
    const { workflowId, description } = await resolveRun(client, args.positionals[0]!, io);
    const url = webUiUrl(config, workflowId, description.runId);
    const running = description.status.name === 'RUNNING';
    if (running && args.values.follow) return follow(client, workflowId, io, json, url);

    // A closed run answers queries only by replay on a worker: its summary says more, without one.
    // Without a worker a query can only time out: say so instead of waiting for it.
    const polled = running && (await workflowPollers(client, description.taskQueue)) !== 0;
    const progress = polled ? await queryProgress(client, workflowId) : undefined;
    const fetched = running ? undefined : await fetchReportOrArchived(client, workflowId, io);
    const work = progress ? await pendingWork(client, progress.runningChunks ?? []) : [];
    const exitCode = fetched ? exitCodeOf(fetched.report) : EXIT.ok;
    if (json) {
      io.out(
        JSON.stringify(
          {
            workflowId,
            runId: description.runId,
            webUiUrl: url,
            temporalStatus: description.status.name,
            progress,
            ...(work.length ? { pending: work } : {}),
            ...(fetched ? { report: { ...fetched.report, rows: undefined } } : {}),
            ...(fetched?.failure ? { failure: fetched.failure } : {}),
            ...(fetched?.archiveFailure ? { archive: `failed: ${fetched.archiveFailure}` } : {}),
            ...(fetched?.result?.dryRun
              ? { dryRun: { steps: countedSteps(fetched.steps), digest: fetched.result.digest } }
              : {}),
          },
          null,
          2,
        ),
      );
      return exitCode;
    }
    io.out(`${workflowId}: ${description.status.name.toLowerCase()}`);
    if (progress) {
      io.out(progressLine(progress));
      if (progress.status === 'awaiting-approval' && progress.digest) {
        // Nothing is deleted until approved: the steps come first, then the command that approves them.
        io.out(`awaiting approval: review its steps with bulk-delete report ${workflowId}`);
        io.out(`  then approve them: bulk-delete approve ${workflowId} --digest ${progress.digest}`);
      }
      io.out(['', ...progressBySystem(progress)].join('\n'));
      const lines = pendingLines(work);
      if (lines.length) io.out(['', 'retrying or waiting:', ...lines].join('\n'));
    } else if (running && polled && description.historyLength > 2) {
      // Picked up (more than its start and first task in its history), yet no answer: the worker that
      // holds it may have just stopped, and the query waits for the server to hand the run on.
      io.out(
        'no progress answer within 5 s: the worker running it may have just stopped; Temporal hands the run to another worker within seconds, ask again',
      );
    } else if (running) {
      io.out('no progress yet: no worker has picked the run up');
      if (!polled) io.err(`warning: ${noWorkerMessage(description.taskQueue, client.options.namespace)}`);
    }
    if (fetched) {
      if (fetched.result?.reason) io.out(`stopped early: ${fetched.result.reason}`);
      if (fetched.failure) {
        io.out(`the run failed: ${fetched.failure}`);
        io.out('  the report holds the rows of the chunks that finished');
      }
      // A dry run deleted nothing: its rows are empty, what it found is its steps.
      if (fetched.result?.dryRun || description.memo?.dryRun === true) {
        io.out(['', ...dryRunLines(workflowId, fetched.steps, fetched.result?.digest)].join('\n'));
      } else io.out(['', ...summaryLines(fetched.report)].join('\n'));
      if (fetched.archiveFailure) io.err(archiveWarning(workflowId, fetched.archiveFailure));
    }
    io.out(`\nWeb UI: ${url}`);
    return exitCode;
  });
});
