/**
 * The level-1 gzip codec of `run`'s own topics (compression.ts): kafkajs uses it once installed,
 * a record batch it compresses decodes to the same records through kafkajs's own decoder, and
 * gzip written at another level (kafkajs's default, a sensor's producer) still reads.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, loaded in a registry of their own */
import zlib from 'node:zlib';

import type * as Compression from './compression';

type Encoded = { buffer: Buffer };
interface Kafkajs {
  readonly compression: typeof Compression;
  readonly lookupCodec: (type: number) => unknown;
  readonly RecordBatch: (args: Record<string, unknown>) => Promise<Encoded>;
  readonly Record: (args: { offsetDelta: number; key: Buffer; value: Buffer }) => Encoded;
  readonly decodeBatch: (decoder: unknown) => Promise<{ records: { key: Buffer; value: Buffer }[] }>;
  readonly Decoder: new (buffer: Buffer) => { readInt64(): unknown; readInt32(): number; readInt8(): number };
}

function load(): Kafkajs {
  let out: Kafkajs | undefined;
  jest.isolateModules(() => {
    const compression = require('./compression') as typeof Compression;
    compression.installFastGzip();
    out = {
      compression,
      lookupCodec: (require('kafkajs/src/protocol/message/compression') as { lookupCodec: Kafkajs['lookupCodec'] }).lookupCodec,
      RecordBatch: (require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: Kafkajs['RecordBatch'] }).RecordBatch,
      Record: require('kafkajs/src/protocol/recordBatch/record/v0') as Kafkajs['Record'],
      decodeBatch: require('kafkajs/src/protocol/recordBatch/v0/decoder') as Kafkajs['decodeBatch'],
      Decoder: require('kafkajs/src/protocol/decoder') as Kafkajs['Decoder'],
    };
  });
  if (out === undefined) throw new Error('not loaded');
  return out;
}

/** Changelog-like entries: JSON whose keys repeat, values that differ. */
const entries = Array.from({ length: 500 }, (_, i) => ({
  key: Buffer.from(`f|1:${String(i).padStart(27, 'x')}=`),
  value: Buffer.from(JSON.stringify({ t: 'flow', conns: [{ key: `|C${i}`, seq: i, stage: 'e', conn: { tsUs: 1_258_560_000_000_000 + i * 1_000, origH: `10.0.${i % 256}.1`, origP: 1024 + i, respH: '192.168.1.1', respP: 80 } }] })),
}));

async function batchOf(k: Kafkajs, compression: number): Promise<Buffer> {
  const records = entries.map((e, i) => k.Record({ offsetDelta: i, key: e.key, value: e.value }));
  return (await k.RecordBatch({ compression, records, lastOffsetDelta: entries.length - 1 })).buffer;
}

describe('compression of the internal topics', () => {
  const k = load();

  it('is what kafkajs uses for gzip once installed', () => {
    expect(k.lookupCodec(k.compression.INTERNAL_COMPRESSION)).toBe(k.compression.fastGzipCodec);
  });

  it('writes record batches that kafkajs decodes to the same records, several times smaller', async () => {
    const plain = await batchOf(k, 0);
    const gzipped = await batchOf(k, k.compression.INTERNAL_COMPRESSION);
    expect(gzipped.length * 4).toBeLessThan(plain.length);
    const d = new k.Decoder(gzipped);
    // decodeBatch reads from the batch's first offset; the magic byte at its offset 16 is the fetch layer's.
    const { records } = await k.decodeBatch(d);
    expect(records.map((r) => r.key.toString())).toEqual(entries.map((e) => e.key.toString()));
    expect(records.map((r) => r.value.toString())).toEqual(entries.map((e) => e.value.toString()));
  });

  it('compresses at level 1: the bytes zlib writes at that level', async () => {
    const input = Buffer.concat(entries.map((e) => e.value));
    const out = await k.compression.fastGzipCodec.compress({ buffer: input });
    expect(out).toEqual(zlib.gzipSync(input, { level: 1 }));
    expect(out).not.toEqual(zlib.gzipSync(input));
  });

  it('reads gzip written at any level', async () => {
    const input = Buffer.concat(entries.map((e) => e.value));
    for (const level of [1, 6, 9]) expect(await k.compression.fastGzipCodec.decompress(zlib.gzipSync(input, { level }))).toEqual(input);
  });
});
