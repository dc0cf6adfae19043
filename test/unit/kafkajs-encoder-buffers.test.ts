/**
 * The encoder buffer fix (src/source/kafkajs-encoder-buffers.ts) changes no byte on the wire:
 * produce requests encoded by kafkajs as shipped and with the fix installed, each in a module
 * registry of its own, are byte for byte the same.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, loaded per registry */

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

function loadProduce(fixed: boolean): { produce: ProduceV3; record: (a: Record<string, unknown>) => RecordEncoder } {
  let out: { produce: ProduceV3; record: (a: Record<string, unknown>) => RecordEncoder } | undefined;
  jest.isolateModules(() => {
    if (fixed) (require('../../src/source/kafkajs-encoder-buffers') as { installEncoderBufferFix(): void }).installEncoderBufferFix();
    out = {
      produce: require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceV3,
      record: require('kafkajs/src/protocol/recordBatch/record/v0') as (a: Record<string, unknown>) => RecordEncoder,
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
});
