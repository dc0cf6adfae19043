/**
 * What `run` weighs against its bound and what /healthz says (docs/delivery.md, "Backpressure"
 * and "Health"). Every path that will put bytes in memory on their way out counts:
 * - documents in the sink (queued or in flight),
 * - conns waiting out their grace in the correlator (each becomes a document),
 * - late-evidence updates the tick will write (each becomes a document again),
 * - dead letters being written to the dead-letter topic.
 *
 * The bound is `sink.maxPendingDocs` plus an allowance for the grace: 1.5 x the documents
 * Elasticsearch acknowledged over the last grace, at most `correlate.maxPendingConns`. A conn
 * waits one grace whatever Elasticsearch does, so sustaining R documents/s holds R x grace conns
 * (Little's law); with `sink.maxPendingDocs` alone as the bound, intake was held to about
 * maxPendingDocs / grace (4,000 conns/s at the defaults) however fast Elasticsearch was. With the
 * allowance, intake can grow by half per grace until Elasticsearch is the limit, and the sink
 * still holds documents while the next grace's conns wait (a bound on the sink alone let it run
 * dry for most of each grace). A slow or stopped Elasticsearch still pauses the consumer: the
 * acknowledged rate falls, and one grace later the bound is `sink.maxPendingDocs` again. Memory
 * stays bounded by maxPendingDocs + maxPendingConns documents and conns at the very most.
 *
 * Conns in their grace alone also stay below `correlate.maxPendingConns` (past it the
 * correlator would classify the oldest early). The consumer takes no new message while the sum
 * is at the bound.
 *
 * The allowance needs `maxPendingConns` and `graceMs` (run.ts passes `config.correlate.*`);
 * without them the bound is `maxPendingDocs` alone, as before.
 *
 * The bound is also held to a time: at the acknowledged rate R, at most R x (grace +
 * `sink.maxQueueMs`) documents (never below `minPendingDocs`, two full bulk requests per lane).
 * By Little's law R x grace of them are conns in their grace, so the sink holds about
 * `maxQueueMs` of work whatever R is. A message's offset commits once its documents are
 * acknowledged (then the next checkpoint): with a bound in documents alone, a slow Elasticsearch
 * left the commits a minute behind. Intake still grows with R: with the sink empty, one grace
 * takes in (grace + maxQueueMs) / grace times what the last one acknowledged.
 *
 * The time bound holds only while the sink is busy: while it holds fewer than `minPendingDocs`
 * (two full bulk requests per lane), Elasticsearch has room that the acknowledged rate does not
 * show, and holding intake to that rate would only keep it there. Measured, the consumer paused
 * with an empty sink and 8,000 conns in their grace, the event loop idle 38 % of the run; each
 * disturbance (a checkpoint, a collection) lowered the rate the bound then held it to.
 */
import { deliveryHealth, type Health, type Metrics } from '../metrics';

export interface DeliveryParts {
  /**
   * `lastEnqueued() - pendingCount()` is what the sink has acknowledged (or dead-lettered), in any
   * order: the rate the bounds follow. Not its `completedThrough()`, a watermark that one slow
   * lane holds back while the others go on.
   */
  readonly sink: { pendingCount(): number; msSinceProgress(): number; healthy(): boolean; lastEnqueued(): number };
  readonly driver: { stats(): { readonly pendingConns: number; readonly pendingUpdates: number } };
  readonly deadLetters: { inFlight(): number };
  readonly metrics: Metrics;
  readonly maxPendingDocs: number;
  /**
   * The allowance at most, and conns in their grace at most (`correlate.maxPendingConns`).
   * Without it (and `graceMs`) there is no allowance: the bound is `maxPendingDocs` alone.
   */
  readonly maxPendingConns?: number;
  /** `correlate.graceMs`: the window over which the acknowledged rate is measured. */
  readonly graceMs?: number;
  /** `sink.maxQueueMs`: the work beyond the grace that may wait, at the acknowledged rate; 0 or absent: no time bound. */
  readonly maxQueueMs?: number;
  /** The time bound never goes below this (at start, and while Elasticsearch acknowledges nothing). */
  readonly minPendingDocs?: number;
  readonly unhealthyAfterMs: number;
  /** The fatal error's message, once there is one. */
  readonly fatal: () => string | undefined;
  /** Wall clock in ms (injectable for tests). */
  readonly now?: () => number;
}

export interface PendingParts {
  readonly sink: number;
  readonly conn: number;
  readonly update: number;
  readonly deadLetter: number;
}

export interface DeliveryMonitor {
  /** Everything that counts against the bounds, by kind. */
  pending(): PendingParts;
  /**
   * True while the sum is below `bound()` (below the bound in documents alone while the sink
   * holds fewer than `minPendingDocs`) and the conns in their grace below `correlate.maxPendingConns`.
   */
  hasRoom(): boolean;
  /** `sink.maxPendingDocs` + the grace allowance, at most the time bound (refreshed by `updateGauges`). */
  bound(): number;
  health(extra?: Readonly<Record<string, string | number | boolean>>): Health;
  /** Refreshes the time-based gauges and the grace bound (called by the ticker). */
  updateGauges(): void;
}

export const pendingTotal = (p: PendingParts): number => p.sink + p.conn + p.update + p.deadLetter;

/** The allowance per document acknowledged over the last grace: intake may grow by half per grace. */
export const GRACE_HEADROOM = 1.5;

/** The grace allowance: GRACE_HEADROOM x the documents acknowledged over the last grace, at most `cap`. */
export function graceAllowance(acknowledgedInGrace: number, cap: number): number {
  return Math.min(cap, Math.ceil(GRACE_HEADROOM * Math.max(0, acknowledgedInGrace)));
}

/** Documents that `ms` of work beyond the grace is at `inGrace` documents per grace: at least `floor`. */
export function timeBound(inGrace: number, graceMs: number, ms: number, floor: number): number {
  return Math.max(floor, Math.ceil((Math.max(0, inGrace) * (graceMs + ms)) / graceMs));
}

export function createDeliveryMonitor(d: DeliveryParts): DeliveryMonitor {
  const now = d.now ?? Date.now;
  const window = Math.max(1, d.graceMs ?? 1);
  const cap = d.maxPendingConns === undefined || d.graceMs === undefined ? 0 : d.maxPendingConns;
  const maxConns = d.maxPendingConns ?? Number.POSITIVE_INFINITY;
  const acknowledged = (): number => d.sink.lastEnqueued() - d.sink.pendingCount();
  /** (time, acknowledged) samples over the last grace, oldest first. */
  const samples: { t: number; done: number }[] = [{ t: now(), done: acknowledged() }];
  const queueMs = d.graceMs === undefined ? 0 : (d.maxQueueMs ?? 0);
  const floor = Math.min(d.maxPendingDocs, d.minPendingDocs ?? d.maxPendingDocs);
  let bound = queueMs > 0 ? floor : d.maxPendingDocs;
  /** The bound in documents alone (`sink.maxPendingDocs` + the grace allowance): what holds while the sink is idle. */
  let byDocuments = d.maxPendingDocs;
  const pending = (): PendingParts => {
    const s = d.driver.stats();
    return { sink: d.sink.pendingCount(), conn: s.pendingConns, update: s.pendingUpdates, deadLetter: d.deadLetters.inFlight() };
  };
  const refreshBound = (): void => {
    const t = now();
    const done = acknowledged();
    samples.push({ t, done });
    // Keep one sample at or before the window's start.
    while (samples.length > 2 && (samples[1]?.t ?? t) <= t - window) samples.shift();
    const oldest = samples[0] ?? { t, done };
    const span = t - oldest.t;
    // Documents acknowledged over one grace (scaled when less history is there yet).
    const inGrace = span <= 0 ? 0 : ((done - oldest.done) * window) / Math.max(span, window);
    byDocuments = d.maxPendingDocs + graceAllowance(inGrace, cap);
    bound = queueMs > 0 ? Math.min(byDocuments, timeBound(inGrace, window, queueMs, floor)) : byDocuments;
  };
  return {
    pending,
    hasRoom: () => {
      const p = pending();
      const sinkIdle = queueMs > 0 && p.sink + p.deadLetter < floor;
      return pendingTotal(p) < (sinkIdle ? byDocuments : bound) && p.conn < maxConns;
    },
    bound: () => bound,
    health: (extra) =>
      deliveryHealth({
        fatal: d.fatal(),
        sinkPending: d.sink.pendingCount(),
        msSinceProgress: d.sink.msSinceProgress(),
        unhealthyAfterMs: d.unhealthyAfterMs,
        sinkRetrying: !d.sink.healthy(),
        ...(extra === undefined ? {} : { detail: extra }),
      }),
    updateGauges() {
      refreshBound();
      const p = pending();
      d.metrics.boundUsed.set({ kind: 'sink' }, p.sink);
      d.metrics.boundUsed.set({ kind: 'conn' }, p.conn);
      d.metrics.boundUsed.set({ kind: 'update' }, p.update);
      d.metrics.boundUsed.set({ kind: 'dead_letter' }, p.deadLetter);
      d.metrics.bound.set(bound);
      d.metrics.sinkStalled.set(d.sink.msSinceProgress() / 1000);
    },
  };
}
