/** Uplynk API v4 library membership (API.md §2), every request signed as it starts. */
import { z } from 'zod';
import { createHttpClient, type CallRetryOptions } from './http-client.js';
import { safeId, segment } from './url-ids.js';
import type { RateLimiter } from './rate-limiter.js';
import { signUplynkRequest } from './uplynk-signing.js';

export const UplynkLibrary = z.object({
  '@type': z.literal('Library'),
  id: z.string().min(1),
  desc: z.string().optional(),
  message: z.string().optional(),
});
export type UplynkLibrary = z.infer<typeof UplynkLibrary>;

/**
 * URLs are kept under this many characters (base URL, path, `ids`, `msg` and `sig` included): many
 * proxies and servers refuse longer ones, and Uplynk publishes no limit of its own.
 */
export const UPLYNK_MAX_URL_LENGTH = 2000;

export interface UplynkClient {
  /** DELETE /libraries/{library_id}/assets?ids=a,b,c: IDs not in the library are ignored (200). */
  removeAssets(libraryId: string, assetIds: readonly string[]): Promise<UplynkLibrary>;
  /**
   * Cuts one library's asset IDs into groups whose request URL stays within `UPLYNK_MAX_URL_LENGTH`.
   * @throws RangeError if a single ID cannot fit (IDs are at most 64 characters, so it always fits).
   */
  groupForUrl(libraryId: string, assetIds: readonly string[]): string[][];
}

export function createUplynkClient(options: {
  baseUrl: string;
  ownerId: string;
  apiKey: string;
  timeoutMs: number;
  limiter: RateLimiter;
  secrets: readonly string[];
  maxUrlLength?: number;
  retry?: CallRetryOptions | undefined;
}): UplynkClient {
  const sign = () => ({ ...signUplynkRequest(options.ownerId, options.apiKey) });
  const http = createHttpClient({
    system: 'uplynk',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    limiter: options.limiter,
    secrets: options.secrets,
    ...(options.retry ? { retry: options.retry } : {}),
    signParams: sign,
  });
  const maxUrlLength = options.maxUrlLength ?? UPLYNK_MAX_URL_LENGTH;
  const pathOf = (libraryId: string) => `/libraries/${segment(libraryId, 'Uplynk library ID')}/assets`;

  // Measured as the HTTP client will send it: URLSearchParams encoding (a comma becomes %2C) and a real signature,
  // whose length only changes with the number of digits in the timestamp; the margin covers that.
  const encodedLength = (text: string) => new URLSearchParams({ x: text }).toString().length - 2;
  const COMMA = encodedLength(',');
  const MARGIN = 16;
  function emptyUrlLength(libraryId: string): number {
    const query = new URLSearchParams({ ids: '', ...sign() }).toString();
    return `${options.baseUrl.replace(/\/$/, '')}${pathOf(libraryId)}?${query}`.length + MARGIN;
  }

  return {
    removeAssets: (libraryId, assetIds) =>
      http.call({
        method: 'DELETE',
        route: '/libraries/{library_id}/assets',
        path: pathOf(libraryId),
        target: libraryId,
        searchParams: { ids: assetIds.map((id) => safeId(id, 'Uplynk asset ID')).join(',') },
        schema: UplynkLibrary,
      }),
    groupForUrl(libraryId, assetIds) {
      const fixed = emptyUrlLength(libraryId);
      const groups: string[][] = [];
      let current: string[] = [];
      let length = fixed;
      for (const id of assetIds) {
        const added = encodedLength(id);
        if (current.length > 0 && length + COMMA + added > maxUrlLength) {
          groups.push(current);
          current = [];
          length = fixed;
        }
        if (current.length === 0 && fixed + added > maxUrlLength) {
          throw new RangeError(`Uplynk asset ID ${id} does not fit in a URL of ${maxUrlLength} characters`);
        }
        length += (current.length > 0 ? COMMA : 0) + added;
        current.push(id);
      }
      if (current.length > 0) groups.push(current);
      return groups;
    },
  };
}
