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
import { CONN_STATES as CONN_STATE_MESSAGES, type Classification, type ConnRecord, type Correlated, type EnrichedDoc, type FactValue, type NetworkDirection, type Verdict } from '../domain';
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

/** `rst` of a connection with a reset (`verdict` is c's), as JSON, in the order of docs/fields.md (EcsRst). */
function rstJson(corr: Correlated, c: Classification, verdict: Verdict, scanner: boolean, probe: boolean): string {
  const f = c.facts;
  let j = `{"present":true,"verdict":${jsonString(verdict)}`;
  if (c.phase !== undefined) j += `,"phase":${jsonString(c.phase)}`;
  if (c.sender !== undefined) j += `,"sender":${jsonString(c.sender)}`;
  if (c.origin !== undefined) j += `,"origin":${jsonString(c.origin)}`;
  j += `${optNumber('confidence', c.confidence)},"rules":${jsonStrings(c.rules)}`
    + `,"evidence":${jsonArray(c.evidence, (e) => `{"rule":${jsonString(e.rule)},"text":${jsonString(e.text)},"values":${factValuesJson(e.values)}}`)}`;
  if (c.explanation !== undefined) j += `,"explanation":${jsonString(c.explanation)}`;
  if (f.rstHasAck !== undefined) j += `,"ack":${f.rstHasAck}`;
  // ttl and hops: present when one of their fields is; each field with a leading comma, the first dropped.
  const ttl = optNumber('observed', f.rstTtl) + optNumber('expected', f.expectedTtl) + optNumber('delta', f.ttlDelta);
  if (ttl !== '') j += `,"ttl":{${ttl.slice(1)}}`;
  const hops = optNumber('observed', f.rstHops) + optNumber('expected', f.expectedHops);
  if (hops !== '') j += `,"hops":{${hops.slice(1)}}`;
  j += `${optNumber('ip_id_delta', f.ipIdDelta)},"count":${jsonNumber(f.rstCount)}`;
  if (f.idleBeforeS !== undefined) j += `,"idle_before_s":${jsonNumber(Math.round(f.idleBeforeS * 1e6) / 1e6)}`;
  j += `,"retransmissions":${jsonNumber(f.senderRetransmissionsAtLeast)}`;
  if (c.device !== undefined) j += `,"device":{"name":${jsonString(c.device.name)},"kind":${jsonString(c.device.kind)}}`;
  j += `,"scan":{"scanner":${scanner},"probe":${probe}},"headers":{"sampled":${f.rstSampled}},"ts":"${isoMs(firstRstUs(corr))}"`;
  if (c.stage !== undefined) j += `,"stage":${jsonString(c.stage)}`;
  j += `,"tags":${jsonStrings(c.tags)},"resets":${jsonArray(c.resets, (r) => `{"sender":${jsonString(r.side)},"ts":"${isoMs(r.header.tsUs)}"`
    + `,"ttl":${jsonNumber(r.ttl)},"hops":${jsonNumber(r.hops)},"tcp_flags":${jsonNumber(r.header.tcpFlags)},"ack":${r.hasAck}`
    + `,"origin":${jsonString(r.origin)},"signals":${jsonArray(r.signals, (x) => jsonString(x.kind))}}`)}`;
  return `${j}}`;
}

export interface EcsOptions {
  /** `rst.scan.scanner` as known when the document is made (false: the scan summary step sets it). */
  readonly scanner?: boolean;
  /** Configured local networks (`network.localNetworks`), for `network.direction` when Zeek logs no local_orig/local_resp. */
  readonly localNetworks?: readonly Cidr[];
}

/** `text` as a JSON string literal: the bytes `JSON.stringify(text)` gives. */
function jsonString(text: string): string {
  return PLAIN_TEXT.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** Printable ASCII but `"` and `\`: text that JSON.stringify writes as it is, between quotes. */
const PLAIN_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON array of `list`, each item written by `write`. */
function jsonArray<T>(list: readonly T[], write: (item: T) => string): string {
  let j = '';
  for (const x of list) j += `,${write(x)}`;
  return `[${j.slice(1)}]`;
}

/** An array of strings as `JSON.stringify` writes it. */
function jsonStrings(list: readonly string[]): string {
  return jsonArray(list, jsonString);
}

/** An evidence's `values` (fact name -> value) as `JSON.stringify` writes the object, in its key order. */
function factValuesJson(values: Readonly<Record<string, FactValue>>): string {
  let j = '';
  for (const key of Object.keys(values)) {
    const v = values[key];
    j += `,${jsonString(key)}:${typeof v === 'string' ? jsonString(v) : typeof v === 'number' ? jsonNumber(v) : String(v)}`;
  }
  return `{${j.slice(1)}}`;
}

/** A number as `JSON.stringify` writes it (`null` for what JSON cannot hold). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `,"key":n` when n is present. */
function optNumber(key: string, n: number | undefined): string {
  return n === undefined ? '' : `,"${key}":${jsonNumber(n)}`;
}

/**
 * The document as JSON: the bytes `JSON.stringify` would give for the EnrichedDoc of
 * docs/fields.md, in its field order, optional fields only when present. Written directly rather
 * than built as an object and stringified: every conn becomes one, and for the usual document
 * (no RST) this is about a third of the cost (npm run bench, classify); the `rst` part of a reset
 * connection is written the same way (rstJson). `toEcsDocument` parses this back, so
 * the one mapping is here; ecs.test.ts checks that the text is what JSON.stringify gives for it.
 */
export function ecsJson(corr: Correlated, c: Classification, options: EcsOptions = {}): string {
  const conn = corr.conn;
  const start = isoMs(conn.tsUs);
  const denied = c.present && (c.verdict === 'closed_port' || c.verdict === 'policy_reject');
  const end = conn.durationUs === undefined ? start : isoMs(conn.tsUs + conn.durationUs);
  let j = `{"@timestamp":"${start}","event":{"kind":"event","category":["network"],"type":${denied ? '["connection","end","denied"]' : '["connection","end"]'}`
    + `,"dataset":"zeek_rst.connection","start":"${start}","end":"${end}"${optNumber('duration', conn.durationUs === undefined ? undefined : conn.durationUs * 1000)}`
    + `,"outcome":"${outcomeOf(c, conn.connState)}"}`
    + `,"source":{"ip":${jsonString(conn.origH)},"port":${jsonNumber(conn.origP)}${optNumber('bytes', conn.origBytes)}${optNumber('packets', conn.origPkts)}}`
    + `,"destination":{"ip":${jsonString(conn.respH)},"port":${jsonNumber(conn.respP)}${optNumber('bytes', conn.respBytes)}${optNumber('packets', conn.respPkts)}}`;
  const protocol = protocolOf(conn.service);
  j += `,"network":{"transport":${jsonString(conn.proto)}${protocol === undefined ? '' : `,"protocol":${jsonString(protocol)}`}`
    + `,"direction":"${directionOf(conn, options.localNetworks ?? [])}","community_id":${jsonString(conn.communityId)}`
    + `${optNumber('bytes', sum(conn.origIpBytes, conn.respIpBytes))}${optNumber('packets', sum(conn.origPkts, conn.respPkts))}}`;
  if (conn.observer !== undefined) j += `,"observer":{"name":${jsonString(conn.observer)}}`;
  // zeek.connection: every field optional, each written with a leading comma and the first one
  // dropped, as rstJson writes ttl and hops.
  let fields = conn.connState === undefined ? '' : `,"state":${jsonString(conn.connState)},"state_message":${jsonString(CONN_STATE_MESSAGES[conn.connState])}`;
  if (conn.history !== undefined) fields += `,"history":${jsonString(conn.history)}`;
  fields += optNumber('missed_bytes', conn.missedBytes);
  if (conn.localOrig !== undefined) fields += `,"local_orig":${conn.localOrig}`;
  if (conn.localResp !== undefined) fields += `,"local_resp":${conn.localResp}`;
  j += `,"zeek":{"session_id":${jsonString(conn.uid)},"connection":{${fields.slice(1)}}`;
  if (corr.weirds.length > 0) j += `,"weird":{"names":${jsonStrings([...new Set(corr.weirds.map((w) => w.name))].sort())}}`;
  const scanner = options.scanner ?? false;
  const probe = isScanProbe(conn, c.verdict);
  const rst = !c.present || c.verdict === undefined
    ? `{"present":${c.present},"scan":{"scanner":${scanner},"probe":${probe}}}`
    : rstJson(corr, c, c.verdict, scanner, probe);
  return `${j}},"rst":${rst}}`;
}

/** The document as an object: `ecsJson` parsed (tests, and whatever reads fields rather than bytes). */
export function toEcsDocument(corr: Correlated, c: Classification, options: EcsOptions = {}): EnrichedDoc {
  return JSON.parse(ecsJson(corr, c, options)) as EnrichedDoc;
}
