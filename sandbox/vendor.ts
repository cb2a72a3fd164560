import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from './reply.js';
import type { Router } from './router.js';

export type SystemName = 'twelvelabs' | 'uplynk' | 'entermedia';

/** One vendor's stand-in: where it lives, its routes, how it authenticates and how its errors look. */
export interface VendorApi {
  system: SystemName;
  /** Base path under the sandbox's URL, e.g. `/twelvelabs/v1.3`. */
  base: string;
  router: Router;
  /** `undefined` when the request may proceed, else the vendor's 401. */
  authenticate(req: { headers: IncomingHttpHeaders; query: URLSearchParams; now: number }): Reply | undefined;
  /** An error in the vendor's shape; `code` defaults to the vendor's code for `status`. */
  error(status: number, message: string, code?: string): Reply;
}

/** Base paths of the three systems under the sandbox's URL. */
export const BASE_PATHS: Readonly<Record<SystemName, string>> = {
  twelvelabs: '/twelvelabs/v1.3',
  uplynk: '/uplynk/api/v4',
  entermedia: '/entermedia',
};
