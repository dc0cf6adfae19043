/**
 * The workload generator (bench/generator.ts): deterministic bytes, and a workload whose pieces
 * fit together: its headers and weirds join its conns in the real correlator, its Community IDs
 * are those decode computes from the 5-tuples, every SYN, SYN-ACK, FIN and RST is sampled and
 * about 1 in 64 of the other packets.
 */
import { createHash } from 'node:crypto';
import { createCorrelator, createRecordClock, type Emission } from '../../src/correlate/correlator';
import { DEFAULT_CORRELATE_SETTINGS } from '../../src/correlate/settings';
import { decodeHeaderMessage } from '../../src/decode/header-message';
import { createHeaderCodec } from '../../src/decode/packet-header';
import { decodeConnJson, decodeWeirdJson } from '../../src/decode/zeek-json';
import type { ConnRecord, PacketHeader, SourceRef, WeirdRecord } from '../../src/domain';
import { createConnGenerator, generateEvents, generateWorkload, packetPlan, type GeneratorOptions } from '../../bench/generator';

const source: SourceRef = { kind: 'kafka', topic: 't', partition: 0, offset: '0' };
const codec = createHeaderCodec();

/** One digest per topic: what each topic receives, in order. */
function digest(options: GeneratorOptions): string {
  const topics = [createHash('sha256'), createHash('sha256'), createHash('sha256')] as const;
  for (const c of generateWorkload(options, codec)) {
    for (const b of c.conns) topics[0].update(b);
    for (const b of c.weirds) topics[1].update(b);
    for (const b of c.headerMessages) topics[2].update(b);
  }
  return topics.map((h) => h.digest('hex')).join(' ');
}

interface Decoded {
  conns: ConnRecord[];
  weirds: WeirdRecord[];
  headers: PacketHeader[];
  messages: number[];
  tcpConns: number;
}

function decodeAll(options: GeneratorOptions): Decoded {
  const out: Decoded = { conns: [], weirds: [], headers: [], messages: [], tcpConns: 0 };
  for (const c of generateWorkload(options, codec)) {
    out.tcpConns += c.tcpConns;
    for (const b of c.conns) {
      const d = decodeConnJson(b, source);
      if (!d.ok) throw new Error(d.dead.detail);
      out.conns.push(d.value);
    }
    for (const b of c.weirds) {
      const d = decodeWeirdJson(b, source);
      if (!d.ok) throw new Error(d.dead.detail);
      out.weirds.push(d.value);
    }
    for (const m of c.headerMessages) {
      const records = decodeHeaderMessage(m, source, codec);
      out.messages.push(records.length);
      for (const r of records) {
        if (!r.ok) throw new Error(r.dead.detail);
        out.headers.push(r.value);
      }
    }
  }
  return out;
}

const N = 6000; // a little under 3 copies of the 2,164 corpus rows

describe('workload generator', () => {
  it('gives the same bytes for the same options, other bytes for others', () => {
    const a = digest({ conns: 1500, chunk: 400 });
    expect(digest({ conns: 1500, chunk: 400 })).toBe(a);
    // The chunking does not change what is generated.
    expect(digest({ conns: 1500, chunk: 1500 })).toBe(a);
    expect(digest({ conns: 1500, chunk: 400, startTs: 1_700_000_000 })).not.toBe(a);
  });

  const w = decodeAll({ conns: N });

  it('writes valid records: N conns, header messages of 100 records (the last one fewer)', () => {
    expect(w.conns).toHaveLength(N);
    expect(w.messages.slice(0, -1).every((n) => n === 100)).toBe(true);
    expect(w.messages[w.messages.length - 1]).toBeLessThanOrEqual(100);
    expect(new Set(w.conns.map((c) => c.uid)).size).toBe(N);
  });

  it('gives every TCP copy its own 5-tuple, and Community IDs equal to what decode computes from it', () => {
    const tcp = w.conns.filter((c) => c.proto === 'tcp');
    expect(tcp).toHaveLength(w.tcpConns);
    expect(new Set(tcp.map((c) => `${c.origH}|${c.origP}|${c.respH}|${c.respP}`)).size).toBe(tcp.length);
    const gen = createConnGenerator({ conns: N });
    for (const i of [0, 17, 2163, 2164, 4400, N - 1]) {
      const { community_id: written, ...rest } = gen.conn(i).conn;
      const d = decodeConnJson(Buffer.from(JSON.stringify(rest)), source);
      expect(d.ok && d.value.communityId).toBe(written);
    }
  });

  it('samples every SYN, SYN-ACK, FIN and RST, and about 1 in 64 of the other packets', () => {
    const gen = createConnGenerator({ conns: N });
    let others = 0;
    let otherPackets = 0;
    for (let i = 0; i < N; i++) {
      const g = gen.conn(i);
      if (g.conn['proto'] !== 'tcp') continue;
      const history = String(g.conn['history']);
      const letters = Array.from(history).filter((l) => 'shfr'.includes(l.toLowerCase())).length;
      const special = g.headers.filter((h) => (h.tcpFlags & 0x07) !== 0).length;
      expect(special).toBe(letters);
      const rstFromOrig = g.headers.filter((h) => (h.tcpFlags & 0x04) !== 0 && h.srcIp === g.conn['id.orig_h']).length;
      expect(rstFromOrig).toBe(Array.from(history).filter((l) => l === 'R').length);
      others += g.headers.length - special;
      otherPackets += g.packets - letters;
    }
    expect(otherPackets).toBeGreaterThan(100_000);
    expect(others / otherPackets).toBeGreaterThan(1 / 80);
    expect(others / otherPackets).toBeLessThan(1 / 50);
  });

  it('lays packets out as the history says: opening letters, the other packets, closing letters', () => {
    const plan = packetPlan('ShADadfF', 5, 4, 300, 900);
    expect(plan).toHaveLength(9);
    expect(plan.map((p) => [p.fromOrig, p.flags])).toEqual([
      [true, 0x02], [false, 0x12], [true, 0x10], [true, 0x18], [false, 0x10], [false, 0x18], [true, 0x18], [false, 0x11], [true, 0x11],
    ]);
  });

  it('sends every record in time order, a conn at its end, as Zeek and a sensor do', () => {
    let last = 0;
    let conns = 0;
    let endsAfterStart = 0;
    for (const released of generateEvents({ conns: N })) {
      for (const e of released) {
        expect(e.atUs).toBeGreaterThanOrEqual(last);
        last = e.atUs;
        if (e.kind === 'conn') {
          conns++;
          if (e.atUs > Number(e.conn['ts']) * 1e6) endsAfterStart++;
        }
      }
    }
    expect(conns).toBe(N);
    expect(endsAfterStart).toBeGreaterThan(N / 2);
  });

  it('makes headers and weirds that join their conns in the correlator, fed in the order they are sent', () => {
    const clock = createRecordClock();
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    const perCid = new Map<string, number>();
    for (const h of w.headers) perCid.set(h.communityId, (perCid.get(h.communityId) ?? 0) + 1);
    const weirdUids = new Set(w.weirds.map((x) => x.uid));
    const emitted: Emission[] = [];
    let n = 0;
    for (const released of generateEvents({ conns: N })) {
      for (const e of released) {
        if (e.kind === 'header') c.addHeader(e.header);
        else if (e.kind === 'weird') {
          const d = decodeWeirdJson(Buffer.from(JSON.stringify(e.weird)), source);
          if (d.ok) c.addWeird(d.value);
        } else {
          const d = decodeConnJson(Buffer.from(JSON.stringify(e.conn)), source);
          if (!d.ok) throw new Error(d.dead.detail);
          clock.observe(d.value.tsUs);
          emitted.push(...c.addConn(d.value).ready);
        }
        // As classify: expiry and emission by the stream's own time, as the records come.
        if (++n % 500 === 0) emitted.push(...c.tick().ready);
      }
    }
    emitted.push(...c.flush().ready);
    const byUid = new Map(emitted.map((e) => [e.correlated.conn.uid, e.correlated]));
    expect(byUid.size).toBe(N);
    for (const conn of w.conns) {
      const got = byUid.get(conn.uid);
      expect(got?.headers.length).toBe(conn.proto === 'tcp' ? perCid.get(conn.communityId) ?? 0 : 0);
      expect(got?.weirds.length).toBe(weirdUids.has(conn.uid) ? 1 : 0);
    }
    expect(w.weirds.length).toBeGreaterThan(0);
    const d = c.stats().discards;
    expect([d.headersUnjoined, d.weirdsUnjoined]).toEqual([0, 0]);
  });
});
