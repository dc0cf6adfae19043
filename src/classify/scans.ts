/**
 * Scan detection (docs/scans.md), pure. Two parts:
 *
 * - `isScanProbe`: whether one connection counts as a scan probe. The ECS mapping writes it as
 *   `rst.scan.probe`, so that Elasticsearch aggregations (sink/scan-summaries.ts) and dashboards
 *   filter on one field instead of repeating the definition.
 * - `judgeScan`: the verdict on one (source, window) from its aggregated counts: port scan,
 *   sweep, both, backscatter, or nothing. The rules are data (SCAN_RULES), each with its
 *   rationale and references, like the RST rule table.
 *
 * Why no per-instance detector: a source's probes can arrive on several partitions (several
 * `run` instances), be replayed after a crash, or arrive in any order. Counting in memory gives
 * each instance its own partial view; counting from the indexed documents (one Elasticsearch
 * aggregation over every conn of the window) gives the same answer whoever asks and however
 * often. Thresholds are those of Zeek's former scan.zeek (15 ports on one host, 25 hosts, 5 min).
 */
import type { ConnRecord, Verdict } from '../domain';

/** Verdicts that are scan probes: the answer to a probe (closed, rejected) or the probe itself (half-open, connect). */
export const PROBE_VERDICTS = ['half_open_scan', 'connect_scan', 'closed_port', 'policy_reject'] as const satisfies readonly Verdict[];
export type ProbeVerdict = (typeof PROBE_VERDICTS)[number];
/** The key under which unanswered SYNs (S0, history `S`: no verdict, no RST) are counted. */
export const UNANSWERED_SYN = 'unanswered_syn';
export type ProbeKind = ProbeVerdict | typeof UNANSWERED_SYN;
export const PROBE_KINDS: readonly ProbeKind[] = [...PROBE_VERDICTS, UNANSWERED_SYN];

const PROBE_SET: ReadonlySet<string> = new Set(PROBE_VERDICTS);

/** A scan probe: a probe verdict, or an unanswered SYN (conn_state S0, history `S`). */
export function isScanProbe(conn: ConnRecord, verdict: Verdict | undefined): boolean {
  if (verdict !== undefined) return PROBE_SET.has(verdict);
  return conn.proto === 'tcp' && conn.connState === 'S0' && conn.history === 'S';
}

export interface ScanSettings {
  /** Window length, seconds; windows are aligned to the Unix epoch (00:00:00, 00:05:00 ...). */
  readonly windowS: number;
  /** Distinct destination ports on one host that make a port scan. */
  readonly portThreshold: number;
  /** Distinct destination hosts that make a sweep. */
  readonly hostThreshold: number;
  /** A backscatter source answers from at most this many source ports (a service and maybe its TLS twin). */
  readonly backscatterMaxSourcePorts: number;
}

export const DEFAULT_SCAN_SETTINGS: ScanSettings = Object.freeze({ windowS: 300, portThreshold: 15, hostThreshold: 25, backscatterMaxSourcePorts: 2 });

/** What one source did in one window, as the aggregation counted it. */
export interface ScanCounts {
  /** Scan probes from the source. */
  readonly probes: number;
  /** Distinct destination hosts of its probes. */
  readonly distinctHosts: number;
  /** Distinct destination ports of its probes (all hosts together). */
  readonly distinctPorts: number;
  /** Distinct destination ports of its probes on the host that drew the most. */
  readonly portsOnOneHost: number;
  /** Its connections that are unsolicited RSTs / SYN-ACKs (verdict backscatter). */
  readonly backscatter: number;
  /** Distinct peers of those. */
  readonly backscatterPeers: number;
  /** Distinct source ports over all its counted connections (probes and backscatter). */
  readonly sourcePorts: number;
}

export type ScanKind = 'port_scan' | 'sweep' | 'both' | 'backscatter';

export interface ScanRule {
  readonly id: string;
  /** What the rule makes of the source when it matches. */
  readonly kind: 'port_scan' | 'sweep' | 'backscatter';
  readonly when: (c: ScanCounts, s: ScanSettings) => boolean;
  readonly explain: (c: ScanCounts, s: ScanSettings) => string;
  readonly rationale: string;
  readonly refs: readonly string[];
}

const ZEEK_SCAN = "Zeek's former policy/misc/scan.zeek (Scan::port_scan_threshold 15, Scan::addr_scan_threshold 25, 5 min)";

export const SCAN_RULES: readonly ScanRule[] = Object.freeze([
  {
    id: 'SCAN-PRT-001',
    kind: 'port_scan',
    when: (c, s) => c.portsOnOneHost >= s.portThreshold,
    explain: (c, s) => `probes to ${c.portsOnOneHost} distinct ports of one host (port scan threshold ${s.portThreshold})`,
    rationale: 'A client talks to a handful of services of a host; probing many distinct ports of one host within minutes is a search for open ones.',
    refs: [ZEEK_SCAN],
  },
  {
    id: 'SCAN-SWP-001',
    kind: 'sweep',
    when: (c, s) => c.distinctHosts >= s.hostThreshold,
    explain: (c, s) => `probes to ${c.distinctHosts} distinct hosts (sweep threshold ${s.hostThreshold})`,
    rationale: 'Failed or abandoned connection attempts to many distinct hosts within minutes are a search for live hosts or for one open service.',
    refs: [ZEEK_SCAN],
  },
  {
    id: 'SCAN-BSC-001',
    kind: 'backscatter',
    when: (c, s) => c.backscatterPeers >= s.hostThreshold && c.sourcePorts <= s.backscatterMaxSourcePorts,
    explain: (c, s) =>
      `unsolicited RSTs/SYN-ACKs to ${c.backscatterPeers} peers from ${c.sourcePorts} source port(s) (<= ${s.backscatterMaxSourcePorts}): a victim answering spoofed traffic, never a scanner`,
    rationale:
      'A host flooded with spoofed SYNs answers every forged source with a SYN-ACK or RST from the attacked service port: many peers, one or two source ports, no SYN of its own. ' +
      'SYNs forged in its name (reflection) also make its RSTs look like half-open probes. Reporting it as a scanner gets a victim, often a public service, blocked.',
    refs: ['Moore, Voelker, Savage: Inferring Internet Denial-of-Service Activity, USENIX Security 2001 (backscatter analysis)', 'RFC 4987 §2 (SYN flooding)'],
  },
]);

export interface ScanJudgement {
  /** Undefined: nothing to report for this source and window. */
  readonly kind: ScanKind | undefined;
  /** A port scan, a sweep or both, and not backscatter. */
  readonly scanner: boolean;
  /** Ids of the rules that matched. */
  readonly rules: readonly string[];
  readonly explanation: string;
}

/** The verdict on one (source, window). Backscatter wins over the scan rules: it is never a scanner. */
export function judgeScan(counts: ScanCounts, settings: ScanSettings): ScanJudgement {
  const matched = SCAN_RULES.filter((r) => r.when(counts, settings));
  const rules = matched.map((r) => r.id);
  const explanation = matched.map((r) => r.explain(counts, settings)).join('; ');
  if (matched.some((r) => r.kind === 'backscatter')) return { kind: 'backscatter', scanner: false, rules, explanation };
  const port = matched.some((r) => r.kind === 'port_scan');
  const sweep = matched.some((r) => r.kind === 'sweep');
  const kind: ScanKind | undefined = port && sweep ? 'both' : port ? 'port_scan' : sweep ? 'sweep' : undefined;
  return { kind, scanner: kind !== undefined, rules, explanation };
}

/** Start of the window that holds `ms` (epoch-aligned). */
export function windowStartMs(ms: number, windowS: number): number {
  const w = windowS * 1000;
  return Math.floor(ms / w) * w;
}

/** The smallest run of whole windows covering [fromMs, toMs). */
export function alignToWindows(fromMs: number, toMs: number, windowS: number): { readonly fromMs: number; readonly toMs: number } {
  const w = windowS * 1000;
  const from = windowStartMs(fromMs, windowS);
  const to = Math.max(from + w, Math.ceil(toMs / w) * w);
  return { fromMs: from, toMs: to };
}
