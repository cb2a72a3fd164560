import { writeFileSync } from 'node:fs';
import type { Report } from '../../plan/index.js';
import { CliError, EXIT, plural, commandSpec, defineCommand } from '../command.js';
import { storeLocationProblem } from '../../activities/object-store.js';
import { archivedReport, fetchReportOrArchived } from '../report-archive.js';
import { archiveWarning } from '../report-fetch.js';
import {
  REPORT_FORMATS,
  countedSteps,
  formatReport,
  formatSteps,
  itemsOf,
  stepsForItems,
  stepLines,
  type ReportFormat,
} from '../report-format.js';
import { exitCodeOf } from '../run-watch.js';
import { withClient } from '../temporal-client.js';
import { resolveRun } from '../run-ref.js';

const spec = commandSpec({
  usage: 'report ID [--format json|csv|md] [--out FILE] [--json]',
  description: `
The per-item report of a run: for every item and every system, the outcome (deleted, already-absent,
skipped, partial, failed), the step that decided it, why, and when. JSON has the shape in docs/architecture.md, CSV one
line per row, Markdown a summary and a table. The format defaults to the extension of --out, else md.
A dry run, or a run waiting for approval, deleted nothing: it gives its steps and their digest instead
(JSON: { workflowId, status: dry-run, discovering (a dry run still going: no digest, steps so far)
or awaiting-approval, digest, steps }).
The exit code tells how the run ended (0 no item failed, 1 some failed, 3 cancelled); a run still
going gives the rows so far. Once the run is no longer in Temporal (retention, deleted), the report
is read from BULK_DELETE_REPORT_STORE, where the worker archived it when the run ended.`,
  options: {
    format: { type: 'string' },
    out: { type: 'string', short: 'o' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    format: 'json | csv | md',
    out: 'write the report to FILE instead of stdout',
    json: 'print JSON on stdout: the report, or with --out { workflowId, out, format, status, summary }',
  },
  valueNames: { format: 'json|csv|md', out: 'FILE' },
  positionals: ['ID'],
});

function formatOf(flag: string | undefined, out: string | undefined, json: boolean): ReportFormat {
  if (flag !== undefined) {
    if (!(REPORT_FORMATS as readonly string[]).includes(flag)) {
      throw new CliError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got "${flag}"`);
    }
    return flag as ReportFormat;
  }
  const extension = out?.toLowerCase().split('.').pop();
  if (extension === 'csv' || extension === 'json') return extension;
  if (extension === 'md' || extension === 'markdown') return 'md';
  return json ? 'json' : 'md';
}

function writeOut(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw new CliError(
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** `bulk-delete report ID`. */
export const reportCommand = defineCommand('report', spec, async (args, io) => {
  const { out, json } = args.values;
  if (json && out === undefined && args.values.format !== undefined && args.values.format !== 'json') {
    throw new CliError('--json prints the report as JSON: give --out FILE to write it as csv or md');
  }
  const format = formatOf(args.values.format, out, json ?? false);
  // Checked before anything else, as the plan store is by "run": otherwise only a run gone from
  // Temporal would meet it, as an unexpected failure (exit 1) that names no variable.
  const store = io.env.BULK_DELETE_REPORT_STORE?.trim();
  const problem = store ? storeLocationProblem(store) : undefined;
  if (problem) throw new CliError(`BULK_DELETE_REPORT_STORE ${problem}`);
  return withClient(io.env, async ({ client }) => {
    const id = args.positionals[0]!;
    // While the workflow exists its history is the record; once Temporal dropped it, the report store.
    const archived = await archivedReport(client, id, io.env);
    let report: Report;
    let workflowId: string;
    let running = false;
    if (archived) {
      io.err(`${id} is no longer in Temporal: the report archived in ${archived.location}`);
      report = archived.report;
      workflowId = report.workflowId;
    } else {
      const resolved = await resolveRun(client, id, io);
      workflowId = resolved.workflowId;
      const fetched = await fetchReportOrArchived(client, workflowId, io);
      const { steps, awaitingDigest } = fetched;
      running = resolved.description.status.name === 'RUNNING';
      // A report read from the store has no steps: it is shown as it was archived.
      const dryRun =
        fetched.archivedIn === undefined &&
        (fetched.result?.dryRun === true || resolved.description.memo?.dryRun === true);
      if (awaitingDigest !== undefined || dryRun) {
        // Nothing was deleted: what there is to review is the steps and their digest.
        const digest = awaitingDigest ?? fetched.result?.digest;
        io.err(
          awaitingDigest !== undefined
            ? `${workflowId} is waiting for approval: nothing was deleted yet; these are its planned steps`
            : `${workflowId} is a dry run${running ? ' (still discovering)' : ''}: nothing was deleted; these are the steps it found`,
        );
        // A dry run still going has found only some of its steps, and no digest yet.
        const status =
          awaitingDigest !== undefined ? 'awaiting-approval' : running ? 'discovering' : 'dry-run';
        const run = { workflowId, status, digest } as const;
        // On a terminal, unless a format was asked for: the steps aligned, the digest, how to approve.
        const text =
          out === undefined && args.values.format === undefined && !json
            ? [
                ...stepLines(steps),
                '',
                `${stepsForItems(steps)}; digest: ${digest ?? '(none yet)'}`,
                ...(awaitingDigest !== undefined
                  ? [`approve: bulk-delete approve ${workflowId} --digest ${awaitingDigest}`]
                  : []),
                '',
              ].join('\n')
            : formatSteps(run, steps, format);
        if (out === undefined) process.stdout.write(text);
        else {
          writeOut(out, text);
          if (json) {
            const summary = { ...run, out, format, steps: countedSteps(steps), items: itemsOf(steps) };
            io.out(JSON.stringify(summary, null, 2));
          } else io.err(`wrote ${plural(countedSteps(steps), 'step')} (${format}) to ${out}`);
        }
        return EXIT.ok;
      }
      if (running) io.err(`${workflowId} is still running: the report holds the rows so far`);
      if (fetched.archiveFailure) io.err(archiveWarning(workflowId, fetched.archiveFailure));
      if (fetched.failure) {
        io.err(
          `${workflowId} failed before it ended: ${fetched.failure}\n  the report holds the rows of the chunks that finished`,
        );
      }
      report = fetched.report;
    }
    const text = formatReport(report, format);
    if (out === undefined) {
      process.stdout.write(text);
    } else {
      writeOut(out, text);
      if (json) {
        io.out(
          JSON.stringify(
            {
              workflowId,
              out,
              format,
              status: report.status,
              summary: report.summary,
              rows: report.rows.length,
            },
            null,
            2,
          ),
        );
      } else {
        io.err(`wrote ${report.rows.length} rows (${format}) to ${out}`);
      }
    }
    return running ? EXIT.ok : exitCodeOf(report);
  });
});
