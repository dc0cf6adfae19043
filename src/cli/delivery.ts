/**
 * What `run` weighs against `sink.maxPendingDocs` and what /healthz says (docs/delivery.md,
 * "Backpressure" and "Health"). Every path that will put bytes in memory on their way out counts:
 * - documents in the sink (queued or in flight),
 * - conns waiting out their grace in the correlator (each becomes a document),
 * - late-evidence updates the tick will write (each becomes a document again),
 * - dead letters being written to the dead-letter topic.
 * The consumer takes no new message while their sum is at the bound.
 */
import { deliveryHealth, type Health, type Metrics } from '../metrics';

export interface DeliveryParts {
  readonly sink: { pendingCount(): number; msSinceProgress(): number; healthy(): boolean };
  readonly driver: { stats(): { readonly pendingConns: number; readonly pendingUpdates: number } };
  readonly deadLetters: { inFlight(): number };
  readonly metrics: Metrics;
  readonly maxPendingDocs: number;
  readonly unhealthyAfterMs: number;
  /** The fatal error's message, once there is one. */
  readonly fatal: () => string | undefined;
}

export interface PendingParts {
  readonly sink: number;
  readonly conn: number;
  readonly update: number;
  readonly deadLetter: number;
}

export interface DeliveryMonitor {
  /** Everything that counts against the bound, by kind. */
  pending(): PendingParts;
  /** True while the sum is below `sink.maxPendingDocs`. */
  hasRoom(): boolean;
  health(extra?: Readonly<Record<string, string | number | boolean>>): Health;
  /** Refreshes the time-based gauges (called by the ticker). */
  updateGauges(): void;
}

export const pendingTotal = (p: PendingParts): number => p.sink + p.conn + p.update + p.deadLetter;

export function createDeliveryMonitor(d: DeliveryParts): DeliveryMonitor {
  const pending = (): PendingParts => {
    const s = d.driver.stats();
    return { sink: d.sink.pendingCount(), conn: s.pendingConns, update: s.pendingUpdates, deadLetter: d.deadLetters.inFlight() };
  };
  return {
    pending,
    hasRoom: () => pendingTotal(pending()) < d.maxPendingDocs,
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
      const p = pending();
      d.metrics.boundUsed.set({ kind: 'sink' }, p.sink);
      d.metrics.boundUsed.set({ kind: 'conn' }, p.conn);
      d.metrics.boundUsed.set({ kind: 'update' }, p.update);
      d.metrics.boundUsed.set({ kind: 'dead_letter' }, p.deadLetter);
      d.metrics.sinkStalled.set(d.sink.msSinceProgress() / 1000);
    },
  };
}
