import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  defaultFailureConverter,
  defaultPayloadConverter,
  type LoadedDataConverter,
  type Payload,
} from '@temporalio/common';
import {
  COMPRESSED_ENCODING,
  COMPRESS_FROM_BYTES,
  CompressionCodec,
  MAX_INFLATED_BYTES,
  dataConverter,
  encodingOf,
  valueOfPayload,
} from '../../config/payload-codec.js';

/** A chunk record's shape: items and ledger entries with hex IDs and timestamps. */
function record(items: number) {
  const hex = () => randomBytes(12).toString('hex');
  return {
    items: Array.from({ length: items }, (_, i) => ({
      item: `item-${i}`,
      systems: ['twelvelabs', 'uplynk', 'entermedia'],
      state: 'done',
      absent: [],
      notes: [],
      at: new Date(Date.UTC(2026, 10, 24, 1, 0, 0, i * 7)).toISOString(),
    })),
    ledger: Array.from({ length: items }, (_, i) => ({
      item: `item-${i}`,
      system: 'twelvelabs',
      step: 'delete-asset',
      target: hex(),
      answer: 'deleted',
      at: new Date(Date.UTC(2026, 10, 24, 1, 0, 0, i * 9)).toISOString(),
    })),
  };
}

describe('payload codec: large payloads compressed', () => {
  const codec = new CompressionCodec();

  it('leaves a payload under the threshold as it is, readable without the codec', async () => {
    const small = defaultPayloadConverter.toPayload(record(2));
    assert.ok((small.data?.byteLength ?? 0) < COMPRESS_FROM_BYTES);
    const [encoded] = await codec.encode([small]);
    assert.equal(encoded, small);
    assert.equal(encodingOf(encoded), 'json/plain');
  });

  it('compresses a chunk-sized record to under a fifth and gives it back whole', async () => {
    const value = record(500);
    const payload = defaultPayloadConverter.toPayload(value);
    const [encoded] = await codec.encode([payload]);
    assert.equal(encodingOf(encoded!), COMPRESSED_ENCODING);
    const stored = encoded!.data!.byteLength;
    const raw = payload.data!.byteLength;
    assert.ok(stored * 5 < raw, `${stored} bytes stored for ${raw}`);
    const [decoded] = await codec.decode([encoded!]);
    assert.deepEqual(Object.keys(decoded!.metadata ?? {}), Object.keys(payload.metadata ?? {}));
    assert.equal(encodingOf(decoded!), 'json/plain');
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), value);
  });

  it('keeps a large payload that does not compress as it is', async () => {
    const noise: Payload = {
      metadata: { encoding: Buffer.from('binary/plain') },
      data: randomBytes(COMPRESS_FROM_BYTES * 2),
    };
    const [encoded] = await codec.encode([noise]);
    assert.equal(encoded, noise);
  });

  it('decodes payloads written before the codec (or by a client without it) as they are', async () => {
    const plain = defaultPayloadConverter.toPayload(record(300));
    const [decoded] = await codec.decode([plain]);
    assert.equal(decoded, plain);
  });

  it('reads a payload taken from a history by hand through the data converter', async () => {
    // What a client built with `dataConverter` holds.
    const loaded: LoadedDataConverter = {
      payloadConverter: defaultPayloadConverter,
      failureConverter: defaultFailureConverter,
      payloadCodecs: dataConverter.payloadCodecs ?? [],
    };
    const value = record(400);
    const [stored] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    assert.equal(encodingOf(stored!), COMPRESSED_ENCODING);
    assert.deepEqual(await valueOfPayload(loaded, stored!), value);
    assert.deepEqual(await valueOfPayload(loaded, defaultPayloadConverter.toPayload({ small: 1 })), {
      small: 1,
    });
  });

  it('names a compressed payload that has lost its data', async () => {
    await assert.rejects(
      codec.decode([{ metadata: { encoding: Buffer.from(COMPRESSED_ENCODING) } }]),
      /binary\/zlib payload without data/,
    );
  });

  it('refuses a payload that inflates past the bound, or is not compressed data at all', async () => {
    const bomb = deflateSync(Buffer.alloc(MAX_INFLATED_BYTES + 1));
    await assert.rejects(
      codec.decode([{ metadata: { encoding: Buffer.from(COMPRESSED_ENCODING) }, data: bomb }]),
      /binary\/zlib payload that does not inflate: .*(larger|buffer)/i,
    );
    await assert.rejects(
      codec.decode([
        { metadata: { encoding: Buffer.from(COMPRESSED_ENCODING) }, data: Buffer.from('plain') },
      ]),
      /binary\/zlib payload that does not inflate/,
    );
  });
});
