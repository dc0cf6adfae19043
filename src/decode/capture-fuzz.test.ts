/**
 * Robustness: 100,000 random, truncated and corrupted capture buffers through the capture reader
 * and the frame decoder. None may throw; each either reads cleanly or ends with exactly one
 * error, last, that names the byte offset and the record number, with every record before it
 * delivered. Deterministic (seeded), so a failure reproduces; about 5 s.
 */
import {
  enhancedPacket, ethernetFrame, interfaceBlock, ipv4Packet, ipv6Packet, pcapFile, sectionHeader, simplePacket, tcpSegment, udpDatagram,
} from '../../test/helpers/pcap-writer';
import type { CaptureEvent } from './capture-file';
import { createCaptureReader } from './capture-file';
import { decodeFrame } from './frame';

const RUNS = 100_000;

/** xorshift32: a tiny seeded generator, so every run sees the same buffers. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function frames(rand: () => number): Buffer[] {
  const out: Buffer[] = [];
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const seg = tcpSegment({ srcPort: 1 + i, dstPort: 80, seq: i, ack: 0, flags: 0x12, window: 100, payload: Buffer.alloc(Math.floor(rand() * 30)) });
    const v4 = ipv4Packet({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], ttl: 64, id: i, proto: 6 }, seg);
    const v6 = ipv6Packet({ src: new Uint8Array(16).fill(1), dst: new Uint8Array(16).fill(2), hopLimit: 64, next: 6 }, seg);
    const teredo = ipv4Packet({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2], ttl: 9, id: 1, proto: 17 }, udpDatagram(3544, 3544, v6));
    const pick = Math.floor(rand() * 3);
    out.push(ethernetFrame(pick === 0 ? 0x0800 : 0x86dd, pick === 0 ? v4 : pick === 1 ? v6 : teredo));
  }
  return out;
}

function validCapture(rand: () => number): Buffer {
  const f = frames(rand);
  if (rand() < 0.5) {
    return pcapFile({ linkType: 1, bigEndian: rand() < 0.3, nanos: rand() < 0.3 }, f.map((data, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: i, data })));
  }
  const be = rand() < 0.3;
  return Buffer.concat([
    sectionHeader(be), interfaceBlock({ linkType: 1, tsresol: rand() < 0.5 ? 6 : 9 }, be),
    ...f.map((data, i) => (i % 3 === 2 ? simplePacket(data, data.length, be) : enhancedPacket(0, BigInt(1_700_000_000_000_000 + i), data, data.length, be))),
  ]);
}

function check(bytes: Uint8Array, events: readonly CaptureEvent[]): void {
  const errorAt = events.findIndex((e) => e.kind === 'error');
  if (errorAt === -1) return;
  if (errorAt !== events.length - 1) throw new Error('an error is not the last event');
  const e = events[errorAt];
  if (e?.kind !== 'error') return;
  const { offset, record, detail } = e.error;
  if (record !== errorAt + 1) throw new Error(`error record ${record} after ${errorAt} packets`);
  if (offset < 0 || offset > bytes.length) throw new Error(`error offset ${offset} outside 0..${bytes.length}`);
  if (!detail.startsWith(`byte ${offset}, record ${record}: `)) throw new Error(`unclear error: ${detail}`);
}

function read(bytes: Uint8Array, rand: () => number): CaptureEvent[] {
  const r = createCaptureReader();
  const events: CaptureEvent[] = [];
  let p = 0;
  while (p < bytes.length) {
    const n = rand() < 0.7 ? bytes.length : 1 + Math.floor(rand() * 40);
    events.push(...r.push(bytes.subarray(p, p + n)));
    p += n;
  }
  events.push(...r.end());
  for (const e of events) if (e.kind === 'packet') decodeFrame(e.packet.linkType, e.packet.data, e.packet.originalLength, { teredo: true });
  return events;
}

describe('capture reader fuzz', () => {
  it(`${RUNS} random, truncated and corrupted captures: no throw, one clear error each at most`, () => {
    const rand = rng(0x5eed);
    // A pool of valid captures, and where their records start, built once.
    const pool = Array.from({ length: 256 }, () => {
      const bytes = validCapture(rand);
      const starts = read(bytes, () => 0.9).flatMap((e) => (e.kind === 'packet' ? [e.packet.offset] : []));
      return { bytes, starts };
    });
    const counts = { clean: 0, errors: 0, truncated: 0 };
    for (let i = 0; i < RUNS; i++) {
      const { bytes: base, starts } = pool[Math.floor(rand() * pool.length)] ?? { bytes: Buffer.alloc(0), starts: [] };
      const mode = i % 4;
      let bytes: Buffer;
      if (mode === 0) {
        // Random bytes, half of them behind a valid magic so the record parsers are reached.
        bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 120) }, () => Math.floor(rand() * 256)));
        if (rand() < 0.5) base.copy(bytes, 0, 0, Math.min(bytes.length, rand() < 0.5 ? 24 : 28));
      } else if (mode === 1) {
        bytes = base.subarray(0, Math.floor(rand() * base.length));
      } else {
        bytes = Buffer.from(base);
        const flips = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < flips; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      const events = read(bytes, rand);
      check(bytes, events);
      const last = events[events.length - 1];
      if (last?.kind === 'error') {
        counts.errors++;
        if (last.error.reason === 'truncated_capture') counts.truncated++;
      } else counts.clean++;
      if (mode === 1 && bytes.length > 0 && last?.kind !== 'error') {
        // A cut that is not on a record boundary must be reported; on a boundary, nothing is lost.
        const got = events.filter((e) => e.kind === 'packet').length;
        const next = starts[got];
        if (next !== undefined && bytes.length > next) throw new Error(`cut at ${bytes.length} inside record ${got + 1} without an error`);
      }
    }
    // The generator reaches both outcomes often (not only garbage rejected at the magic).
    expect(counts.clean).toBeGreaterThan(RUNS / 10);
    expect(counts.truncated).toBeGreaterThan(RUNS / 10);
    expect(counts.errors).toBeGreaterThan(RUNS / 4);
  });
});
