/**
 * The TwelveLabs steps: discover an asset's references, unlink it from entities, wait for the entities,
 * delete entities, indexed assets and assets, and read back what is left.
 */
import { z } from 'zod';
import type {
  Activities,
  DiscoveredAsset,
  DiscoveredEntity,
  EntityRef,
  IndexedAssetRef,
  ItemResult,
} from './contract.js';
import { activityScope } from './activity-scope.js';
import {
  ItemResultSchema,
  deleteEach,
  findEach,
  inOrder,
  resumeProgress,
  runBatch,
  settleItem,
  uniqueBy,
} from './batch-runner.js';
import { CallError, ErrorTypes, entitiesProcessing } from './http-errors.js';
import type { PageInfo, TwelveLabsClient, TwelveLabsEntity } from './twelvelabs-client.js';

type TwelveLabsActivities = Pick<
  Activities,
  | 'discoverTwelveLabsAssets'
  | 'unlinkEntityAssets'
  | 'waitEntitiesReady'
  | 'deleteEntities'
  | 'deleteIndexedAssets'
  | 'deleteTwelveLabsAssets'
  | 'findTwelveLabsAssets'
>;

/** A listing of more pages than this is the vendor misbehaving, not a catalogue: stop rather than loop. */
const MAX_PAGES = 10_000;

const DiscoveredAssetSchema: z.ZodType<DiscoveredAsset> = z.object({
  assetId: z.string(),
  exists: z.boolean(),
  indexedAssets: z.array(z.object({ id: z.string(), indexId: z.string() })),
  entities: z.array(
    z.object({
      id: z.string(),
      collectionId: z.string(),
      assetIds: z.array(z.string()),
      status: z.enum(['processing', 'ready']),
    }),
  ),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
});

/**
 * Every page of a listing: pages start at 1 and the walk stops on an empty page (what the official SDK's
 * pager does) or once `page` reaches `total_page`, whichever comes first, so a listing of up to 50 takes
 * one call.
 */
async function allPages<T>(
  fetchPage: (page: number) => Promise<{ data: T[]; page_info: PageInfo }>,
): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data, page_info } = await fetchPage(page);
    items.push(...data);
    if (data.length === 0 || page >= page_info.total_page) break;
  }
  return items;
}

function toDiscoveredEntity(entity: TwelveLabsEntity): DiscoveredEntity {
  return {
    id: entity._id,
    collectionId: entity.entity_collection_id,
    assetIds: entity.asset_ids,
    status: entity.status,
  };
}

/** Merges unlinks of the same entity (one call per entity, with every asset to unlink from it). */
function mergeUnlinks(unlinks: ReadonlyArray<EntityRef & { assetIds: string[] }>) {
  const byEntity = new Map<string, EntityRef & { assetIds: string[] }>();
  for (const unlink of unlinks) {
    const known = byEntity.get(unlink.id);
    if (known) known.assetIds = [...new Set([...known.assetIds, ...unlink.assetIds])];
    else
      byEntity.set(unlink.id, {
        id: unlink.id,
        collectionId: unlink.collectionId,
        assetIds: [...new Set(unlink.assetIds)],
      });
  }
  return [...byEntity.values()];
}

export function createTwelveLabsActivities(deps: {
  /** The client, or a non-retryable `MissingCredentialsError` thrown when the key is not set. */
  client: () => TwelveLabsClient;
  /** Calls in flight at once within one activity (the shared limiter bounds the worker as a whole). */
  parallelism: number;
}): TwelveLabsActivities {
  const { parallelism } = deps;

  async function discoverOne(client: TwelveLabsClient, assetId: string): Promise<DiscoveredAsset> {
    try {
      const indexed = await allPages((page) => client.listIndexedAssets(assetId, page));
      const entities = await allPages((page) => client.listEntities(assetId, page));
      return {
        assetId,
        exists: true,
        // A listing can shift between pages while others delete; an ID seen twice is one reference.
        indexedAssets: uniqueBy(
          indexed.map((ia): IndexedAssetRef => ({ id: ia._id, indexId: ia.index._id })),
          (ia) => ia.id,
        ),
        entities: uniqueBy(entities.map(toDiscoveredEntity), (e) => e.id),
      };
    } catch (error) {
      if (error instanceof CallError && error.failure.disposition === 'absent') {
        return { assetId, exists: false, indexedAssets: [], entities: [] };
      }
      if (error instanceof CallError && error.failure.disposition === 'item') {
        // Unknown whether it exists: say it does, so that nothing reports it as already gone.
        return {
          assetId,
          exists: true,
          indexedAssets: [],
          entities: [],
          error: { type: error.failure.type, message: error.failure.message },
        };
      }
      throw error;
    }
  }

  /**
   * One entity's unlink. The first try sends the DELETE straight away (one call); `verify` reads the
   * entity first and sends only the assets still linked, which is what a retry must do because the
   * vendor answers 400 for an asset that is no longer linked.
   */
  async function unlinkOne(
    client: TwelveLabsClient,
    unlink: EntityRef & { assetIds: string[] },
    verify: boolean,
  ): Promise<ItemResult> {
    const key = unlink.id;
    const gone = (message: string): ItemResult => ({
      key,
      outcome: 'already-absent',
      detail: `entity ${unlink.id} is gone: ${message}`,
    });
    return settleItem(
      key,
      async () => {
        let assetIds = unlink.assetIds;
        if (verify) {
          const entity = await client.getEntity(unlink.collectionId, unlink.id);
          const linked = new Set(entity.asset_ids);
          assetIds = unlink.assetIds.filter((id) => linked.has(id));
          if (assetIds.length === 0) {
            return {
              key,
              outcome: 'already-absent',
              detail: `no given asset is linked to entity ${unlink.id} any more`,
            };
          }
          if (entity.asset_ids.every((id) => assetIds.includes(id))) {
            return lastAssetResult(key, `these are all of its ${entity.asset_ids.length} asset(s)`);
          }
        }
        try {
          const entity = await client.unlinkAssets(unlink.collectionId, unlink.id, assetIds);
          return {
            key,
            outcome: 'deleted',
            detail: `unlinked ${assetIds.length} asset(s) from entity ${unlink.id} (now ${entity.status}, ${entity.asset_ids.length} left)`,
          };
        } catch (error) {
          if (!(error instanceof CallError) || error.failure.status !== 400) throw error;
          // 400 is both "not linked" and "last asset" (undocumented codes): the entity tells which.
          if (!verify) return unlinkOne(client, unlink, true);
          const entity = await client.getEntity(unlink.collectionId, unlink.id);
          if (entity.asset_ids.every((id) => assetIds.includes(id))) {
            return lastAssetResult(key, error.failure.message);
          }
          throw error;
        }
      },
      gone,
    );
  }

  return {
    async discoverTwelveLabsAssets({ assetIds }) {
      if (assetIds.length === 0) return [];
      const client = deps.client();
      const scope = activityScope();
      const progress = resumeProgress(scope, DiscoveredAssetSchema, (d) => d.assetId);
      const todo = [...new Set(assetIds)].filter((id) => !progress.has(id));
      await runBatch({
        units: todo,
        parallelism,
        scope,
        progress,
        run: async (assetId) => progress.record([await discoverOne(client, assetId)]),
      });
      return assetIds.map((id) => progress.get(id) as DiscoveredAsset);
    },

    async unlinkEntityAssets({ unlinks }) {
      if (unlinks.length === 0) return [];
      const client = deps.client();
      const scope = activityScope();
      const progress = resumeProgress(scope, ItemResultSchema, (r) => r.key);
      const merged = mergeUnlinks(unlinks);
      // Any attempt after the first may follow a call that was applied but never answered.
      const verify = scope.attempt > 1;
      await runBatch({
        units: merged.filter((u) => !progress.has(u.id)),
        parallelism,
        scope,
        progress,
        run: async (unlink) => progress.record([await unlinkOne(client, unlink, verify)]),
      });
      return inOrder(
        merged.map((u) => u.id),
        (key) => progress.get(key),
      );
    },

    async waitEntitiesReady({ entities }) {
      const unique = uniqueBy(entities, (e) => e.id);
      if (unique.length === 0) return { ready: 0, gone: 0 };
      const client = deps.client();
      const scope = activityScope();
      let ready = 0;
      let gone = 0;
      const processing: string[] = [];
      await runBatch({
        units: unique,
        parallelism,
        scope,
        run: async (ref) => {
          const status = await entityStatus(client, ref);
          if (status === 'gone') gone++;
          else if (status === 'ready') ready++;
          else {
            processing.push(ref.id);
            // Stops the batch: one entity still processing is enough to poll again later.
            throw entitiesProcessing(processing, ready + gone + processing.length, unique.length);
          }
        },
      });
      return { ready, gone };
    },

    async deleteEntities({ entities }) {
      if (entities.length === 0) return [];
      const client = deps.client();
      return deleteEach({
        targets: entities,
        keyOf: (entity) => entity.id,
        parallelism,
        remove: async (entity) => {
          await client.deleteEntity(entity.collectionId, entity.id);
          return { key: entity.id, outcome: 'deleted', detail: `deleted entity ${entity.id}` };
        },
      });
    },

    async deleteIndexedAssets({ indexedAssets }) {
      if (indexedAssets.length === 0) return [];
      const client = deps.client();
      return deleteEach({
        targets: indexedAssets,
        keyOf: (ia) => ia.id,
        parallelism,
        remove: async (ia) => {
          await client.deleteIndexedAsset(ia.indexId, ia.id);
          return {
            key: ia.id,
            outcome: 'deleted',
            detail: `deleted indexed asset ${ia.id} of index ${ia.indexId}`,
          };
        },
      });
    },

    async deleteTwelveLabsAssets({ assetIds }) {
      if (assetIds.length === 0) return [];
      const client = deps.client();
      return deleteEach({
        targets: assetIds,
        keyOf: (assetId) => assetId,
        parallelism,
        remove: async (assetId) => {
          await client.deleteAsset(assetId);
          return { key: assetId, outcome: 'deleted', detail: `deleted asset ${assetId} (force=true)` };
        },
      });
    },

    async findTwelveLabsAssets({ assetIds }) {
      if (assetIds.length === 0) return [];
      const client = deps.client();
      return findEach({
        ids: assetIds,
        parallelism,
        what: 'TwelveLabs asset',
        exists: async (assetId) => {
          await client.getAsset(assetId);
          return true;
        },
      });
    },
  };
}

function lastAssetResult(key: string, why: string): ItemResult {
  return {
    key,
    outcome: 'failed',
    detail: `TwelveLabs entity ${key} must keep at least one asset, so it refuses this unlink: ${why}`,
    errorType: ErrorTypes.EntityLastAsset,
  };
}

async function entityStatus(
  client: TwelveLabsClient,
  ref: EntityRef,
): Promise<'ready' | 'processing' | 'gone'> {
  try {
    return (await client.getEntity(ref.collectionId, ref.id)).status;
  } catch (error) {
    if (error instanceof CallError && error.failure.disposition === 'absent') return 'gone';
    throw error;
  }
}
