/**
 * Minimal raw HTTP calls to the sandbox as each vendor's documentation describes them. Deliberately not
 * the project's connectors: these tests pin the wire contract the connectors are written against.
 */
import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body; `undefined` for an empty body. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary vendor JSON
}

async function call(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, body };
}

export function twelvelabs(base: string, apiKey: string | undefined) {
  return (method: string, path: string, body?: unknown, rawBody?: string): Promise<Answer> =>
    call(`${base}/twelvelabs/v1.3${path}`, {
      method,
      headers: {
        ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }),
        ...(body === undefined && rawBody === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(rawBody !== undefined
        ? { body: rawBody }
        : body === undefined
          ? {}
          : { body: JSON.stringify(body) }),
    });
}

/** Signs as Uplynk's v4 documentation says: base64(zlib(JSON)) and hex HMAC-SHA256 with the API key. */
export function uplynkSignature(ownerId: string, apiKey: string, timestamp = Math.floor(Date.now() / 1000)) {
  const msg = deflateSync(JSON.stringify({ _owner: ownerId, _timestamp: timestamp })).toString('base64');
  const sig = createHmac('sha256', apiKey).update(msg).digest('hex');
  return { msg, sig };
}

export function uplynk(base: string, ownerId: string, apiKey: string) {
  return (method: string, path: string, params: Record<string, string> = {}, timestamp?: number) => {
    const query = new URLSearchParams({ ...params, ...uplynkSignature(ownerId, apiKey, timestamp) });
    return call(`${base}/uplynk/api/v4${path}?${query.toString()}`, { method });
  };
}

export function entermedia(base: string, key: string | undefined) {
  return (action: 'deleteassets' | 'search', body: unknown, rawBody?: string) =>
    call(`${base}/entermedia/assets/mediadb/services/module/asset/${action}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { cookie: `entermedia.key=${key}` }),
      },
      body: rawBody ?? JSON.stringify(body),
    });
}

/** A 24-hex TwelveLabs ID made from a small number, readable in failures: hexId(1) = "000...001". */
export function hexId(n: number): string {
  return n.toString(16).padStart(24, '0');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
