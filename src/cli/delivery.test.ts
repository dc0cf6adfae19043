import { createMetrics } from '../metrics';
import { createDeliveryMonitor, type DeliveryParts } from './delivery';

function parts(over: { sink?: number; conns?: number; updates?: number; dead?: number; stalledMs?: number; retrying?: boolean; fatal?: string } = {}): DeliveryParts {
  return {
    sink: { pendingCount: () => over.sink ?? 0, msSinceProgress: () => over.stalledMs ?? 0, healthy: () => over.retrying !== true },
    driver: { stats: () => ({ pendingConns: over.conns ?? 0, pendingUpdates: over.updates ?? 0 }) },
    deadLetters: { inFlight: () => over.dead ?? 0 },
    metrics: createMetrics(),
    maxPendingDocs: 100,
    unhealthyAfterMs: 5000,
    fatal: () => over.fatal,
  };
}

describe('delivery monitor: backpressure', () => {
  it('counts sink documents, waiting conns, pending late updates and dead letters in flight against the bound', () => {
    expect(createDeliveryMonitor(parts({ sink: 40, conns: 30, updates: 20, dead: 9 })).hasRoom()).toBe(true);
    // Each path alone can fill the bound.
    expect(createDeliveryMonitor(parts({ updates: 100 })).hasRoom()).toBe(false);
    expect(createDeliveryMonitor(parts({ dead: 100 })).hasRoom()).toBe(false);
    // 40 + 30 + 20 + 10 = 100: at the bound, no room.
    expect(createDeliveryMonitor(parts({ sink: 40, conns: 30, updates: 20, dead: 10 })).hasRoom()).toBe(false);
  });

  it('publishes what counts, per kind, and the stall in seconds', async () => {
    const p = parts({ sink: 4, conns: 3, updates: 2, dead: 1, stalledMs: 2500 });
    createDeliveryMonitor(p).updateGauges();
    const text = await p.metrics.registry.metrics();
    expect(text).toContain('zeek_rst_backpressure_pending{kind="update"} 2');
    expect(text).toContain('zeek_rst_backpressure_pending{kind="dead_letter"} 1');
    expect(text).toContain('zeek_rst_sink_stalled_seconds 2.5');
  });
});

describe('delivery monitor: health', () => {
  it('stays healthy while a bulk request is retried, until documents waited unhealthyAfterMs', () => {
    expect(createDeliveryMonitor(parts({ sink: 10, stalledMs: 4999, retrying: true })).health().ok).toBe(true);
    const h = createDeliveryMonitor(parts({ sink: 10, stalledMs: 5000, retrying: true })).health({ incomplete: 3 });
    expect(h.ok).toBe(false);
    expect(h.detail).toMatchObject({ elasticsearch: 'stalled', sinkPending: 10, msSinceProgress: 5000, unhealthyAfterMs: 5000, incomplete: 3 });
  });

  it('is healthy with nothing pending however long ago the last bulk was, and unhealthy after a fatal error', () => {
    expect(createDeliveryMonitor(parts({ sink: 0, stalledMs: 0 })).health().ok).toBe(true);
    const h = createDeliveryMonitor(parts({ fatal: 'HTTP 401' })).health();
    expect(h.ok).toBe(false);
    expect(h.detail['fatal']).toBe('HTTP 401');
  });
});
