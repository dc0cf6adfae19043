/**
 * The bytes of a changelog entry (docs/delivery.md, "State in Kafka").
 *
 * Entries stay JSON, readable with any Kafka console tool, but the records they hold most of,
 * conns and packet headers, are written as arrays in a fixed field order instead of objects: a
 * conn's field names were two fifths of its entry, and a header's names more than its values.
 * A header in a flow's entry also leaves out its Community ID, which the entry gives once. That
 * is fewer bytes to build, compress, send, store and compact, on the cores the pipeline runs on.
 *
 * Absent optional fields are written as null (no record field holds null except `sensor` and
 * `ipId`, which are always written in place), and trailing nulls are left out. Decoding builds
 * each record with its fields in the decoder's order. An entry written before this encoding
 * (records as objects) decodes as it is.
 *
 * Pure: no I/O.
 */
import type { ConnRecord, PacketHeader, SourceRef } from '../domain';
import type { FlowConnState, StateValue, StoredHeaderState } from '../correlate/state';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json | undefined };

export function encodeEntry(value: StateValue): Buffer {
  return Buffer.from(JSON.stringify(toWire(value)));
}

/** An entry's value from its parsed JSON (the changelog parses each message once, whatever it holds). */
export function entryOfJson(parsed: unknown): StateValue {
  return fromWire(parsed as WireEntry);
}

export function decodeEntry(bytes: Buffer | string): StateValue {
  return entryOfJson(JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString()));
}

// ---- the wire form ----

export type WireSource = readonly ['k', string, number, string, number?] | readonly ['f', string, number];
type WireConn = readonly Json[];
type WireHeader = readonly Json[];
interface WireConnState {
  readonly key: string;
  readonly seq: number;
  readonly stage: 'p' | 'e';
  readonly conn: WireConn | ConnRecord;
  readonly weirds: FlowConnState['weirds'];
  readonly headers?: readonly (number | WireHeader | PacketHeader)[];
  readonly previousClose?: FlowConnState['previousClose'];
  readonly dirty?: true;
}
type WireEntry =
  | { readonly t: 'flow'; readonly cid?: string; readonly headers: readonly (readonly Json[] | StoredHeaderState)[]; readonly conns?: readonly WireConnState[] }
  | ({ readonly t: 'conn' } & WireConnState)
  | Exclude<StateValue, { readonly t: 'flow' | 'conn' }>;

function toWire(v: StateValue): WireEntry {
  if (v.t === 'flow') {
    const cid = v.headers[0]?.header.communityId ?? v.conns?.[0]?.conn.communityId;
    return {
      t: 'flow', ...(cid === undefined ? {} : { cid }),
      headers: v.headers.map((s) => [s.seq, s.joined ? 1 : 0, ...headerFields(s.header)]),
      ...(v.conns === undefined ? {} : { conns: v.conns.map(connStateToWire) }),
    };
  }
  if (v.t === 'conn') return { t: 'conn', ...connStateToWire(v) };
  return v; // weirds, closes, hosts, stream times: small, as they are
}

function fromWire(w: WireEntry): StateValue {
  if (w.t === 'flow') {
    const headers = w.headers.map((s): StoredHeaderState => {
      if (!Array.isArray(s)) return s as StoredHeaderState;
      const [seq, joined, ...fields] = s as readonly Json[];
      return { seq: seq as number, joined: joined === 1, header: headerOf(fields, w.cid ?? '') };
    });
    return { t: 'flow', headers, ...(w.conns === undefined ? {} : { conns: w.conns.map(connStateFromWire) }) };
  }
  if (w.t === 'conn') return { t: 'conn', ...connStateFromWire(w) };
  return w;
}

function connStateToWire(c: FlowConnState): WireConnState {
  return {
    key: c.key, seq: c.seq, stage: c.stage, conn: connFields(c.conn), weirds: c.weirds,
    ...(c.headers === undefined ? {} : { headers: c.headers.map((h) => (typeof h === 'number' ? h : inlineHeaderFields(h))) }),
    ...(c.previousClose === undefined ? {} : { previousClose: c.previousClose }),
    ...(c.dirty === true ? { dirty: true as const } : {}),
  };
}

function connStateFromWire(w: WireConnState): FlowConnState {
  return {
    key: w.key, seq: w.seq, stage: w.stage, conn: Array.isArray(w.conn) ? connOf(w.conn as WireConn) : (w.conn as ConnRecord), weirds: w.weirds,
    ...(w.headers === undefined ? {} : { headers: w.headers.map((h) => (typeof h === 'number' ? h : Array.isArray(h) ? inlineHeaderOf(h as WireHeader) : (h as PacketHeader))) }),
    ...(w.previousClose === undefined ? {} : { previousClose: w.previousClose }),
    ...(w.dirty === true ? { dirty: true as const } : {}),
  };
}

// ---- records ----

/**
 * A conn's fields in the decoder's order (src/decode/zeek-record.ts), trailing absent ones left
 * out: the array form of a conn in changelog entries and repartition lines.
 */
export function connFields(c: ConnRecord): WireConn {
  return trimmed([
    c.tsUs, c.uid, c.origH, c.origP, c.respH, c.respP, c.proto, c.service, c.durationUs, c.origBytes, c.respBytes,
    c.connState, c.localOrig, c.localResp, c.missedBytes, c.history, c.origPkts, c.origIpBytes, c.respPkts,
    c.respIpBytes, c.communityId, sourceFields(c.source), c.observer, c.canonified,
  ]);
}

// An unset field of `connFields`' array: null, or past its end (trailing ones are left out).
const num = (v: Json | undefined): number | undefined => (v ?? undefined) as number | undefined;
const str = (v: Json | undefined): string | undefined => (v ?? undefined) as string | undefined;
const bool = (v: Json | undefined): boolean | undefined => (v ?? undefined) as boolean | undefined;

/**
 * The conn of `connFields`' array, written from a decoded conn: each position holds its field's
 * type, or null when unset. Every field, unset ones undefined, in the decoder's order: the shape
 * of a decoded conn (ConnRecord).
 */
export function connOf(f: readonly Json[]): ConnRecord {
  const c = f as readonly (Json | undefined)[];
  return {
    tsUs: c[0] as number, uid: c[1] as string, origH: c[2] as string, origP: c[3] as number, respH: c[4] as string, respP: c[5] as number, proto: c[6] as ConnRecord['proto'],
    service: str(c[7]), durationUs: num(c[8]), origBytes: num(c[9]), respBytes: num(c[10]), connState: str(c[11]) as ConnRecord['connState'], localOrig: bool(c[12]), localResp: bool(c[13]),
    missedBytes: num(c[14]), history: str(c[15]), origPkts: num(c[16]), origIpBytes: num(c[17]), respPkts: num(c[18]), respIpBytes: num(c[19]), communityId: c[20] as string,
    observer: str(c[22]), canonified: c[23] === true ? true : undefined, source: sourceOf(c[21] as unknown as WireSource),
  };
}

/**
 * A header's fields but its Community ID, in PacketHeader's order. Entries written before headers
 * dropped their input's name (a header is evidence of a flow; only conns and weirds name the
 * message they came from) have it after these 14 fields: it is not read.
 */
function headerFields(h: PacketHeader): Json[] {
  return [h.tsUs, h.sensor, h.srcIp, h.dstIp, h.srcPort, h.dstPort, h.ipVersion, h.ipTtl, h.ipId, h.tcpFlags, h.seq, h.ack, h.window, h.payloadLen];
}

function headerOf(f: readonly Json[], communityId: string): PacketHeader {
  return {
    tsUs: f[0] as number, sensor: f[1] as string | null, srcIp: f[2] as string, dstIp: f[3] as string, srcPort: f[4] as number,
    dstPort: f[5] as number, ipVersion: f[6] as 4 | 6, ipTtl: f[7] as number, ipId: f[8] as number | null, tcpFlags: f[9] as number,
    seq: f[10] as number, ack: f[11] as number, window: f[12] as number, payloadLen: f[13] as number, communityId,
  };
}

/** A header on its own, in changelog entries (a written conn's) and repartition lines: its fields with its Community ID last. */
export function inlineHeaderFields(h: PacketHeader): Json[] {
  return [...headerFields(h), h.communityId];
}

/** The header of `inlineHeaderFields`' array (also of the old entries' form, with a source before the Community ID). */
export function inlineHeaderOf(f: readonly Json[]): PacketHeader {
  return headerOf(f, f[f.length - 1] as string);
}

/** An input's reference as an array: ['k', topic, partition, offset, index?] or ['f', path, line]. */
export function sourceFields(s: SourceRef): Json[] {
  if (s.kind === 'file') return ['f', s.path, s.line];
  return s.index === undefined ? ['k', s.topic, s.partition, s.offset] : ['k', s.topic, s.partition, s.offset, s.index];
}

/** The reference of `sourceFields`' array. */
export function sourceOf(f: WireSource): SourceRef {
  if (f[0] === 'f') return { kind: 'file', path: f[1], line: f[2] };
  return f[4] === undefined ? { kind: 'kafka', topic: f[1], partition: f[2], offset: f[3] } : { kind: 'kafka', topic: f[1], partition: f[2], offset: f[3], index: f[4] };
}

function trimmed(values: readonly (Json | undefined)[]): Json[] {
  let n = values.length;
  while (n > 0 && (values[n - 1] === undefined || values[n - 1] === null)) n--;
  const out: Json[] = new Array<Json>(n);
  for (let i = 0; i < n; i++) out[i] = values[i] ?? null;
  return out;
}
