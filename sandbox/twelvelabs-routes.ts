import { z } from 'zod';
import { pageOf, readPage } from './pagination.js';
import { json, ReplyError, type Reply } from './reply.js';
import { Router, type RequestContext } from './router.js';
import { BASE_PATHS, type VendorApi } from './vendor.js';
import { without, type AssetRecord, type EntityRecord, type TwelveLabsStore } from './twelvelabs-store.js';

const CODES: Record<number, string> = {
  400: 'parameter_invalid',
  401: 'api_key_invalid',
  404: 'resource_not_exist',
  405: 'method_not_allowed',
  409: 'resource_conflict',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'service_unavailable',
};

function error(status: number, message: string, code?: string): Reply {
  return json(status, { code: code ?? CODES[status] ?? 'error', message });
}

function notFound(what: string, id: string): ReplyError {
  return new ReplyError(error(404, `The ${what} ${id} does not exist.`));
}

const AssetIdsBody = z.object({ asset_ids: z.array(z.string().min(1)).min(1) });

function readAssetIds(ctx: RequestContext): string[] {
  const parsed = AssetIdsBody.safeParse(ctx.body);
  if (!parsed.success)
    throw new ReplyError(
      error(400, 'The body must be {"asset_ids": [<asset id>, ...]} with at least one ID.'),
    );
  return [...new Set(parsed.data.asset_ids)];
}

function assetView(a: AssetRecord) {
  return {
    _id: a._id,
    method: a.method ?? 'direct',
    status: a.status,
    filename: a.filename,
    file_type: a.file_type ?? 'video/mp4',
    created_at: a.created_at,
    user_metadata: a.user_metadata,
  };
}

/**
 * TwelveLabs v1.3 as docs/vendor-contracts.md describes it, plus the calls our connectors use that docs/vendor-contracts.md lists
 * (single asset, asset list, one entity, link, entity delete) and two reads for verification
 * (`GET /indexes/{index_id}/indexed-assets/{indexed_asset_id}`, an entity collection's entities).
 */
export function createTwelveLabsApi(store: TwelveLabsStore): VendorApi {
  const entityView = (e: EntityRecord, now: number) => ({
    _id: e._id,
    entity_collection_id: e.entity_collection_id,
    name: e.name,
    description: e.description ?? '',
    metadata: e.metadata ?? {},
    asset_ids: e.asset_ids,
    status: store.entityStatus(e, now),
    created_at: e.created_at,
    updated_at: e.updated_at,
  });

  const asset = (ctx: RequestContext): AssetRecord => {
    const id = ctx.params.get('asset_id');
    const a = store.assets.get(id);
    if (!a) throw notFound('asset', id);
    return a;
  };

  const entity = (ctx: RequestContext): EntityRecord => {
    const cid = ctx.params.get('entity_collection_id');
    if (!store.collections.has(cid)) throw notFound('entity collection', cid);
    const eid = ctx.params.get('entity_id');
    const e = store.entities.get(eid);
    if (!e || e.entity_collection_id !== cid) throw notFound('entity', eid);
    return e;
  };

  const router = new Router()
    .add('GET /assets', (ctx) => {
      const page = readPage(ctx.query, error);
      // An array in the query is one parameter per value (`asset_ids=a&asset_ids=b`), as the API documents
      // it and its SDKs send it. A comma-joined list is undocumented: refused, so that a client relying on
      // it fails here rather than match nothing against the real API.
      const wanted = ctx.query.getAll('asset_ids');
      if (wanted.some((v) => v.includes(',')))
        throw new ReplyError(
          error(
            400,
            'The asset_ids parameter is invalid: give one asset ID per asset_ids parameter.',
            'parameter_invalid',
          ),
        );
      const list = wanted.length
        ? [...new Set(wanted)].map((id) => store.assets.get(id)).filter((a) => a !== undefined)
        : store.listAssets();
      return json(200, pageOf(list, page, assetView));
    })
    .add('GET /assets/{asset_id}', (ctx) => json(200, assetView(asset(ctx))))
    .add('DELETE /assets/{asset_id}', (ctx) => {
      const a = asset(ctx);
      const force = ctx.query.get('force') === 'true';
      const blocking = store.indexedAssetsOf(a._id).length;
      if (!force && blocking > 0)
        return error(
          409,
          `The asset ${a._id} is referenced by ${blocking} indexed asset(s); delete them first or use force=true.`,
        );
      store.deleteAsset(a._id, ctx.now);
      return json(200, {}, true);
    })
    .add('GET /assets/{asset_id}/indexed-assets', (ctx) => {
      const page = readPage(ctx.query, error);
      const list = store.indexedAssetsOf(asset(ctx)._id);
      return json(
        200,
        pageOf(list, page, (ia) => ({
          _id: ia._id,
          index: { _id: ia.index_id, name: store.indexes.get(ia.index_id)?.name ?? '' },
        })),
      );
    })
    .add('GET /assets/{asset_id}/entities', (ctx) => {
      const page = readPage(ctx.query, error);
      const list = store.entitiesOf(asset(ctx)._id);
      return json(
        200,
        pageOf(list, page, (e) => entityView(e, ctx.now)),
      );
    })
    .add('GET /entity-collections/{entity_collection_id}/entities', (ctx) => {
      const page = readPage(ctx.query, error);
      const cid = ctx.params.get('entity_collection_id');
      if (!store.collections.has(cid)) throw notFound('entity collection', cid);
      // A linear scan: this listing is a convenience for people looking around, not on any hot path.
      const list = [...store.entities.values()].filter((e) => e.entity_collection_id === cid);
      return json(
        200,
        pageOf(list, page, (e) => entityView(e, ctx.now)),
      );
    })
    .add('GET /entity-collections/{entity_collection_id}/entities/{entity_id}', (ctx) =>
      json(200, entityView(entity(ctx), ctx.now)),
    )
    .add('DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}', (ctx) => {
      store.deleteEntity(entity(ctx));
      return { status: 204, mutated: true };
    })
    .add('DELETE /entity-collections/{entity_collection_id}/entities/{entity_id}/assets', (ctx) => {
      const e = entity(ctx);
      const ids = readAssetIds(ctx);
      // Undocumented by TwelveLabs; read strictly (docs/vendor-contracts.md): an asset that is not linked is refused.
      const notLinked = ids.filter((id) => !e.asset_ids.includes(id));
      if (notLinked.length)
        return error(400, `The asset(s) ${notLinked.join(', ')} are not linked to the entity ${e._id}.`);
      const rest = without(e.asset_ids, ids);
      if (rest.length === 0)
        return error(
          400,
          `An entity must keep at least one asset: cannot remove the last asset of ${e._id}.`,
        );
      store.setEntityAssets(e, rest, ctx.now);
      return json(200, entityView(e, ctx.now), true);
    })
    .add('POST /entity-collections/{entity_collection_id}/entities/{entity_id}/assets', (ctx) => {
      const e = entity(ctx);
      const ids = readAssetIds(ctx);
      const unknown = ids.find((id) => !store.assets.has(id));
      if (unknown !== undefined) throw notFound('asset', unknown);
      const added = ids.filter((id) => !e.asset_ids.includes(id));
      // Linking what is already linked changes nothing, so the entity does not go back to processing.
      if (added.length === 0) return json(200, entityView(e, ctx.now));
      store.setEntityAssets(e, [...e.asset_ids, ...added], ctx.now);
      return json(200, entityView(e, ctx.now), true);
    })
    .add('GET /indexes/{index_id}/indexed-assets/{indexed_asset_id}', (ctx) => {
      const ia = indexedAsset(ctx);
      return json(200, { _id: ia._id, index_id: ia.index_id, asset_id: ia.asset_id, status: 'ready' });
    })
    .add('DELETE /indexes/{index_id}/indexed-assets/{indexed_asset_id}', (ctx) => {
      store.deleteIndexedAsset(indexedAsset(ctx)._id);
      return { status: 204, mutated: true };
    });

  function indexedAsset(ctx: RequestContext) {
    const indexId = ctx.params.get('index_id');
    if (!store.indexes.has(indexId)) throw notFound('index', indexId);
    const id = ctx.params.get('indexed_asset_id');
    const ia = store.indexedAssets.get(id);
    if (!ia || ia.index_id !== indexId) throw notFound('indexed asset', id);
    return ia;
  }

  return {
    system: 'twelvelabs',
    base: BASE_PATHS.twelvelabs,
    router,
    authenticate({ headers }) {
      const key = headers['x-api-key'];
      if (typeof key === 'string' && key !== '' && key === store.apiKey) return undefined;
      return error(401, key ? 'The API key is invalid.' : 'No API key: send it in the x-api-key header.');
    },
    error,
  };
}
