import { z } from 'zod';
import { json, type Reply } from './reply.js';
import { Router } from './router.js';
import type { EnterMediaStore } from './entermedia-store.js';
import type { DamAssetSeed } from './state-schema.js';
import { BASE_PATHS, type VendorApi } from './vendor.js';

const MODULE = '/assets/mediadb/services/module/asset';

function error(status: number, message: string): Reply {
  return json(status, { response: { status: 'error', message } });
}

const DeleteBody = z.object({ assetid: z.string().min(1) });

const Term = z.object({
  field: z.enum(['id', 'name']),
  operator: z.enum(['exact', 'matches']),
  value: z.string(),
});
const SearchBody = z.object({
  page: z.coerce.number().int().min(1).default(1),
  hitsperpage: z.coerce.number().int().min(1).max(1000).default(20),
  query: z.object({ terms: z.array(Term).min(1) }),
});

/** `exact` compares whole values; `matches` treats `*` as any run of characters (so `*` alone is everything). */
function termFilter(term: z.infer<typeof Term>): (a: DamAssetSeed) => boolean {
  if (term.operator === 'exact' || !term.value.includes('*')) return (a) => a[term.field] === term.value;
  if (term.value.replaceAll('*', '') === '') return () => true;
  const pattern = new RegExp(
    `^${term.value
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return (a) => pattern.test(a[term.field]);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** EnterMediaDB's asset module (docs/vendor-contracts.md): delete and search. */
export function createEnterMediaApi(store: EnterMediaStore): VendorApi {
  const router = new Router()
    .add(`POST ${MODULE}/deleteassets`, (ctx) => {
      const parsed = DeleteBody.safeParse(ctx.body);
      if (!parsed.success) return error(400, 'The body must be {"assetid": "<asset id>"}.');
      // Undocumented by the vendor: an unknown asset answers 200 with rowsedited "0" (docs/vendor-contracts.md).
      const gone = store.delete(parsed.data.assetid);
      return json(200, { response: { status: 'ok', rowsedited: gone ? '1' : '0' } }, gone);
    })
    .add(`POST ${MODULE}/search`, (ctx) => {
      const parsed = SearchBody.safeParse(ctx.body ?? {});
      if (!parsed.success)
        return error(
          400,
          'The body must be {"page", "hitsperpage", "query": {"terms": [{"field": "id"|"name", "operator": "exact"|"matches", "value"}]}}.',
        );
      const { page, hitsperpage, query } = parsed.data;
      const filters = query.terms.map(termFilter);
      const exact = query.terms.find((t) => t.field === 'id' && t.operator === 'exact');
      // An exact id term is a map lookup: verification searches one asset at a time over large catalogues.
      const candidates = exact
        ? [store.assets.get(exact.value)].filter((a) => a !== undefined)
        : store.list();
      const hits = candidates.filter((a) => filters.every((f) => f(a)));
      const start = (page - 1) * hitsperpage;
      return json(200, {
        response: {
          status: 'ok',
          totalhits: hits.length,
          hitsperpage,
          page,
          pages: Math.ceil(hits.length / hitsperpage),
        },
        results: hits.slice(start, start + hitsperpage).map((a) => ({ id: a.id, name: a.name })),
      });
    });

  return {
    system: 'entermedia',
    base: BASE_PATHS.entermedia,
    router,
    authenticate({ headers }) {
      const key = cookieValue(headers.cookie, 'entermedia.key');
      if (key !== undefined && key !== '' && key === store.key) return undefined;
      return error(
        401,
        key ? 'The session key is not valid.' : 'Not logged in: send the entermedia.key cookie.',
      );
    },
    error: (status, message) => error(status, message),
  };
}
