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
import { CONN_STATES as CONN_STATE_MESSAGES, type ConnRecord, type Origin, type Phase, type Sender, type Verdict } from '../domain';
import type { Correlated } from '../correlate/correlator';
import type { Classification, Evidence } from '../classify/engine';
import { cidrContains, parseIp, type Cidr } from '../classify/ip';
import { isRst } from '../correlate/baseline';
import { isScanProbe } from '../classify/scans';

export interface EcsRst {
  readonly present: boolean;
  readonly verdict?: Verdict;
  readonly phase?: Phase;
  readonly sender?: Sender;
  readonly origin?: Origin;
  readonly confidence?: number;
  readonly rules?: readonly string[];
  readonly evidence?: readonly Evidence[];
  readonly explanation?: string;
  readonly ack?: boolean;
  readonly ttl?: { readonly observed?: number; readonly expected?: number; readonly delta?: number };
  readonly hops?: { readonly observed?: number; readonly expected?: number };
  readonly ip_id_delta?: number;
  readonly count?: number;
  readonly idle_before_s?: number;
  readonly retransmissions?: number;
  readonly device?: { readonly name: string; readonly kind: string };
  /**
   * `probe`: this conn is a scan probe (classify/scans.ts). `scanner`: its source is a scanner in
   * the conn's window; written false here and set by the scan summary step (sink/scans-store.ts),
   * which sees every instance's documents.
   */
  readonly scan?: { readonly scanner: boolean; readonly probe: boolean };
  readonly headers?: { readonly sampled: boolean };
  /** When the first RST happened (see the module comment); present when a RST is. */
  readonly ts?: string;
  /** Where the first RST sits: post_syn, post_ack, post_psh, later_in_flow (docs/verdicts.md#stage-and-tags). */
  readonly stage?: string;
  /** Shape tags of the resets, and zmap / masscan on a scan probe. */
  readonly tags?: readonly string[];
  /** Every sampled RST with its own origin, in capture order. */
  readonly resets?: readonly EcsReset[];
}

export interface EcsReset {
  readonly sender: string;
  readonly ts: string;
  readonly ttl: number;
  readonly hops: number;
  readonly tcp_flags: number;
  readonly ack: boolean;
  readonly origin: string;
  readonly signals: readonly string[];
}

/** ECS `network.direction` values zeek-rst writes. */
export type NetworkDirection = 'inbound' | 'outbound' | 'internal' | 'external' | 'unknown';

export interface EnrichedDoc {
  readonly '@timestamp': string;
  readonly event: {
    readonly kind: 'event';
    readonly category: readonly ['network'];
    readonly type: readonly string[];
    readonly dataset: 'zeek_rst.connection';
    readonly start: string;
    readonly end: string;
    readonly duration?: number;
    readonly outcome: 'success' | 'failure' | 'unknown';
  };
  readonly source: { readonly ip: string; readonly port: number; readonly bytes?: number; readonly packets?: number };
  readonly destination: { readonly ip: string; readonly port: number; readonly bytes?: number; readonly packets?: number };
  readonly network: {
    readonly transport: string;
    readonly protocol?: string;
    readonly direction: NetworkDirection;
    readonly community_id: string;
    readonly bytes?: number;
    readonly packets?: number;
  };
  readonly observer?: { readonly name: string };
  readonly zeek: {
    readonly session_id: string;
    readonly connection: {
      readonly state?: string;
      readonly state_message?: string;
      readonly history?: string;
      readonly missed_bytes?: number;
      readonly local_orig?: boolean;
      readonly local_resp?: boolean;
    };
    readonly weird?: { readonly names: readonly string[] };
  };
  readonly rst: EcsRst;
}

/** Deterministic `_id`: replaying the same conn rewrites the same document (docs/fields.md). base64url(sha1(observer|uid)). */
export function documentId(observer: string | undefined, uid: string): string {
  return hash('sha1', `${observer ?? ''}|${uid}`, 'base64url');
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/** A connection that ended in REJ or any RST is a failed connection for ECS `event.outcome`. */
function outcomeOf(c: Classification, state: string | undefined): 'success' | 'failure' | 'unknown' {
  if (c.present) return 'failure';
  if (state === undefined) return 'unknown';
  return state === 'SF' || state === 'S1' ? 'success' : state === 'S0' || state === 'REJ' ? 'failure' : 'unknown';
}

function isoMs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
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
  const first = service
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .find((s) => s !== '' && s !== '-' && !s.startsWith('-'));
  return first;
}

function rstOf(corr: Correlated, c: Classification, scanner: boolean): EcsRst {
  const scan = { scanner, probe: isScanProbe(corr.conn, c.verdict) };
  if (!c.present || c.verdict === undefined) return { present: c.present, scan };
  const f = c.facts;
  const ttl = { ...opt('observed', f.rstTtl), ...opt('expected', f.expectedTtl), ...opt('delta', f.ttlDelta) };
  const hops = { ...opt('observed', f.rstHops), ...opt('expected', f.expectedHops) };
  return {
    present: true,
    verdict: c.verdict,
    ...opt('phase', c.phase),
    ...opt('sender', c.sender),
    ...opt('origin', c.origin),
    ...opt('confidence', c.confidence),
    rules: c.rules,
    evidence: c.evidence,
    ...opt('explanation', c.explanation),
    ...opt('ack', f.rstHasAck),
    ...(Object.keys(ttl).length === 0 ? {} : { ttl }),
    ...(Object.keys(hops).length === 0 ? {} : { hops }),
    ...opt('ip_id_delta', f.ipIdDelta),
    count: f.rstCount,
    ...opt('idle_before_s', f.idleBeforeS === undefined ? undefined : Math.round(f.idleBeforeS * 1e6) / 1e6),
    retransmissions: f.senderRetransmissionsAtLeast,
    ...opt('device', c.device),
    scan,
    headers: { sampled: f.rstSampled },
    ts: isoMs(firstRstUs(corr)),
    ...opt('stage', c.stage),
    tags: c.tags,
    resets: c.resets.map((r) => ({
      sender: r.side,
      ts: isoMs(r.header.tsUs),
      ttl: r.ttl,
      hops: r.hops,
      tcp_flags: r.header.tcpFlags,
      ack: r.hasAck,
      origin: r.origin,
      signals: r.signals.map((x) => x.kind),
    })),
  };
}

export interface EcsOptions {
  /** `rst.scan.scanner` as known when the document is made (false: the scan summary step sets it). */
  readonly scanner?: boolean;
  /** Configured local networks (`network.localNetworks`), for `network.direction` when Zeek logs no local_orig/local_resp. */
  readonly localNetworks?: readonly Cidr[];
}

export function toEcsDocument(corr: Correlated, c: Classification, options: EcsOptions = {}): EnrichedDoc {
  const conn = corr.conn;
  const weirdNames = [...new Set(corr.weirds.map((w) => w.name))].sort();
  const durationNs = conn.durationUs === undefined ? undefined : conn.durationUs * 1000;
  return {
    '@timestamp': isoMs(conn.tsUs),
    event: {
      kind: 'event',
      category: ['network'],
      type: c.present ? ['connection', 'end', 'denied'].filter((t) => t !== 'denied' || c.verdict === 'closed_port' || c.verdict === 'policy_reject') : ['connection', 'end'],
      dataset: 'zeek_rst.connection',
      start: isoMs(conn.tsUs),
      end: isoMs(conn.tsUs + (conn.durationUs ?? 0)),
      ...opt('duration', durationNs),
      outcome: outcomeOf(c, conn.connState),
    },
    source: { ip: conn.origH, port: conn.origP, ...opt('bytes', conn.origBytes), ...opt('packets', conn.origPkts) },
    destination: { ip: conn.respH, port: conn.respP, ...opt('bytes', conn.respBytes), ...opt('packets', conn.respPkts) },
    network: {
      transport: conn.proto,
      ...opt('protocol', protocolOf(conn.service)),
      direction: directionOf(conn, options.localNetworks ?? []),
      community_id: conn.communityId,
      ...opt('bytes', sum(conn.origIpBytes, conn.respIpBytes)),
      ...opt('packets', sum(conn.origPkts, conn.respPkts)),
    },
    ...(conn.observer === undefined ? {} : { observer: { name: conn.observer } }),
    zeek: {
      session_id: conn.uid,
      connection: {
        ...opt('state', conn.connState),
        ...opt('state_message', conn.connState === undefined ? undefined : CONN_STATE_MESSAGES[conn.connState]),
        ...opt('history', conn.history),
        ...opt('missed_bytes', conn.missedBytes),
        ...opt('local_orig', conn.localOrig),
        ...opt('local_resp', conn.localResp),
      },
      ...(weirdNames.length === 0 ? {} : { weird: { names: weirdNames } }),
    },
    rst: rstOf(corr, c, options.scanner ?? false),
  };
}
