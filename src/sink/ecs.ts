/**
 * Correlated connection + classification -> the ECS document (docs/fields.md). Pure: the Elasticsearch
 * sink indexes exactly what `zeek-rst classify` prints. ECS field names appear only here and in
 * the index template; times leave µs here (ISO 8601 with ms, event.duration ns).
 *
 * Times (docs/fields.md#times): `@timestamp` = `event.start` = the conn's first packet (Zeek `ts`);
 * `event.end` = ts + duration; `rst.ts` = when the first RST happened: the first sampled RST
 * header, else the end of the connection (Zeek logs no per-packet time; the RST is the last
 * thing a reset connection does, so its end is the best bound). Reset panels use `rst.ts`, so a
 * RST that ends a 3-hour session is plotted when it happened. `@timestamp` stays the start
 * because it picks the daily index: late evidence can move `rst.ts` (a RST header arrives), and
 * a moving index would leave the first write behind as a duplicate.
 */
import { hash } from 'node:crypto';
import { CONN_STATES as CONN_STATE_MESSAGES, type Classification, type ConnRecord, type Correlated, type EcsRst, type EnrichedDoc, type NetworkDirection } from '../domain';
import { cidrContains, parseIp, type Cidr } from '../classify/ip';
import { isRst } from '../correlate/baseline';
import { isScanProbe } from '../classify/scans';

/** Deterministic `_id`: replaying the same conn rewrites the same document (docs/fields.md). base64url(sha1(observer|uid)). */
export function documentId(observer: string | undefined, uid: string): string {
  return hash('sha1', `${observer ?? ''}|${uid}`, 'base64url');
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/**
 * A document part under construction: fields are assigned one by one in the order docs/fields.md
 * and the tests see, optional ones only when present (no key holds undefined), every required
 * one before the part is used. Cheaper than merging spreads of temporary objects.
 */
type Draft<T> = { -readonly [K in keyof T]?: T[K] };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A connection that ended in REJ or any RST is a failed connection for ECS `event.outcome`. */
function outcomeOf(c: Classification, state: string | undefined): 'success' | 'failure' | 'unknown' {
  if (c.present) return 'failure';
  if (state === undefined) return 'unknown';
  return state === 'SF' || state === 'S1' ? 'success' : state === 'S0' || state === 'REJ' ? 'failure' : 'unknown';
}

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
const YEAR_10000_MS = Date.UTC(10000, 0, 1);

/**
 * µs -> ISO 8601 with ms, exactly as `new Date(ms).toISOString()` writes it. Every document has
 * three or more, so years 1970..9999 are formatted by arithmetic (civil-from-days, H. Hinnant's
 * algorithm), several times faster than a Date per time (npm run bench, classify); any other
 * time goes through Date.
 */
export function isoMs(us: number): string {
  const ms = Math.floor(us / 1000);
  if (!(ms >= 0 && ms < YEAR_10000_MS)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  // Days since 0000-03-01, in 400-year eras; the year starts in March so leap days come last.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${PAD2[month] ?? ''}-${PAD2[day] ?? ''}T${PAD2[hour] ?? ''}:${PAD2[minute] ?? ''}:${PAD2[second] ?? ''}.${PAD3[milli] ?? ''}Z`;
}

/** First RST of the flow: its sampled header, else the connection's end (µs). */
function firstRstUs(corr: Correlated): number {
  const header = corr.headers.find(isRst);
  return header?.tsUs ?? corr.conn.tsUs + (corr.conn.durationUs ?? 0);
}

/**
 * ECS `network.direction` from Zeek's `local_orig`/`local_resp` (Site::local_nets); when Zeek did
 * not log them, from the configured local networks; `unknown` when neither says.
 */
export function directionOf(conn: ConnRecord, localNetworks: readonly Cidr[]): NetworkDirection {
  let orig = conn.localOrig;
  let resp = conn.localResp;
  if ((orig === undefined || resp === undefined) && localNetworks.length > 0) {
    const o = parseIp(conn.origH);
    const r = parseIp(conn.respH);
    orig ??= localNetworks.some((n) => cidrContains(n, o));
    resp ??= localNetworks.some((n) => cidrContains(n, r));
  }
  if (orig === undefined || resp === undefined) return 'unknown';
  if (orig) return resp ? 'internal' : 'outbound';
  return resp ? 'inbound' : 'external';
}

/**
 * ECS `network.protocol` from Zeek's `service`: the first analyzer that confirmed the protocol,
 * lower case. Zeek lists several when more than one confirmed (`ssl,http`); entries with a
 * leading `-` (analyzers removed after a violation, Zeek 7) are not a confirmation.
 */
export function protocolOf(service: string | undefined): string | undefined {
  if (service === undefined) return undefined;
  for (let start = 0; ;) {
    const comma = service.indexOf(',', start);
    const s = service.slice(start, comma === -1 ? service.length : comma).trim().toLowerCase();
    if (s !== '' && !s.startsWith('-')) return s;
    if (comma === -1) return undefined;
    start = comma + 1;
  }
}

function rstOf(corr: Correlated, c: Classification, scanner: boolean): EcsRst {
  const scan = { scanner, probe: isScanProbe(corr.conn, c.verdict) };
  if (!c.present || c.verdict === undefined) return { present: c.present, scan };
  const f = c.facts;
  const rst: Draft<EcsRst> = { present: true, verdict: c.verdict };
  if (c.phase !== undefined) rst.phase = c.phase;
  if (c.sender !== undefined) rst.sender = c.sender;
  if (c.origin !== undefined) rst.origin = c.origin;
  if (c.confidence !== undefined) rst.confidence = c.confidence;
  rst.rules = c.rules;
  rst.evidence = c.evidence;
  if (c.explanation !== undefined) rst.explanation = c.explanation;
  if (f.rstHasAck !== undefined) rst.ack = f.rstHasAck;
  if (f.rstTtl !== undefined || f.expectedTtl !== undefined || f.ttlDelta !== undefined) {
    const ttl: Draft<NonNullable<EcsRst['ttl']>> = {};
    if (f.rstTtl !== undefined) ttl.observed = f.rstTtl;
    if (f.expectedTtl !== undefined) ttl.expected = f.expectedTtl;
    if (f.ttlDelta !== undefined) ttl.delta = f.ttlDelta;
    rst.ttl = ttl;
  }
  if (f.rstHops !== undefined || f.expectedHops !== undefined) {
    const hops: Draft<NonNullable<EcsRst['hops']>> = {};
    if (f.rstHops !== undefined) hops.observed = f.rstHops;
    if (f.expectedHops !== undefined) hops.expected = f.expectedHops;
    rst.hops = hops;
  }
  if (f.ipIdDelta !== undefined) rst.ip_id_delta = f.ipIdDelta;
  rst.count = f.rstCount;
  if (f.idleBeforeS !== undefined) rst.idle_before_s = Math.round(f.idleBeforeS * 1e6) / 1e6;
  rst.retransmissions = f.senderRetransmissionsAtLeast;
  if (c.device !== undefined) rst.device = c.device;
  rst.scan = scan;
  rst.headers = { sampled: f.rstSampled };
  rst.ts = isoMs(firstRstUs(corr));
  if (c.stage !== undefined) rst.stage = c.stage;
  rst.tags = c.tags;
  rst.resets = c.resets.map((r) => ({
    sender: r.side,
    ts: isoMs(r.header.tsUs),
    ttl: r.ttl,
    hops: r.hops,
    tcp_flags: r.header.tcpFlags,
    ack: r.hasAck,
    origin: r.origin,
    signals: r.signals.map((x) => x.kind),
  }));
  return rst as EcsRst;
}

export interface EcsOptions {
  /** `rst.scan.scanner` as known when the document is made (false: the scan summary step sets it). */
  readonly scanner?: boolean;
  /** Configured local networks (`network.localNetworks`), for `network.direction` when Zeek logs no local_orig/local_resp. */
  readonly localNetworks?: readonly Cidr[];
}

export function toEcsDocument(corr: Correlated, c: Classification, options: EcsOptions = {}): EnrichedDoc {
  const conn = corr.conn;
  const start = isoMs(conn.tsUs);
  const denied = c.present && (c.verdict === 'closed_port' || c.verdict === 'policy_reject');
  const event: Draft<EnrichedDoc['event']> = {
    kind: 'event',
    category: ['network'],
    type: denied ? ['connection', 'end', 'denied'] : ['connection', 'end'],
    dataset: 'zeek_rst.connection',
    start,
    end: conn.durationUs === undefined ? start : isoMs(conn.tsUs + conn.durationUs),
  };
  if (conn.durationUs !== undefined) event.duration = conn.durationUs * 1000;
  event.outcome = outcomeOf(c, conn.connState);
  const source: Mutable<EnrichedDoc['source']> = { ip: conn.origH, port: conn.origP };
  if (conn.origBytes !== undefined) source.bytes = conn.origBytes;
  if (conn.origPkts !== undefined) source.packets = conn.origPkts;
  const destination: Mutable<EnrichedDoc['destination']> = { ip: conn.respH, port: conn.respP };
  if (conn.respBytes !== undefined) destination.bytes = conn.respBytes;
  if (conn.respPkts !== undefined) destination.packets = conn.respPkts;
  const network: Draft<EnrichedDoc['network']> = { transport: conn.proto };
  const protocol = protocolOf(conn.service);
  if (protocol !== undefined) network.protocol = protocol;
  network.direction = directionOf(conn, options.localNetworks ?? []);
  network.community_id = conn.communityId;
  const ipBytes = sum(conn.origIpBytes, conn.respIpBytes);
  if (ipBytes !== undefined) network.bytes = ipBytes;
  const packets = sum(conn.origPkts, conn.respPkts);
  if (packets !== undefined) network.packets = packets;
  const connection: Mutable<EnrichedDoc['zeek']['connection']> = {};
  if (conn.connState !== undefined) {
    connection.state = conn.connState;
    connection.state_message = CONN_STATE_MESSAGES[conn.connState];
  }
  if (conn.history !== undefined) connection.history = conn.history;
  if (conn.missedBytes !== undefined) connection.missed_bytes = conn.missedBytes;
  if (conn.localOrig !== undefined) connection.local_orig = conn.localOrig;
  if (conn.localResp !== undefined) connection.local_resp = conn.localResp;
  const zeek: Mutable<EnrichedDoc['zeek']> = { session_id: conn.uid, connection };
  if (corr.weirds.length > 0) zeek.weird = { names: [...new Set(corr.weirds.map((w) => w.name))].sort() };
  const doc: Draft<EnrichedDoc> = {
    '@timestamp': start,
    event: event as EnrichedDoc['event'],
    source,
    destination,
    network: network as EnrichedDoc['network'],
  };
  if (conn.observer !== undefined) doc.observer = { name: conn.observer };
  doc.zeek = zeek;
  doc.rst = rstOf(corr, c, options.scanner ?? false);
  return doc as EnrichedDoc;
}
