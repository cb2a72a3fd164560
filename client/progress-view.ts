/**
 * How a run's progress reads on a terminal: a bar redrawn in place on a TTY, plain lines elsewhere (logs,
 * CI, pipes), printed only when something changed.
 */
import { SYSTEMS } from '../plan/index.js';
import type { Progress } from '../workflows/definitions.js';
import type { Io } from './command.js';

const BAR_WIDTH = 24;

/** `[##########--------------]  42% 21/50 items` */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/** One line saying where a run is: status, phase, items done and failed, chunks. */
export function progressLine(progress: Progress): string {
  const parts = [
    `${progressBar(progress.itemsDone, progress.items)} ${progress.itemsDone}/${progress.items} items`,
  ];
  if (progress.itemsFailed > 0) parts.push(`${progress.itemsFailed} failed`);
  parts.push(progress.status === 'running' ? `phase ${progress.phase}` : progress.status);
  if (progress.chunks.total > 1) {
    parts.push(
      `chunks ${progress.chunks.done}/${progress.chunks.total}${progress.chunks.running ? ` (${progress.chunks.running} running)` : ''}`,
    );
  }
  return parts.join(' · ');
}

/** Progress by system, one line each, for `status`. */
export function progressBySystem(progress: Progress): string[] {
  const rows = SYSTEMS.map((system) => {
    const count = progress.systems[system];
    return [system, String(count.done), String(count.failed), String(count.remaining)];
  });
  return table(['system', 'done', 'failed', 'remaining'], rows);
}

/** A plain text table, numbers right-aligned. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => i > 0 && rows.every((r) => /^\d*$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Draws progress as it changes; `finish` leaves the cursor on a fresh line. */
export class ProgressRenderer {
  private last = '';
  private drawn = false;

  constructor(private readonly io: Io) {}

  update(progress: Progress): void {
    const line = progressLine(progress);
    if (line === this.last) return;
    this.last = line;
    if (this.io.isTty) {
      this.io.draw(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.io.err(line);
    }
  }

  /** A message between progress lines, e.g. "awaiting approval". */
  note(text: string): void {
    this.finish();
    this.io.err(text);
  }

  finish(): void {
    if (this.drawn) this.io.draw('\n');
    this.drawn = false;
    this.last = '';
  }
}
