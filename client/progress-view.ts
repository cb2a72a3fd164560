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

/** The run's state in a word or two, said once: item failures are counted apart from it. */
function stateOf(progress: Progress): string {
  switch (progress.status) {
    case 'running':
      return `phase ${progress.phase}`;
    // A run that ended `failed` stopped early (failure threshold, a failure of its own): its failed items
    // are counted already, so the state says that it stopped, not "failed" a second time.
    case 'failed':
      return 'stopped';
    default:
      return progress.status;
  }
}

/**
 * One line saying where a run is: status, phase, items done and failed, chunks. A dry run deletes
 * nothing, so it shows no bar: it says what discovery found. With `columns`, the line is cut to fit
 * (a terminal wraps a longer line, and the next redraw then leaves the wrapped part behind).
 */
export function progressLine(progress: Progress, columns?: number, pace?: string): string {
  const parts: string[] = [];
  if (progress.dryRun) {
    parts.push(
      progress.status === 'completed'
        ? `dry run: ${progress.items} items discovered`
        : `dry run: discovering ${progress.items} items`,
    );
    if (progress.itemsFailed > 0) parts.push(`${progress.itemsFailed} not discovered`);
    if (progress.status !== 'completed' && progress.status !== 'discovering') parts.push(progress.status);
  } else {
    parts.push(
      `${progressBar(progress.itemsDone, progress.items)} ${progress.itemsDone}/${progress.items} items`,
    );
    if (progress.itemsFailed > 0) parts.push(`${progress.itemsFailed} failed`);
    parts.push(stateOf(progress));
  }
  if (progress.chunks.total > 1) {
    const { done, total, running, waiting } = progress.chunks;
    const waits = waiting ? `, ${waiting} waiting on their last calls` : '';
    parts.push(`chunks ${done}/${total}${running ? ` (${running} running${waits})` : ''}`);
  }
  if (pace) parts.push(pace);
  return fit(parts.join(' · '), columns);
}

/** Cuts a line to `columns - 1` characters (the last column would wrap on some terminals), marked with "…". */
export function fit(line: string, columns?: number): string {
  if (columns === undefined || columns <= 0) return line;
  const room = Math.max(1, columns - 1);
  const chars = [...line];
  return chars.length <= room ? line : `${chars.slice(0, room - 1).join('')}…`;
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

/** How far back the pace looks: recent enough to follow a run that speeds up or slows down. */
const PACE_WINDOW_MS = 30_000;
/** The least time the pace is measured over before it is shown. */
const PACE_MIN_MS = 5_000;

/** `430 items/s`, `2.5 items/s`, `0.12 items/s` */
function rateText(perSecond: number): string {
  const digits = perSecond >= 10 ? 0 : perSecond >= 1 ? 1 : 2;
  return `${perSecond.toFixed(digits)} items/s`;
}

/** `about 40 s left`, `about 4 min left`, `about 2 h 5 min left` */
function leftText(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(1, Math.ceil(seconds))} s left`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/**
 * The pace of a run that deletes, from the items settled over the last 30 s it was watched: items a
 * second and the time left at that pace. Nothing until 5 s of progress are seen.
 */
export class Pace {
  private samples: Array<{ at: number; done: number }> = [];
  private text: string | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Told each progress read; answers the pace to show, if any. */
  see(progress: Progress): string | undefined {
    const done = progress.itemsDone;
    if (progress.dryRun || progress.status !== 'running') {
      this.samples = [];
      this.text = undefined;
      return undefined;
    }
    const at = this.now();
    const last = this.samples.at(-1);
    // Only a change of the count moves the pace: unchanged progress prints nothing new off a TTY.
    if (last && last.done === done) return this.text;
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= PACE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const span = at - first.at;
    const settled = done - first.done;
    if (span < PACE_MIN_MS || settled <= 0) return this.text;
    const perSecond = (settled * 1000) / span;
    const left = progress.items - done;
    this.text = left > 0 ? `${rateText(perSecond)} · ${leftText(left / perSecond)}` : rateText(perSecond);
    return this.text;
  }
}

/** Draws progress as it changes; `finish` leaves the cursor on a fresh line. */
export class ProgressRenderer {
  private last = '';
  private drawn = false;
  private done = 0;
  private readonly pace: Pace;

  constructor(
    private readonly io: Io,
    now: () => number = Date.now,
  ) {
    this.pace = new Pace(now);
  }

  update(progress: Progress): void {
    // A phase's items are counted from its heartbeat until the chunk counts them itself: between the two
    // reads one poll may see them in neither. The bar never goes back.
    this.done = Math.max(this.done, progress.itemsDone);
    progress = { ...progress, itemsDone: this.done };
    const pace = this.pace.see(progress);
    const line = progressLine(progress, this.io.isTty ? this.io.columns?.() : undefined, pace);
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
