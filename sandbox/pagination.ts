import { ReplyError, type Reply } from './reply.js';

/** TwelveLabs paging: `page` from 1, `page_limit` 1..50 (default 10). */
export interface PageRequest {
  page: number;
  limit: number;
}

const MAX_PAGE_LIMIT = 50;
const DEFAULT_PAGE_LIMIT = 10;

/** Reads `page` and `page_limit`; a bad value throws the vendor's 400 (`parameter_invalid`). */
export function readPage(
  query: URLSearchParams,
  error: (status: number, message: string, code?: string) => Reply,
): PageRequest {
  const page = positiveInt(query.get('page'), 1);
  if (page === undefined)
    throw new ReplyError(error(400, 'page must be an integer of at least 1', 'parameter_invalid'));
  const limit = positiveInt(query.get('page_limit'), DEFAULT_PAGE_LIMIT);
  if (limit === undefined || limit > MAX_PAGE_LIMIT)
    throw new ReplyError(
      error(400, `page_limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, 'parameter_invalid'),
    );
  return { page, limit };
}

function positiveInt(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 ? n : undefined;
}

/** One page of `items`; a page past the end is empty (the official SDK's pager stops on an empty page). */
export function pageOf<T, R>(items: readonly T[], req: PageRequest, view: (x: T) => R) {
  const start = (req.page - 1) * req.limit;
  const data: R[] = [];
  for (let i = start; i < items.length && i < start + req.limit; i++) data.push(view(items[i] as T));
  return {
    data,
    page_info: {
      limit_per_page: req.limit,
      page: req.page,
      total_page: Math.ceil(items.length / req.limit),
      total_results: items.length,
    },
  };
}
