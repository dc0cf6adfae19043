import { createMetrics } from '../metrics';
import { createDeliveryMonitor, graceAllowance, timeBound, type DeliveryParts } from './delivery';

function parts(over: { sink?: number; conns?: number; updates?: number; dead?: number; stalledMs?: number; retrying?: boolean; fatal?: string; completed?: () => number; now?: () => number } = {}): DeliveryParts {
  return {
    sink: { pendingCount: () => over.sink ?? 0, msSinceProgress: () => over.stalledMs ?? 0, healthy: () => over.retrying !== true, lastEnqueued: () => (over.completed?.() ?? 0) + (over.sink ?? 0) },
    driver: { stats: () => ({ pendingConns: over.conns ?? 0, pendingUpdates: over.updates ?? 0 }) },
    deadLetters: { inFlight: () => over.dead ?? 0 },
    metrics: createMetrics(),
    maxPendingDocs: 100,
    maxPendingConns: 1000,
    graceMs: 5000,
    unhealthyAfterMs: 5000,
    fatal: () => over.fatal,
    ...(over.now === undefined ? {} : { now: over.now }),
  };
}

describe('delivery monitor: backpressure', () => {
  it('counts sink documents, waiting conns, pending late updates and dead letters against the bound', () => {
    expect(createDeliveryMonitor(parts({ sink: 40, conns: 30, updates: 20, dead: 9 })).hasRoom()).toBe(true);
    // Each path alone can fill the bound.
    expect(createDeliveryMonitor(parts({ sink: 100 })).hasRoom()).toBe(false);
    expect(createDeliveryMonitor(parts({ conns: 100 })).hasRoom()).toBe(false);
    expect(createDeliveryMonitor(parts({ updates: 100 })).hasRoom()).toBe(false);
    expect(createDeliveryMonitor(parts({ dead: 100 })).hasRoom()).toBe(false);
    // 40 + 30 + 20 + 10 = 100: at the bound, no room.
    expect(createDeliveryMonitor(parts({ sink: 40, conns: 30, updates: 20, dead: 10 })).hasRoom()).toBe(false);
  });

  it('raises the bound by 1.5 x what Elasticsearch acknowledged over the last grace, by at most maxPendingConns', () => {
    let t = 0;
    let done = 0;
    let sink = 300;
    let conns = 300;
    const m = createDeliveryMonitor({ ...parts({ completed: () => done, now: () => t }), sink: { pendingCount: () => sink, msSinceProgress: () => 0, healthy: () => true, lastEnqueued: () => done + sink }, driver: { stats: () => ({ pendingConns: conns, pendingUpdates: 0 }) } });
    expect(m.bound()).toBe(100);
    expect(m.hasRoom()).toBe(false);
    // 400 documents acknowledged over 5 s (one grace): the bound is 100 + 600.
    for (let i = 1; i <= 25; i++) {
      t = i * 200;
      done = i * 16;
      m.updateGauges();
    }
    expect(m.bound()).toBe(700);
    expect(m.hasRoom()).toBe(true);
    // Faster still: the allowance is capped by maxPendingConns (1000), and so are the conns alone.
    for (let i = 26; i <= 50; i++) {
      t = i * 200;
      done += 1000;
      m.updateGauges();
    }
    expect(m.bound()).toBe(1100);
    sink = 0;
    conns = 1000;
    expect(m.hasRoom()).toBe(false);
    // Elasticsearch stops acknowledging: one grace later the bound is maxPendingDocs again.
    for (let i = 51; i <= 80; i++) {
      t = i * 200;
      m.updateGauges();
    }
    expect(m.bound()).toBe(100);
    sink = 60;
    conns = 40;
    expect(m.hasRoom()).toBe(false);
  });

  it('without maxPendingConns and graceMs there is no allowance: the bound is maxPendingDocs alone', () => {
    let t = 0;
    let done = 0;
    const { maxPendingConns: _c, graceMs: _g, ...rest } = parts({ sink: 60, conns: 40, completed: () => done, now: () => t });
    const m = createDeliveryMonitor(rest);
    for (let i = 1; i <= 25; i++) {
      t = i * 200;
      done = i * 1000;
      m.updateGauges();
    }
    expect(m.bound()).toBe(100);
    expect(m.hasRoom()).toBe(false);
  });

  it('with maxQueueMs, holds the bound to the grace plus that much work at the acknowledged rate, at least minPendingDocs', () => {
    let t = 0;
    let done = 0;
    const m = createDeliveryMonitor({ ...parts({ sink: 0, conns: 0, completed: () => done, now: () => t }), maxPendingDocs: 100_000, maxPendingConns: 100_000, maxQueueMs: 5000, minPendingDocs: 4000 });
    // Nothing acknowledged yet: the floor.
    expect(m.bound()).toBe(4000);
    // 2,000 documents/s over one grace (5 s): 10,000 per grace; grace + 5 s of work is 20,000,
    // where the bound in documents would be 100,000 + 15,000.
    for (let i = 1; i <= 25; i++) {
      t = i * 200;
      done = i * 400;
      m.updateGauges();
    }
    expect(m.bound()).toBe(20_000);
    // Elasticsearch stops acknowledging: one grace later, the floor again.
    for (let i = 26; i <= 55; i++) {
      t = i * 200;
      m.updateGauges();
    }
    expect(m.bound()).toBe(4000);
    // Lanes acknowledge out of order: the rate counts every acknowledged document, whatever the
    // sink's contiguous watermark says. 10,000 enqueued in the next grace, 2,000 of them pending.
    let enqueued = done;
    let pendingNow = 0;
    const lanes = createDeliveryMonitor({ ...parts({ now: () => t }), sink: { pendingCount: () => pendingNow, msSinceProgress: () => 0, healthy: () => true, lastEnqueued: () => enqueued }, maxPendingDocs: 100_000, maxPendingConns: 100_000, maxQueueMs: 5000, minPendingDocs: 4000 });
    for (let i = 56; i <= 80; i++) {
      t = i * 200;
      enqueued += 400;
      pendingNow = 2000;
      lanes.updateGauges();
    }
    // 10,000 - 2,000 acknowledged over one grace: 8,000 per grace, x (5 s + 5 s) / 5 s.
    expect(lanes.bound()).toBe(16_000);
    // The bound in documents still applies when it is the lower one, and the floor never exceeds it.
    const small = createDeliveryMonitor({ ...parts(), maxQueueMs: 5000, minPendingDocs: 4000 });
    expect(small.bound()).toBe(100);
  });

  it('with maxQueueMs, lets an idle sink take in up to the bound in documents: the acknowledged rate then says nothing of what Elasticsearch could take', () => {
    let t = 0;
    let done = 0;
    let sink = 0;
    let conns = 0;
    const m = createDeliveryMonitor({ ...parts({ now: () => t }), sink: { pendingCount: () => sink, msSinceProgress: () => 0, healthy: () => true, lastEnqueued: () => done + sink }, driver: { stats: () => ({ pendingConns: conns, pendingUpdates: 0 }) }, maxPendingDocs: 20_000, maxPendingConns: 100_000, maxQueueMs: 2000, minPendingDocs: 4000 });
    // 1,000 documents/s acknowledged over one grace: the time bound is 5,000 x 7 / 5 = 7,000; in documents, 20,000 + 7,500.
    for (let i = 1; i <= 25; i++) {
      t = i * 200;
      done = i * 200;
      m.updateGauges();
    }
    expect(m.bound()).toBe(7000);
    // The sink is empty and 9,000 conns wait out their grace: beyond the time bound, within the one in documents.
    conns = 9000;
    expect(m.hasRoom()).toBe(true);
    conns = 27_500;
    expect(m.hasRoom()).toBe(false);
    // The sink holds two full requests per lane: the time bound holds again.
    conns = 9000;
    sink = 4000;
    expect(m.hasRoom()).toBe(false);
    sink = 3999;
    expect(m.hasRoom()).toBe(true);
  });

  it('timeBound: the grace plus the queue time at the rate of the last grace, at least the floor', () => {
    expect(timeBound(0, 5000, 5000, 4000)).toBe(4000);
    expect(timeBound(10_000, 5000, 5000, 4000)).toBe(20_000);
    expect(timeBound(10_000, 5000, 10_000, 4000)).toBe(30_000);
  });

  it('graceAllowance: 1.5 x, capped', () => {
    expect(graceAllowance(0, 100_000)).toBe(0);
    expect(graceAllowance(40_000, 100_000)).toBe(60_000);
    expect(graceAllowance(90_000, 100_000)).toBe(100_000);
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
