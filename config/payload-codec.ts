/**
 * How the project's payloads travel to Temporal: large ones compressed. A chunk's record (its items and
 * ledger, ~0.45 MB of JSON for 500 items) reaches the parent's history in full as the chunk's result, and
 * the server suggests continuing as new once a history holds ~4 MB: the parent then starts no chunk until
 * those running have finished. Compressed, the same record is about a tenth of that, so the parent's
 * history fills ~10× more slowly and large runs drain their window ~10× less often; histories, heartbeats
 * and the server's database shrink alike.
 *
 * Payloads below `COMPRESS_FROM_BYTES` stay as they are (inputs, signals, summaries, memos), readable in the
 * Web UI and by `temporal workflow show` without help. Larger ones are zlib-compressed whole (the Payload
 * message, metadata included) under the encoding `binary/zlib`, the format of the Go SDK's `ZlibCodec`;
 * `client/codec-server.ts` decodes them for the Web UI and the Temporal CLI (`--codec-endpoint`).
 *
 * Every worker and client of the project must use `dataConverter`: one without it reads a compressed payload
 * as bytes it cannot parse. Payloads written before this codec are decoded as they are.
 */
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';
import type { DataConverter, LoadedDataConverter, Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: its namespace comes as the default export under ESM.
import proto from '@temporalio/proto';

/** The metadata encoding of a compressed payload (as the Go SDK's `ZlibCodec` writes it). */
export const COMPRESSED_ENCODING = 'binary/zlib';

/** Payloads of this many bytes and more are compressed. */
export const COMPRESS_FROM_BYTES = 16 * 1024;

/**
 * A compressed payload inflates to this at most (a chunk's record of 2,000 items is ~1.7 MB): more is
 * refused, so that a few bytes sent to the codec endpoint cannot fill its memory.
 */
export const MAX_INFLATED_BYTES = 128 * 1024 * 1024;

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const encodingKey = 'encoding';

/** The payload's metadata encoding as text, if any. */
export function encodingOf(payload: Payload): string | undefined {
  const raw = payload.metadata?.[encodingKey];
  return raw ? Buffer.from(raw).toString('utf8') : undefined;
}

/**
 * Compresses payloads of `minBytes` and more when that makes them smaller; decodes compressed payloads and
 * passes any other through. Compression runs on libuv's thread pool, off the worker's main thread.
 */
export class CompressionCodec implements PayloadCodec {
  constructor(private readonly minBytes = COMPRESS_FROM_BYTES) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => this.encodeOne(p)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => decodeOne(p)));
  }

  private async encodeOne(payload: Payload): Promise<Payload> {
    if ((payload.data?.byteLength ?? 0) < this.minBytes) return payload;
    const whole = ProtoPayload.encode(payload).finish();
    const compressed = await deflateAsync(whole);
    if (compressed.byteLength >= whole.byteLength) return payload;
    return {
      metadata: { [encodingKey]: Buffer.from(COMPRESSED_ENCODING) },
      data: new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength),
    };
  }
}

async function decodeOne(payload: Payload): Promise<Payload> {
  if (encodingOf(payload) !== COMPRESSED_ENCODING) return payload;
  if (!payload.data) throw new Error(`a ${COMPRESSED_ENCODING} payload without data`);
  let inflated: Buffer;
  try {
    inflated = await inflateAsync(payload.data, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new Error(`a ${COMPRESSED_ENCODING} payload that does not inflate: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const decoded = ProtoPayload.decode(inflated);
  return { metadata: decoded.metadata, data: decoded.data };
}

/** The data converter of every worker and client of the project. */
export const dataConverter: DataConverter = { payloadCodecs: [new CompressionCodec()] };

/**
 * A payload read from a history or a description by hand (not through the SDK's own calls, which decode),
 * as the value it carries: the client's codecs undone in reverse order, then its payload converter.
 */
export async function valueOfPayload<T = unknown>(
  converter: LoadedDataConverter,
  payload: Payload,
): Promise<T> {
  let payloads = [payload];
  for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return converter.payloadConverter.fromPayload<T>(payloads[0]!);
}
