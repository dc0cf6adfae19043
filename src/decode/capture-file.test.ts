import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  enhancedPacket, interfaceBlock, obsoletePacket, pcapFile, sectionHeader, simplePacket,
} from '../../test/helpers/pcap-writer';
import type { CaptureEvent, CaptureRecord } from './capture-file';
import { createCaptureReader, MAX_PACKET_BYTES, packetTimeS } from './capture-file';

function readAll(bytes: Uint8Array, chunk = bytes.length): CaptureEvent[] {
  const r = createCaptureReader();
  const out: CaptureEvent[] = [];
  for (let i = 0; i < bytes.length; i += chunk) out.push(...r.push(bytes.subarray(i, i + chunk)));
  out.push(...r.end());
  return out;
}

function packets(events: readonly CaptureEvent[]): CaptureRecord[] {
  return events.flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
}

function errors(events: readonly CaptureEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'error' ? [`${e.error.reason} ${e.error.detail}`] : []));
}

const A = Uint8Array.from([1, 2, 3, 4, 5]);
const B = Uint8Array.from([9, 8, 7]);

describe('pcap', () => {
  it.each([
    ['little-endian µs', { linkType: 1 }],
    ['big-endian µs', { linkType: 1, bigEndian: true }],
  ])('%s: records with link type, time, lengths and offsets', (_name, opts) => {
    const file = pcapFile(opts, [
      { tsSec: 1_700_000_000, tsFrac: 123456, data: A },
      { tsSec: 1_700_000_001, tsFrac: 999999, data: B, originalLength: 1514 },
    ]);
    const ev = readAll(file);
    expect(errors(ev)).toEqual([]);
    const p = packets(ev);
    // 24-byte file header, then a 16-byte record header before each packet.
    expect(p.map((x) => [x.record, x.offset, x.linkType, x.tsSec, x.tsUsec, x.originalLength, Array.from(x.data)])).toEqual([
      [1, 24, 1, 1_700_000_000, 123456, 5, [1, 2, 3, 4, 5]],
      [2, 24 + 16 + 5, 1, 1_700_000_001, 999999, 1514, [9, 8, 7]],
    ]);
  });

  it('nanosecond magic: microseconds truncated, as libpcap gives them to Zeek', () => {
    const p = packets(readAll(pcapFile({ linkType: 101, nanos: true }, [{ tsSec: 10, tsFrac: 123_456_999, data: A }])));
    expect([p[0]?.tsSec, p[0]?.tsUsec]).toEqual([10, 123456]);
  });

  it('the link type loses its FCS bits (LT_LINKTYPE)', () => {
    const p = packets(readAll(pcapFile({ linkType: 0x10000000 | 113 }, [{ tsSec: 1, tsFrac: 0, data: A }])));
    expect(p[0]?.linkType).toBe(113);
  });

  it('gives the same records whatever the chunking (a pipe delivers arbitrary pieces)', () => {
    const file = pcapFile({ linkType: 1 }, Array.from({ length: 20 }, (_, i) => ({ tsSec: i, tsFrac: i, data: Buffer.alloc(i * 7, i) })));
    const whole = packets(readAll(file));
    expect(whole).toHaveLength(20);
    for (const chunk of [1, 3, 16, 17, 100]) expect(packets(readAll(file, chunk))).toEqual(whole);
  });

  it('an empty input is no capture at all', () => {
    expect(readAll(new Uint8Array(0))).toEqual([]);
  });

  it('a cut-off record: error names its byte offset and record number, earlier records kept', () => {
    const file = pcapFile({ linkType: 1 }, [
      { tsSec: 1, tsFrac: 0, data: A },
      { tsSec: 2, tsFrac: 0, data: B },
    ]);
    const cut = file.subarray(0, file.length - 1);
    const ev = readAll(cut, 7);
    expect(packets(ev).map((p) => p.record)).toEqual([1]);
    // Record 2 starts after the file header (24) and record 1 (16 + 5).
    expect(errors(ev)).toEqual(['truncated_capture byte 45, record 2: the input ends inside a record: it declares 3 captured bytes, 2 are present']);
    const inHeader = readAll(file.subarray(0, 50));
    expect(errors(inHeader)).toEqual(['truncated_capture byte 45, record 2: the input ends inside a record: its 16-byte header has 5']);
  });

  it('a cut-off file header', () => {
    expect(errors(readAll(pcapFile({ linkType: 1 }, []).subarray(0, 10)))).toEqual(['truncated_capture byte 0, record 1: the file header needs 24 bytes, the input has 10']);
  });

  it('not a capture', () => {
    expect(errors(readAll(Buffer.from('{"ts":1}\n')))).toEqual(['invalid_capture byte 0, record 1: not a pcap or pcapng capture: magic 0x7b227473']);
  });

  it('a corrupt length stops the stream at that record instead of buffering it', () => {
    const file = pcapFile({ linkType: 1 }, [{ tsSec: 1, tsFrac: 0, data: A }, { tsSec: 2, tsFrac: 0, data: B }]);
    file.writeUInt32LE(MAX_PACKET_BYTES + 1, 45 + 8);
    const ev = readAll(file);
    expect(packets(ev)).toHaveLength(1);
    expect(errors(ev)).toEqual([`invalid_capture byte 45, record 2: record header claims ${MAX_PACKET_BYTES + 1} captured bytes (limit ${MAX_PACKET_BYTES}): corrupt length`]);
  });

  it('microseconds of a second or more are corrupt', () => {
    const ev = readAll(pcapFile({ linkType: 1 }, [{ tsSec: 1, tsFrac: 1_000_000, data: A }]));
    expect(errors(ev)).toEqual(['invalid_capture byte 24, record 1: record header has 1000000 microseconds: not below one second']);
  });

  it('ignores input after an error', () => {
    const r = createCaptureReader();
    expect(r.push(Buffer.from('garbage!')).map((e) => e.kind)).toEqual(['error']);
    expect(r.failed).toBe(true);
    expect(r.push(pcapFile({ linkType: 1 }, [{ tsSec: 1, tsFrac: 0, data: A }]))).toEqual([]);
    expect(r.end()).toEqual([]);
  });
});

describe('pcapng', () => {
  it('interfaces with their own link types and resolutions; EPB, SPB and obsolete PB', () => {
    const file = Buffer.concat([
      sectionHeader(),
      interfaceBlock({ linkType: 1 }), // µs (default)
      interfaceBlock({ linkType: 276, tsresol: 9 }), // ns
      interfaceBlock({ linkType: 101, tsresol: 0x80 | 10, tsoffset: 100n }), // 1/1024 s, +100 s
      enhancedPacket(0, 1_700_000_000_123_456n, A),
      enhancedPacket(1, 1_700_000_000_123_456_789n, B, 60),
      enhancedPacket(2, 5n * 1024n + 512n, A), // 5.5 s + 100 s offset
      obsoletePacket(0, 2_000_000n, B),
      // name resolution block (type 4): skipped
      Buffer.from('040000000c0000000c000000', 'hex'),
    ]);
    const ev = readAll(file, 13);
    expect(errors(ev)).toEqual([]);
    expect(packets(ev).map((p) => [p.record, p.linkType, p.tsSec, p.tsUsec, p.originalLength, p.data.length])).toEqual([
      [1, 1, 1_700_000_000, 123456, 5, 5],
      [2, 276, 1_700_000_000, 123456, 60, 3],
      [3, 101, 105, 500000, 5, 5],
      [4, 1, 2, 0, 3, 3],
    ]);
  });

  it('a simple packet block: no time (libpcap reports 0), cut to the snap length', () => {
    const file = Buffer.concat([sectionHeader(), interfaceBlock({ linkType: 1, snapLen: 4 }), simplePacket(A)]);
    const p = packets(readAll(file));
    expect(p.map((x) => [x.tsSec, x.tsUsec, x.originalLength, Array.from(x.data)])).toEqual([[0, 0, 5, [1, 2, 3, 4]]]);
  });

  it('big-endian sections, and a second section that resets the interfaces and byte order', () => {
    const file = Buffer.concat([
      sectionHeader(true), interfaceBlock({ linkType: 113 }, true), enhancedPacket(0, 3_000_001n, A, 5, true),
      sectionHeader(false), interfaceBlock({ linkType: 1 }), enhancedPacket(0, 4_000_002n, B),
    ]);
    const ev = readAll(file, 5);
    expect(errors(ev)).toEqual([]);
    expect(packets(ev).map((p) => [p.linkType, p.tsSec, p.tsUsec])).toEqual([[113, 3, 1], [1, 4, 2]]);
  });

  it('a packet on an interface the section did not describe is corrupt', () => {
    const shb = sectionHeader();
    const idb = interfaceBlock({ linkType: 1 });
    const file = Buffer.concat([shb, idb, enhancedPacket(0, 1n, A), enhancedPacket(3, 1n, A)]);
    const ev = readAll(file);
    expect(packets(ev)).toHaveLength(1);
    const at = shb.length + idb.length + enhancedPacket(0, 1n, A).length;
    expect(errors(ev)).toEqual([`invalid_capture byte ${at}, record 2: packet on interface 3, but the section describes 1`]);
  });

  it('a cut-off block and a block whose two lengths differ', () => {
    const good = Buffer.concat([sectionHeader(), interfaceBlock({ linkType: 1 }), enhancedPacket(0, 1n, A)]);
    const last = enhancedPacket(0, 2n, B);
    const cut = readAll(Buffer.concat([good, last.subarray(0, 20)]));
    expect(packets(cut)).toHaveLength(1);
    expect(errors(cut)).toEqual([`truncated_capture byte ${good.length}, record 2: the input ends inside a record: the block declares ${last.length} bytes, 20 are present`]);
    const bad = Buffer.from(last);
    bad.writeUInt32LE(999, bad.length - 4);
    expect(errors(readAll(Buffer.concat([good, bad])))).toEqual([`invalid_capture byte ${good.length}, record 2: block of type 0x6: trailing length 999 differs from ${last.length}`]);
  });

  it('an EPB whose captured length runs past its block', () => {
    const epb = enhancedPacket(0, 1n, A);
    epb.writeUInt32LE(200, 8 + 12);
    const head = Buffer.concat([sectionHeader(), interfaceBlock({ linkType: 1 })]);
    expect(errors(readAll(Buffer.concat([head, epb])))).toEqual([`invalid_capture byte ${head.length}, record 1: packet block claims 200 captured bytes, its block holds 8`]);
  });
});

describe('packet time', () => {
  it('is tv_sec + tv_usec / 1e6 in double arithmetic, as Zeek computes it', () => {
    // The corpus ts values are that same double (INDEX.md): e.g. Teredo.pcap's first TCP packet.
    expect(packetTimeS(1210953047, 736921)).toBe(1210953047.736921);
    expect(packetTimeS(1599865432, 160900)).toBe(1599865432.1609);
  });
});

describe('real captures', () => {
  // tcpdump 4.99.3 wrote these on the loopback interface (EN10MB), on `any` (SLL2, and SLL
  // with -y LINUX_SLL) and with --time-stamp-precision=nano; see test/fixtures/pcap/README.md.
  it.each([
    ['lo-en10mb.pcap', 1],
    ['any-sll2.pcap', 276],
    ['any-sll.pcap', 113],
    ['lo-nano.pcap', 1],
  ])('%s: every record read, link type %i', (file, linkType) => {
    const bytes = readFileSync(path.resolve(__dirname, '../../test/fixtures/pcap', file));
    const ev = readAll(bytes);
    expect(errors(ev)).toEqual([]);
    const p = packets(ev);
    expect(p.length).toBeGreaterThan(10);
    expect(new Set(p.map((x) => x.linkType))).toEqual(new Set([linkType]));
    const last = p[p.length - 1];
    expect((last?.offset ?? 0) + 16 + (last?.data.length ?? 0)).toBe(bytes.length);
  });
});
