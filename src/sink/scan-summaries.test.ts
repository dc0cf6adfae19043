import { DEFAULT_SCAN_SETTINGS } from '../classify/scans';
import { scanAggregationRequest, scanSummaryId, staleMarkedConnsQuery, summariesFromResponse } from './scan-summaries';

const range = { fromMs: Date.parse('2024-03-21T15:00:00Z'), toMs: Date.parse('2024-03-21T15:10:00Z') };

describe('scan summary aggregation', () => {
  it('is a composite over source and window with core aggregations only (no script)', () => {
    const body = scanAggregationRequest(range, DEFAULT_SCAN_SETTINGS, 500);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/script/);
    expect(body).toMatchObject({
      size: 0,
      aggs: { scans: { composite: { size: 500, sources: [{ source: { terms: { field: 'source.ip' } } }, { window: { date_histogram: { field: '@timestamp', fixed_interval: '300s' } } }] } } },
    });
    expect(scanAggregationRequest(range, DEFAULT_SCAN_SETTINGS, 500, { source: '10.0.0.1', window: 1 })).toMatchObject({ aggs: { scans: { composite: { after: { source: '10.0.0.1', window: 1 } } } } });
  });

  // A bucket shaped as Elasticsearch 8.19 answers the request above.
  const bucket = (ip: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
    key: { source: ip, window: range.fromMs },
    doc_count: 20,
    first_seen: { value: range.fromMs + 10_000, value_as_string: '2024-03-21T15:00:10.000Z' },
    last_seen: { value: range.fromMs + 29_000 },
    source_ports: { value: 1 },
    observers: { buckets: [{ key: 'sensor-a', doc_count: 20 }] },
    probes: {
      doc_count: 20,
      by_verdict: { buckets: [{ key: 'half_open_scan', doc_count: 10 }, { key: 'closed_port', doc_count: 5 }, { key: 'unanswered_syn', doc_count: 5 }] },
      hosts: { value: 1 },
      ports: { value: 20 },
      busiest_host: { buckets: [{ key: '10.2.0.1', doc_count: 20, ports: { value: 20 } }] },
      top_ports: { buckets: [1, 2, 3, 4, 5].map((k) => ({ key: k, doc_count: 1 })) },
    },
    backscatter: { doc_count: 0, peers: { value: 0 } },
    ...over,
  });

  it('turns a bucket over a threshold into a summary; one under none; a malformed one is counted', () => {
    const quiet = bucket('10.1.0.9', { probes: { doc_count: 3, hosts: { value: 1 }, ports: { value: 3 }, busiest_host: { buckets: [{ key: '10.2.0.1', ports: { value: 3 } }] } } });
    const page = summariesFromResponse({ aggregations: { scans: { after_key: { source: '10.1.0.9', window: range.fromMs }, buckets: [bucket('10.1.0.1'), quiet, { key: 'nonsense' }] } } }, DEFAULT_SCAN_SETTINGS);
    expect(page).toMatchObject({ buckets: 3, malformed: 1, after: { source: '10.1.0.9', window: range.fromMs } });
    expect(page.summaries).toHaveLength(1);
    const [s] = page.summaries;
    expect(s?.id).toBe(scanSummaryId('10.1.0.1', range.fromMs));
    expect(s?.doc).toEqual({
      '@timestamp': '2024-03-21T15:00:00.000Z',
      event: { kind: 'event', category: ['network', 'intrusion_detection'], type: ['info'], dataset: 'zeek_rst.scan', start: '2024-03-21T15:00:10.000Z', end: '2024-03-21T15:00:29.000Z' },
      source: { ip: '10.1.0.1' },
      observer: { name: ['sensor-a'] },
      scan: {
        kind: 'port_scan', scanner: true, rules: ['SCAN-PRT-001'], explanation: 'probes to 20 distinct ports of one host (port scan threshold 15)',
        window_start: '2024-03-21T15:00:00.000Z', window_end: '2024-03-21T15:05:00.000Z',
        probes: 20, distinct_ports: 20, distinct_hosts: 1, ports_on_one_host: 20, busiest_host: '10.2.0.1', source_ports: 1, backscatter: 0, backscatter_peers: 0,
        first_seen: '2024-03-21T15:00:10.000Z', last_seen: '2024-03-21T15:00:29.000Z', top_ports: [1, 2, 3, 4, 5],
        by_verdict: { half_open_scan: 10, connect_scan: 0, closed_port: 5, policy_reject: 0, unanswered_syn: 5 },
      },
    });
  });

  it('has no next page after an empty one', () => {
    expect(summariesFromResponse({ aggregations: { scans: { after_key: { source: 'x', window: 0 }, buckets: [] } } }, DEFAULT_SCAN_SETTINGS).after).toBeUndefined();
    expect(summariesFromResponse('garbage', DEFAULT_SCAN_SETTINGS)).toEqual({ summaries: [], buckets: 0, after: undefined, malformed: 0 });
  });

  it('clears marks only outside the scanners\' (source, window) pairs', () => {
    const page = summariesFromResponse({ aggregations: { scans: { buckets: [bucket('10.1.0.1')] } } }, DEFAULT_SCAN_SETTINGS);
    expect(staleMarkedConnsQuery(range, page.summaries)).toEqual({
      bool: {
        filter: [{ range: { '@timestamp': { gte: range.fromMs, lt: range.toMs, format: 'epoch_millis' } } }, { term: { 'rst.scan.scanner': true } }],
        must_not: [{ bool: { filter: [{ range: { '@timestamp': { gte: range.fromMs, lt: range.fromMs + 300_000, format: 'epoch_millis' } } }, { terms: { 'source.ip': ['10.1.0.1'] } }] } }],
      },
    });
  });
});
