/**
 * A remote codec endpoint (Temporal's codec server protocol) for the project's compressed payloads
 * (config/payload-codec.ts): the Web UI (`--ui-codec-endpoint`, or `TEMPORAL_CODEC_ENDPOINT` for the UI
 * image) and the Temporal CLI (`--codec-endpoint`) post payloads to `/decode` (or `/{namespace}/decode`)
 * and show what they carry.
 * It holds no secret and reaches no system: it only inflates what it is sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { CompressionCodec } from '../config/payload-codec.js';

/** A request's body may be this large at most: a page of the Web UI's payloads. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Payloads as the codec protocol carries them: JSON, bytes in base64. */
const WirePayloads = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.base64()).nullish(),
      data: z.base64().nullish(),
    }),
  ),
});
type WirePayloads = z.infer<typeof WirePayloads>;

export interface CodecServerOptions {
  /** e.g. `127.0.0.1:8234`; port 0 picks a free one. */
  bind: string;
  /** Browser origins allowed to call it (the Web UI's), e.g. `http://127.0.0.1:8233`. */
  origins: readonly string[];
}

export interface RunningCodecServer {
  /** The endpoint to give the Web UI and the CLI, e.g. `http://127.0.0.1:8234`. */
  url: string;
  close(): Promise<void>;
}

/** Serves `POST /decode` and `POST /encode` with the project's codec, and CORS for the given origins. */
export async function serveCodec(options: CodecServerOptions): Promise<RunningCodecServer> {
  const codec = new CompressionCodec();
  const [host = '127.0.0.1', port = '0'] = options.bind.split(/:(?=\d+$)/);
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin && options.origins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    // `/decode`, or `/{namespace}/decode` for an endpoint given with the CLI's `{namespace}` template.
    const op = /^(?:\/[^/]+)?\/(decode|encode)$/.exec(
      new URL(req.url ?? '/', 'http://codec').pathname,
    )?.[1] as 'decode' | 'encode' | undefined;
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.writeHead(op ? 204 : 404).end();
      return;
    }
    if (!op) return reply(res, 404, { error: 'POST /decode or /encode' });
    if (req.method !== 'POST') return reply(res, 405, { error: `${op} takes POST` });
    const body = await readBody(req);
    if (body === undefined) return reply(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    let parsed: WirePayloads;
    try {
      parsed = WirePayloads.parse(JSON.parse(body.toString('utf8')));
    } catch (error) {
      const message = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
      return reply(res, 400, { error: `not a {"payloads": [...]} body: ${message}` });
    }
    const payloads = parsed.payloads.map(fromWire);
    let out: Payload[];
    try {
      out = op === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
    } catch (error) {
      // A payload that says it is compressed and is not (or inflates past the bound).
      return reply(res, 400, { error: (error as Error).message });
    }
    reply(res, 200, { payloads: out.map(toWire) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), host, resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : Number(port);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The body, or undefined when it is larger than `MAX_BODY_BYTES`. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    parts.push(part);
  }
  return Buffer.concat(parts);
}

function fromWire(p: WirePayloads['payloads'][number]): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    ...(p.data == null ? {} : { data: Buffer.from(p.data, 'base64') }),
  };
}

function toWire(p: Payload): { metadata: Record<string, string>; data?: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    ...(p.data ? { data: Buffer.from(p.data).toString('base64') } : {}),
  };
}
