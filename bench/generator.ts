/**
 * A deterministic workload generator: the repository's corpus (the 2,164 conn rows of the
 * zeek-testing m57 trace, test/fixtures/corpus/zeek-testing-m57-short/conn.redacted.json) scaled to
 * any number of connections, as a sensor would send them to Kafka:
 *
 * - conn records (Zeek JSON, one per message), copy c of row r being connection i = c x 2163 + r
 *   (the rows that last at most `maxDurationS`: all but one):
 *   the row's own history, state, counts, bytes, duration and responder; a ts `i / connsPerSecond`
 *   after `startTs`; a uid from i; an originator address that encodes the copy (IPv4
 *   10.<c/256>.<c%256>.<the row's last octet>, IPv6 fd00::<c>:<the row's last group>) so every
 *   copy is its own set of 5-tuples; the Community ID of that 5-tuple (src/decode/community-id.ts);
 * - packet headers of every TCP connection (Avro single-object records, `headersPerMessage` per
 *   message, as `zeek-rst produce --batch` writes them): the connection's packets are laid out
 *   from its history letters (S h A D F R ... one packet each, from the side their case says) and
 *   its packet counts (the rest: data or pure ACKs between the opening and the closing letters),
 *   spread evenly over its duration, with consistent sequence numbers, a TTL per side and IP IDs
 *   that count up; they are sampled with the policy of `zeek-rst headers`
 *   (src/decode/header-sampler.ts): every SYN, SYN-ACK, FIN and RST, plus the others whose
 *   sampleHash(Community ID, packet index) is 0 mod `sampleOneIn` (64);
 * - weird records: one for every `weirdEvery`-th TCP connection (16), with its uid and 5-tuple,
 *   named after the TCP weirds of the corpus (zeek-testing-weirds, ctu-sme-11), in turn.
 *
 * Everything is a function of the options: the same options give the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { communityId, IP_PROTO } from '../src/decode/community-id';
import { sampleHash } from '../src/decode/header-sampler';
import { createHeaderCodec, type HeaderCodec } from '../src/decode/packet-header';
import { TCP_FLAGS, type PacketHeader } from '../src/domain';

export interface GeneratorOptions {
  /** Connections to generate. */
  readonly conns: number;
  /** Record time of the first connection, epoch seconds (default: the m57 capture's day). */
  readonly startTs?: number;
  /** Connections per second of record time (default 1000). */
  readonly connsPerSecond?: number;
  /** Keep 1 in N of the packets without SYN, FIN or RST (default 64, as `zeek-rst headers`). */
  readonly sampleOneIn?: number;
  /** Header records per Kafka message (default 100). */
  readonly headersPerMessage?: number;
  /** One weird for every N-th TCP connection (default 16). */
  readonly weirdEvery?: number;
  /** Connections per chunk the generator yields (default 1000). */
  readonly chunk?: number;
  /**
   * Corpus rows that last longer are left out (default 600 s, the default late window). The m57
   * corpus has one, a day-long UDP stream (multicast port 626): Zeek logs it a day after it
   * began, so at the end of a workload its record would carry the stream time a day ahead of
   * conns still unread on other partitions.
   */
  readonly maxDurationS?: number;
}

export const GENERATOR_DEFAULTS = Object.freeze({ startTs: 1_258_560_000, connsPerSecond: 1000, sampleOneIn: 64, headersPerMessage: 100, weirdEvery: 16, chunk: 1000, maxDurationS: 600 });

/** One generated connection: its Zeek records and its sampled headers. */
export interface GeneratedConn {
  readonly index: number;
  /** The Zeek conn record (JSON object, as Zeek's JSON writer prints it: ts and uid first). */
  readonly conn: Readonly<Record<string, unknown>>;
  readonly weird: Readonly<Record<string, unknown>> | undefined;
  readonly headers: readonly PacketHeader[];
  /** Packets the connection had (orig_pkts + resp_pkts, at least its history letters), before sampling. */
  readonly packets: number;
}

/** What one chunk of connections adds to each topic. */
export interface WorkloadChunk {
  readonly conns: readonly Buffer[];
  readonly weirds: readonly Buffer[];
  /** Batched header messages completed in this chunk (the last chunk flushes a partial one). */
  readonly headerMessages: readonly Buffer[];
  readonly headerRecords: number;
  readonly tcpConns: number;
}

const ROOT = path.resolve(__dirname, '..');
/** Found both from bench/ (tsx, jest) and from .cache/bench/bench/ (compiled). */
function corpusFile(relative: string): string {
  for (const base of [ROOT, path.resolve(ROOT, '../..')]) {
    const file = path.join(base, 'test/fixtures/corpus', relative);
    if (existsSync(file)) return file;
  }
  throw new Error(`generator: test/fixtures/corpus/${relative} not found above ${__dirname}`);
}

const jsonRows = (relative: string): Record<string, unknown>[] =>
  readFileSync(corpusFile(relative), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The base rows: m57 conns, their community_id dropped (the generator computes each copy's). */
let connRows: readonly Readonly<Record<string, unknown>>[] | undefined;
export function corpusConnRows(): readonly Readonly<Record<string, unknown>>[] {
  connRows ??= jsonRows('zeek-testing-m57-short/conn.redacted.json').map(({ community_id: _cid, ...row }) => row);
  return connRows;
}

/** Names of the TCP weirds in the corpus, in order of first appearance. */
export function corpusTcpWeirdNames(): readonly string[] {
  const names: string[] = [];
  for (const r of jsonRows('zeek-testing-weirds/ctu-sme-11.weird.redacted.json')) {
    if (r['source'] === 'TCP' && typeof r['name'] === 'string' && !names.includes(r['name'])) names.push(r['name']);
  }
  return names;
}

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The copy's originator address: the copy in the middle, the row's host part kept. */
export function originatorOf(origH: string, copy: number): string {
  if (origH.includes(':')) {
    const groups = origH.split(':');
    return `fd00::${copy.toString(16)}:${groups[groups.length - 1] ?? '1'}`;
  }
  const last = origH.split('.')[3] ?? '1';
  return `10.${(copy >> 8) & 255}.${copy & 255}.${last}`;
}

/** A small deterministic hash of the connection index (ISNs, IP IDs). */
function mix(i: number, salt: number): number {
  let h = (i ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

interface Packet {
  readonly fromOrig: boolean;
  readonly flags: number;
  readonly data: boolean;
  readonly zeroWindow: boolean;
}

const { FIN, SYN, RST, ACK, PSH } = TCP_FLAGS;

/** Packets are values: one object per kind, shared by every plan (a plan holds thousands). */
const packets = new Map<string, Packet>();
function packet(fromOrig: boolean, flags: number, data: boolean, zeroWindow: boolean): Packet {
  const key = `${fromOrig ? 1 : 0}|${flags}|${data ? 1 : 0}|${zeroWindow ? 1 : 0}`;
  let p = packets.get(key);
  if (p === undefined) {
    p = { fromOrig, flags, data, zeroWindow };
    packets.set(key, p);
  }
  return p;
}

/** One packet for a history letter, or undefined for letters that are not a packet of their own (^). */
function letterPacket(letter: string): Packet | undefined {
  const fromOrig = letter === letter.toUpperCase();
  switch (letter.toLowerCase()) {
    case 's': return packet(fromOrig, SYN, false, false);
    case 'h': return packet(fromOrig, SYN | ACK, false, false);
    case 'a': return packet(fromOrig, ACK, false, false);
    case 'f': return packet(fromOrig, FIN | ACK, false, false);
    case 'r': return packet(fromOrig, RST | ACK, false, false);
    case 'w': return packet(fromOrig, ACK, false, true);
    case 'd': case 't': case 'c': case 'g': case 'i': case 'q': return packet(fromOrig, PSH | ACK, true, false);
    default: return undefined;
  }
}

/** The connection's packets in order: opening letters, the rest of its packets, closing letters. */
export function packetPlan(history: string, origPkts: number, respPkts: number, origBytes: number, respBytes: number): Packet[] {
  const letters = Array.from(history).map(letterPacket).filter((p): p is Packet => p !== undefined);
  const closeAt = letters.findIndex((p) => (p.flags & (FIN | RST)) !== 0);
  const opening = closeAt === -1 ? letters : letters.slice(0, closeAt);
  const closing = closeAt === -1 ? [] : letters.slice(closeAt);
  const origLeft = Math.max(0, origPkts - letters.filter((p) => p.fromOrig).length);
  const respLeft = Math.max(0, respPkts - letters.filter((p) => !p.fromOrig).length);
  const total = origLeft + respLeft;
  // The sides interleaved in proportion (Bresenham), data while the side has bytes.
  const fill: Packet[] = [];
  for (let j = 0; j < total; j++) {
    const fromOrig = Math.floor(((j + 1) * origLeft) / total) > Math.floor((j * origLeft) / total);
    const data = fromOrig ? origBytes > 0 : respBytes > 0;
    fill.push(packet(fromOrig, data ? PSH | ACK : ACK, data, false));
  }
  return [...opening, ...fill, ...closing];
}

export interface ConnGenerator {
  /** Connection `i` (0-based). */
  conn(i: number): GeneratedConn;
  readonly baseRows: number;
}

export function createConnGenerator(options: GeneratorOptions, rows: readonly Readonly<Record<string, unknown>>[] = corpusConnRows(), weirdNames: readonly string[] = corpusTcpWeirdNames()): ConnGenerator {
  const startTs = options.startTs ?? GENERATOR_DEFAULTS.startTs;
  const rate = options.connsPerSecond ?? GENERATOR_DEFAULTS.connsPerSecond;
  const oneIn = options.sampleOneIn ?? GENERATOR_DEFAULTS.sampleOneIn;
  const weirdEvery = options.weirdEvery ?? GENERATOR_DEFAULTS.weirdEvery;
  if (rows.length === 0) throw new Error('generator: no base rows');
  // Base rows that repeat a TCP 5-tuple get the next free originator port: each copy of a row is then its own flow.
  const maxDurationS = options.maxDurationS ?? GENERATOR_DEFAULTS.maxDurationS;
  const base = rows.filter((r) => num(r['duration']) <= maxDurationS).map((r) => ({ ...r }));
  const seen = new Set<string>();
  for (const r of base) {
    if (r['proto'] !== 'tcp') continue;
    let port = num(r['id.orig_p']);
    const key = (p: number): string => `${str(r['id.orig_h'])}|${p}|${str(r['id.resp_h'])}|${num(r['id.resp_p'])}`;
    while (seen.has(key(port))) port = (port + 1) % 65536;
    seen.add(key(port));
    r['id.orig_p'] = port;
  }
  let tcpSeen = 0;
  const tcpOrdinal = new Map<number, number>();
  base.forEach((r, k) => {
    if (r['proto'] === 'tcp') tcpOrdinal.set(k, tcpSeen++);
  });
  const tcpPerCopy = tcpSeen;
  const nameCount = Math.max(1, weirdNames.length);
  // A base row's packets and payload sizes are the same in every copy: computed once per row.
  const payloadOf = (bytes: number, n: number): number => (n === 0 ? 0 : Math.max(1, Math.min(1460, Math.round(bytes / n))));
  const plans = new Map<number, { readonly plan: readonly Packet[]; readonly origPayload: number; readonly respPayload: number }>();
  const planOf = (k: number, r: Readonly<Record<string, unknown>>): { readonly plan: readonly Packet[]; readonly origPayload: number; readonly respPayload: number } => {
    let out = plans.get(k);
    if (out === undefined) {
      const plan = packetPlan(str(r['history']), num(r['orig_pkts']), num(r['resp_pkts']), num(r['orig_bytes']), num(r['resp_bytes']));
      const dataPkts = (fromOrig: boolean): number => plan.filter((p) => p.fromOrig === fromOrig && p.data).length;
      out = { plan, origPayload: payloadOf(num(r['orig_bytes']), dataPkts(true)), respPayload: payloadOf(num(r['resp_bytes']), dataPkts(false)) };
      plans.set(k, out);
    }
    return out;
  };

  return {
    baseRows: base.length,
    conn(i) {
      const r = base[i % base.length] ?? {};
      const copy = Math.floor(i / base.length);
      if (copy >= 65536) throw new Error('generator: at most 65,536 copies of the corpus (141 M connections)');
      const tsUs = Math.round(startTs * 1e6) + Math.floor((i * 1e6) / rate);
      const ts = tsUs / 1e6;
      const uid = `G${i.toString(36).padStart(11, '0')}`;
      const origH = originatorOf(str(r['id.orig_h']), copy);
      const origP = num(r['id.orig_p']);
      const respH = str(r['id.resp_h']);
      const respP = num(r['id.resp_p']);
      const proto = str(r['proto']);
      const protoNumber = proto === 'tcp' ? IP_PROTO.TCP : proto === 'udp' ? IP_PROTO.UDP : IP_PROTO.ICMP;
      const cid = communityId({ proto: protoNumber, srcIp: origH, dstIp: respH, srcPort: origP, dstPort: respP }) ?? '';
      const conn: Record<string, unknown> = { ts, uid, ...r, 'id.orig_h': origH, 'id.orig_p': origP, 'id.resp_h': respH, 'id.resp_p': respP, community_id: cid };
      const ordinal = tcpOrdinal.get(i % base.length);
      if (proto !== 'tcp' || ordinal === undefined) return { index: i, conn, weird: undefined, headers: [], packets: num(r['orig_pkts']) + num(r['resp_pkts']) };

      const { plan, origPayload, respPayload } = planOf(i % base.length, r);
      const durUs = Math.round(num(r['duration']) * 1e6);
      const v6 = origH.includes(':');
      let origSeq = mix(i, 0x5eed);
      let respSeq = mix(i, 0xacc);
      let origId = mix(i, 0x1d) & 0xffff;
      let respId = mix(i, 0x2d) & 0xffff;
      const headers: PacketHeader[] = [];
      plan.forEach((p, k) => {
        const payload = p.data ? (p.fromOrig ? origPayload : respPayload) : 0;
        const keep = (p.flags & (SYN | FIN | RST)) !== 0 || sampleHash(cid, k) % oneIn === 0;
        if (keep) {
          headers.push({
            tsUs: tsUs + (plan.length > 1 ? Math.round((durUs * k) / (plan.length - 1)) : 0),
            sensor: null,
            srcIp: p.fromOrig ? origH : respH,
            dstIp: p.fromOrig ? respH : origH,
            srcPort: p.fromOrig ? origP : respP,
            dstPort: p.fromOrig ? respP : origP,
            ipVersion: v6 ? 6 : 4,
            ipTtl: p.fromOrig ? 64 : 128,
            ipId: v6 ? null : p.fromOrig ? origId : respId,
            tcpFlags: p.flags,
            seq: p.fromOrig ? origSeq : respSeq,
            ack: (p.flags & ACK) === 0 ? 0 : p.fromOrig ? respSeq : origSeq,
            window: p.zeroWindow || (p.flags & RST) !== 0 ? 0 : 64240,
            payloadLen: payload,
            communityId: cid,
          });
        }
        const consumed = payload + ((p.flags & (SYN | FIN)) !== 0 ? 1 : 0);
        if (p.fromOrig) {
          origSeq = (origSeq + consumed) >>> 0;
          origId = (origId + 1) & 0xffff;
        } else {
          respSeq = (respSeq + consumed) >>> 0;
          respId = (respId + 1) & 0xffff;
        }
      });
      const tcpIndex = copy * tcpPerCopy + ordinal;
      const weird = tcpIndex % weirdEvery === weirdEvery - 1
        ? { ts: (tsUs + Math.floor(durUs / 2)) / 1e6, uid, 'id.orig_h': origH, 'id.orig_p': origP, 'id.resp_h': respH, 'id.resp_p': respP, name: weirdNames[Math.floor(tcpIndex / weirdEvery) % nameCount] ?? 'data_before_established', notice: false, peer: 'zeek', source: 'TCP' }
        : undefined;
      return { index: i, conn, weird, headers, packets: plan.length };
    },
  };
}

/** One record of the workload, at the time a sensor sends it. */
export type WorkloadEvent =
  | { readonly kind: 'header'; readonly atUs: number; readonly header: PacketHeader }
  | { readonly kind: 'weird'; readonly atUs: number; readonly weird: Readonly<Record<string, unknown>> }
  | { readonly kind: 'conn'; readonly atUs: number; readonly conn: Readonly<Record<string, unknown>> };

/** A binary min-heap on (atUs, seq): events in time order, ties in the order they were made. */
class EventQueue {
  private readonly items: { atUs: number; seq: number; e: WorkloadEvent }[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  peekUs(): number | undefined {
    return this.items[0]?.atUs;
  }
  private less(a: number, b: number): boolean {
    const x = this.items[a];
    const y = this.items[b];
    if (x === undefined || y === undefined) return false;
    return x.atUs < y.atUs || (x.atUs === y.atUs && x.seq < y.seq);
  }
  private swap(a: number, b: number): void {
    const x = this.items[a];
    const y = this.items[b];
    if (x === undefined || y === undefined) return;
    this.items[a] = y;
    this.items[b] = x;
  }
  push(e: WorkloadEvent): void {
    this.items.push({ atUs: e.atUs, seq: this.seq++, e });
    for (let i = this.items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): WorkloadEvent | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.items.length > 0) {
      this.items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.items.length && this.less(l, m)) m = l;
        if (r < this.items.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top.e;
  }
}

/**
 * Every record of the workload in the order a sensor sends it: headers at their packet time,
 * weirds at theirs, and a conn record at its END (Zeek logs a connection when it is over), so
 * that a long connection's record comes after the shorter ones that started later, as in a real
 * conn log. Each call of the generator yields what connection `i`'s start releases (all the
 * records of time <= its ts), then, at the end, everything still waiting.
 */
export function* generateEvents(options: GeneratorOptions): Generator<readonly WorkloadEvent[]> {
  const gen = createConnGenerator(options);
  const queue = new EventQueue();
  for (let i = 0; i < options.conns; i++) {
    const g = gen.conn(i);
    const tsUs = Math.round(num(g.conn['ts']) * 1e6);
    const released: WorkloadEvent[] = [];
    for (let at = queue.peekUs(); at !== undefined && at <= tsUs; at = queue.peekUs()) {
      const e = queue.pop();
      if (e !== undefined) released.push(e);
    }
    for (const header of g.headers) queue.push({ kind: 'header', atUs: header.tsUs, header });
    if (g.weird !== undefined) queue.push({ kind: 'weird', atUs: Math.round(num(g.weird['ts']) * 1e6), weird: g.weird });
    queue.push({ kind: 'conn', atUs: tsUs + Math.round(num(g.conn['duration']) * 1e6), conn: g.conn });
    yield released;
  }
  const rest: WorkloadEvent[] = [];
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) rest.push(e);
  yield rest;
}

/**
 * The workload, chunk by chunk (memory stays that of one chunk and the records still waiting for
 * their time): conn and weird messages, and header records batched `headersPerMessage` to a
 * message, each topic in time order (generateEvents).
 */
export function* generateWorkload(options: GeneratorOptions, codec: HeaderCodec = createHeaderCodec()): Generator<WorkloadChunk> {
  const perMessage = options.headersPerMessage ?? GENERATOR_DEFAULTS.headersPerMessage;
  const chunk = options.chunk ?? GENERATOR_DEFAULTS.chunk;
  let pending: Buffer[] = [];
  let conns: Buffer[] = [];
  let weirds: Buffer[] = [];
  let headerMessages: Buffer[] = [];
  let headerRecords = 0;
  let tcpConns = 0;
  let started = 0;
  const take = (): WorkloadChunk => {
    const c = { conns, weirds, headerMessages, headerRecords, tcpConns };
    conns = [];
    weirds = [];
    headerMessages = [];
    headerRecords = 0;
    tcpConns = 0;
    return c;
  };
  for (const released of generateEvents(options)) {
    for (const e of released) {
      if (e.kind === 'conn') {
        conns.push(Buffer.from(JSON.stringify(e.conn)));
        if (e.conn['proto'] === 'tcp') tcpConns++;
      } else if (e.kind === 'weird') weirds.push(Buffer.from(JSON.stringify(e.weird)));
      else {
        pending.push(codec.encodeSingleObject(e.header));
        headerRecords++;
        if (pending.length === perMessage) {
          headerMessages.push(Buffer.concat(pending));
          pending = [];
        }
      }
    }
    started++;
    if (started % chunk === 0) yield take();
  }
  if (pending.length > 0) headerMessages.push(Buffer.concat(pending));
  yield take();
}
