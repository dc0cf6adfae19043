/**
 * The CRC-32C fix (src/source/kafkajs-crc32c.ts) computes kafkajs's checksum: the same value on the
 * standard check input and on random buffers, and produce requests encoded with and without it,
 * each in a module registry of its own, are byte for byte the same.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, loaded per registry */
import { randomBytes } from 'node:crypto';

import { produceRequest, type ProduceV3 } from '../helpers/kafkajs-produce';

type Checksum = (buffer: Buffer) => number;

function load(fixed: boolean): { crc: Checksum; produce: ProduceV3; installed?: string } {
  let out: { crc: Checksum; produce: ProduceV3; installed?: string } | undefined;
  jest.isolateModules(() => {
    const installed = fixed ? (require('../../src/source/kafkajs-crc32c') as { installCrc32cFix(): string }).installCrc32cFix() : undefined;
    out = {
      crc: require('kafkajs/src/protocol/recordBatch/crc32C') as Checksum,
      produce: require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceV3,
      ...(installed === undefined ? {} : { installed }),
    };
  });
  if (out === undefined) throw new Error('not loaded');
  return out;
}

const PAYLOADS = [randomBytes(200_000), randomBytes(200_001)];

const messages = (partition: number): readonly unknown[] => [
  { key: 'f|1:abc=', value: PAYLOADS[partition], timestamp: '1700000000000' },
  { key: 'f|1:tomb=', value: null, timestamp: '1700000000001' },
];

describe('kafkajs CRC-32C fix', () => {
  const shipped = load(false);
  const fixed = load(true);

  it('is the native checksum on this platform', () => {
    // @node-rs/crc32 ships a binary for linux-x64 (glibc and musl), the platforms CI and the image run on.
    expect(fixed.installed).toBe('native');
    expect(fixed.crc).not.toBe(shipped.crc);
  });

  it('gives the CRC-32C check value and kafkajs own checksum on every buffer', () => {
    // The check value of CRC-32C (Castagnoli) over the ASCII digits 1 to 9.
    expect(fixed.crc(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(shipped.crc(Buffer.from('123456789'))).toBe(0xe3069283);
    for (const size of [0, 1, 7, 8, 9, 63, 64, 65, 4096, 1_000_003]) {
      const b = randomBytes(size);
      expect(fixed.crc(b)).toBe(shipped.crc(b));
    }
    // Unsigned, as kafkajs writes it.
    const high = [...Array(200).keys()].map((i) => fixed.crc(randomBytes(32 + i)));
    expect(high.every((v) => v >= 0 && v <= 0xffffffff && Number.isInteger(v))).toBe(true);
    expect(high.some((v) => v > 0x7fffffff)).toBe(true);
  });

  it('encodes produce requests byte for byte as kafkajs does', async () => {
    const a = await produceRequest(shipped.produce, messages).encode();
    const b = await produceRequest(fixed.produce, messages).encode();
    expect(b.buffer.length).toBeGreaterThan(400_000);
    expect(b.buffer.equals(a.buffer)).toBe(true);
  });

  it('is installed by installKafkajsFixes, with the other fixes', () => {
    jest.isolateModules(() => {
      (require('../../src/source/kafkajs-fixes') as { installKafkajsFixes(): void }).installKafkajsFixes();
      const crc = require('kafkajs/src/protocol/recordBatch/crc32C') as Checksum;
      expect(crc).not.toBe(shipped.crc);
      expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
    });
  });

  it('refuses to install once the record batch encoder has taken the shipped checksum', () => {
    jest.isolateModules(() => {
      require('kafkajs/src/protocol/recordBatch/v0');
      const fix = require('../../src/source/kafkajs-crc32c') as { installCrc32cFix: () => string };
      expect(() => fix.installCrc32cFix()).toThrow(/before the CRC-32C fix/);
    });
  });
});
