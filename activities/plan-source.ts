import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { Plan, type PlanItem } from '../plan/index.js';
import { getS3Object } from './object-store.js';
import type { PlanRef, PlanSummary } from './contract.js';

/** Reads plan files by reference, verifying their SHA-256, and keeps the last few parsed in memory. */
export function createPlanSource(options: { cacheSize?: number; env?: NodeJS.ProcessEnv } = {}) {
  const env = options.env ?? process.env;
  const cacheSize = options.cacheSize ?? 4;
  const cache = new Map<string, Promise<Plan>>();

  async function load(ref: PlanRef): Promise<Plan> {
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
    const parsed = Plan.safeParse(json);
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(
        `plan ${ref.uri} is invalid:\n${z.prettifyError(parsed.error)}`,
        'InvalidPlanError',
      );
    }
    return parsed.data;
  }

  function planFor(ref: PlanRef): Promise<Plan> {
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
      return {
        name: plan.name,
        items: plan.items.length,
        options: plan.options,
        systems: {
          twelvelabs: plan.items.filter((i) => i.twelvelabs).length,
          uplynk: plan.items.filter((i) => i.uplynk).length,
          entermedia: plan.items.filter((i) => i.entermedia).length,
        },
      };
    },
    /** Every TwelveLabs asset ID of a plan that travels by reference. */
    async twelveLabsAssetIds(ref: PlanRef): Promise<Set<string>> {
      const plan = await planFor(ref);
      return new Set(plan.items.flatMap((i) => (i.twelvelabs ? [i.twelvelabs.assetId] : [])));
    },
    /** A page of a plan that travels by reference. */
    async readPlanPage(input: { ref: PlanRef; offset: number; limit: number }): Promise<PlanItem[]> {
      const plan = await planFor(input.ref);
      return plan.items.slice(input.offset, input.offset + input.limit);
    },
  };
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
