import { json, ReplyError, type Reply } from './reply.js';
import { Router, type RequestContext } from './router.js';
import { verifyUplynk } from './uplynk-auth.js';
import type { LibraryRecord, UplynkStore } from './uplynk-store.js';
import { BASE_PATHS, type VendorApi } from './vendor.js';

const CODES: Record<number, [code: string, title: string]> = {
  400: ['BadRequest', 'Bad Request'],
  401: ['Unauthorized', 'Unauthorized'],
  404: ['NotFound', 'Not Found'],
  405: ['MethodNotAllowed', 'Method Not Allowed'],
  429: ['TooManyRequests', 'Too Many Requests'],
  500: ['InternalServerError', 'Internal Server Error'],
  503: ['ServiceUnavailable', 'Service Unavailable'],
};

/** Uplynk's error shape; the message goes in `description` so that `title` stays the status phrase. */
function error(status: number, message: string, code?: string): Reply {
  const [defaultCode, title] = CODES[status] ?? ['Error', 'Error'];
  return json(status, {
    '@type': 'Error',
    code: code ?? defaultCode,
    status_code: status,
    title,
    description: message,
  });
}

function libraryHead(l: LibraryRecord) {
  return {
    '@id': `/api/v4/libraries/${l.id}`,
    '@type': 'Library',
    id: l.id,
    desc: l.desc,
    owner_name: l.owner_name,
    library_type: 'owner',
  };
}

/** Uplynk API v4 library membership (docs/vendor-contracts.md). */
export function createUplynkApi(store: UplynkStore): VendorApi {
  const library = (ctx: RequestContext): LibraryRecord => {
    const id = ctx.params.get('library_id');
    const l = store.libraries.get(id);
    if (!l) throw new ReplyError(error(404, `Library ${id} was not found.`));
    return l;
  };

  const router = new Router()
    .add('DELETE /libraries/{library_id}/assets', (ctx) => {
      const l = library(ctx);
      const ids = (ctx.query.get('ids') ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean);
      if (ids.length === 0) return error(400, 'The ids query parameter must list at least one asset ID.');
      let removed = 0;
      // IDs that are not in the library are ignored, as the vendor does (docs/vendor-contracts.md).
      for (const id of ids) if (l.asset_ids.delete(id)) removed++;
      return json(200, { ...libraryHead(l), message: 'Assets removed successfully.' }, removed > 0);
    })
    // Sandbox convenience for verification; docs/vendor-contracts.md documents no such read.
    .add('GET /libraries/{library_id}', (ctx) => {
      const l = library(ctx);
      return json(200, { ...libraryHead(l), asset_ids: [...l.asset_ids] });
    });

  return {
    system: 'uplynk',
    base: BASE_PATHS.uplynk,
    router,
    authenticate({ query, now }) {
      const why = verifyUplynk(query, store, now);
      return why === undefined ? undefined : error(401, why);
    },
    error,
  };
}
