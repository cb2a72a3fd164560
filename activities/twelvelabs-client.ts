/**
 * TwelveLabs API v1.3 (API.md §1): the calls the deletion needs, each answer checked against its
 * documented shape. IDs go into paths URL-encoded even though they are hex, so that a bad ID can never
 * change the route.
 */
import { z } from 'zod';
import { EmptyBody, createHttpClient, type HttpClient, type CallRetryOptions } from './http-client.js';
import type { RateLimiter } from './rate-limiter.js';
import { safeId, segment } from './url-ids.js';

/** `page_limit` for every listing: the API's maximum. */
export const TWELVELABS_PAGE_LIMIT = 50;

export const PageInfo = z.object({
  page: z.number().int(),
  total_page: z.number().int(),
  limit_per_page: z.number().int().optional(),
  total_results: z.number().int().optional(),
});
export type PageInfo = z.infer<typeof PageInfo>;

function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), page_info: PageInfo });
}

// Descriptive fields (names, filename, status of an asset, dates) may come as null, as the official SDK
// reads them (every optional field of its wire types is `T | null`); the IDs and what decides a step may not.
export const TwelveLabsIndexedAsset = z.object({
  _id: z.string().min(1),
  index: z.object({ _id: z.string().min(1), name: z.string().nullish() }),
});
export type TwelveLabsIndexedAsset = z.infer<typeof TwelveLabsIndexedAsset>;

/**
 * An entity as one entity's read and the unlink answer it. The vendor's schema of the unlink's answer
 * (seed 000) has no `entity_collection_id`, and the caller knows it (it is in the path): not required.
 */
export const TwelveLabsEntity = z.object({
  _id: z.string().min(1),
  entity_collection_id: z.string().min(1).optional(),
  name: z.string().nullish(),
  asset_ids: z.array(z.string()),
  // Documented: processing or ready. Any other (a failed state) ends the wait at once, saying which.
  status: z.enum(['processing', 'ready'], {
    error: (issue) =>
      issue.input === undefined
        ? 'no status'
        : `status ${JSON.stringify(issue.input)} is neither "processing" nor "ready"`,
  }),
});
export type TwelveLabsEntity = z.infer<typeof TwelveLabsEntity>;

/** An entity as the listing of an asset's entities answers it: its collection is what addresses it. */
export const TwelveLabsListedEntity = TwelveLabsEntity.extend({ entity_collection_id: z.string().min(1) });

export const TwelveLabsAsset = z.object({
  _id: z.string().min(1),
  status: z.string().nullish(),
  filename: z.string().nullish(),
  created_at: z.string().nullish(),
  user_metadata: z.record(z.string(), z.unknown()).nullish(),
});
export type TwelveLabsAsset = z.infer<typeof TwelveLabsAsset>;

/**
 * `GET /assets` of `page`, filtered to `assetIds`: one `asset_ids` parameter per ID, as the API documents
 * an array in a query and its SDKs send it (`asset_ids=a&asset_ids=b`). A comma-joined list is not
 * documented: read as one ID, it would match nothing and every asset would read as gone.
 */
export function assetIdsQuery(page: number, assetIds: readonly string[]): URLSearchParams {
  const query = new URLSearchParams({ page: String(page), page_limit: String(TWELVELABS_PAGE_LIMIT) });
  for (const id of assetIds) query.append('asset_ids', safeId(id, 'asset ID'));
  return query;
}

const IndexedAssetPage = pageOf(TwelveLabsIndexedAsset);
const AssetPage = pageOf(TwelveLabsAsset);
const EntityPage = pageOf(TwelveLabsListedEntity);

/** The TwelveLabs calls, over one HTTP client that sends `x-api-key`. */
export interface TwelveLabsClient {
  listIndexedAssets(assetId: string, page: number): Promise<z.infer<typeof IndexedAssetPage>>;
  listEntities(assetId: string, page: number): Promise<z.infer<typeof EntityPage>>;
  getEntity(collectionId: string, entityId: string): Promise<TwelveLabsEntity>;
  unlinkAssets(
    collectionId: string,
    entityId: string,
    assetIds: readonly string[],
  ): Promise<TwelveLabsEntity>;
  deleteEntity(collectionId: string, entityId: string): Promise<void>;
  deleteIndexedAsset(indexId: string, indexedAssetId: string): Promise<void>;
  /** Always `force=true`: a plain delete is refused (409) while indexed assets reference the asset. */
  deleteAsset(assetId: string): Promise<void>;
  getAsset(assetId: string): Promise<TwelveLabsAsset>;
  /** The assets among `assetIds` (at most `TWELVELABS_PAGE_LIMIT`) that still exist: one call. */
  listAssets(assetIds: readonly string[]): Promise<TwelveLabsAsset[]>;
}

export function createTwelveLabsClient(options: {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  limiter: RateLimiter;
  secrets: readonly string[];
  retry?: CallRetryOptions | undefined;
}): TwelveLabsClient {
  const http: HttpClient = createHttpClient({
    system: 'twelvelabs',
    baseUrl: options.baseUrl,
    headers: { 'x-api-key': options.apiKey },
    timeoutMs: options.timeoutMs,
    limiter: options.limiter,
    secrets: options.secrets,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const pageParams = (page: number) => ({ page, page_limit: TWELVELABS_PAGE_LIMIT });
  return {
    listIndexedAssets: (assetId, page) =>
      http.call({
        method: 'GET',
        route: '/assets/{asset_id}/indexed-assets',
        path: `/assets/${segment(assetId, 'asset ID')}/indexed-assets`,
        target: assetId,
        searchParams: pageParams(page),
        schema: IndexedAssetPage,
      }),
    listEntities: (assetId, page) =>
      http.call({
        method: 'GET',
        route: '/assets/{asset_id}/entities',
        path: `/assets/${segment(assetId, 'asset ID')}/entities`,
        target: assetId,
        searchParams: pageParams(page),
        schema: EntityPage,
      }),
    getEntity: (cid, eid) =>
      http.call({
        method: 'GET',
        route: '/entity-collections/{cid}/entities/{eid}',
        path: `/entity-collections/${segment(cid, 'entity collection ID')}/entities/${segment(eid, 'entity ID')}`,
        target: eid,
        schema: TwelveLabsEntity,
      }),
    unlinkAssets: (cid, eid, assetIds) =>
      http.call({
        method: 'DELETE',
        route: '/entity-collections/{cid}/entities/{eid}/assets',
        path: `/entity-collections/${segment(cid, 'entity collection ID')}/entities/${segment(eid, 'entity ID')}/assets`,
        target: eid,
        json: { asset_ids: assetIds },
        schema: TwelveLabsEntity,
      }),
    async deleteEntity(cid, eid) {
      await http.call({
        method: 'DELETE',
        route: '/entity-collections/{cid}/entities/{eid}',
        path: `/entity-collections/${segment(cid, 'entity collection ID')}/entities/${segment(eid, 'entity ID')}`,
        target: eid,
        schema: EmptyBody,
      });
    },
    async deleteIndexedAsset(indexId, id) {
      await http.call({
        method: 'DELETE',
        route: '/indexes/{index_id}/indexed-assets/{indexed_asset_id}',
        path: `/indexes/${segment(indexId, 'index ID')}/indexed-assets/${segment(id, 'indexed asset ID')}`,
        target: id,
        schema: EmptyBody,
      });
    },
    async deleteAsset(assetId) {
      await http.call({
        method: 'DELETE',
        route: '/assets/{asset_id}',
        path: `/assets/${segment(assetId, 'asset ID')}`,
        target: assetId,
        searchParams: { force: 'true' },
        schema: EmptyBody,
      });
    },
    async listAssets(assetIds) {
      if (assetIds.length > TWELVELABS_PAGE_LIMIT) {
        throw new RangeError(`at most ${TWELVELABS_PAGE_LIMIT} asset IDs a call, got ${assetIds.length}`);
      }
      const page = await http.call({
        method: 'GET',
        route: '/assets',
        path: '/assets',
        target: `${assetIds.length} assets`,
        searchParams: assetIdsQuery(1, assetIds),
        schema: AssetPage,
      });
      return page.data;
    },
    getAsset: (assetId) =>
      http.call({
        method: 'GET',
        route: '/assets/{asset_id}',
        path: `/assets/${segment(assetId, 'asset ID')}`,
        target: assetId,
        schema: TwelveLabsAsset,
      }),
  };
}
