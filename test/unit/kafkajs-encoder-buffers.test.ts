/**
 * The encoder buffer fix (src/source/kafkajs-encoder-buffers.ts) changes no byte on the wire:
 * produce requests encoded by kafkajs as shipped and with the fix installed, each in a module
 * registry of its own, are byte for byte the same.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, loaded per registry */

import fc from 'fast-check';

import { produceRequest, type ProduceV3 } from '../helpers/kafkajs-produce';

interface RecordEncoder {
  buf: Buffer;
  offset: number;
}

const LONG_TEXT = 'é→𝄞 '.repeat(40_000); // multi-byte UTF-8, about 400 kB
const messages = (p: number) => [
  { key: 'f|1:abc=', value: Buffer.from('{"t":"flow"}'), timestamp: '1700000000000' },
  { key: 'f|1:tomb=', value: null, timestamp: '1700000000001' },
  { key: null, value: 'x'.repeat(511), timestamp: '1700000000002' },
  { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(5_000, p), timestamp: '1700000000003' },
  { key: 'o|conn|0', value: LONG_TEXT, timestamp: '1700000000004' },
  { key: 'h', value: '', headers: { a: 'one', b: Buffer.from('two'), c: ['three', Buffer.from('four')] }, timestamp: '1700000000009' },
];

interface Enc {
  readonly buffer: Buffer;
  writeVarInt(v: number): Enc;
  writeUVarInt(v: number): Enc;
  writeVarLong(v: number | string): Enc;
}
interface EncClass {
  new (): Enc;
  sizeOfVarLong(v: number | string): number;
}
interface Loaded {
  readonly produce: ProduceV3;
  readonly record: (a: Record<string, unknown>) => RecordEncoder;
  readonly encoder: EncClass;
}

function loadProduce(fixed: boolean): Loaded {
  let out: Loaded | undefined;
  jest.isolateModules(() => {
    if (fixed) (require('../../src/source/kafkajs-encoder-buffers') as { installEncoderBufferFix(): void }).installEncoderBufferFix();
    out = {
      produce: require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceV3,
      record: require('kafkajs/src/protocol/recordBatch/record/v0') as (a: Record<string, unknown>) => RecordEncoder,
      encoder: require('kafkajs/src/protocol/encoder') as EncClass,
    };
  });
  if (out === undefined) throw new Error('not loaded');
  return out;
}

describe('kafkajs encoder buffer fix', () => {
  it('encodes produce requests byte for byte as kafkajs does', async () => {
    const shipped = await produceRequest(loadProduce(false).produce, messages).encode();
    const fixed = await produceRequest(loadProduce(true).produce, messages).encode();
    expect(fixed.buffer.length).toBeGreaterThan(800_000);
    expect(fixed.buffer.equals(shipped.buffer)).toBe(true);
  });

  it('is installed: a record is written into a buffer of exactly its size, where kafkajs starts at 512 bytes', () => {
    const args = { key: 'k', value: 'v', offsetDelta: 0, timestampDelta: 0 };
    const shipped = loadProduce(false).record(args);
    const fixed = loadProduce(true).record(args);
    expect(shipped.buf.length).toBe(512);
    expect({ length: fixed.buf.length, offset: fixed.offset }).toEqual({ length: shipped.offset, offset: shipped.offset });
  });

  it('refuses to install once the produce request has taken the shipped record encoder', () => {
    jest.isolateModules(() => {
      require('kafkajs/src/protocol/requests/produce/v3/request');
      const fix = require('../../src/source/kafkajs-encoder-buffers') as { installEncoderBufferFix: () => void };
      expect(() => {
        fix.installEncoderBufferFix();
      }).toThrow(/before the encoder buffer fix/);
    });
  });

  describe('varints', () => {
    const shipped = loadProduce(false).encoder;
    const fixed = loadProduce(true).encoder;
    // Edges of each byte count and of the number arithmetic, then arbitrary values.
    const edges = [0, 1, -1, 63, -64, 64, -65, 127, 128, 8191, 8192, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 52 - 1, -(2 ** 52 - 1), 2 ** 52, 2 ** 53 - 1, -(2 ** 53 - 1)];
    const int32 = fc.oneof(fc.constantFrom(...edges.filter((v) => v >= -(2 ** 31) && v < 2 ** 31)), fc.integer());
    const int64 = fc.oneof(fc.constantFrom(...edges), fc.maxSafeInteger(), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String));

    it('writeVarInt and writeUVarInt write what kafkajs writes', () => {
      fc.assert(fc.property(fc.array(int32, { minLength: 1, maxLength: 200 }), (vs) => {
        const a = new shipped();
        const b = new fixed();
        for (const v of vs) {
          a.writeVarInt(v).writeUVarInt(v);
          b.writeVarInt(v).writeUVarInt(v);
        }
        expect(b.buffer.equals(a.buffer)).toBe(true);
      }), { numRuns: 300 });
    });

    it('writeVarLong and sizeOfVarLong write and count what kafkajs does, numbers and strings', () => {
      fc.assert(fc.property(fc.array(int64, { minLength: 1, maxLength: 200 }), (vs) => {
        const a = new shipped();
        const b = new fixed();
        for (const v of vs) {
          const before = b.buffer.length;
          a.writeVarLong(v);
          b.writeVarLong(v);
          expect(fixed.sizeOfVarLong(v)).toBe(shipped.sizeOfVarLong(v));
          expect(b.buffer.length - before).toBe(shipped.sizeOfVarLong(v));
        }
        expect(b.buffer.equals(a.buffer)).toBe(true);
      }), { numRuns: 300 });
    });
  });
});
