/**
 * Classification thresholds (docs/verdicts.md). The config loader embeds these; every value is data so
 * that a site can tune it without touching a rule.
 */
export interface ClassifySettings {
  /** Silence before a RST that makes it an idle timeout, seconds. Default 120 s. */
  readonly idleThresholdS: number;
  /** Per responder port overrides of idleThresholdS (e.g. { 22: 900 }). */
  readonly idleThresholdByPortS: Readonly<Record<number, number>>;
  /** Without headers, idle_timeout also needs at most this many packets per side. Default 10. */
  readonly idleMaxPacketsPerSide: number;
  /** TTL (or hop) difference from the claimed sender's baseline that marks a middlebox. Default 2 (1 can be a route change). */
  readonly ttlDeltaThreshold: number;
  /** Two RSTs from one sender whose seq differ by more than this within rstSpreadWindowS are an injection signature (Weaver et al. 2009). Default 2. */
  readonly rstSeqSpread: number;
  readonly rstSpreadWindowS: number;
  /** Twice the maximum segment lifetime (RFC 9293 §3.4.2 TIME_WAIT): a SYN on a 4-tuple established and closed less than this ago meets TIME_WAIT, seconds. Default 120 s. */
  readonly twoMslS: number;
  /** connect_scan needs a duration at most this long, seconds. Default 5 s. */
  readonly connectScanMaxDurationS: number;
  /** Scan detection window, seconds (docs/scans.md; Zeek's former scan.zeek defaults). */
  readonly scanWindowS: number;
  /** Distinct destination ports on one host from one source that make a port scan. Default 15. */
  readonly scanPortThreshold: number;
  /** Distinct destination hosts from one source that make a sweep. Default 25. */
  readonly scanHostThreshold: number;
}

export const DEFAULT_CLASSIFY_SETTINGS: ClassifySettings = Object.freeze({
  idleThresholdS: 120,
  idleThresholdByPortS: Object.freeze({}),
  idleMaxPacketsPerSide: 10,
  ttlDeltaThreshold: 2,
  rstSeqSpread: 2,
  rstSpreadWindowS: 2,
  twoMslS: 120,
  connectScanMaxDurationS: 5,
  scanWindowS: 300,
  scanPortThreshold: 15,
  scanHostThreshold: 25,
});

export function idleThresholdFor(settings: ClassifySettings, respPort: number): number {
  return settings.idleThresholdByPortS[respPort] ?? settings.idleThresholdS;
}
