/** The per-item report as JSON, CSV or Markdown, and the summary table that ends `run --wait`. */
import { SYSTEMS, type LedgerEntry, type Outcome, type Report, type ReportRow } from '../plan/index.js';
import type { PlannedStep } from '../workflows/definitions.js';
import { plural } from './command.js';
import { table } from './progress-view.js';

export type ReportFormat = 'json' | 'csv' | 'md';
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'csv', 'md'];

const ROW_FIELDS: ReadonlyArray<keyof ReportRow> = ['item', 'system', 'outcome', 'step', 'detail', 'at'];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function mdCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** The report in a format; JSON is the shape of docs/architecture.md's report, CSV one line per row with a header. */
export function formatReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return (
        [
          ROW_FIELDS.join(','),
          ...report.rows.map((row) => ROW_FIELDS.map((f) => csvField(row[f])).join(',')),
        ].join('\r\n') + '\r\n'
      );
    case 'md': {
      const s = report.summary;
      const lines = [
        `# Bulk delete report: ${mdCell(report.plan)}`,
        '',
        `- workflow: \`${report.workflowId}\``,
        `- status: **${report.status}**`,
        `- items: ${s.items} (deleted ${s.deleted}, already absent ${s.alreadyAbsent}, partial ${s.partial}, skipped ${s.skipped}, failed ${s.failed})`,
        '',
        '## By system',
        '',
        `| system | ${OUTCOMES.join(' | ')} |`,
        `| --- | ${OUTCOMES.map(() => '---:').join(' | ')} |`,
        ...bySystem(report.rows).map(([system, ...counts]) => `| ${system} | ${counts.join(' | ')} |`),
        '',
        '## Rows',
        '',
        `| ${ROW_FIELDS.join(' | ')} |`,
        `| ${ROW_FIELDS.map(() => '---').join(' | ')} |`,
        ...report.rows.map((row) => `| ${ROW_FIELDS.map((f) => mdCell(row[f])).join(' | ')} |`),
        '',
        '## Calls that changed state (ledger)',
        '',
        `| ${LEDGER_FIELDS.join(' | ')} |`,
        `| ${LEDGER_FIELDS.map(() => '---').join(' | ')} |`,
        ...report.mutations.map(
          (e) => `| ${LEDGER_FIELDS.map((f) => mdCell(String(e[f] ?? ''))).join(' | ')} |`,
        ),
      ];
      return `${lines.join('\n')}\n`;
    }
  }
}

const OUTCOMES: readonly Outcome[] = ['deleted', 'already-absent', 'partial', 'skipped', 'failed'];
const LEDGER_FIELDS: ReadonlyArray<keyof LedgerEntry> = [
  'at',
  'item',
  'system',
  'step',
  'target',
  'answer',
  'detail',
];

/** Rows counted by system and outcome: `[system, deleted, already-absent, partial, skipped, failed]`. */
export function bySystem(rows: readonly ReportRow[]): string[][] {
  return SYSTEMS.map((system) => {
    const mine = rows.filter((row) => row.system === system);
    return [system, ...OUTCOMES.map((o) => String(mine.filter((row) => row.outcome === o).length))];
  });
}

/** The table that ends a run: rows by system, the items line, and every failure with its reason. */
export function summaryLines(report: Report, options: { maxFailures?: number } = {}): string[] {
  const s = report.summary;
  const lines = [
    `plan ${report.plan}: ${report.status}, ${plural(s.items, 'item')}`,
    '',
    ...table(
      ['', ...OUTCOMES],
      [
        ...bySystem(report.rows),
        ['items', ...[s.deleted, s.alreadyAbsent, s.partial, s.skipped, s.failed].map(String)],
      ],
    ),
  ];
  const failures = report.rows.filter((row) => row.outcome === 'failed');
  if (failures.length) {
    const max = options.maxFailures ?? 20;
    lines.push('', 'failed:');
    for (const row of failures.slice(0, max)) {
      lines.push(`  ${row.item} ${row.system} ${row.step}: ${row.detail.replace(/\s*\n\s*/g, ' ')}`);
    }
    if (failures.length > max)
      lines.push(`  ... and ${failures.length - max} more (see "bulk-delete report")`);
  }
  return lines;
}

const STEP_FIELDS = ['item', 'system', 'step', 'target', 'seen', 'note'] as const;

/**
 * The steps of a dry run or of a run waiting for approval, in a report format: JSON `{ workflowId,
 * status, digest, steps }`, CSV one line per step with a header, Markdown a table under the digest.
 */
export function formatSteps(
  run: {
    workflowId: string;
    status: 'dry-run' | 'discovering' | 'awaiting-approval';
    digest: string | undefined;
  },
  steps: readonly PlannedStep[],
  format: ReportFormat,
): string {
  const field = (step: PlannedStep, f: (typeof STEP_FIELDS)[number]): string => String(step[f] ?? '');
  switch (format) {
    case 'json':
      return `${JSON.stringify({ ...run, steps }, null, 2)}\n`;
    case 'csv':
      return (
        [
          STEP_FIELDS.join(','),
          ...steps.map((s) => STEP_FIELDS.map((f) => csvField(field(s, f))).join(',')),
        ].join('\r\n') + '\r\n'
      );
    case 'md':
      return [
        `# Bulk delete ${run.status === 'dry-run' ? 'dry run' : 'steps awaiting approval'}: \`${run.workflowId}\``,
        '',
        `- ${stepsForItems(steps)}; nothing was deleted`,
        `- digest: ${run.digest ?? '(none yet)'}${run.status === 'awaiting-approval' ? ' (what approve quotes)' : ''}`,
        '',
        `| ${STEP_FIELDS.join(' | ')} |`,
        `| ${STEP_FIELDS.map(() => '---').join(' | ')} |`,
        ...steps.map((s) => `| ${STEP_FIELDS.map((f) => mdCell(field(s, f))).join(' | ')} |`),
        '',
      ].join('\n');
  }
}

/** The steps that call something: not the display-only rows (parts already gone, reads that failed). */
export function countedSteps(steps: readonly PlannedStep[]): number {
  return steps.filter((s) => s.step !== 'already-absent' && s.step !== 'not-discovered').length;
}

/** How many items the steps are of: their plan items, each once. */
export function itemsOf(steps: readonly PlannedStep[]): number {
  return new Set(steps.map((s) => s.item)).size;
}

/** "N steps for M items": the steps that call something, and the items they are of. */
export function stepsForItems(steps: readonly PlannedStep[]): string {
  return `${plural(countedSteps(steps), 'step')} for ${plural(itemsOf(steps), 'item')}`;
}

/** A dry run's summary: it deleted nothing, so what it found is its steps, which `report` lists. */
export function dryRunLines(
  workflowId: string,
  steps: readonly PlannedStep[],
  digest: string | undefined,
): string[] {
  return [
    `dry run: ${stepsForItems(steps)}, digest ${digest ?? '(none)'}; nothing was changed`,
    `the steps: bulk-delete report ${workflowId}`,
  ];
}

/** The steps a dry run found, grouped in the order they would run. */
export function stepLines(steps: readonly PlannedStep[]): string[] {
  if (steps.length === 0) return ['no steps: nothing to delete'];
  return table(
    ['item', 'system', 'step', 'target', 'discovered', 'note'],
    steps.map((s) => [s.item, s.system, s.step, s.target, s.seen ?? '', s.note ?? '']),
  );
}
