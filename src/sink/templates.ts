/**
 * Index templates and aliases (docs/fields.md), as data. `zeek-rst setup` installs them; `run`
 * installs them when absent. Everything works on a bare Elasticsearch 8 node without ingest
 * pipelines, scripts, data streams or ILM.
 *
 * Names, for prefix P (default `zeek-rst`):
 * - `P-conn-YYYY.MM.DD`: one index per UTC day of `@timestamp`; the composable template
 *   `P-conn` matches `P-conn-*` and puts every new daily index behind the aliases below.
 * - `P-conn`: alias over every daily index (search here; writes go to concrete indices, so no
 *   write index is needed).
 * - `P-firewall`: the per-firewall view, a filtered alias over the same daily indices. Chosen
 *   over an index of its own because it costs nothing to store, cannot drift from the conn
 *   documents, and a re-classification (same _id) moves a document in or out of it by itself.
 *   Filter: resets sent by a middlebox (`rst.origin: middlebox`) or whose verdict is a policy
 *   decision (`policy_reject`, `policy_reset`).
 * - `P-scans`: scan summaries, one document per (source, window).
 * - `P-conn-bootstrap`: an empty index matching the template, created with it: without it the
 *   aliases do not exist until the first document is written, and every Kibana panel on them
 *   errors (its data view has no fields). It holds nothing and costs one empty shard.
 *
 * Mappings are explicit and `dynamic: strict`: a field the template does not know is a mapping
 * rejection, which the sink sends to the dead-letter topic instead of silently widening the
 * mapping (and every field a dashboard aggregates is guaranteed to have its declared type).
 * `rst.evidence.values` holds each rule's raw values, whose keys differ per rule: it is
 * `flattened` (core in Elasticsearch 8: aggregatable keyword leaves, no mapping explosion).
 */
import { verdictsWhere } from '../classify/verdicts';
import { CONFIG_SCHEMA } from '../config/schema';

export interface IndexNames {
  readonly connTemplate: string;
  readonly connPattern: string;
  readonly connAlias: string;
  readonly firewallAlias: string;
  readonly scansIndex: string;
  /** An empty index under the template, so that the aliases and their mapping exist before the first daily index (Kibana's data views need fields). */
  readonly connBootstrap: string;
}

export function indexNames(prefix: string): IndexNames {
  return {
    connTemplate: `${prefix}-conn`,
    connPattern: `${prefix}-conn-*`,
    connAlias: `${prefix}-conn`,
    firewallAlias: `${prefix}-firewall`,
    scansIndex: `${prefix}-scans`,
    connBootstrap: `${prefix}-conn-bootstrap`,
  };
}

const DAY_MS = 86_400_000;
/** The last name given: documents come in time order, so it answers nearly every call without a Date. */
let lastIndex = { prefix: '', day: Number.NaN, name: '' };

/** The daily index of a document: UTC day of its @timestamp (ms since epoch). */
export function connIndexFor(prefix: string, timestampMs: number): string {
  const day = Math.floor(timestampMs / DAY_MS);
  if (day === lastIndex.day && prefix === lastIndex.prefix) return lastIndex.name;
  const d = new Date(timestampMs);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const name = `${prefix}-conn-${d.getUTCFullYear()}.${mm}.${dd}`;
  lastIndex = { prefix, day, name };
  return name;
}

const keyword = { type: 'keyword', ignore_above: 1024 } as const;
const long = { type: 'long' } as const;
const int = { type: 'integer' } as const;
const float = { type: 'float' } as const;
const bool = { type: 'boolean' } as const;
const ip = { type: 'ip' } as const;
const date = { type: 'date' } as const;
const text = { type: 'text' } as const;
const obj = <P extends Record<string, unknown>>(properties: P): { readonly properties: P } => ({ properties });

const endpoint = obj({ ip, port: int, bytes: long, packets: long, ip_bytes: long });

/** Mapping of a connection document: every field `sink/ecs.ts` writes. */
export const CONN_MAPPING = {
  dynamic: 'strict',
  date_detection: false,
  properties: {
    '@timestamp': date,
    event: obj({
      kind: keyword,
      category: keyword,
      type: keyword,
      dataset: keyword,
      module: keyword,
      duration: long,
      outcome: keyword,
      start: date,
      end: date,
      id: keyword,
    }),
    source: endpoint,
    destination: endpoint,
    network: obj({ transport: keyword, protocol: keyword, community_id: keyword, bytes: long, packets: long, direction: keyword }),
    observer: obj({ name: keyword }),
    zeek: obj({
      session_id: keyword,
      connection: obj({ state: keyword, state_message: keyword, history: keyword, missed_bytes: long, local_orig: bool, local_resp: bool }),
      weird: obj({ names: keyword }),
    }),
    rst: obj({
      present: bool,
      verdict: keyword,
      phase: keyword,
      sender: keyword,
      origin: keyword,
      confidence: float,
      rules: keyword,
      evidence: obj({ rule: keyword, text, values: { type: 'flattened' } }),
      explanation: text,
      ack: bool,
      ttl: obj({ observed: int, expected: int, delta: int }),
      hops: obj({ observed: int, expected: int }),
      ip_id_delta: int,
      count: int,
      idle_before_s: float,
      retransmissions: int,
      device: obj({ name: keyword, kind: keyword }),
      scan: obj({ scanner: bool, probe: bool }),
      headers: obj({ sampled: bool }),
      ts: date,
      stage: keyword,
      tags: keyword,
      resets: obj({ sender: keyword, ts: date, ttl: int, hops: int, tcp_flags: int, ack: bool, origin: keyword, signals: keyword }),
    }),
  },
} as const;

/** Mapping of a scan summary document (one per source and window). */
export const SCANS_MAPPING = {
  dynamic: 'strict',
  date_detection: false,
  properties: {
    '@timestamp': date,
    event: obj({ kind: keyword, category: keyword, type: keyword, dataset: keyword, start: date, end: date }),
    source: obj({ ip }),
    observer: obj({ name: keyword }),
    scan: obj({
      kind: keyword,
      scanner: bool,
      rules: keyword,
      explanation: text,
      window_start: date,
      window_end: date,
      probes: long,
      distinct_ports: long,
      distinct_hosts: long,
      ports_on_one_host: long,
      busiest_host: ip,
      source_ports: long,
      backscatter: long,
      backscatter_peers: long,
      first_seen: date,
      last_seen: date,
      top_ports: long,
      by_verdict: obj({ half_open_scan: long, connect_scan: long, closed_port: long, policy_reject: long, unanswered_syn: long }),
    }),
  },
} as const;

/** Settings for a single node and for a cluster: one shard; a replica when a second node exists. */
const INDEX_SETTINGS = { number_of_shards: 1, auto_expand_replicas: '0-1', refresh_interval: '1s' } as const;

/** `elasticsearch.refreshIntervalS`'s default (Elasticsearch's own refresh interval), for callers without a configuration. */
export const DEFAULT_REFRESH_INTERVAL_S: number = CONFIG_SCHEMA.elasticsearch.refreshIntervalS.default;

/** Filter of the per-firewall view. */
export function firewallFilter(): Readonly<Record<string, unknown>> {
  return {
    bool: {
      should: [{ term: { 'rst.origin': 'middlebox' } }, { terms: { 'rst.verdict': verdictsWhere('policyAction') } }],
      minimum_should_match: 1,
    },
  };
}

/** Body of PUT _index_template/<P>-conn; `refreshIntervalS` is the daily indices' refresh interval. */
export function connTemplateBody(prefix: string, refreshIntervalS: number = DEFAULT_REFRESH_INTERVAL_S): Readonly<Record<string, unknown>> {
  const n = indexNames(prefix);
  return {
    index_patterns: [n.connPattern],
    priority: 200,
    _meta: { managed_by: 'zeek-rst', description: 'zeek-rst connection documents, one index per UTC day' },
    template: {
      settings: { ...INDEX_SETTINGS, refresh_interval: `${refreshIntervalS}s` },
      mappings: CONN_MAPPING,
      aliases: { [n.connAlias]: {}, [n.firewallAlias]: { filter: firewallFilter() } },
    },
  };
}

/** Body of PUT <P>-scans. */
export function scansIndexBody(): Readonly<Record<string, unknown>> {
  return { settings: INDEX_SETTINGS, mappings: SCANS_MAPPING };
}
