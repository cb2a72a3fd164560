/**
 * The selection step of a recurring clean-up: reads a manifest afresh, or lists the TwelveLabs catalogue
 * and picks the assets whose `user_metadata` says they expired, and answers the plan to run.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  assetsOf,
  formatIssue,
  Plan,
  PlanItem,
  planFormatOf,
  parsePlanText,
  type SystemName,
} from '../plan/index.js';
import type { CleanupPolicy, MetadataSelect } from '../plan/index.js';
import type { SelectionRecheck } from '../workflows/definitions.js';
import { activityScope, throwIfCancelled } from './activity-scope.js';
import type { PlanRef } from './contract.js';
import { CallError, missingCredentials, toApplicationFailure } from './http-errors.js';
import { createHttpClient, type HttpClient } from './http-client.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { missingVariables, secretsOf, type SystemsSettings } from './system-settings.js';
import { PageInfo, TWELVELABS_PAGE_LIMIT, TwelveLabsAsset, assetIdsQuery } from './twelvelabs-client.js';

/** Plans with more items than this travel by reference (the same limit as `client/start.ts`). */
const INLINE_PLAN_MAX_ITEMS = 1000;
/** A listing of more pages than this is the vendor misbehaving: stop rather than loop. */
const MAX_PAGES = 100_000;

export interface PolicyActivitiesDeps {
  systems: SystemsSettings;
  /** Shared with the other activities of the worker (vendors count limits per account). */
  limiters?: Partial<Record<SystemName, RateLimiter>>;
  /** @default () => new Date() */
  now?: () => Date;
}

/** What one clean-up run will delete. */
export interface CleanupSelection {
  /** The plan, inline or by reference; absent when nothing was selected. */
  source?: { plan: Plan } | { planRef: PlanRef };
  selected: number;
  /** Matching items left to later runs by `maxItems`. */
  remaining: number;
  notes: string[];
}

const AssetPage = z.object({ data: z.array(TwelveLabsAsset), page_info: PageInfo });

/** ISO 8601 dates and date-times as zod checks them (real calendar days; a zone optional). */
const IsoDate = z.iso.date();
const IsoDateTime = z.iso.datetime({ offset: true, local: true });
const HOUR_MS = 3_600_000;
/** The latest time zone (UTC-12): a date or time without a zone is read as there, where it comes last. */
const LATEST_ZONE_MS = 12 * HOUR_MS;

/**
 * When a `user_metadata` date says the asset goes: `'unset'` when there is none (absent, null, blank),
 * `'unreadable'` when the value is not a date we can read without guessing. Only ISO 8601 (a date alone
 * is past once that day is over; a date or time without a zone is read where it comes last, UTC-12) and
 * Unix times in seconds (10 digits) or milliseconds (13 digits): Date.parse would read "keep 1" as
 * 1 January 2001 and 20991231 as Unix seconds in 1970.
 */
function expiryOf(value: unknown): number | 'unset' | 'unreadable' {
  if (value === undefined || value === null) return 'unset';
  if (typeof value === 'number') {
    if (value >= 1e9 && value < 1e10) return value * 1000;
    if (value >= 1e12 && value < 1e13) return value;
    return 'unreadable';
  }
  if (typeof value !== 'string') return 'unreadable';
  // A space for the `T`, as exports of a database often write it.
  const trimmed = value.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (trimmed === '') return 'unset';
  if (IsoDate.safeParse(trimmed).success) {
    return Date.parse(`${trimmed}T00:00:00Z`) + 24 * HOUR_MS + LATEST_ZONE_MS;
  }
  if (!IsoDateTime.safeParse(trimmed).success) return 'unreadable';
  return /(Z|[+-]\d{2}:\d{2})$/i.test(trimmed)
    ? Date.parse(trimmed)
    : Date.parse(`${trimmed}Z`) + LATEST_ZONE_MS;
}

/** At most this many notes of one kind name their asset; a last note of that kind counts the rest. */
const MAX_NOTES_OF_A_KIND = 20;
/** A value quoted in a note or a reason is cut to this many characters. */
const MAX_QUOTED = 80;

/** A metadata value as a note quotes it: JSON, cut short when long. */
function quoted(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length <= MAX_QUOTED ? json : `${json.slice(0, MAX_QUOTED)}… (${json.length} characters)`;
}

/**
 * The selection's notes, at most `MAX_NOTES_OF_A_KIND` naming an asset for each kind, so that a catalogue
 * of many odd assets cannot make the selection (an activity result, then the run's history) grow with it:
 * the rest of a kind is counted in one last note, as `more` words it.
 */
function noteBook() {
  const notes: string[] = [];
  const kinds = new Map<string, { count: number; more: (n: number) => string }>();
  return {
    notes,
    /** A note that concerns the whole listing: always kept. */
    add(note: string): void {
      notes.push(note);
    },
    /** A note of `kind` naming one asset, kept while the kind has room. */
    asset(kind: string, note: () => string, more: (n: number) => string): void {
      const seen = kinds.get(kind) ?? { count: 0, more };
      kinds.set(kind, seen);
      if (seen.count++ < MAX_NOTES_OF_A_KIND) notes.push(note());
    },
    /** The notes, with one counting the rest of each kind that overflowed. */
    close(): string[] {
      for (const { count, more } of kinds.values()) {
        if (count > MAX_NOTES_OF_A_KIND) notes.push(more(count - MAX_NOTES_OF_A_KIND));
      }
      return notes;
    },
  };
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

async function readManifest(location: string): Promise<{ bytes: Buffer; uri: string }> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(location) ? new URL(location) : pathToFileURL(location);
  if (url.protocol === 'file:') {
    try {
      return { bytes: await readFile(fileURLToPath(url)), uri: url.href };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
        throw ApplicationFailure.nonRetryable(
          `cannot read manifest ${location}: ${code}`,
          'PlanUnreadableError',
        );
      }
      throw error;
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const response = await fetch(url, { signal: activityScope().signal });
    if (
      response.status >= 400 &&
      response.status < 500 &&
      response.status !== 408 &&
      response.status !== 429
    ) {
      throw ApplicationFailure.nonRetryable(
        `cannot read manifest ${location}: HTTP ${response.status}`,
        'PlanUnreadableError',
      );
    }
    if (!response.ok) throw new Error(`cannot read manifest ${location}: HTTP ${response.status}`);
    return { bytes: Buffer.from(await response.arrayBuffer()), uri: url.href };
  }
  throw ApplicationFailure.nonRetryable(
    `manifest ${location} is neither a file path nor an http(s) URL`,
    'PlanUnreadableError',
  );
}

/** The Uplynk and DAM asset IDs an asset's metadata names, in the fields the selection says. */
function namedIds(metadata: Record<string, unknown>, select: MetadataSelect) {
  return {
    uplynk: select.uplynkAssetIdField ? text(metadata[select.uplynkAssetIdField]) : undefined,
    entermedia: select.entermediaAssetIdField ? text(metadata[select.entermediaAssetIdField]) : undefined,
  };
}

/** A manifest read and parsed as a plan (a CSV one named `name`), with the policy's options if any. */
async function parseManifest(location: string, name: string, options: CleanupPolicy['options'] = {}) {
  const { bytes, uri } = await readManifest(location);
  const format = planFormatOf(new URL(uri).pathname) ?? 'json';
  const parsed = parsePlanText(bytes.toString('utf8'), {
    source: location,
    format,
    ...(format === 'csv' ? { name } : {}),
    ...(Object.keys(options).length ? { options } : {}),
  });
  return { bytes, uri, format, parsed };
}

/**
 * One page of TwelveLabs assets with their metadata: the catalogue's page `page`, or (with `ids`, at most
 * a page of them) those assets. A call that fails for good fails the activity as its failure says.
 */
async function assetPage(
  client: HttpClient,
  { page, ids }: { page: number; ids?: readonly string[] },
): Promise<z.infer<typeof AssetPage>> {
  try {
    return await client.call({
      method: 'GET',
      route: '/assets',
      path: '/assets',
      ...(ids ? { target: `${ids.length} assets` } : {}),
      searchParams: assetIdsQuery(page, ids ?? []),
      schema: AssetPage,
    });
  } catch (error) {
    throw error instanceof CallError ? toApplicationFailure(error.failure) : error;
  }
}

/** The plan item of an asset, its other systems' IDs taken from the fields the selection names. */
function itemOf(assetId: string, metadata: Record<string, unknown>, select: MetadataSelect) {
  const item: Record<string, unknown> = { id: assetId, twelvelabs: { assetId } };
  const named = namedIds(metadata, select);
  const libraries = select.uplynkLibraryIdsField
    ? text(metadata[select.uplynkLibraryIdsField])
        ?.split(',')
        .map((id) => id.trim())
        .filter(Boolean)
    : undefined;
  if (named.uplynk && libraries?.length) item.uplynk = { assetId: named.uplynk, libraryIds: libraries };
  if (named.entermedia) item.entermedia = { assetId: named.entermedia };
  return item;
}

/** The same IDs in every system: what a selected item names, against what the asset names now. */
function sameTargets(a: Record<string, unknown> | PlanItem, b: PlanItem): boolean {
  const key = (x: { twelvelabs?: unknown; uplynk?: unknown; entermedia?: unknown }) =>
    JSON.stringify([x.twelvelabs, x.uplynk, x.entermedia]);
  return key(a) === key(b);
}

/**
 * Builds the clean-up's selection activity. The TwelveLabs listing goes through the connectors' HTTP
 * client (one connection pool, Temporal alone retries, errors classified the same way).
 */
export function createPolicyActivities(deps: PolicyActivitiesDeps) {
  const { systems } = deps;
  const now = deps.now ?? (() => new Date());
  const limiter = deps.limiters?.twelvelabs ?? createRateLimiter(systems.twelvelabs);
  let http: HttpClient | undefined;

  function twelvelabs(): HttpClient {
    const missing = missingVariables(systems, 'twelvelabs');
    if (missing.length > 0) throw missingCredentials('twelvelabs', missing);
    http ??= createHttpClient({
      system: 'twelvelabs',
      baseUrl: systems.twelvelabs.baseUrl,
      headers: { 'x-api-key': systems.twelvelabs.apiKey ?? '' },
      timeoutMs: systems.requestTimeoutMs ?? 30_000,
      limiter,
      secrets: secretsOf(systems),
    });
    return http;
  }

  async function fromManifest(policy: CleanupPolicy, location: string): Promise<CleanupSelection> {
    const { bytes, uri, format, parsed } = await parseManifest(location, policy.name, policy.options);
    if (!parsed.ok) {
      throw ApplicationFailure.nonRetryable(
        `the manifest is not a valid plan:\n${parsed.issues.slice(0, 20).map(formatIssue).join('\n')}`,
        'InvalidPlanError',
      );
    }
    const plan = parsed.value;
    if (plan.items.length > policy.maxItems) {
      throw ApplicationFailure.nonRetryable(
        `the manifest lists ${plan.items.length} items, more than the policy's maxItems (${policy.maxItems}): nothing was deleted`,
        'PolicyLimitError',
      );
    }
    const base = { selected: plan.items.length, remaining: 0, notes: [] };
    if (plan.items.length <= INLINE_PLAN_MAX_ITEMS) return { ...base, source: { plan } };
    // Large manifests travel by reference: the workers read the same bytes again, checked by SHA-256.
    if (format !== 'json' || Object.keys(policy.options).length > 0) {
      throw ApplicationFailure.nonRetryable(
        `a manifest of more than ${INLINE_PLAN_MAX_ITEMS} items must be a JSON plan, used as written (no policy options)`,
        'PolicyLimitError',
      );
    }
    const planRef: PlanRef = {
      uri,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      name: plan.name,
      items: plan.items.length,
    };
    return { ...base, source: { planRef } };
  }

  async function fromMetadata(
    policy: CleanupPolicy,
    select: MetadataSelect,
    planName: string,
  ): Promise<CleanupSelection> {
    const client = twelvelabs();
    const scope = activityScope();
    const cutoff = now().getTime();
    const expired: Array<{ item: unknown; at: number; assetId: string }> = [];
    const book = noteBook();
    /** The Uplynk and DAM assets (`part:ID`) that assets the policy does not select name, and the first. */
    const kept = new Map<string, string>();
    let firstTotal: number | undefined;
    let shifted = false;
    const keep = (assetId: string, metadata: Record<string, unknown>) => {
      // Keyed as `assetsOf` keys a plan item's assets, whether or not it names its libraries.
      for (const [part, id] of Object.entries(namedIds(metadata, select))) {
        const key = `${part}:${id}`;
        if (id && !kept.has(key)) kept.set(key, assetId);
      }
    };
    for (let page = 1; page <= MAX_PAGES; page++) {
      throwIfCancelled(scope.signal);
      const body = await assetPage(client, { page });
      for (const asset of body.data) {
        const metadata = asset.user_metadata ?? {};
        const at = expiryOf(metadata[select.field]);
        if (at === 'unreadable' || at === 'unset' || at >= cutoff) {
          // What an asset the policy does not select names must stay: its IDs are kept from every item.
          keep(asset._id, metadata);
        }
        if (at === 'unreadable') {
          book.asset(
            'date',
            () =>
              `asset ${asset._id} left alone: its ${select.field} ${quoted(metadata[select.field])} is not an ISO 8601 date (2026-06-01, 2026-06-01T09:00:00Z) nor a Unix time in seconds or milliseconds`,
            (n) =>
              `${n} more assets left alone: their ${select.field} is not an ISO 8601 date nor a Unix time`,
          );
          continue;
        }
        if (at === 'unset' || at >= cutoff) continue;
        expired.push({ item: itemOf(asset._id, metadata, select), at, assetId: asset._id });
      }
      scope.heartbeat({ page, expired: expired.length });
      // Pages are positions in a list that others may change meanwhile (deletes, uploads): an asset
      // that moved across a page boundary is then not seen. Said, not silent: the next run sees it.
      const total = body.page_info.total_results;
      if (total !== undefined && firstTotal === undefined) firstTotal = total;
      else if (total !== undefined && total !== firstTotal && !shifted) {
        shifted = true;
        book.add(
          `the catalogue changed while it was listed (${firstTotal} assets, then ${total}): an asset that moved between pages may have been missed (a later run picks it up)`,
        );
      }
      if (body.data.length === 0 || page >= body.page_info.total_page) break;
      if (page === MAX_PAGES) {
        book.add(`the listing stopped after ${MAX_PAGES} pages: later pages were not read`);
      }
    }

    // The longest expired go first; the rest wait for the next runs.
    expired.sort((a, b) => a.at - b.at || (a.assetId < b.assetId ? -1 : 1));
    const items: PlanItem[] = [];
    let remaining = 0;
    // No two items may name the same asset of a system (docs/plan-format.md): an item that fails or is
    // skipped would otherwise see its target deleted by the other. The oldest expired keeps it.
    const named = new Map<string, string>();
    for (const candidate of expired) {
      const parsed = PlanItem.safeParse(candidate.item);
      if (!parsed.success) {
        book.asset(
          'invalid',
          () => `asset ${candidate.assetId} skipped: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`,
          (n) => `${n} more assets skipped: the IDs their metadata names are not valid`,
        );
        continue;
      }
      const assets = assetsOf(parsed.data);
      const held = assets.find((a) => kept.has(a.key));
      if (held) {
        book.asset(
          'held',
          () =>
            `asset ${candidate.assetId} left alone: its ${held.name} is also named by asset ${kept.get(held.key)}, which the policy does not select`,
          (n) =>
            `${n} more assets left alone: an asset of another system they name is also named by an asset the policy does not select`,
        );
        continue;
      }
      // Its own TwelveLabs asset named already: the asset was listed twice, one item is enough.
      if (assets.some((a) => a.part === 'twelvelabs' && named.has(a.key))) continue;
      const shared = assets.find((a) => named.has(a.key));
      if (shared) {
        book.asset(
          'shared',
          () =>
            `asset ${candidate.assetId} skipped: its ${shared.name} is already named by asset ${named.get(shared.key)}`,
          (n) =>
            `${n} more assets skipped: an asset of another system they name is already named by an older expired asset`,
        );
        continue;
      }
      if (items.length >= policy.maxItems) remaining++;
      else items.push(parsed.data);
      for (const { key } of assets) named.set(key, candidate.assetId);
    }
    const notes = book.close();
    if (items.length === 0) return { selected: 0, remaining, notes };
    const plan = Plan.parse({
      name: planName,
      items,
      options: { ...policy.options, maxItems: Math.max(items.length, 1) },
    });
    return { source: { plan }, selected: items.length, remaining, notes };
  }

  /**
   * Reads the manifest again: an item it no longer lists, or lists with other IDs, is no longer selected.
   * A manifest that cannot be read, or no longer parses, confirms nothing.
   */
  async function recheckManifest(
    items: PlanItem[],
    select: { manifest: string; name: string },
  ): Promise<Array<{ item: string; reason: string }>> {
    const { parsed } = await parseManifest(select.manifest, select.name);
    if (!parsed.ok) {
      return items.map((item) => ({
        item: item.id,
        reason: `not confirmed as still selected: the manifest is no longer a valid plan (${formatIssue(parsed.issues[0]!)})`,
      }));
    }
    const listed = new Map(parsed.value.items.map((item) => [item.id, item]));
    return items.flatMap((item) => {
      const now = listed.get(item.id);
      if (!now) return [{ item: item.id, reason: 'no longer selected: no longer in the manifest' }];
      if (!sameTargets(now, item)) {
        return [{ item: item.id, reason: 'no longer selected: the manifest now names other IDs for it' }];
      }
      return [];
    });
  }

  /**
   * Reads the selected items' TwelveLabs assets again, just before a chunk's first irreversible call, and
   * answers the items the policy no longer selects, with why: the asset is gone (what it named can no
   * longer be confirmed), its date is no longer past (pushed ahead, removed, unreadable), or its other
   * systems' IDs changed since the selection.
   */
  async function recheckSelection(input: {
    items: PlanItem[];
    select: SelectionRecheck;
  }): Promise<Array<{ item: string; reason: string }>> {
    if ('manifest' in input.select) return recheckManifest(input.items, input.select);
    const client = twelvelabs();
    const scope = activityScope();
    const select = input.select.twelvelabsMetadata;
    const cutoff = now().getTime();
    const unselected: Array<{ item: string; reason: string }> = [];
    for (let i = 0; i < input.items.length; i += TWELVELABS_PAGE_LIMIT) {
      throwIfCancelled(scope.signal);
      const batch = input.items.slice(i, i + TWELVELABS_PAGE_LIMIT);
      const ids = batch.flatMap((item) => (item.twelvelabs ? [item.twelvelabs.assetId] : []));
      const body = ids.length > 0 ? await assetPage(client, { page: 1, ids }) : undefined;
      const seen = new Map((body?.data ?? []).map((asset) => [asset._id, asset.user_metadata ?? {}]));
      for (const item of batch) {
        const assetId = item.twelvelabs?.assetId;
        const metadata = assetId === undefined ? undefined : seen.get(assetId);
        if (metadata === undefined) {
          unselected.push({
            item: item.id,
            reason: `no longer selected: its TwelveLabs asset is gone since the selection, so its ${select.field} cannot be read again`,
          });
          continue;
        }
        const value = metadata[select.field];
        const at = expiryOf(value);
        if (typeof at !== 'number' || at >= cutoff) {
          unselected.push({
            item: item.id,
            reason: `no longer selected: its ${select.field} is now ${value === undefined ? 'unset' : quoted(value)}`,
          });
        } else if (!sameTargets(itemOf(assetId!, metadata, select), item)) {
          unselected.push({
            item: item.id,
            reason: `no longer selected: the IDs its metadata names changed since the selection`,
          });
        }
      }
      scope.heartbeat({ checked: i + batch.length });
    }
    return unselected;
  }

  return {
    recheckSelection,
    /**
     * Selects what a clean-up run deletes, as the policy says. A manifest that does not parse, or that
     * lists more than `maxItems`, fails without retry; the TwelveLabs listing retries like any call.
     */
    async selectCleanupItems(input: { policy: CleanupPolicy; planName: string }): Promise<CleanupSelection> {
      const { policy } = input;
      if (policy.select.manifest !== undefined) return fromManifest(policy, policy.select.manifest);
      if (policy.select.twelvelabsMetadata) {
        return fromMetadata(policy, policy.select.twelvelabsMetadata, input.planName);
      }
      throw ApplicationFailure.nonRetryable('the policy selects nothing', 'InvalidPolicyError');
    },
  };
}
