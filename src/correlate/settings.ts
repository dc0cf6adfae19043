/**
 * Correlator settings: how long a conn waits for its evidence and how much pending state may
 * grow. The config loader embeds these (with its own doc lines and env names); the defaults
 * are those of docs/correlation.md.
 */
export interface CorrelateSettings {
  /** How long a conn waits for its weirds and headers before it is classified, µs. Default 5 s. */
  readonly graceUs: number;
  /** How long an emitted conn is kept so late evidence re-classifies it (same _id), µs. Default 10 min. */
  readonly lateWindowUs: number;
  /** Header join window before conn.ts, µs (docs/correlation.md: 1 s). */
  readonly headerBeforeUs: number;
  /** Header join window after conn.ts + duration, µs (docs/correlation.md: 5 s). */
  readonly headerAfterUs: number;
  /** Cap on conns waiting for evidence; the oldest is classified early when it is exceeded. */
  readonly maxPendingConns: number;
  /** Cap on emitted conns kept for late evidence. */
  readonly maxEmittedConns: number;
  /** Cap on distinct uids whose weirds wait for their conn. */
  readonly maxWeirdUids: number;
  /** Cap on weirds kept per uid (Zeek already suppresses repeats). */
  readonly maxWeirdsPerUid: number;
  /** Cap on packet headers kept (all flows together). */
  readonly maxHeaders: number;
  /** Cap on hosts with a TTL / IP ID baseline. */
  readonly maxHosts: number;
  /** Recent non-RST packets kept per host for its baseline. */
  readonly hostSamples: number;
  /** Cap on recently closed 4-tuples remembered for TIME_WAIT reuse. */
  readonly maxRecentCloses: number;
  /** How long, in record time, a close is remembered at least (2 MSL: classify.twoMslS); the late window when longer. */
  readonly closeMemoryUs: number;
}

export const DEFAULT_CORRELATE_SETTINGS: CorrelateSettings = Object.freeze({
  graceUs: 5_000_000,
  lateWindowUs: 600_000_000,
  headerBeforeUs: 1_000_000,
  headerAfterUs: 5_000_000,
  maxPendingConns: 100_000,
  maxEmittedConns: 200_000,
  maxWeirdUids: 100_000,
  maxWeirdsPerUid: 64,
  maxHeaders: 1_000_000,
  maxHosts: 100_000,
  hostSamples: 32,
  maxRecentCloses: 100_000,
  closeMemoryUs: 120_000_000,
});
