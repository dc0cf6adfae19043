/**
 * Zeek field names -> domain records, in one place for both Zeek JSON and Zeek TSV: both
 * decoders first turn their input into a flat `dotted.name -> value` map with JSON-like values
 * (numbers, strings, booleans, arrays), and this module validates it into a ConnRecord or a
 * WeirdRecord. Unknown fields are ignored: Zeek logs gain fields all the time.
 */
import { connBoundsProblem } from './conn-bounds';
import type { ConnRecord, ConnState, Decoded, SourceRef, Transport, WeirdRecord } from '../domain';
import { CONN_STATES } from '../domain';
import { communityIdOfBytes, ipProtoOf } from './community-id';
import type { DecodeOptions, Fields, Problem } from './validate';
import { FieldReader, deadLetter, isCanonified, isProblem, problem, show, timeToUs } from './validate';

export type ZeekLogType = 'conn' | 'weird';
export const ZEEK_LOG_TYPES: readonly ZeekLogType[] = ['conn', 'weird'];

/** A decoded Zeek record whose log type was learnt from the input (wrapper key, `_path`, `#path`). */
export type ZeekLogRecord =
  | { readonly log: 'conn'; readonly record: ConnRecord }
  | { readonly log: 'weird'; readonly record: WeirdRecord };

export function isZeekLogType(x: unknown): x is ZeekLogType {
  return x === 'conn' || x === 'weird';
}

const TRANSPORTS: ReadonlySet<Transport> = new Set<Transport>(['tcp', 'udp', 'icmp', 'unknown_transport']);
const CONN_STATE_CODES: ReadonlySet<ConnState> = new Set(Object.keys(CONN_STATES).filter((k): k is ConnState => k in CONN_STATES));

/**
 * A weird under construction: its fields are assigned one by one in the order of the type,
 * optional ones only when present (no key holds undefined), and every required one before it is
 * used as the record. Cheaper than building it from spreads (npm run bench, decode). A conn,
 * decoded by the thousand per second and kept for the late window, is one literal instead
 * (buildConnFrom).
 */
type Draft<T> = { -readonly [K in keyof T]?: T[K] };

/** Everything a record builder needs besides the fields. */
export interface RecordContext {
  readonly raw: Uint8Array;
  readonly source: SourceRef;
  readonly options: DecodeOptions;
  /** Position of the record inside a multi-record Kafka message (0 for the first). */
  readonly index?: number;
}

/** The synthetic uid of a canonified conn row: `X<line>` for files, `X<partition>-<offset>[-<index>]` for Kafka. */
export function syntheticUid(ctx: RecordContext): string {
  const suffix = ctx.index !== undefined && ctx.index > 0 ? `-${ctx.index}` : '';
  return ctx.source.kind === 'file' ? `X${ctx.source.line}${suffix}` : `X${ctx.source.partition}-${ctx.source.offset}${suffix}`;
}

/** ts, honouring `allowCanonified`; returns µs, or a problem. `canonified` tells whether it was X'd/missing. */
function readTs(v: unknown, ctx: RecordContext): { tsUs: number; canonified: boolean } | Problem {
  if (v === undefined || v === null) {
    if (ctx.options.allowCanonified === true) return { tsUs: 0, canonified: true };
    return problem('missing_field', 'ts is missing');
  }
  if (isCanonified(v)) {
    if (ctx.options.allowCanonified === true) return { tsUs: 0, canonified: true };
    return problem('invalid_timestamp', `ts ${show(v)} is canonified (X's); decode with allowCanonified to accept test baselines`);
  }
  const us = timeToUs('ts', v, ctx.options);
  return isProblem(us) ? us : { tsUs: us, canonified: false };
}

function observerOf(r: FieldReader, systemName: unknown, ctx: RecordContext): string | undefined {
  return r.optStringOf('_system_name', systemName) ?? ctx.options.observer;
}

/**
 * The raw values of the conn fields that buildConn reads, each read once. From Fields (TSV, re-nested JSON)
 * by name, or straight from a flat parsed JSON object by property (`connValuesOfObject`): a
 * property read with a constant name is several times cheaper than a lookup per field through
 * Fields (a keyed read with a varying name plus Object.hasOwn), which was about a third of
 * decoding a conn (npm run bench -- decode).
 */
export interface ConnFieldValues {
  readonly ts: unknown;
  readonly uid: unknown;
  readonly origH: unknown;
  readonly origP: unknown;
  readonly respH: unknown;
  readonly respP: unknown;
  readonly proto: unknown;
  readonly service: unknown;
  readonly duration: unknown;
  readonly origBytes: unknown;
  readonly respBytes: unknown;
  readonly connState: unknown;
  readonly localOrig: unknown;
  readonly localResp: unknown;
  readonly missedBytes: unknown;
  readonly history: unknown;
  readonly origPkts: unknown;
  readonly origIpBytes: unknown;
  readonly respPkts: unknown;
  readonly respIpBytes: unknown;
  readonly communityId: unknown;
  readonly ipProto: unknown;
  readonly systemName: unknown;
}

/** The Zeek names buildConn reads, in the order it reads them. */
export const CONN_FIELD_NAMES = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes',
  'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes',
  'resp_pkts', 'resp_ip_bytes', 'community_id', 'ip_proto', '_system_name',
] as const;

export function connValues(f: Fields): ConnFieldValues {
  return {
    ts: f.get('ts'), uid: f.get('uid'), origH: f.get('id.orig_h'), origP: f.get('id.orig_p'), respH: f.get('id.resp_h'),
    respP: f.get('id.resp_p'), proto: f.get('proto'), service: f.get('service'), duration: f.get('duration'),
    origBytes: f.get('orig_bytes'), respBytes: f.get('resp_bytes'), connState: f.get('conn_state'),
    localOrig: f.get('local_orig'), localResp: f.get('local_resp'), missedBytes: f.get('missed_bytes'),
    history: f.get('history'), origPkts: f.get('orig_pkts'), origIpBytes: f.get('orig_ip_bytes'),
    respPkts: f.get('resp_pkts'), respIpBytes: f.get('resp_ip_bytes'), communityId: f.get('community_id'),
    ipProto: f.get('ip_proto'), systemName: f.get('_system_name'),
  };
}

/**
 * The same from a flat JSON object by property. Equal to `connValues(objectFields(o))` for an
 * object of JSON.parse: its prototype is Object.prototype, which has none of these names
 * (zeek-record.test.ts checks it), so a property read finds only own properties, as
 * objectFields' Object.hasOwn guard does.
 */
export function connValuesOfObject(o: Readonly<Record<string, unknown>>): ConnFieldValues {
  return {
    ts: o.ts, uid: o.uid, origH: o['id.orig_h'], origP: o['id.orig_p'], respH: o['id.resp_h'], respP: o['id.resp_p'],
    proto: o.proto, service: o.service, duration: o.duration, origBytes: o.orig_bytes, respBytes: o.resp_bytes,
    connState: o.conn_state, localOrig: o.local_orig, localResp: o.local_resp, missedBytes: o.missed_bytes,
    history: o.history, origPkts: o.orig_pkts, origIpBytes: o.orig_ip_bytes, respPkts: o.resp_pkts,
    respIpBytes: o.resp_ip_bytes, communityId: o.community_id, ipProto: o.ip_proto, systemName: o._system_name,
  };
}

export function buildConn(fields: Fields, ctx: RecordContext): Decoded<ConnRecord> {
  return buildConnFrom(connValues(fields), ctx);
}

/** buildConn of values already read (see ConnFieldValues); the checks run in the same order. */
export function buildConnFrom(f: ConnFieldValues, ctx: RecordContext): Decoded<ConnRecord> {
  const r = new FieldReader();
  const ts = readTs(f.ts, ctx);
  if (isProblem(ts)) return deadLetter(ts, ctx.raw, ctx.source);
  let canonified = ts.canonified;
  let uid: string;
  const rawUid = f.uid;
  if (ctx.options.allowCanonified === true && (rawUid === undefined || rawUid === null || isCanonified(rawUid))) {
    uid = syntheticUid(ctx);
    canonified = true;
  } else if (isCanonified(rawUid)) {
    return deadLetter(problem('missing_field', `uid ${show(rawUid)} is canonified (X's); decode with allowCanonified to accept test baselines`), ctx.raw, ctx.source);
  } else {
    uid = r.stringOf('uid', rawUid);
  }
  const origH = r.addrOf('id.orig_h', f.origH, ORIG_BYTES);
  const origP = r.portOf('id.orig_p', f.origP);
  const respH = r.addrOf('id.resp_h', f.respH, RESP_BYTES);
  const respP = r.portOf('id.resp_p', f.respP);
  const proto = r.oneOfOf('proto', f.proto, TRANSPORTS, true);
  const service = r.optStringOf('service', f.service);
  const durationUs = r.intervalUsOf('duration', f.duration);
  const origBytes = r.countOf('orig_bytes', f.origBytes);
  const respBytes = r.countOf('resp_bytes', f.respBytes);
  const connState = r.oneOfOf('conn_state', f.connState, CONN_STATE_CODES, false);
  const localOrig = r.boolOf('local_orig', f.localOrig);
  const localResp = r.boolOf('local_resp', f.localResp);
  const missedBytes = r.countOf('missed_bytes', f.missedBytes);
  const history = r.optStringOf('history', f.history);
  const origPkts = r.countOf('orig_pkts', f.origPkts);
  const origIpBytes = r.countOf('orig_ip_bytes', f.origIpBytes);
  const respPkts = r.countOf('resp_pkts', f.respPkts);
  const respIpBytes = r.countOf('resp_ip_bytes', f.respIpBytes);
  const givenCid = r.optStringOf('community_id', f.communityId);
  const ipProto = r.intInOf('ip_proto', f.ipProto, 0, 255, 'invalid_enum', false);
  const observer = observerOf(r, f.systemName, ctx);
  const p = r.problem();
  if (p !== undefined) return deadLetter(p, ctx.raw, ctx.source);
  const isIpv6 = origH.includes(':');
  if (isIpv6 !== respH.includes(':')) {
    return deadLetter(problem('invalid_ip', `id.orig_h ${origH} and id.resp_h ${respH} are of different address families`), ctx.raw, ctx.source);
  }
  const cid = givenCid ?? connCommunityIdOfBytes(proto, isIpv6, origP, respP, ipProto);
  // Every field, in the order of the type, unset ones undefined: one literal, so that every conn
  // has one shape with all its fields inside the object. Added one by one after the required
  // ones, the optional fields went to a separate property array: a second object per conn for
  // the collector, and a second load for every read of them (npm run bench -- decode).
  const record: ConnRecord = {
    tsUs: ts.tsUs, uid, origH, origP, respH, respP, proto, service, durationUs, origBytes, respBytes, connState, localOrig, localResp,
    missedBytes, history, origPkts, origIpBytes, respPkts, respIpBytes, communityId: cid, observer, canonified: canonified ? true : undefined, source: ctx.source,
  };
  const absurd = connBoundsProblem(record);
  if (absurd !== undefined) return deadLetter(absurd, ctx.raw, ctx.source);
  return { ok: true, value: record };
}

/** The addresses' bytes of the conn being built (buildConnFrom, synchronous): parsed once, to validate them and to hash them. */
const ORIG_BYTES = new Uint8Array(16);
const RESP_BYTES = new Uint8Array(16);

/**
 * Community ID of a conn's 5-tuple, its addresses in ORIG_BYTES and RESP_BYTES. For ICMP Zeek
 * logs the type as `id.orig_p` and the counterpart type or the code as `id.resp_p`, which is
 * exactly the spec's input. Empty string when no ID exists (unknown_transport without
 * `ip_proto`), as the spec allows.
 */
function connCommunityIdOfBytes(proto: Transport, isIpv6: boolean, origP: number, respP: number, ipProto: number | undefined): string {
  const n = ipProtoOf(proto, isIpv6, ipProto);
  if (n === undefined) return '';
  return communityIdOfBytes(n, ORIG_BYTES, RESP_BYTES, isIpv6 ? 16 : 4, origP, respP) ?? '';
}

export function buildWeird(fields: Fields, ctx: RecordContext): Decoded<WeirdRecord> {
  const r = new FieldReader(fields);
  const ts = readTs(r.raw('ts'), ctx);
  if (isProblem(ts)) return deadLetter(ts, ctx.raw, ctx.source);
  let canonified = ts.canonified;
  let uid: string | undefined;
  const rawUid = r.raw('uid');
  if (isCanonified(rawUid)) {
    // A weird's uid is optional; a synthetic one could join the wrong conn, so an X'd uid is dropped.
    if (ctx.options.allowCanonified !== true) {
      return deadLetter(problem('missing_field', `uid ${show(rawUid)} is canonified (X's); decode with allowCanonified to accept test baselines`), ctx.raw, ctx.source);
    }
    canonified = true;
  } else {
    uid = r.optString('uid');
  }
  const origH = r.optAddr('id.orig_h');
  const origP = r.optPort('id.orig_p');
  const respH = r.optAddr('id.resp_h');
  const respP = r.optPort('id.resp_p');
  const name = r.string('name');
  const addl = r.optString('addl');
  const notice = r.bool('notice');
  const peer = r.optString('peer');
  const weirdSource = r.optString('source');
  const observer = observerOf(r, r.raw('_system_name'), ctx);
  const p = r.problem();
  if (p !== undefined) return deadLetter(p, ctx.raw, ctx.source);
  if (name === '') return deadLetter(problem('missing_field', 'name is empty'), ctx.raw, ctx.source);
  const draft: Draft<WeirdRecord> = { tsUs: ts.tsUs };
  if (uid !== undefined) draft.uid = uid;
  if (origH !== undefined) draft.origH = origH;
  if (origP !== undefined) draft.origP = origP;
  if (respH !== undefined) draft.respH = respH;
  if (respP !== undefined) draft.respP = respP;
  draft.name = name;
  if (addl !== undefined) draft.addl = addl;
  if (notice !== undefined) draft.notice = notice;
  if (peer !== undefined) draft.peer = peer;
  if (weirdSource !== undefined) draft.weirdSource = weirdSource;
  if (observer !== undefined) draft.observer = observer;
  if (canonified) draft.canonified = true;
  draft.source = ctx.source;
  const record = draft as WeirdRecord;
  return { ok: true, value: record };
}

/** Builds the record for a known log type, wrapped with its type. */
export function buildZeekRecord(log: ZeekLogType, fields: Fields, ctx: RecordContext): Decoded<ZeekLogRecord> {
  if (log === 'conn') {
    const d = buildConn(fields, ctx);
    return d.ok ? { ok: true, value: { log, record: d.value } } : d;
  }
  const d = buildWeird(fields, ctx);
  return d.ok ? { ok: true, value: { log, record: d.value } } : d;
}
