/** What a route answers; the server writes it (or drops the connection when a fault says so). */
export interface Reply {
  status: number;
  /** Serialized as JSON; `undefined` means an empty body (e.g. 204). */
  body?: unknown;
  /** A large JSON body as text chunks, written with backpressure; wins over `body`. */
  stream?: () => Iterable<string>;
  headers?: Record<string, string>;
  /** True when the request changed the state: counted in stats and triggers persistence. */
  mutated?: boolean;
}

export function json(status: number, body: unknown, mutated = false): Reply {
  return { status, body, mutated };
}

/** A thrown reply: lets a helper deep in a route stop the request with a vendor-shaped error. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`reply ${reply.status}`);
  }
}
