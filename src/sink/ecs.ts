/**
 * Correlated connection + classification -> the ECS document (docs/fields.md). Pure: the Elasticsearch
 * sink indexes exactly what `zeek-rst classify` prints. ECS field names appear only here and in
 * the index template; times leave µs here (@timestamp ISO 8601, event.duration ns).
 */
import { createHash } from 'node:crypto';
import { CONN_STATES as CONN_STATE_MESSAGES, type Origin, type Phase, type Sender, type Verdict } from '../domain';
import type { Correlated } from '../correlate/correlator';
import type { Classification, Evidence } from '../classify/engine';

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
  readonly scan?: { readonly scanner: boolean };
  readonly headers?: { readonly sampled: boolean };
}

export interface EnrichedDoc {
  readonly '@timestamp': string;
  readonly event: {
    readonly kind: 'event';
    readonly category: readonly ['network'];
    readonly type: readonly string[];
    readonly dataset: 'zeek_rst.connection';
    readonly duration?: number;
    readonly outcome: 'success' | 'failure' | 'unknown';
  };
  readonly source: { readonly ip: string; readonly port: number; readonly bytes?: number; readonly packets?: number };
  readonly destination: { readonly ip: string; readonly port: number; readonly bytes?: number; readonly packets?: number };
  readonly network: { readonly transport: string; readonly community_id: string; readonly bytes?: number; readonly packets?: number };
  readonly observer?: { readonly name: string };
  readonly zeek: {
    readonly session_id: string;
    readonly connection: { readonly state?: string; readonly state_message?: string; readonly history?: string; readonly missed_bytes?: number };
    readonly weird?: { readonly names: readonly string[] };
  };
  readonly rst: EcsRst;
}

/** Deterministic `_id`: replaying the same conn rewrites the same document (docs/fields.md). base64url(sha1(observer|uid)). */
export function documentId(observer: string | undefined, uid: string): string {
  return createHash('sha1').update(`${observer ?? ''}|${uid}`).digest('base64url');
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

function rstOf(c: Classification, scanner: boolean): EcsRst {
  if (!c.present || c.verdict === undefined) return { present: c.present, scan: { scanner } };
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
    scan: { scanner },
    headers: { sampled: f.rstSampled },
  };
}

export interface EcsOptions {
  /** The source is a scanner in the current window (classify/scans.ts). */
  readonly scanner?: boolean;
}

export function toEcsDocument(corr: Correlated, c: Classification, options: EcsOptions = {}): EnrichedDoc {
  const conn = corr.conn;
  const weirdNames = [...new Set(corr.weirds.map((w) => w.name))].sort();
  const durationNs = conn.durationUs === undefined ? undefined : conn.durationUs * 1000;
  return {
    '@timestamp': new Date(Math.floor(conn.tsUs / 1000)).toISOString(),
    event: {
      kind: 'event',
      category: ['network'],
      type: c.present ? ['connection', 'end', 'denied'].filter((t) => t !== 'denied' || c.verdict === 'closed_port' || c.verdict === 'policy_reject') : ['connection', 'end'],
      dataset: 'zeek_rst.connection',
      ...opt('duration', durationNs),
      outcome: outcomeOf(c, conn.connState),
    },
    source: { ip: conn.origH, port: conn.origP, ...opt('bytes', conn.origBytes), ...opt('packets', conn.origPkts) },
    destination: { ip: conn.respH, port: conn.respP, ...opt('bytes', conn.respBytes), ...opt('packets', conn.respPkts) },
    network: {
      transport: conn.proto,
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
      },
      ...(weirdNames.length === 0 ? {} : { weird: { names: weirdNames } }),
    },
    rst: rstOf(c, options.scanner ?? false),
  };
}
