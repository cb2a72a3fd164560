import { createHash, type Hash } from 'node:crypto';
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Tokenizer, TokenizerError, TokenParser, TokenParserError, TokenType } from '@streamparser/json';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { Plan, PlanItem, assetsOf, type PlanOptions } from '../plan/index.js';
import { StoreError, getS3Object, streamS3Object } from './object-store.js';
import type { PlanRef, PlanSummary } from './contract.js';

/** Where the worker keeps the plans it reads (a directory each, removed when the plan is dropped). */
const liveDirs = new Set<string>();
let cleanupRegistered = false;

/**
 * Names this process in its plan directories, `bulk-delete-plan-<pid>.<start time>-`: a process that
 * died without cleaning up (SIGKILL, out of memory) is told apart from a live one, including one that
 * got the same PID after a restart. The start time is Linux's (/proc); elsewhere only the PID.
 */
function processTag(pid = process.pid): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, after the command in parentheses (which may itself hold spaces and parentheses).
    return `${pid}.${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    if (process.platform === 'linux') return undefined;
    try {
      process.kill(pid, 0);
      return String(pid);
    } catch {
      return undefined;
    }
  }
}

const PLAN_DIR = /^bulk-delete-plan-(\d+)(\.\d+)?-/;

/**
 * Removes the plan directories under `parent` that a process no longer running left behind: each holds
 * a copy of a plan as large as its file.
 */
export async function sweepStalePlanDirs(parent = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [])) {
    const match = PLAN_DIR.exec(name);
    if (!match) continue;
    const tag = `${match[1]}${match[2] ?? ''}`;
    if (processTag(Number(match[1])) === tag) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Removes a plan directory (after closing its file, if open) and forgets it. */
async function removePlanDir(dir: string, file?: FileHandle): Promise<void> {
  await file?.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

function track(dir: string): void {
  liveDirs.add(dir);
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * A validated plan as the worker keeps it: each item's JSON, one after another, in a file of its own
 * (written once while the plan is validated, then read back a page at a time), where each item ends, and
 * the plan's TwelveLabs asset IDs packed 12 bytes each. At 1,000,000 items that is ~8 MB of item ends and
 * ~12 MB of IDs in memory; the items' text (~170 MB) stays in the file (bench/plan-load.ts).
 */
export class StoredPlan {
  /** @internal Built by `PlanWriter.finish`. */
  constructor(
    readonly name: string,
    readonly options: PlanOptions,
    readonly items: number,
    readonly systems: PlanSummary['systems'],
    private readonly file: FileHandle,
    private readonly dir: string,
    /** Where item i ends in the file (it starts where item i - 1 ends). */
    private readonly ends: Float64Array,
    private readonly assetIds: PlanAssetIds,
  ) {}

  /** A store of a whole parsed plan, in a new directory under `parent`. */
  static async of(plan: Plan, parent?: string): Promise<StoredPlan> {
    const writer = await PlanWriter.open(parent);
    try {
      for (const item of plan.items) await writer.add(item);
      return await writer.finish(plan.name, plan.options);
    } catch (error) {
      await writer.discard();
      throw error;
    }
  }

  /** Items `offset` to `offset + limit - 1` (fewer at the end), as the plan lists them. */
  async page(offset: number, limit: number): Promise<PlanItem[]> {
    const from = Math.max(0, offset);
    const to = Math.min(this.items, offset + limit);
    if (from >= to) return [];
    const base = this.start(from);
    const bytes = Buffer.allocUnsafe(this.ends[to - 1]! - base);
    for (let read = 0; read < bytes.length;) {
      const { bytesRead } = await this.file.read(bytes, read, bytes.length - read, base + read);
      if (bytesRead === 0) throw new Error(`the stored plan ${this.name} is shorter than its index`);
      read += bytesRead;
    }
    const page: PlanItem[] = [];
    for (let i = from; i < to; i++) {
      page.push(JSON.parse(bytes.toString('utf8', this.start(i) - base, this.ends[i]! - base)) as PlanItem);
    }
    return page;
  }

  private start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Every TwelveLabs asset ID of the plan (each chunk's discovery asks whether an entity's are). */
  twelveLabsAssetIds(): PlanAssetIds {
    return this.assetIds;
  }

  /** Drops the plan: its file is removed. */
  async close(): Promise<void> {
    await removePlanDir(this.dir, this.file);
  }
}

/** Writes a plan's items to a file of its own as they are validated, then answers the `StoredPlan`. */
class PlanWriter {
  private readonly systems: PlanSummary['systems'] = { twelvelabs: 0, uplynk: 0, entermedia: 0 };
  private pending: string[] = [];
  private pendingBytes = 0;
  private written = 0;
  private length = 0;
  private ends = new Float64Array(1024);
  private count = 0;
  private readonly ids = new AssetIdPacker();

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
  ) {}

  /** Items added so far. */
  get items(): number {
    return this.count;
  }

  static async open(parent = tmpdir()): Promise<PlanWriter> {
    const dir = await mkdtemp(join(parent, `bulk-delete-plan-${processTag() ?? process.pid}-`));
    track(dir);
    try {
      return new PlanWriter(dir, await open(join(dir, 'items.json'), 'w+'));
    } catch (error) {
      await removePlanDir(dir);
      throw error;
    }
  }

  /** Appends the next item (validated). */
  async add(item: PlanItem): Promise<void> {
    if (item.twelvelabs) {
      this.systems.twelvelabs++;
      this.ids.add(item.twelvelabs.assetId);
    }
    if (item.uplynk) this.systems.uplynk++;
    if (item.entermedia) this.systems.entermedia++;
    const json = JSON.stringify(item);
    const bytes = Buffer.byteLength(json);
    this.pending.push(json);
    this.pendingBytes += bytes;
    this.length += bytes;
    if (this.count === this.ends.length) {
      const grown = new Float64Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count++] = this.length;
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    for (let done = 0; done < bytes.length;) {
      const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done, this.written);
      done += bytesWritten;
      this.written += bytesWritten;
    }
  }

  async finish(name: string, options: PlanOptions): Promise<StoredPlan> {
    await this.flush();
    return new StoredPlan(
      name,
      options,
      this.count,
      this.systems,
      this.file,
      this.dir,
      this.ends.slice(0, this.count),
      this.ids.pack(),
    );
  }

  async discard(): Promise<void> {
    await removePlanDir(this.dir, this.file);
  }
}

/** Whether an asset ID is one of a plan's TwelveLabs assets. */
export interface PlanAssetIds {
  has(id: string): boolean;
  readonly size: number;
}

const HEX24 = /^[0-9a-f]{24}$/;

/** A TwelveLabs ID as three 32-bit words, in its order. */
function wordsOf(id: string): Uint32Array {
  return Uint32Array.of(
    parseInt(id.slice(0, 8), 16),
    parseInt(id.slice(8, 16), 16),
    parseInt(id.slice(16), 16),
  );
}

/** Orders ID `i` of `a` against ID `j` of `b` (each three words). */
function compareIds(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  return a[3 * i]! - b[3 * j]! || a[3 * i + 1]! - b[3 * j + 1]! || a[3 * i + 2]! - b[3 * j + 2]!;
}

/**
 * TwelveLabs asset IDs (24 lower-case hex characters, as `TwelveLabsId` requires) as three 32-bit words
 * each, sorted: 12 bytes an ID, against ~60 bytes in a `Set` of strings, and an exact answer.
 */
class PackedAssetIds implements PlanAssetIds {
  constructor(private readonly words: Uint32Array) {}

  get size(): number {
    return this.words.length / 3;
  }

  has(id: string): boolean {
    if (!HEX24.test(id)) return false;
    const key = wordsOf(id);
    for (let lo = 0, hi = this.size - 1; lo <= hi;) {
      const mid = (lo + hi) >>> 1;
      const order = compareIds(this.words, mid, key, 0);
      if (order === 0) return true;
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

class AssetIdPacker {
  private words = new Uint32Array(3 * 1024);
  private count = 0;

  add(id: string): void {
    if (3 * this.count === this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words.set(wordsOf(id), 3 * this.count++);
  }

  pack(): PackedAssetIds {
    const w = this.words;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((x, y) => compareIds(w, x, w, y));
    const sorted = new Uint32Array(3 * this.count);
    let n = 0;
    for (const i of order) {
      if (n > 0 && compareIds(sorted, n - 1, w, i) === 0) continue;
      sorted.set(w.subarray(3 * i, 3 * i + 3), 3 * n++);
    }
    return new PackedAssetIds(sorted.slice(0, 3 * n));
  }
}

/**
 * Reads plan files by reference, verifying their SHA-256, and keeps the last few (`StoredPlan`, each in a
 * directory under `dir`, by default the system's temporary directory).
 */
export function createPlanSource(
  options: {
    cacheSize?: number;
    env?: NodeJS.ProcessEnv;
    dir?: string;
    /** How long one read tries a failing store again (well inside the plan reads' 2-minute timeout). */
    storeRetryMs?: number;
  } = {},
) {
  const env = options.env ?? process.env;
  const storeRetryMs = options.storeRetryMs ?? 45_000;
  const cacheSize = options.cacheSize ?? 4;
  const cache = new Map<string, Promise<StoredPlan>>();
  // Copies left by a worker that was killed: swept once, before this source keeps its first plan.
  let swept: Promise<unknown> | undefined;

  /**
   * Reads a plan, trying a store that fails (503 SlowDown, 5xx, a timeout) again for up to
   * `storeRetryMs` within the activity: Temporal's own retries of a plan read (5, over ~15 s) were all a
   * store's bad minute took to fail a chunk, and with it the run.
   */
  async function load(ref: PlanRef): Promise<StoredPlan> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await loadOnce(ref);
      } catch (error) {
        const wait = Math.min(1000 * 2 ** attempt, 10_000);
        if (!(error instanceof StoreError) || Date.now() - started + wait > storeRetryMs) throw error;
        await sleep(wait);
      }
    }
  }

  async function loadOnce(ref: PlanRef): Promise<StoredPlan> {
    await (swept ??= sweepStalePlanDirs(options.dir).catch(() => undefined));
    const url = new URL(ref.uri);
    const hash = createHash('sha256');
    let streamed: StoredPlan | undefined;
    try {
      // A file or an s3:// object is read as a stream; a plan from a URL is fetched whole, then parsed.
      const chunks: Chunks =
        url.protocol === 'file:'
          ? fileChunks(fileURLToPath(url))
          : url.protocol === 's3:'
            ? await s3Chunks(ref.uri, env)
            : chunksOf(await fetchBytes(ref.uri, env));
      streamed = await streamValidPlan(hashed(chunks, hash), options.dir);
    } catch (error) {
      // A store that failed is said as it failed (read again whole, it would only fail twice as long).
      if (error instanceof ApplicationFailure || error instanceof StoreError) throw error;
      // Unreadable, or not even JSON: the whole read below says why, as it always did.
    }
    if (streamed) {
      const actual = hash.digest('hex');
      if (actual === ref.sha256) return streamed;
      await streamed.close();
      throw planChanged(ref, actual);
    }
    return loadWhole(ref);
  }

  /** The plan read whole, for the message that says what is wrong with it (or a plan valid after all). */
  async function loadWhole(ref: PlanRef): Promise<StoredPlan> {
    const bytes = await fetchBytes(ref.uri, env);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256) throw planChanged(ref, actual);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw ApplicationFailure.nonRetryable(
        `plan ${ref.uri} is not JSON: ${(error as Error).message}`,
        'InvalidPlanError',
      );
    }
    const parsed = Plan.safeParse(json);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `plan ${ref.uri} is invalid:\n${z.prettifyError(parsed.error)}`,
        'InvalidPlanError',
      );
    }
    return StoredPlan.of(parsed.data, options.dir);
  }

  function planFor(ref: PlanRef): Promise<StoredPlan> {
    const key = `${ref.uri}#${ref.sha256}`;
    let plan = cache.get(key);
    if (!plan) {
      plan = load(ref);
      // A failed load must not stick: the next attempt reads the file again.
      plan.catch(() => cache.delete(key));
      cache.set(key, plan);
      while (cache.size > cacheSize) {
        const [oldest, dropped] = cache.entries().next().value!;
        cache.delete(oldest);
        dropped.then((p) => p.close()).catch(() => undefined);
      }
    }
    return plan;
  }

  return {
    /** The name, options and counts of a plan that travels by reference, validated whole. */
    async readPlanSummary(input: { ref: PlanRef }): Promise<PlanSummary> {
      const plan = await planFor(input.ref);
      return { name: plan.name, items: plan.items, options: plan.options, systems: { ...plan.systems } };
    },
    /** Every TwelveLabs asset ID of a plan that travels by reference. */
    async twelveLabsAssetIds(ref: PlanRef): Promise<PlanAssetIds> {
      return (await planFor(ref)).twelveLabsAssetIds();
    },
    /** A page of a plan that travels by reference. */
    async readPlanPage(input: { ref: PlanRef; offset: number; limit: number }): Promise<PlanItem[]> {
      return (await planFor(input.ref)).page(input.offset, input.limit);
    },
    /** Drops every plan kept (their files are removed). */
    async close(): Promise<void> {
      const plans = [...cache.values()];
      cache.clear();
      await Promise.all(plans.map((p) => p.then((plan) => plan.close()).catch(() => undefined)));
    },
  };
}

function planChanged(ref: PlanRef, actual: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `plan ${ref.uri} changed since it was submitted: its SHA-256 is ${actual}, expected ${ref.sha256}`,
    'PlanChangedError',
  );
}

/** A plan's bytes, a piece at a time. */
type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** A file's bytes, opened only once read (so that an error of the open is the reader's). */
async function* fileChunks(path: string): AsyncIterable<Uint8Array> {
  yield* createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
}

/**
 * An `s3://` plan's bytes as they arrive: held whole, a plan of 55 MB took 335 MB more of the worker's
 * memory at its peak, against 100 MB for the same plan read from a file (the SDK's copy, ours, the parse).
 */
async function s3Chunks(uri: string, env: NodeJS.ProcessEnv): Promise<Chunks> {
  const body = await streamS3Object(uri, env);
  if (!body) {
    throw ApplicationFailure.nonRetryable(`cannot read plan ${uri}: no such object`, 'PlanUnreadableError');
  }
  return body;
}

function* chunksOf(bytes: Buffer): Iterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, at + (1 << 20));
}

async function* hashed(chunks: Chunks, hash: Hash): AsyncIterable<Uint8Array> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

const PlanItems = z.array(PlanItem);
const PLAN_KEYS = new Set(['name', 'items', 'options']);
/** Items validated at once (zod's messages are not needed here: any doubt goes to the whole read). */
const BATCH = 1000;

/** Thrown inside the stream's callbacks to leave it: the plan is not one this path keeps. */
class NotStreamable extends Error {}

/**
 * A plan validated as `Plan` validates it while its bytes stream in, a thousand items at a time, each
 * written to a `StoredPlan`: nothing holds the whole plan, parsed or as text (1,000,000 items: a peak of
 * ~1.1 GB when parsed whole, bench/plan-load.ts). Reads the stream to its end; undefined when anything is
 * off (not JSON, another shape, an item `Plan` refuses): the caller then reads the plan whole, for the
 * message. The root's own keys are checked on the tokens as they pass, so that an unknown key or an
 * `items` that is not an array is not silently ignored.
 */
export async function streamValidPlan(chunks: Chunks, dir?: string): Promise<StoredPlan | undefined> {
  const writer = await PlanWriter.open(dir);
  let kept = false;
  try {
    const tokenizer = new Tokenizer();
    const parser = new TokenParser({ paths: ['$.name', '$.options', '$.items.*'], keepStack: false });
    let depth = 0;
    let expectKey = false;
    let key: string | undefined;
    let afterColon = false;
    const keys = new Set<string>();
    tokenizer.onToken = (info) => {
      const { token } = info;
      if (depth === 0 && token !== TokenType.LEFT_BRACE) throw new NotStreamable('not an object');
      if (depth === 1) {
        if (expectKey && token === TokenType.STRING) {
          key = String(info.value);
          if (!PLAN_KEYS.has(key) || keys.has(key)) throw new NotStreamable(`key ${key}`);
          keys.add(key);
          expectKey = false;
        } else if (token === TokenType.COLON) afterColon = true;
        else if (token === TokenType.COMMA) expectKey = true;
        else if (afterColon) {
          if (key === 'items' && token !== TokenType.LEFT_BRACKET) throw new NotStreamable('items');
          afterColon = false;
        }
      }
      if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) {
        depth++;
        if (depth === 1) expectKey = true;
      } else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) depth--;
      parser.write(info);
    };
    let name: unknown;
    let options: unknown;
    let first: unknown;
    let batch: unknown[] = [];
    parser.onValue = ({ value, key: at, stack }) => {
      if (stack.length === 2) {
        first ??= value;
        batch.push(value);
      } else if (at === 'name') name = value;
      else if (at === 'options') options = value;
    };
    const ids = new Set<string>();
    // Each system's assets: two items naming one are refused by the whole plan's parse, which says where.
    const assets = new Set<string>();
    const store = async (values: unknown[]) => {
      for (let at = 0; at < values.length; at += BATCH) {
        const valid = PlanItems.safeParse(values.slice(at, at + BATCH));
        if (!valid.success) throw new NotStreamable('an item');
        for (const item of valid.data) {
          if (ids.has(item.id)) throw new NotStreamable('a repeated item ID');
          ids.add(item.id);
          for (const { key } of assetsOf(item)) {
            if (assets.has(key)) throw new NotStreamable('a shared asset');
            assets.add(key);
          }
          await writer.add(item);
        }
      }
    };
    // After the root object only white space may follow, as JSON.parse accepts: anything else throws.
    for await (const chunk of chunks) {
      tokenizer.write(chunk);
      const values = batch;
      batch = [];
      await store(values);
    }
    if (!parser.isEnded) throw new NotStreamable('cut short');
    // The plan's own fields (name, options, no other key), checked with its first item.
    const head = Plan.safeParse({
      ...(name === undefined ? {} : { name }),
      ...(options === undefined ? {} : { options }),
      items: first === undefined ? [] : [first],
    });
    if (!head.success || writer.items > head.data.options.maxItems) return undefined;
    kept = true;
    return await writer.finish(head.data.name, head.data.options);
  } catch (error) {
    if (
      error instanceof NotStreamable ||
      error instanceof TokenizerError ||
      error instanceof TokenParserError
    )
      return undefined;
    throw error;
  } finally {
    if (!kept) await writer.discard();
  }
}

async function fetchBytes(uri: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const url = new URL(uri);
  if (url.protocol === 'file:') {
    try {
      return await readFile(fileURLToPath(url));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') {
        throw ApplicationFailure.nonRetryable(`cannot read plan ${uri}: ${code}`, 'PlanUnreadableError');
      }
      throw error;
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const response = await fetch(url);
    if (response.status >= 400 && response.status < 500) {
      throw ApplicationFailure.nonRetryable(
        `cannot read plan ${uri}: HTTP ${response.status}`,
        'PlanUnreadableError',
      );
    }
    if (!response.ok) throw new Error(`cannot read plan ${uri}: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }
  if (url.protocol === 's3:') {
    const bytes = await getS3Object(uri, env);
    if (!bytes)
      throw ApplicationFailure.nonRetryable(`cannot read plan ${uri}: no such object`, 'PlanUnreadableError');
    return bytes;
  }
  throw ApplicationFailure.nonRetryable(
    `plan URI ${uri} is neither file:, http(s): nor s3:`,
    'PlanUnreadableError',
  );
}
