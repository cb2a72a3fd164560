import { execFileSync } from 'node:child_process';
import v8 from 'node:v8';

/**
 * The V8 flags a worker sets on itself when it starts (`BULK_DELETE_V8_FLAGS`; `none`: V8's own defaults).
 *
 * - `--heap-growing-percent=50`: after each full GC, V8 lets a heap grow to 1.5× what survived. V8's own
 *   factor goes up to 4× when GC is cheap, and its limits derive from the machine's memory (a 4 GiB heap
 *   limit on 24 GiB): the main thread, whose live objects are ~40 MB during a run, let ~150 MB of
 *   garbage (HTTP requests, promises) pile up before collecting it. Read at every GC, so it applies to
 *   the main thread although it is set after the process started.
 * - `--max-semi-space-size=4`: the young generation of the workflow thread (created after this is set):
 *   8 MB instead of up to 32 MB.
 *
 * The main thread's young generation is sized when the process starts, before any code of ours runs: only
 * a command-line flag or `NODE_OPTIONS` sets it (`WORKER_NODE_OPTIONS`, in the Dockerfile).
 */
export const DEFAULT_WORKER_V8_FLAGS = '--heap-growing-percent=50 --max-semi-space-size=4';

/**
 * What the image puts in `NODE_OPTIONS` for the main thread: its young generation 16 MB instead of up to 32.
 * The main thread allocates ~100 KB a request (got, Node's HTTP client); with 8 MB (semi-space 4) it
 * collected every ~12 ms and promoted what requests in flight held, 26% of its CPU in GC. 16 MB: 10,000
 * items in ~10% less time for ~15 MB more at peak (bench/engine.md, "The main thread's young generation").
 */
export const WORKER_NODE_OPTIONS = '--max-semi-space-size=8';

/**
 * The environment the image starts the worker with, read before any code of ours runs:
 * - `NODE_OPTIONS`: `WORKER_NODE_OPTIONS`;
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates its own arena (up to 8 per core), and
 *   memory freed in one is not reused by another: the native side (Temporal's core, its threads) crept
 *   from ~55 to ~85 MB during a 30,000-item run with the default, ~45 MB with 2 arenas.
 */
export const WORKER_PROCESS_ENV = { NODE_OPTIONS: WORKER_NODE_OPTIONS, MALLOC_ARENA_MAX: '2' } as const;

/** One V8 flag as `BULK_DELETE_V8_FLAGS` takes it: `--name` or `--name=value`. */
export const V8_FLAG = /^--[a-z][a-z0-9-]*(=[\w.-]+)?$/;

let v8FlagNames: Set<string> | undefined;

/**
 * The flags this Node's V8 knows, as `node --v8-options` lists them (read once, only for flags other than
 * the defaults): V8 itself only prints an unknown flag to stderr and goes on.
 */
export function unknownV8Flags(flags: readonly string[]): string[] {
  const defaults = parseV8Flags(DEFAULT_WORKER_V8_FLAGS);
  if (flags.every((flag) => defaults.includes(flag))) return [];
  v8FlagNames ??= new Set(
    [
      ...execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).matchAll(/^ {2}--([\w-]+)/gm),
    ].map((m) => m[1]!.replace(/_/g, '-')),
  );
  const names = v8FlagNames;
  return flags.filter((flag) => {
    const name = flag.replace(/^--/, '').split('=')[0]!.replace(/_/g, '-');
    return !names.has(name) && !(name.startsWith('no-') && names.has(name.slice(3)));
  });
}

/** The flags of a `BULK_DELETE_V8_FLAGS` value (`none`: none). */
export function parseV8Flags(value: string): string[] {
  const trimmed = value.trim();
  return trimmed === 'none' ? [] : trimmed.split(/\s+/).filter(Boolean);
}

/**
 * Sets the given V8 flags on this process. Call it before the Temporal worker is created: its workflow
 * thread is configured when it starts. Answers the flags set.
 */
export function applyV8Flags(flags: readonly string[]): readonly string[] {
  for (const flag of flags) v8.setFlagsFromString(flag);
  return flags;
}

/** The main thread's heap limit and young generation and the malloc arenas, for the start-up log. */
export function describeHeap(execArgv: readonly string[] = process.execArgv, env = process.env): string {
  const limit = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  const semi = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]
    .map((arg) => /^--max-semi-space-size=(\d+)$/.exec(arg)?.[1])
    .filter(Boolean)
    .pop();
  const young = semi
    ? `young generation at most ${2 * Number(semi)} MiB`
    : `young generation V8's default (NODE_OPTIONS=${WORKER_NODE_OPTIONS} lowers it)`;
  const arenas = env.MALLOC_ARENA_MAX
    ? `MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}`
    : `malloc arenas glibc's default (MALLOC_ARENA_MAX=${WORKER_PROCESS_ENV.MALLOC_ARENA_MAX} lowers them)`;
  return `main thread: heap limit ${limit} MiB, ${young}; ${arenas}`;
}
