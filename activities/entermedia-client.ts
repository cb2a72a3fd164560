/** EnterMediaDB's asset module (API.md §3), authenticated by the `entermedia.key` session cookie. */
import { z } from 'zod';
import { CallError, ErrorTypes, describeSite, redact } from './http-errors.js';
import { createHttpClient, type CallRetryOptions } from './http-client.js';
import type { RateLimiter } from './rate-limiter.js';

const MODULE = '/assets/mediadb/services/module/asset';

// rowsedited is a string in the documented answer ("1"); a number is accepted too, as the same count.
const DeleteAnswer = z.object({
  response: z.object({
    status: z.string(),
    rowsedited: z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).optional(),
    message: z.string().optional(),
  }),
});

const SearchAnswer = z.object({
  response: z.object({ status: z.string(), totalhits: z.coerce.number().int().min(0).optional() }),
  results: z.array(z.object({ id: z.coerce.string() }).loose()).default([]),
});

export interface EnterMediaClient {
  /** deleteassets: answers the number of rows the server says it deleted (0: the asset was not there). */
  deleteAsset(assetId: string): Promise<number>;
  /** search with the term id exact: true when the asset is still found. */
  exists(assetId: string): Promise<boolean>;
}

export function createEnterMediaClient(options: {
  baseUrl: string;
  key: string;
  timeoutMs: number;
  limiter: RateLimiter;
  secrets: readonly string[];
  retry?: CallRetryOptions | undefined;
}): EnterMediaClient {
  const http = createHttpClient({
    system: 'entermedia',
    baseUrl: options.baseUrl,
    headers: { cookie: `entermedia.key=${options.key}` },
    timeoutMs: options.timeoutMs,
    limiter: options.limiter,
    secrets: options.secrets,
    ...(options.retry ? { retry: options.retry } : {}),
  });

  /** A 200 whose `response.status` is not "ok" is the vendor saying no without an HTTP status. */
  function refused(route: string, assetId: string, message: string | undefined): CallError {
    const said = message ? `: ${redact(message, options.secrets)}` : '';
    return new CallError({
      disposition: 'item',
      type: ErrorTypes.UnexpectedResponse,
      message: `${describeSite({ system: 'entermedia', method: 'POST', route, target: assetId })} answered 200 with status "error"${said}`,
      status: 200,
    });
  }

  return {
    async deleteAsset(assetId) {
      const route = `${MODULE}/deleteassets`;
      const answer = await http.call({
        method: 'POST',
        route,
        path: route,
        target: assetId,
        json: { assetid: assetId },
        schema: DeleteAnswer,
      });
      if (answer.response.status !== 'ok') throw refused(route, assetId, answer.response.message);
      if (answer.response.rowsedited === undefined) {
        throw new CallError({
          disposition: 'item',
          type: ErrorTypes.UnexpectedResponse,
          message: `${describeSite({ system: 'entermedia', method: 'POST', route, target: assetId })} answered status "ok" without rowsedited: whether it deleted the asset is unknown`,
          status: 200,
          mayHaveApplied: true,
        });
      }
      return Number(answer.response.rowsedited);
    },
    async exists(assetId) {
      const route = `${MODULE}/search`;
      const answer = await http.call({
        method: 'POST',
        route,
        path: route,
        target: assetId,
        json: {
          page: 1,
          hitsperpage: 20,
          query: { terms: [{ field: 'id', operator: 'exact', value: assetId }] },
        },
        schema: SearchAnswer,
      });
      if (answer.response.status !== 'ok') throw refused(route, assetId, undefined);
      return answer.results.some((hit) => hit.id === assetId);
    },
  };
}
