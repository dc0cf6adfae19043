import { METRIC_TABLE, createMetrics, serveOps } from './metrics';

describe('metrics', () => {
  it('registers every metric of the table on a registry of its own', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordsIn.inc({ topic: 'zeek-conn' }, 3);
    const names = (await a.registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual(Object.values(METRIC_TABLE).map((d) => d.name).sort());
    expect(await a.registry.metrics()).toContain('zeek_rst_records_in_total{topic="zeek-conn"} 3');
    expect(await b.registry.metrics()).not.toContain('zeek_rst_records_in_total{topic="zeek-conn"} 3');
  });

  it('names every metric zeek_rst_* in snake case, counters ending in _total', () => {
    for (const d of Object.values(METRIC_TABLE)) {
      expect(d.name).toMatch(/^zeek_rst_[a-z_]+$/);
      if (d.type === 'counter') expect(d.name).toMatch(/_total$/);
    }
  });

  it('serves /metrics and /healthz on 127.0.0.1', async () => {
    const m = createMetrics();
    m.documentsOut.inc(7);
    let healthy = true;
    const server = await serveOps({ host: '127.0.0.1', port: 0, registry: m.registry, health: () => ({ ok: healthy, detail: { lag: 0 } }) });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('zeek_rst_documents_out_total 7');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      healthy = false;
      const unhealthy = await fetch(`${base}/healthz`);
      expect(unhealthy.status).toBe(503);
      expect(await unhealthy.json()).toEqual({ status: 'unhealthy', lag: 0 });
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
