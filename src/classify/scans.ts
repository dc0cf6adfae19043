/**
 * Scan detection for `rst.scan.scanner` (docs/scans.md): a source that, within a window,
 * draws scan probes from >= scanPortThreshold distinct ports on one host (port scan) or
 * >= scanHostThreshold distinct hosts (sweep). Probes: half_open_scan, connect_scan, closed_port,
 * policy_reject, and unanswered SYNs (conn_state S0, history S). Defaults are those of Zeek's
 * former scan.zeek.
 *
 * Bounded: at most maxScanSources sources (least recently seen evicted first, counted), and per
 * source no more than threshold distinct ports/hosts are remembered (reaching it is all we need).
 * Time is record time (conn ts). A connection is flagged when its source is a scanner at the time
 * it is classified; docs emitted before the threshold was crossed are not rewritten. The
 * replay-safe scan summary documents are a later issue.
 */
import type { ConnRecord, Verdict } from '../domain';
import type { ClassifySettings } from './settings';

const PROBE_VERDICTS: ReadonlySet<Verdict> = new Set(['half_open_scan', 'connect_scan', 'closed_port', 'policy_reject']);

export function isScanProbe(conn: ConnRecord, verdict: Verdict | undefined): boolean {
  if (verdict !== undefined) return PROBE_VERDICTS.has(verdict);
  return conn.proto === 'tcp' && conn.connState === 'S0' && conn.history === 'S';
}

interface SourceWindow {
  startUs: number;
  readonly portsByHost: Map<string, Set<number>>;
  scanner: boolean;
}

export interface ScanDetector {
  /** Counts the conn if it is a probe; returns whether its source is a scanner in the current window. */
  observe(conn: ConnRecord, verdict: Verdict | undefined): boolean;
  size(): number;
  evictions(): number;
}

export function createScanDetector(settings: ClassifySettings): ScanDetector {
  const sources = new Map<string, SourceWindow>();
  const windowUs = settings.scanWindowS * 1e6;
  let evicted = 0;
  return {
    observe(conn, verdict) {
      const key = `${conn.observer ?? ''}|${conn.origH}`;
      let w = sources.get(key);
      const probe = isScanProbe(conn, verdict);
      if (w !== undefined && conn.tsUs - w.startUs > windowUs) {
        sources.delete(key);
        w = undefined;
      }
      if (w === undefined) {
        if (!probe) return false;
        if (sources.size >= settings.maxScanSources) {
          const oldest = sources.keys().next();
          if (oldest.done !== true) {
            sources.delete(oldest.value);
            evicted++;
          }
        }
        w = { startUs: conn.tsUs, portsByHost: new Map(), scanner: false };
      } else {
        sources.delete(key); // re-insert: most recently seen last
      }
      sources.set(key, w);
      if (probe && !w.scanner) {
        let ports = w.portsByHost.get(conn.respH);
        if (ports === undefined && w.portsByHost.size < settings.scanHostThreshold) {
          ports = new Set();
          w.portsByHost.set(conn.respH, ports);
        }
        if (ports !== undefined && ports.size < settings.scanPortThreshold) ports.add(conn.respP);
        if ((ports?.size ?? 0) >= settings.scanPortThreshold || w.portsByHost.size >= settings.scanHostThreshold) w.scanner = true;
      }
      return w.scanner;
    },
    size: () => sources.size,
    evictions: () => evicted,
  };
}
