/**
 * Scan summaries as Elasticsearch requests and documents (docs/scans.md), pure: this module
 * builds the aggregation, turns its buckets into summary documents and builds the queries that
 * mark conn documents; sink/scans-store.ts sends them. No painless: every number comes from
 * core aggregations (composite, filter, terms, cardinality, min/max).
 *
 * One composite bucket per (source.ip, window): `date_histogram` with a fixed interval of the
 * window length, which Elasticsearch aligns to the epoch like classify/scans.ts `windowStartMs`.
 * Distinct counts are `cardinality` with precision_threshold 40000 (Elasticsearch's maximum):
 * below it the aggregation keeps the hashes themselves, so the count is exact but for hash
 * collisions; the thresholds (15, 25) are far below it.
 *
 * A window lies inside one daily index when the window length divides a day (the default
 * 300 s does), so the terms ordered by port count ("the host that drew the most ports") runs
 * on one shard and is exact.
 */
import { createHash } from 'node:crypto';
import { PROBE_KINDS, UNANSWERED_SYN, judgeScan, type ProbeKind, type ScanCounts, type ScanKind, type ScanSettings } from '../classify/scans';

const PRECISION = 40000;
/** Ports listed in `scan.top_ports`. */
export const TOP_PORTS = 5;

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Conn documents that count for scans: probes, and unsolicited RSTs/SYN-ACKs (for the backscatter rule). */
export function countedConnsQuery(range: TimeRange): Record<string, unknown> {
  return {
    bool: {
      filter: [
        { range: { '@timestamp': { gte: range.fromMs, lt: range.toMs, format: 'epoch_millis' } } },
        { bool: { should: [{ term: { 'rst.scan.probe': true } }, { term: { 'rst.verdict': 'backscatter' } }], minimum_should_match: 1 } },
      ],
    },
  };
}

/** Body of one page of the summary aggregation (POST <prefix>-conn/_search). */
export function scanAggregationRequest(range: TimeRange, settings: ScanSettings, pageSize: number, after?: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const distinct = (field: string): Record<string, unknown> => ({ cardinality: { field, precision_threshold: PRECISION } });
  return {
    size: 0,
    track_total_hits: false,
    query: countedConnsQuery(range),
    aggs: {
      scans: {
        composite: {
          size: pageSize,
          sources: [{ source: { terms: { field: 'source.ip' } } }, { window: { date_histogram: { field: '@timestamp', fixed_interval: `${settings.windowS}s` } } }],
          ...(after === undefined ? {} : { after }),
        },
        aggs: {
          first_seen: { min: { field: '@timestamp' } },
          last_seen: { max: { field: '@timestamp' } },
          source_ports: distinct('source.port'),
          observers: { terms: { field: 'observer.name', size: 20, order: { _key: 'asc' } } },
          probes: {
            filter: { term: { 'rst.scan.probe': true } },
            aggs: {
              by_verdict: { terms: { field: 'rst.verdict', size: PROBE_KINDS.length, missing: UNANSWERED_SYN } },
              hosts: distinct('destination.ip'),
              ports: distinct('destination.port'),
              busiest_host: {
                terms: { field: 'destination.ip', size: 1, order: [{ ports: 'desc' }, { _key: 'asc' }] },
                aggs: { ports: distinct('destination.port') },
              },
              top_ports: { terms: { field: 'destination.port', size: TOP_PORTS, order: [{ _count: 'desc' }, { _key: 'asc' }] } },
            },
          },
          backscatter: { filter: { term: { 'rst.verdict': 'backscatter' } }, aggs: { peers: distinct('destination.ip') } },
        },
      },
    },
  };
}

/** The document written to `<prefix>-scans` (templates.ts SCANS_MAPPING). */
export interface ScanSummaryDoc {
  readonly '@timestamp': string;
  readonly event: {
    readonly kind: 'event';
    readonly category: readonly ['network', 'intrusion_detection'];
    readonly type: readonly ['info'];
    readonly dataset: 'zeek_rst.scan';
    readonly start: string;
    readonly end: string;
  };
  readonly source: { readonly ip: string };
  readonly observer?: { readonly name: readonly string[] };
  readonly scan: {
    readonly kind: ScanKind;
    readonly scanner: boolean;
    readonly rules: readonly string[];
    readonly explanation: string;
    readonly window_start: string;
    readonly window_end: string;
    readonly probes: number;
    readonly distinct_ports: number;
    readonly distinct_hosts: number;
    readonly ports_on_one_host: number;
    readonly busiest_host?: string;
    readonly source_ports: number;
    readonly backscatter: number;
    readonly backscatter_peers: number;
    readonly first_seen: string;
    readonly last_seen: string;
    readonly top_ports: readonly number[];
    readonly by_verdict: Readonly<Record<ProbeKind, number>>;
  };
}

export interface ScanSummary {
  /** Deterministic `_id`: base64url(sha1(source|window start ms)). */
  readonly id: string;
  readonly sourceIp: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly doc: ScanSummaryDoc;
}

export function scanSummaryId(sourceIp: string, windowStartMs: number): string {
  return createHash('sha1').update(`${sourceIp}|${String(windowStartMs)}`).digest('base64url');
}

export interface SummaryPage {
  readonly summaries: readonly ScanSummary[];
  /** Buckets on the page (each a source and window with at least one counted conn). */
  readonly buckets: number;
  /** `after_key` for the next page; undefined on the last one. */
  readonly after: Readonly<Record<string, unknown>> | undefined;
  /** Buckets whose shape was not what the request asks for (skipped, counted). */
  readonly malformed: number;
}

// --- narrowing of the response (it starts as unknown) -----------------------------------------

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (o: unknown, key: string): unknown => (isObj(o) ? o[key] : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const countOf = (o: unknown): number => num(field(o, 'doc_count')) ?? 0;
const valueOf = (o: unknown): number => num(field(o, 'value')) ?? 0;
const bucketsOf = (o: unknown): readonly unknown[] => {
  const b = field(o, 'buckets');
  return Array.isArray(b) ? b : [];
};

function bucketToSummary(b: unknown, settings: ScanSettings): ScanSummary | 'skip' | 'malformed' {
  const key = field(b, 'key');
  const sourceIp = field(key, 'source');
  const windowStart = num(field(key, 'window'));
  const firstSeen = num(field(field(b, 'first_seen'), 'value'));
  const lastSeen = num(field(field(b, 'last_seen'), 'value'));
  if (typeof sourceIp !== 'string' || windowStart === undefined || firstSeen === undefined || lastSeen === undefined) return 'malformed';
  const probes = field(b, 'probes');
  const backscatter = field(b, 'backscatter');
  const busiest = bucketsOf(field(probes, 'busiest_host'))[0];
  const counts: ScanCounts = {
    probes: countOf(probes),
    distinctHosts: valueOf(field(probes, 'hosts')),
    distinctPorts: valueOf(field(probes, 'ports')),
    portsOnOneHost: valueOf(field(busiest, 'ports')),
    backscatter: countOf(backscatter),
    backscatterPeers: valueOf(field(backscatter, 'peers')),
    sourcePorts: valueOf(field(b, 'source_ports')),
  };
  const judgement = judgeScan(counts, settings);
  if (judgement.kind === undefined) return 'skip';
  const byVerdict = Object.fromEntries(PROBE_KINDS.map((k) => [k, 0])) as Record<ProbeKind, number>;
  for (const v of bucketsOf(field(probes, 'by_verdict'))) {
    const k = field(v, 'key');
    if (typeof k === 'string' && (PROBE_KINDS as readonly string[]).includes(k)) byVerdict[k as ProbeKind] = countOf(v);
  }
  const topPorts = bucketsOf(field(probes, 'top_ports')).flatMap((p) => {
    const k = num(field(p, 'key'));
    return k === undefined ? [] : [k];
  });
  const observers = bucketsOf(field(b, 'observers')).flatMap((o) => {
    const k = field(o, 'key');
    return typeof k === 'string' ? [k] : [];
  });
  const busiestHost = field(busiest, 'key');
  const windowEnd = windowStart + settings.windowS * 1000;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const doc: ScanSummaryDoc = {
    '@timestamp': iso(windowStart),
    event: { kind: 'event', category: ['network', 'intrusion_detection'], type: ['info'], dataset: 'zeek_rst.scan', start: iso(firstSeen), end: iso(lastSeen) },
    source: { ip: sourceIp },
    ...(observers.length === 0 ? {} : { observer: { name: observers } }),
    scan: {
      kind: judgement.kind,
      scanner: judgement.scanner,
      rules: judgement.rules,
      explanation: judgement.explanation,
      window_start: iso(windowStart),
      window_end: iso(windowEnd),
      probes: counts.probes,
      distinct_ports: counts.distinctPorts,
      distinct_hosts: counts.distinctHosts,
      ports_on_one_host: counts.portsOnOneHost,
      ...(typeof busiestHost === 'string' ? { busiest_host: busiestHost } : {}),
      source_ports: counts.sourcePorts,
      backscatter: counts.backscatter,
      backscatter_peers: counts.backscatterPeers,
      first_seen: iso(firstSeen),
      last_seen: iso(lastSeen),
      top_ports: topPorts,
      by_verdict: byVerdict,
    },
  };
  return { id: scanSummaryId(sourceIp, windowStart), sourceIp, windowStartMs: windowStart, windowEndMs: windowEnd, doc };
}

/** One page of the aggregation response -> the summaries worth writing (a threshold or the backscatter rule met). */
export function summariesFromResponse(response: unknown, settings: ScanSettings): SummaryPage {
  const agg = field(field(response, 'aggregations'), 'scans');
  const buckets = bucketsOf(agg);
  const summaries: ScanSummary[] = [];
  let malformed = 0;
  for (const b of buckets) {
    const s = bucketToSummary(b, settings);
    if (s === 'malformed') malformed++;
    else if (s !== 'skip') summaries.push(s);
  }
  const afterKey = field(agg, 'after_key');
  return { summaries, buckets: buckets.length, after: buckets.length > 0 && isObj(afterKey) ? afterKey : undefined, malformed };
}

// --- marking conn documents ---------------------------------------------------------------------

/** Conn documents of the scanners of one window that are not marked yet. */
export function unmarkedScannerConnsQuery(windowStartMs: number, windowEndMs: number, sources: readonly string[]): Record<string, unknown> {
  return {
    bool: {
      filter: [{ range: { '@timestamp': { gte: windowStartMs, lt: windowEndMs, format: 'epoch_millis' } } }, { terms: { 'source.ip': sources } }],
      must_not: [{ term: { 'rst.scan.scanner': true } }],
    },
  };
}

/** Conn documents in the range marked as a scanner's whose (source, window) is not one (any more). */
export function staleMarkedConnsQuery(range: TimeRange, scanners: readonly ScanSummary[]): Record<string, unknown> {
  const byWindow = new Map<number, { readonly endMs: number; readonly sources: string[] }>();
  for (const s of scanners) {
    const w = byWindow.get(s.windowStartMs) ?? { endMs: s.windowEndMs, sources: [] };
    w.sources.push(s.sourceIp);
    byWindow.set(s.windowStartMs, w);
  }
  const still = [...byWindow].map(([startMs, w]) => ({
    bool: { filter: [{ range: { '@timestamp': { gte: startMs, lt: w.endMs, format: 'epoch_millis' } } }, { terms: { 'source.ip': w.sources } }] },
  }));
  return {
    bool: {
      filter: [{ range: { '@timestamp': { gte: range.fromMs, lt: range.toMs, format: 'epoch_millis' } } }, { term: { 'rst.scan.scanner': true } }],
      ...(still.length === 0 ? {} : { must_not: still }),
    },
  };
}

/** Summaries in the scans index for windows in the range that this computation did not produce. */
export function staleSummariesQuery(range: TimeRange, keep: readonly string[]): Record<string, unknown> {
  return {
    bool: {
      filter: [{ range: { 'scan.window_start': { gte: range.fromMs, lt: range.toMs, format: 'epoch_millis' } } }],
      ...(keep.length === 0 ? {} : { must_not: [{ ids: { values: keep } }] }),
    },
  };
}

/** The partial document that marks a conn (bulk `update`: no script needed). */
export function scannerMark(scanner: boolean): Record<string, unknown> {
  return { rst: { scan: { scanner } } };
}
