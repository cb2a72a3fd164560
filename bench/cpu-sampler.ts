/**
 * What the benchmarks read of processes in /proc (Linux): peak RSS, CPU ticks, and the CPU seconds of a
 * process tree per role (every 200 ms it finds the descendants of a root process and keeps each one's
 * last user+system time, so that processes that have exited by the end still count with what they had
 * used at their last sample).
 */
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

async function readStat(pid: string | number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** A process's user+system time so far, in clock ticks (1/100 s); 0 once it is gone. */
export async function cpuTicks(pid: number): Promise<number> {
  return (await readStat(pid))?.ticks ?? 0;
}

/**
 * Samples the peak RSS (VmHWM) of the given processes every 200 ms until stopped; answers the largest,
 * in MB. A process that exits keeps what its last sample saw.
 */
export function samplePeakRss(pids: () => readonly number[]): { stop: () => number } {
  let peakKb = 0;
  const timer = setInterval(() => {
    for (const pid of pids()) {
      readFile(`/proc/${pid}/status`, 'utf8')
        .then((s) => (peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0))))
        .catch(() => undefined);
    }
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.round(peakKb / 1024);
    },
  };
}

async function commandOf(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Samples the tree under `roots` until stopped; answers CPU seconds per role given by `roleOf(command)`. */
export function sampleCpu(
  roots: () => number[],
  roleOf: (command: string) => string,
): { stop: () => Promise<Record<string, number>> } {
  const last = new Map<number, { ticks: number; role: string }>();
  const tick = async () => {
    const stats = (
      await Promise.all((await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(readStat))
    ).filter((s): s is ProcStat => s !== undefined);
    const children = new Map<number, ProcStat[]>();
    for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    const queue = roots().flatMap((pid) => (byPid.has(pid) ? [byPid.get(pid)!] : []));
    while (queue.length > 0) {
      const s = queue.shift()!;
      const known = last.get(s.pid);
      last.set(s.pid, { ticks: s.ticks, role: known?.role ?? roleOf(await commandOf(s.pid)) });
      queue.push(...(children.get(s.pid) ?? []));
    }
  };
  let running = tick();
  const timer = setInterval(() => {
    running = running.then(tick);
  }, 200);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
      const out: Record<string, number> = {};
      for (const { ticks, role } of last.values()) out[role] = (out[role] ?? 0) + ticks / TICKS_PER_SECOND;
      for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10) / 10;
      return out;
    },
  };
}
