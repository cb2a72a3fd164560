/**
 * The two contenders that bulk-delete is measured against, both without durability, both over the
 * project's own HTTP connectors (so that the wire and the client library are the same):
 *
 * - `per-item`: the script most people write first: one item after another, 16 at a time, each item
 *   walking the mission's order on its own (its entities, its wait, its indexed assets, its asset, its
 *   libraries, its DAM asset).
 * - `batched`: the best script we can write: every phase across all items at once, unlinks grouped per
 *   entity, library removals grouped per library, one wait for all entities, 64 calls in flight a system.
 *
 *   node --import tsx bench/scripts.ts per-item|batched PLAN.json ENV.json
 * prints `{ "seconds": S }` on stdout.
 */
import { readFile } from 'node:fs/promises';
import { createEnterMediaClient } from '../activities/entermedia-client.js';
import { CallError } from '../activities/http-errors.js';
import { createRateLimiter } from '../activities/rate-limiter.js';
import { createTwelveLabsClient, type TwelveLabsClient } from '../activities/twelvelabs-client.js';
import { createUplynkClient } from '../activities/uplynk-client.js';
import { Plan, type PlanItem } from '../plan/index.js';

const [mode, planFile, envFile] = process.argv.slice(2);
if ((mode !== 'per-item' && mode !== 'batched') || !planFile || !envFile) {
  console.error('usage: scripts.ts per-item|batched PLAN.json ENV.json');
  process.exit(2);
}
const plan = Plan.parse(JSON.parse(await readFile(planFile, 'utf8')));
const env = JSON.parse(await readFile(envFile, 'utf8')) as Record<string, string>;
// BENCH_SCRIPT_ITEMS and BENCH_SCRIPT_CALLS change the per-item script's items in flight and the calls in
// flight a system (both 16 by default), e.g. to see what an item flow that waits on nothing but its own
// calls costs under faults.
const inFlight = mode === 'batched' ? 64 : Number(process.env.BENCH_SCRIPT_CALLS ?? 16);
const itemsInFlight = Number(process.env.BENCH_SCRIPT_ITEMS ?? 16);
const limiter = () => createRateLimiter({ concurrency: inFlight });
const common = { timeoutMs: 30_000, secrets: [] };
const tl = createTwelveLabsClient({
  baseUrl: env.TWELVELABS_BASE_URL!,
  apiKey: env.TWELVELABS_API_KEY!,
  limiter: limiter(),
  ...common,
});
const uplynk = createUplynkClient({
  baseUrl: env.UPLYNK_BASE_URL!,
  ownerId: env.UPLYNK_OWNER_ID!,
  apiKey: env.UPLYNK_API_KEY!,
  limiter: limiter(),
  ...common,
});
const dam = createEnterMediaClient({
  baseUrl: env.ENTERMEDIA_BASE_URL!,
  key: env.ENTERMEDIA_KEY!,
  limiter: limiter(),
  ...common,
});

/** A 404 is fine for a delete. */
async function gone(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof CallError) || error.failure.disposition !== 'absent') throw error;
  }
}

async function pages<T>(fetch: (page: number) => Promise<{ data: T[]; page_info: { total_page: number } }>) {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const { data, page_info } = await fetch(page);
    out.push(...data);
    if (data.length === 0 || page >= page_info.total_page) return out;
  }
}

async function pool<T>(list: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, list.length) }, async () => {
      while (next < list.length) await fn(list[next++] as T);
    }),
  );
}

async function waitReady(client: TwelveLabsClient, entities: Array<{ cid: string; eid: string }>) {
  let waiting = entities;
  while (waiting.length > 0) {
    await new Promise((r) => setTimeout(r, 100));
    const still: typeof waiting = [];
    await pool(waiting, inFlight, async (e) => {
      try {
        if ((await client.getEntity(e.cid, e.eid)).status === 'processing') still.push(e);
      } catch (error) {
        if (!(error instanceof CallError) || error.failure.disposition !== 'absent') throw error;
      }
    });
    waiting = still;
  }
}

async function perItem(item: PlanItem): Promise<void> {
  const assetId = item.twelvelabs?.assetId;
  if (assetId) {
    let entities: Awaited<ReturnType<typeof tl.listEntities>>['data'] = [];
    try {
      entities = await pages((p) => tl.listEntities(assetId, p));
    } catch (error) {
      if (!(error instanceof CallError) || error.failure.disposition !== 'absent') throw error;
    }
    const touched: Array<{ cid: string; eid: string }> = [];
    for (const e of entities) {
      if (e.asset_ids.length <= 1) continue; // its last asset: the forced delete unlinks it
      await tl.unlinkAssets(e.entity_collection_id, e._id, [assetId]).catch(() => undefined);
      touched.push({ cid: e.entity_collection_id, eid: e._id });
    }
    await waitReady(tl, touched);
    const indexed = await pages((p) => tl.listIndexedAssets(assetId, p)).catch(() => []);
    for (const ia of indexed) await gone(() => tl.deleteIndexedAsset(ia.index._id, ia._id));
    await gone(() => tl.deleteAsset(assetId));
  }
  for (const lib of item.uplynk?.libraryIds ?? [])
    await gone(() => uplynk.removeAssets(lib, [item.uplynk!.assetId]));
  if (item.entermedia) await dam.deleteAsset(item.entermedia.assetId);
}

async function batched(items: readonly PlanItem[]): Promise<void> {
  const withAsset = items.filter((i) => i.twelvelabs);
  // Discover every asset's entities.
  const byEntity = new Map<string, { cid: string; all: string[]; mine: Set<string> }>();
  await pool(withAsset, inFlight, async (i) => {
    const assetId = i.twelvelabs!.assetId;
    const entities = await pages((p) => tl.listEntities(assetId, p)).catch(() => []);
    for (const e of entities) {
      const known = byEntity.get(e._id) ?? { cid: e.entity_collection_id, all: e.asset_ids, mine: new Set() };
      known.mine.add(assetId);
      byEntity.set(e._id, known);
    }
  });
  // One unlink per entity with every plan asset, leaving an entity the plan empties to the forced deletes.
  const unlinks = [...byEntity].filter(([, e]) => e.mine.size < e.all.length);
  await pool(unlinks, inFlight, async ([eid, e]) => {
    await tl.unlinkAssets(e.cid, eid, [...e.mine]).catch(() => undefined);
  });
  await waitReady(
    tl,
    unlinks.map(([eid, e]) => ({ cid: e.cid, eid })),
  );
  // Indexed assets, then assets.
  await pool(withAsset, inFlight, async (i) => {
    const assetId = i.twelvelabs!.assetId;
    const indexed = await pages((p) => tl.listIndexedAssets(assetId, p)).catch(() => []);
    for (const ia of indexed) await gone(() => tl.deleteIndexedAsset(ia.index._id, ia._id));
    await gone(() => tl.deleteAsset(assetId));
  });
  // Library removals grouped per library, then the DAM.
  const byLibrary = new Map<string, string[]>();
  for (const i of items) {
    for (const lib of i.uplynk?.libraryIds ?? [])
      byLibrary.set(lib, [...(byLibrary.get(lib) ?? []), i.uplynk!.assetId]);
  }
  const groups = [...byLibrary].flatMap(([lib, ids]) =>
    uplynk.groupForUrl(lib, ids).map((g) => [lib, g] as const),
  );
  await pool(groups, inFlight, async ([lib, ids]) => gone(() => uplynk.removeAssets(lib, ids)));
  await pool(
    items.filter((i) => i.entermedia),
    inFlight,
    async (i) => void (await dam.deleteAsset(i.entermedia!.assetId)),
  );
}

const started = Date.now();
if (mode === 'per-item') await pool(plan.items, itemsInFlight, perItem);
else await batched(plan.items);
console.log(JSON.stringify({ seconds: (Date.now() - started) / 1000 }));
