/**
 * Scan summaries from the indexed documents (docs/scans.md), on the real Kafka and Elasticsearch:
 * the workload of test/helpers/scan-workload.ts (337 conns: 5 scanners, 2 backscatter victims,
 * 3 sources under the thresholds, ordinary traffic) through `run`, then
 * - exactly the summaries worked out by hand below, and rst.scan.scanner on exactly the 134 conns
 *   of the 5 scanners' windows;
 * - a replay from offset 0 (a new consumer group over the same topics) changes none of them;
 * - two `run` instances in one group, into another index prefix, give the same summaries as one;
 * - the workload produced in reverse order (another prefix) gives the same summaries and marks:
 *   rst.scan.scanner does not depend on arrival order;
 * - `zeek-rst classify` offline writes the same documents as `run` indexed, but for
 *   rst.scan.scanner, which it leaves false (docs/scans.md: only the summary pass over the index sets it);
 * - `zeek-rst scans` recomputes the same, and rebuilds a deleted summary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline, type RunningPipeline } from '../../src/cli/run';
import { documentId } from '../../src/sink/ecs';
import { scanSummaryId } from '../../src/sink/scan-summaries';
import { waitFor } from '../helpers/wait';
import { T0_S, WINDOW_S, scanWorkload } from '../helpers/scan-workload';
import { connCount, createTopics, esClient, kafkaClient, produceValues, spawnCli, testConfig, testEnv, testNames, type Names } from './pipeline-harness';

const TOTAL = 337;
const W0 = new Date(T0_S * 1000).toISOString();
const W1 = new Date((T0_S + WINDOW_S) * 1000).toISOString();
const at = (windowIso: string, s: number): string => new Date(Date.parse(windowIso) + s * 1000).toISOString();
const verdicts = (v: Partial<Record<'half_open_scan' | 'connect_scan' | 'closed_port' | 'policy_reject' | 'unanswered_syn', number>>): Record<string, number> => ({
  half_open_scan: 0, connect_scan: 0, closed_port: 0, policy_reject: 0, unanswered_syn: 0, ...v,
});

/** By hand from the workload's description; key: source ip @ window start. */
const EXPECTED: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // 20 probes of ports 1..20 on 10.2.0.1: 10 ShR, 5 Sr, 5 S; one source port; top ports all once: lowest five.
  [`10.1.0.1@${W0}`]: { kind: 'port_scan', scanner: true, rules: ['SCAN-PRT-001'], probes: 20, distinct_ports: 20, distinct_hosts: 1, ports_on_one_host: 20, busiest_host: '10.2.0.1', source_ports: 1, backscatter: 0, backscatter_peers: 0, top_ports: [1, 2, 3, 4, 5], by_verdict: verdicts({ half_open_scan: 10, closed_port: 5, unanswered_syn: 5 }), first_seen: at(W0, 10), last_seen: at(W0, 29) },
  // 16 ShAR to 8000..8015 of 10.2.0.2 (its 3 SF conns are not probes).
  [`10.1.0.2@${W1}`]: { kind: 'port_scan', scanner: true, rules: ['SCAN-PRT-001'], probes: 16, distinct_ports: 16, distinct_hosts: 1, ports_on_one_host: 16, busiest_host: '10.2.0.2', source_ports: 16, backscatter: 0, backscatter_peers: 0, top_ports: [8000, 8001, 8002, 8003, 8004], by_verdict: verdicts({ connect_scan: 16 }), first_seen: at(W1, 20), last_seen: at(W1, 35) },
  // 30 unanswered SYNs to 445 of 30 hosts from one source port: a sweep, and no backscatter (it sent SYNs only).
  [`10.1.0.3@${W0}`]: { kind: 'sweep', scanner: true, rules: ['SCAN-SWP-001'], probes: 30, distinct_ports: 1, distinct_hosts: 30, ports_on_one_host: 1, busiest_host: '10.3.0.1', source_ports: 1, backscatter: 0, backscatter_peers: 0, top_ports: [445], by_verdict: verdicts({ unanswered_syn: 30 }), first_seen: at(W0, 30), last_seen: at(W0, 59) },
  // 26 refused SYNs to 22 of 26 hosts.
  [`10.1.0.4@${W0}`]: { kind: 'sweep', scanner: true, rules: ['SCAN-SWP-001'], probes: 26, distinct_ports: 1, distinct_hosts: 26, ports_on_one_host: 1, busiest_host: '10.3.1.1', source_ports: 26, backscatter: 0, backscatter_peers: 0, top_ports: [22], by_verdict: verdicts({ closed_port: 26 }), first_seen: at(W0, 100), last_seen: at(W0, 125) },
  // 15 ShR to 1000..1014 of 10.4.0.1 and 24 S to port 80 of 10.4.0.2..25: 25 hosts, 16 ports; port 80 drew 24.
  [`10.1.0.5@${W1}`]: { kind: 'both', scanner: true, rules: ['SCAN-PRT-001', 'SCAN-SWP-001'], probes: 39, distinct_ports: 16, distinct_hosts: 25, ports_on_one_host: 15, busiest_host: '10.4.0.1', source_ports: 39, backscatter: 0, backscatter_peers: 0, top_ports: [80, 1000, 1001, 1002, 1003], by_verdict: verdicts({ half_open_scan: 15, unanswered_syn: 24 }), first_seen: at(W1, 100), last_seen: at(W1, 143) },
  // The flood victim: 26 ShR (SYNs forged in its name) would be a sweep, but 30 lone RSTs to 30 peers, all from port 80: backscatter.
  [`198.51.100.1@${W0}`]: { kind: 'backscatter', scanner: false, rules: ['SCAN-SWP-001', 'SCAN-BSC-001'], probes: 26, distinct_ports: 1, distinct_hosts: 26, ports_on_one_host: 1, busiest_host: '192.0.2.1', source_ports: 1, backscatter: 30, backscatter_peers: 30, top_ports: [80], by_verdict: verdicts({ half_open_scan: 26 }), first_seen: at(W0, 200), last_seen: at(W0, 265) },
  // 40 lone RSTs from ports 80 and 443 to 40 peers, no probes.
  [`198.51.100.2@${W1}`]: { kind: 'backscatter', scanner: false, rules: ['SCAN-BSC-001'], probes: 0, distinct_ports: 0, distinct_hosts: 0, ports_on_one_host: 0, source_ports: 2, backscatter: 40, backscatter_peers: 40, top_ports: [], by_verdict: verdicts({}), first_seen: at(W1, 200), last_seen: at(W1, 239) },
};
/** Conns of the scanners' windows: 20 + (16 + 3 SF) + 30 + 26 + 39. */
const MARKED = 134;

interface SummaryHit {
  readonly id: string;
  readonly source: Record<string, unknown>;
}

async function summaries(es: Client, prefix: string): Promise<SummaryHit[]> {
  await es.indices.refresh({ index: `${prefix}-scans` });
  const res = await es.search<Record<string, unknown>>({ index: `${prefix}-scans`, size: 100, sort: [{ 'source.ip': 'asc' }, { 'scan.window_start': 'asc' }] });
  return res.hits.hits.map((h) => ({ id: h._id ?? '', source: h._source ?? {} }));
}

function keyed(hits: readonly SummaryHit[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const h of hits) {
    const source = h.source.source as { ip: string };
    const scan = h.source.scan as Record<string, unknown>;
    const { kind, scanner, rules, probes, distinct_ports, distinct_hosts, ports_on_one_host, busiest_host, source_ports, backscatter, backscatter_peers, top_ports, by_verdict, first_seen, last_seen } = scan;
    out[`${source.ip}@${String(scan.window_start)}`] = {
      kind, scanner, rules, probes, distinct_ports, distinct_hosts, ports_on_one_host, ...(busiest_host === undefined ? {} : { busiest_host }), source_ports, backscatter, backscatter_peers, top_ports, by_verdict, first_seen, last_seen,
    };
  }
  return out;
}

async function markedSources(es: Client, prefix: string): Promise<{ count: number; bySource: Record<string, number> }> {
  await es.indices.refresh({ index: `${prefix}-conn` });
  const res = await es.search({ index: `${prefix}-conn`, size: 0, query: { term: { 'rst.scan.scanner': true } }, aggs: { s: { terms: { field: 'source.ip', size: 50 } } } });
  const buckets = ((res.aggregations?.s as { buckets?: { key: string; doc_count: number }[] } | undefined)?.buckets ?? []);
  const bySource: Record<string, number> = {};
  for (const b of buckets) bySource[b.key] = b.doc_count;
  return { count: buckets.reduce((a, b) => a + b.doc_count, 0), bySource };
}

async function runUntilIndexed(es: Client, n: Names, instances: number, extra: Readonly<Record<string, string>>): Promise<void> {
  const config = testConfig(n, { ZEEK_RST_CLASSIFY_SCAN_SUMMARY_INTERVAL_MS: '400', ...extra });
  const running: RunningPipeline[] = [];
  try {
    for (let i = 0; i < instances; i++) running.push(await startPipeline(config));
    await waitFor(async () => (await connCount(es, n)) === TOTAL && running.every((r) => r.status().pendingConns === 0 && r.status().sinkPending === 0), {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `${TOTAL} conn documents in ${n.prefix}-conn`,
    });
  } finally {
    // A graceful stop runs the last summary pass over the windows each instance wrote into.
    for (const code of await Promise.all(running.map((r) => r.stop()))) expect(code).toBe(0);
  }
}

describe('scan summaries from the indexed documents', () => {
  const n = testNames('scans');
  let kafka: Kafka;
  let es: Client;
  let first: SummaryHit[] = [];

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    await createTopics(kafka, n, { conn: 3 });
    await produceValues(kafka, n.conn, scanWorkload());
  });

  afterAll(async () => {
    await es.close();
  });

  it('gives exactly the hand-counted summaries and marks exactly the scanners\' conns', async () => {
    expect(scanWorkload()).toHaveLength(TOTAL);
    await runUntilIndexed(es, n, 1, {});
    first = await summaries(es, n.prefix);
    expect(keyed(first)).toEqual(EXPECTED);
    // Deterministic ids: source | window start.
    expect(first.map((h) => h.id).sort()).toEqual(Object.keys(EXPECTED).map((k) => {
      const [ip = '', w = ''] = k.split('@');
      return scanSummaryId(ip, Date.parse(w));
    }).sort());
    const marked = await markedSources(es, n.prefix);
    expect(marked.bySource).toEqual({ '10.1.0.1': 20, '10.1.0.2': 19, '10.1.0.3': 30, '10.1.0.4': 26, '10.1.0.5': 39 });
    expect(marked.count).toBe(MARKED);
  });

  it('a replay from offset 0 changes no summary and no mark', async () => {
    await runUntilIndexed(es, n, 1, { ZEEK_RST_KAFKA_GROUP: `${n.group}-replay` });
    expect(await summaries(es, n.prefix)).toEqual(first);
    expect((await markedSources(es, n.prefix)).count).toBe(MARKED);
  });

  it('two instances give the same summaries as one', async () => {
    const n2: Names = { ...n, group: `${n.group}-two`, prefix: `${n.prefix}-two` };
    await runUntilIndexed(es, n2, 2, {});
    expect(await summaries(es, n2.prefix)).toEqual(first);
    expect((await markedSources(es, n2.prefix)).count).toBe(MARKED);
  });

  it('the workload in reverse arrival order gives the same summaries and marks the same conns', async () => {
    const n3: Names = { ...testNames('scans-rev'), group: `${n.group}-rev` };
    await createTopics(kafka, n3, { conn: 3 });
    await produceValues(kafka, n3.conn, [...scanWorkload()].reverse());
    await runUntilIndexed(es, n3, 1, {});
    expect(await summaries(es, n3.prefix)).toEqual(first);
    const marked = await markedSources(es, n3.prefix);
    expect(marked).toEqual(await markedSources(es, n.prefix));
    expect(marked.count).toBe(MARKED);
  });

  it('classify offline writes the documents run indexed, with rst.scan.scanner left false', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zrst-scans-'));
    try {
      const file = path.join(dir, 'conn.json');
      writeFileSync(file, scanWorkload().map((b) => b.toString('utf8')).join('\n') + '\n');
      const child = spawnCli(['classify', '--conn', file], testEnv(n));
      const { code } = await child.exited;
      expect({ code }).toEqual({ code: 0 });
      // One line per conn (no late evidence here: no headers, no weirds, one record per uid).
      const offline = child.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(offline).toHaveLength(TOTAL);
      await es.indices.refresh({ index: `${n.prefix}-conn` });
      const indexed = new Map<string, unknown>();
      for (let from = 0; from < TOTAL; from += 200) {
        const res = await es.search<Record<string, unknown>>({ index: `${n.prefix}-conn`, from, size: 200, sort: [{ 'zeek.session_id': 'asc' }] });
        for (const h of res.hits.hits) indexed.set(h._id ?? '', h._source);
      }
      expect(indexed.size).toBe(TOTAL);
      let scanners = 0;
      for (const doc of offline) {
        const rst = doc['rst'] as { scan: { scanner: boolean } };
        expect(rst.scan.scanner).toBe(false);
        const zeek = doc['zeek'] as { session_id: string };
        const observer = doc['observer'] as { name: string } | undefined; // none configured here
        const stored = indexed.get(documentId(observer?.name, zeek.session_id)) as { rst: { scan: { scanner: boolean } } } | undefined;
        if (stored?.rst.scan.scanner === true) scanners++;
        // The same document but for the mark, which the summary pass set in the index.
        expect(stored).toEqual({ ...doc, rst: { ...rst, scan: { ...rst.scan, scanner: stored?.rst.scan.scanner } } });
      }
      expect(scanners).toBe(MARKED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('zeek-rst scans recomputes the same summaries and rebuilds a deleted one', async () => {
    const victim = first[0]?.id ?? '';
    await es.delete({ index: `${n.prefix}-scans`, id: victim, refresh: true });
    const env = testEnv(n);
    const child = spawnCli(['scans', '--from', W0, '--to', at(W1, WINDOW_S)], env);
    const { code } = await child.exited;
    expect({ code, err: code === 0 ? '' : child.stderr() }).toEqual({ code: 0, err: '' });
    expect(child.stdout()).toContain('summaries written to');
    expect(child.stdout()).toMatch(/: 7 \(port_scan 2, sweep 2, both 1, backscatter 2\); stale ones deleted: 0/);
    expect(child.stderr()).toMatch(/zeek-rst scans: (aggregate|write|mark):/);
    expect(await summaries(es, n.prefix)).toEqual(first);
    expect((await markedSources(es, n.prefix)).count).toBe(MARKED);
  });
});
