import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { Plan, PlanItem, type PlanOptions } from '../plan/index.js';
import { getS3Object } from './object-store.js';
import type { PlanRef, PlanSummary } from './contract.js';

/**
 * A validated plan as the worker keeps it: its items as their JSON text, one after another, in one buffer
 * (outside V8's heap), read back a page at a time. Parsed, 100,000 items took ~33 MB of the main thread's
 * heap for the whole run (and the heap grows in proportion to what lives on it); as text, ~15 MB.
 */
export class StoredPlan {
  readonly systems: PlanSummary['systems'] = { twelvelabs: 0, uplynk: 0, entermedia: 0 };
  /** The items' JSON, one after another, from 0 to `length`. */
  private text: Buffer;
  private length = 0;
  /** Where item i ends in `text` (it starts where item i - 1 ends). */
  private readonly ends: Uint32Array;
  private added = 0;
  private assetIds?: Set<string>;

  /** An empty store for `items` items; `bytesHint`: about how many bytes their JSON takes. */
  constructor(
    readonly name: string,
    readonly options: PlanOptions,
    readonly items: number,
    bytesHint = items * 128,
  ) {
    this.ends = new Uint32Array(items);
    this.text = Buffer.allocUnsafe(Math.max(1024, bytesHint));
  }

  /** A store of a whole parsed plan. */
  static of(plan: Plan): StoredPlan {
    const stored = new StoredPlan(plan.name, plan.options, plan.items.length);
    for (const item of plan.items) stored.add(item);
    return stored;
  }

  /** Appends the next item (validated). */
  add(item: PlanItem): void {
    if (this.added === this.items) throw new RangeError(`a StoredPlan of ${this.items} items is full`);
    if (item.twelvelabs) this.systems.twelvelabs++;
    if (item.uplynk) this.systems.uplynk++;
    if (item.entermedia) this.systems.entermedia++;
    const json = JSON.stringify(item);
    const bytes = Buffer.byteLength(json);
    if (this.length + bytes > this.text.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.text.length, this.length + bytes));
      this.text.copy(grown, 0, 0, this.length);
      this.text = grown;
    }
    this.length += this.text.write(json, this.length);
    this.ends[this.added++] = this.length;
  }

  /** Items `offset` to `offset + limit - 1` (fewer at the end), as the plan lists them. */
  page(offset: number, limit: number): PlanItem[] {
    const page: PlanItem[] = [];
    for (let i = Math.max(0, offset); i < Math.min(this.items, offset + limit); i++) {
      page.push(JSON.parse(this.text.toString('utf8', this.start(i), this.ends[i])) as PlanItem);
    }
    return page;
  }

  private start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Every TwelveLabs asset ID of the plan; read once, then kept (each chunk asks). */
  twelveLabsAssetIds(): Set<string> {
    if (!this.assetIds) {
      this.assetIds = new Set();
      for (let offset = 0; offset < this.items; offset += 1000) {
        for (const item of this.page(offset, 1000)) {
          if (item.twelvelabs) this.assetIds.add(item.twelvelabs.assetId);
        }
      }
    }
    return this.assetIds;
  }
}

/** Reads plan files by reference, verifying their SHA-256, and keeps the last few in memory (`StoredPlan`). */
export function createPlanSource(options: { cacheSize?: number; env?: NodeJS.ProcessEnv } = {}) {
  const env = options.env ?? process.env;
  const cacheSize = options.cacheSize ?? 4;
  const cache = new Map<string, Promise<StoredPlan>>();

  async function load(ref: PlanRef): Promise<StoredPlan> {
    const bytes = await fetchBytes(ref.uri, env);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256) {
      throw ApplicationFailure.nonRetryable(
        `plan ${ref.uri} changed since it was submitted: its SHA-256 is ${actual}, expected ${ref.sha256}`,
        'PlanChangedError',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw ApplicationFailure.nonRetryable(
        `plan ${ref.uri} is not JSON: ${(error as Error).message}`,
        'InvalidPlanError',
      );
    }
    // The usual case, a valid plan, without zod's copy of the whole plan beside the parsed JSON.
    const stored = storeValidPlan(json, bytes.length);
    if (stored) return stored;
    const parsed = Plan.safeParse(json);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `plan ${ref.uri} is invalid:\n${z.prettifyError(parsed.error)}`,
        'InvalidPlanError',
      );
    }
    return StoredPlan.of(parsed.data);
  }

  function planFor(ref: PlanRef): Promise<StoredPlan> {
    const key = `${ref.uri}#${ref.sha256}`;
    let plan = cache.get(key);
    if (!plan) {
      plan = load(ref);
      // A failed load must not stick: the next attempt reads the file again.
      plan.catch(() => cache.delete(key));
      cache.set(key, plan);
      while (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
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
    async twelveLabsAssetIds(ref: PlanRef): Promise<Set<string>> {
      return (await planFor(ref)).twelveLabsAssetIds();
    },
    /** A page of a plan that travels by reference. */
    async readPlanPage(input: { ref: PlanRef; offset: number; limit: number }): Promise<PlanItem[]> {
      return (await planFor(input.ref)).page(input.offset, input.limit);
    },
  };
}

const PlanItems = z.array(PlanItem);

/**
 * A plan validated as `Plan` validates it, a thousand items at a time, straight into a `StoredPlan`: the
 * peak is the parsed JSON and the store, not also zod's copy of the whole plan (a 100,000-item plan:
 * ~33 MB less on the heap while a worker loads it). Undefined when anything is off: the caller then
 * validates the whole plan with `Plan`, for its message.
 */
export function storeValidPlan(json: unknown, bytesHint?: number): StoredPlan | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const items = (json as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length === 0) return undefined;
  // The plan's own fields (name, options, no other key), checked with its first item.
  const head = Plan.safeParse({ ...json, items: items.slice(0, 1) });
  if (!head.success || items.length > head.data.options.maxItems) return undefined;
  const stored = new StoredPlan(head.data.name, head.data.options, items.length, bytesHint);
  const ids = new Set<string>();
  for (let offset = 0; offset < items.length; offset += 1000) {
    const batch = PlanItems.safeParse(items.slice(offset, offset + 1000));
    if (!batch.success) return undefined;
    for (const item of batch.data) {
      if (ids.has(item.id)) return undefined;
      ids.add(item.id);
      stored.add(item);
    }
  }
  return stored;
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
