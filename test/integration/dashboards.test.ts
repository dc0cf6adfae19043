/**
 * Every panel of dashboards/zeek-rst.ndjson, run as the Elasticsearch query Kibana would send,
 * against the real Elasticsearch holding the documents `zeek-rst classify` makes from the corpus.
 *
 * No Kibana runs here: test/helpers/kibana-saved-objects.ts translates each Lens layer (KQL query,
 * time range filter, date_histogram / terms / unique_count / range aggregations) into the search
 * request, and throws on constructs it does not know, so a panel this test cannot check fails it.
 *
 * Documents: several corpus cases through the classify code path (source/files -> decode ->
 * pipeline -> ECS), each under its own observer (btests reuse uids across traces), plus two cases
 * again with a devices configuration so that the firewall view has configured devices:
 * - pop3-rej behind `edge-fw` (firewall, reject, 212.227.15.0/24: the POP3 servers): its 6 REJ
 *   become policy_reject (docs/verdicts.md: a configured reject device covers the path);
 * - teredo-orphan-rst behind `tap-ips` (ips, bypass, 75.126.0.0/16: the web servers): its 3 forged
 *   RSTs become policy_reset (docs/verdicts.md: a configured device explains the middlebox RST).
 *
 * Expected values come from the corpus INDEX.md and the traces (history strings, header TTLs),
 * one note each, never from the program's output.
 */
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { createRecordClock } from '../../src/correlate/correlator';
import { parseDevicesYaml } from '../../src/config/devices';
import type { Device } from '../../src/classify/devices';
import { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS, type OutputDoc } from '../../src/pipeline';
import type { EnrichedDoc } from '../../src/domain';
import { installTemplates } from '../../src/sink/elastic';
import { connIndexFor, DEFAULT_REFRESH_INTERVAL_S, indexNames } from '../../src/sink/templates';
import { readHeaderFile, readZeekLogFile } from '../../src/source/files';
import { readdirSync, existsSync } from 'node:fs';
import { uniqueName } from '../helpers/names';
import { isRecord, kqlToEs, layerSearchBody, parseKql, parseLens, readSavedObjects, tabify, type Cell, type LensPanel, type Row, type TimeRange } from '../helpers/kibana-saved-objects';
import { esClient } from './pipeline-harness';
import { DEFAULT_SCAN_SETTINGS } from '../../src/classify/scans';
import { verdictsWhere } from '../../src/classify/verdicts';
import { computeScanSummaries, type ScanPassReport } from '../../src/sink/scans-store';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
const NDJSON = path.resolve(__dirname, '../../dashboards/zeek-rst.ndjson');

interface CaseRun {
  readonly dir: string;
  readonly observer: string;
  readonly devicesYaml?: string;
}

const RUNS: readonly CaseRun[] = [
  { dir: 'pop3-rej', observer: 'pop3-rej' },
  { dir: 'modbus-p502-scan-rst', observer: 'modbus-p502-scan-rst' },
  { dir: 'teredo-orphan-rst', observer: 'teredo-orphan-rst' },
  { dir: 'ldap-idle-client-rst', observer: 'ldap-idle-client-rst' },
  { dir: 'retransmit-then-rst', observer: 'retransmit-then-rst' },
  { dir: 'pop3-fin-then-rst', observer: 'pop3-fin-then-rst' },
  { dir: 'ftp-auth-tls-server-rst', observer: 'ftp-auth-tls-server-rst' },
  { dir: 'http-to-ssh-server-rst', observer: 'http-to-ssh-server-rst' },
  { dir: 'irc-starttls-teardown-rst', observer: 'irc-starttls-teardown-rst' },
  { dir: 'imap-starttls-teardown-rst', observer: 'imap-starttls-teardown-rst' },
  { dir: 'ssh-server-rst', observer: 'ssh-server-rst' },
  { dir: 'pop3-rej', observer: 'pop3-rej+edge-fw', devicesYaml: 'devices:\n  - name: edge-fw\n    kind: firewall\n    mode: reject\n    networks: [212.227.15.0/24]\n' },
  { dir: 'teredo-orphan-rst', observer: 'teredo+tap-ips', devicesYaml: 'devices:\n  - name: tap-ips\n    kind: ips\n    mode: bypass\n    networks: [75.126.0.0/16]\n' },
];

/** The corpus spans 2008-2025; Kibana's `auto` interval over such a range is coarse: a year. */
const RANGE: TimeRange = { fromIso: '2000-01-01T00:00:00.000Z', toIso: '2030-01-01T00:00:00.000Z', autoInterval: '1y' };

function devicesOf(yaml: string | undefined): readonly Device[] {
  if (yaml === undefined) return [];
  const r = parseDevicesYaml(yaml);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.devices;
}

/** As `zeek-rst classify` does it: headers, then weirds, then conns on record time, then flush. */
async function classifyCase(run: CaseRun): Promise<{ id: string; doc: EnrichedDoc }[]> {
  const dir = path.join(CORPUS, run.dir);
  const decode = { observer: run.observer };
  const clock = createRecordClock();
  const pipeline = createClassifyPipeline({ ...DEFAULT_PIPELINE_SETTINGS, devices: devicesOf(run.devicesYaml) }, clock);
  const out: OutputDoc[] = [];
  const dead = (where: string, detail: string): never => {
    throw new Error(`${where}: ${detail}`);
  };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.headers.jsonl'))) {
    for await (const d of readHeaderFile(path.join(dir, f), { decode })) out.push(...(d.ok ? pipeline.addHeader(d.value).docs : dead(f, d.dead.detail)));
  }
  const weird = path.join(dir, 'weird.json');
  if (existsSync(weird)) {
    for await (const d of readZeekLogFile(weird, 'weird', { decode })) {
      if (!d.ok) dead(weird, d.dead.detail);
      else if (d.value.log === 'weird') out.push(...pipeline.addWeird(d.value.record).docs);
    }
  }
  const conn = path.join(dir, 'conn.json');
  for await (const d of readZeekLogFile(conn, 'conn', { decode })) {
    if (!d.ok) dead(conn, d.dead.detail);
    else if (d.value.log === 'conn') {
      clock.observe(d.value.record.tsUs);
      out.push(...pipeline.addConn(d.value.record).docs);
    }
  }
  out.push(...pipeline.flush().docs);
  // Updates re-write the same _id: keep the latest document per id, as Elasticsearch would.
  const latest = new Map<string, EnrichedDoc>();
  for (const d of out) latest.set(d.id, d.doc);
  return [...latest].map(([id, doc]) => ({ id, doc }));
}

/** Sum of a metric column per key of a bucket column (over the other bucket columns). */
function sumBy(rows: readonly Row[], key: string, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const k = String(r[key]);
    const v = r[metric];
    out[k] = (out[k] ?? 0) + (typeof v === 'number' ? v : 0);
  }
  return out;
}

const only = (rows: readonly Row[], cols: readonly string[]): Record<string, Cell>[] => rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));

/** date_histogram keys (UTC years) of two traces, from the ts in their conn.json. */
const YEAR = { pop3: '2013-01-01T00:00:00.000Z', teredo: '2008-01-01T00:00:00.000Z' } as const;

describe('dashboards: every panel query on the real Elasticsearch', () => {
  const prefix = uniqueName('dash');
  const names = indexNames(prefix);
  const objects = readSavedObjects(NDJSON);
  const panels: LensPanel[] = objects.filter((o) => o.type === 'lens').map(parseLens);
  const dataViews = new Map(objects.filter((o) => o.type === 'index-pattern').map((o) => [o.id, o.attributes]));
  const results = new Map<string, Row[]>();
  let es: Client;
  let indexed = 0;
  let scanReport: ScanPassReport | undefined;

  beforeAll(async () => {
    es = esClient();
    await installTemplates(es, prefix, { onlyIfAbsent: false, refreshIntervalS: DEFAULT_REFRESH_INTERVAL_S });
    const docs = (await Promise.all(RUNS.map(classifyCase))).flat();
    indexed = docs.length;
    const operations = docs.flatMap(({ id, doc }) => [{ index: { _index: connIndexFor(prefix, Date.parse(doc['@timestamp'])), _id: id } }, doc]);
    const bulk = await es.bulk({ operations, refresh: 'wait_for' });
    if (bulk.errors) throw new Error(`bulk: ${JSON.stringify(bulk.items.find((i) => i.index?.error !== undefined))}`);
    // The scan summary pass over the corpus, so the panels on the summaries read real documents.
    scanReport = await computeScanSummaries(es, { prefix, range: { fromMs: Date.parse(RANGE.fromIso), toMs: Date.parse(RANGE.toIso) }, settings: DEFAULT_SCAN_SETTINGS });

    for (const panel of panels) {
      const rows: Row[] = [];
      for (const layer of panel.layers) {
        const view = dataViews.get(layer.dataViewId);
        const title = view?.['title'];
        const timeField = view?.['timeFieldName'];
        if (typeof title !== 'string' || typeof timeField !== 'string') throw new Error(`${panel.id}: data view ${layer.dataViewId} without title/timeFieldName`);
        if (!title.startsWith('zeek-rst-')) throw new Error(`${panel.id}: data view ${title} is not under the zeek-rst prefix`);
        const index = `${prefix}-${title.slice('zeek-rst-'.length)}`;
        const res = await es.search({ index, ...layerSearchBody(panel, layer, timeField, RANGE) });
        const total = res.hits.total;
        rows.push(...tabify(layer, res.aggregations, typeof total === 'number' ? total : total?.value));
      }
      results.set(panel.id, rows);
    }
  });

  afterAll(async () => {
    // Wildcard deletes are refused (action.destructive_requires_name): resolve the names first.
    const created = Object.keys(await es.indices.get({ index: `${names.connPattern},${names.scansIndex}`, ignore_unavailable: true, allow_no_indices: true }));
    if (created.length > 0) await es.indices.delete({ index: created.join(',') });
    await es.indices.deleteIndexTemplate({ name: names.connTemplate });
    await es.close();
  });

  const rowsOf = (id: string): Row[] => {
    const rows = results.get(id);
    if (rows === undefined) throw new Error(`no panel ${id}`);
    return rows;
  };

  it('indexed every conn record of the cases (11+8+21+7x1+25, then pop3-rej and teredo again: 104)', () => {
    // Rows per conn.json, from INDEX.md: pop3-rej 11, modbus 8, teredo 21, ldap/retransmit/pop3-fin/ftp/http-to-ssh/irc/imap 1 each, ssh 25.
    expect(indexed).toBe(11 + 8 + 21 + 7 + 25 + 11 + 21);
  });

  it('runs a query for every panel in the NDJSON, and every panel has its expectations below', () => {
    expect([...results.keys()].sort()).toEqual([...EXPECTED_PANELS].sort());
  });

  // --- RST overview -------------------------------------------------------------------------
  // Resets in the indexed cases (INDEX.md / labels): 6 REJ `Sr` (closed_port), the same 6 behind
  // edge-fw (policy_reject), 6 FIN-then-RST (teardown_reset: pop3-fin, ftp, http-to-ssh, irc,
  // imap, ssh), teredo's 3 TTL-255 forgeries (injected_reset) and the same behind tap-ips
  // (policy_reset), client aborts (teredo `ShADadR` twice, retransmit `ShADaGdgtR`), teredo's lone
  // `R` (backscatter, twice), modbus `ShR` (half_open_scan) and `Dr` (unclassified_reset), and the
  // ldap middlebox RST after 181 s (idle_timeout).
  it('overview: verdicts over time', () => {
    const rows = rowsOf('zeek-rst-overview-verdicts-over-time');
    expect(sumBy(rows, 'verdict', 'count')).toEqual({
      teardown_reset: 6, closed_port: 6, policy_reject: 6, injected_reset: 3, policy_reset: 3,
      client_abort: 3, backscatter: 2, half_open_scan: 1, unclassified_reset: 1, idle_timeout: 1,
    });
    // pop3.pcap is from 2013-08-22 (ts 1377201633), Teredo.pcap from 2008-05-16 (ts 1210953047).
    expect(rows.filter((r) => r['time'] === YEAR.pop3).map((r) => [r['verdict'], r['count']])).toEqual(expect.arrayContaining([['closed_port', 6], ['policy_reject', 6]]));
    expect(rows.filter((r) => r['time'] === YEAR.teredo && r['verdict'] === 'injected_reset').map((r) => r['count'])).toEqual([3]);
  });

  it('overview: by phase (docs/verdicts.md) and by origin (header evidence)', () => {
    const phases = sumBy(rowsOf('zeek-rst-overview-phase'), 'phase', 'count');
    // rst.phase is where the first RST sits (docs/fields.md), read from the histories:
    // establishment: 6 closed_port + 6 policy_reject (`Sr`) and modbus `ShR` (the originator resets
    // after SYN and SYN-ACK, before any ACK of its own); teardown: 6 (after a FIN); data transfer:
    // 3 client_abort, the ldap idle_timeout and modbus `Dr` (after originator data); none: the 2
    // backscatter `R` and teredo's 3 `^r` orphan RSTs under both observers (nothing but resets seen).
    expect(phases).toEqual({ establishment: 13, teardown: 6, data_transfer: 5, none: 8 });
    expect(Object.values(phases).reduce((a, b) => a + b, 0)).toBe(32);
    const origins = sumBy(rowsOf('zeek-rst-overview-origin'), 'origin', 'count');
    // middlebox: the 3 teredo RSTs (TTL 255 vs the servers' 53) twice, and ldap's RST (TTL 251 vs the client's 52).
    expect(origins['middlebox']).toBe(7);
    expect(Object.values(origins).reduce((a, b) => a + b, 0)).toBe(32);
  });

  it('overview: verdict by origin and sender', () => {
    const rows = only(rowsOf('zeek-rst-overview-verdict-origin'), ['verdict', 'origin', 'sender', 'count']);
    // Teredo `^r`: the responder side (the claimed server) sent them; modbus `ShR`: the scanner (originator) with its own TTL 44.
    expect(rows).toEqual(expect.arrayContaining([
      { verdict: 'injected_reset', origin: 'middlebox', sender: 'responder', count: 3 },
      { verdict: 'half_open_scan', origin: 'endpoint', sender: 'originator', count: 1 },
    ]));
  });

  // --- Policy resets per firewall (alias zeek-rst-firewall) ----------------------------------
  // In the view: origin middlebox or verdict policy_reject/policy_reset = 6 (edge-fw) + 3 (tap-ips)
  // + 3 teredo forgeries + 1 ldap. Unconfigured middleboxes are `unknown hop N via <observer>`
  // (docs/verdicts.md): TTL 255 is 0 hops from its initial 255; TTL 251 is 4 hops.
  const DEVICES = { 'edge-fw': 6, 'tap-ips': 3, 'unknown hop 0 via teredo-orphan-rst': 3, 'unknown hop 4 via ldap-idle-client-rst': 1 };

  it('policy: resets per device over time', () => {
    const rows = rowsOf('zeek-rst-policy-devices-over-time');
    expect(sumBy(rows, 'device', 'count')).toEqual(DEVICES);
    expect(rows.filter((r) => r['device'] === 'edge-fw').map((r) => r['time'])).toEqual([YEAR.pop3]);
  });

  it('policy: top devices with their kind', () => {
    expect(only(rowsOf('zeek-rst-policy-top-devices'), ['device', 'kind', 'count'])).toEqual([
      { device: 'edge-fw', kind: 'firewall', count: 6 },
      { device: 'tap-ips', kind: 'ips', count: 3 },
      { device: 'unknown hop 0 via teredo-orphan-rst', kind: 'unknown', count: 3 },
      { device: 'unknown hop 4 via ldap-idle-client-rst', kind: 'unknown', count: 1 },
    ]);
  });

  it('policy: verdicts in the firewall view', () => {
    expect(sumBy(rowsOf('zeek-rst-policy-verdicts'), 'verdict', 'count')).toEqual({ policy_reject: 6, policy_reset: 3, injected_reset: 3, idle_timeout: 1 });
  });

  it('policy: protected destinations per device', () => {
    // pop3-rej: 3 SYNs each to 212.227.15.188 and .171 port 110; Teredo forgeries: ports 1577 and 1578 with 75.126.203.78, port 1576 with 75.126.130.163.
    expect(only(rowsOf('zeek-rst-policy-targets'), ['device', 'dest', 'port', 'count'])).toEqual(expect.arrayContaining([
      { device: 'edge-fw', dest: '212.227.15.188', port: 110, count: 3 },
      { device: 'edge-fw', dest: '212.227.15.171', port: 110, count: 3 },
      { device: 'tap-ips', dest: '75.126.203.78', port: 80, count: 2 },
      { device: 'tap-ips', dest: '75.126.130.163', port: 80, count: 1 },
      { device: 'unknown hop 4 via ldap-idle-client-rst', dest: '10.0.0.2', port: 3268, count: 1 },
    ]));
  });

  // --- Scans -----------------------------------------------------------------------------------
  // Probes: 192.168.0.4's 12 refused SYNs (6 closed_port + 6 policy_reject, port 110, two servers)
  // and 198.74.56.135's half-open probe of 192.168.10.111:502. Neither reaches the scanner
  // thresholds (15 ports / 25 hosts), so rst.scan.scanner adds nothing here.
  it('scans: top scanners with distinct ports and hosts', () => {
    expect(only(rowsOf('zeek-rst-scans-top-scanners'), ['source', 'probes', 'ports', 'hosts'])).toEqual([
      { source: '192.168.0.4', probes: 12, ports: 1, hosts: 2 },
      { source: '198.74.56.135', probes: 1, ports: 1, hosts: 1 },
    ]);
  });

  it('scans: top destination ports', () => {
    expect(only(rowsOf('zeek-rst-scans-top-ports'), ['port', 'probes'])).toEqual([{ port: 110, probes: 12 }, { port: 502, probes: 1 }]);
  });

  it('scans: sweeps (distinct hosts per source)', () => {
    expect(only(rowsOf('zeek-rst-scans-sweeps'), ['source', 'hosts'])).toEqual([{ source: '192.168.0.4', hosts: 2 }, { source: '198.74.56.135', hosts: 1 }]);
  });

  it('scans: probes over time by verdict', () => {
    expect(sumBy(rowsOf('zeek-rst-scans-over-time'), 'verdict', 'probes')).toEqual({ closed_port: 6, policy_reject: 6, half_open_scan: 1 });
  });

  it('scans: the summaries agree with the probe panels: no source reaches a threshold, so no summary and no scanner', () => {
    // 192.168.0.4 probes 2 hosts on 1 port, 198.74.56.135 one; teredo's 2 lone RSTs are 2 peers, far from 25.
    expect(scanReport).toMatchObject({ summaries: 0, marked: 0, byKind: { port_scan: 0, sweep: 0, both: 0, backscatter: 0 } });
    expect(scanReport?.buckets).toBeGreaterThanOrEqual(2);
    expect(only(rowsOf('zeek-rst-kpi-scanners'), ['m'])).toEqual([{ m: 0 }]);
    expect(rowsOf('zeek-rst-scans-summaries')).toEqual([]);
    expect(rowsOf('zeek-rst-scans-backscatter')).toEqual([]);
  });

  // --- KPI tiles, confidence, header coverage: each agrees with a panel counting the same thing ---
  it('KPI tiles equal the panels that count the same resets', () => {
    const resets = Object.values(sumBy(rowsOf('zeek-rst-overview-phase'), 'phase', 'count')).reduce((a, b) => a + b, 0);
    expect(only(rowsOf('zeek-rst-kpi-resets'), ['m'])).toEqual([{ m: 32 }]);
    expect(resets).toBe(32);
    const injected = sumBy(rowsOf('zeek-rst-forged-over-time'), 'observer', 'count');
    expect(only(rowsOf('zeek-rst-kpi-injected'), ['m'])).toEqual([{ m: 3 }]);
    expect(Object.values(injected).reduce((a, b) => a + b, 0)).toBe(3);
    // 6 policy_reject behind edge-fw + 3 policy_reset behind tap-ips, as the firewall view's verdict
    // panel says for the verdicts the verdict table marks as policy actions (src/classify/verdicts.ts).
    const policy = sumBy(rowsOf('zeek-rst-policy-verdicts'), 'verdict', 'count');
    expect(only(rowsOf('zeek-rst-kpi-policy'), ['m'])).toEqual([{ m: 9 }]);
    expect(verdictsWhere('policyAction').reduce((sum, v) => sum + (policy[v] ?? 0), 0)).toBe(9);
  });

  it('confidence distribution covers every reset once', () => {
    const rows = rowsOf('zeek-rst-overview-confidence');
    expect(rows.reduce((a, r) => a + (typeof r['count'] === 'number' ? r['count'] : 0), 0)).toBe(32);
    expect(rows.map((r) => r['conf']).every((k) => ['< 0.5', '0.5-0.7', '0.7-0.9', '>= 0.9'].includes(String(k)))).toBe(true);
  });

  it('header coverage per sensor agrees with the origin panel: sampled = endpoint + middlebox, not sampled = unknown', () => {
    const rows = rowsOf('zeek-rst-overview-header-coverage');
    const bySampled = sumBy(rows, 'sampled', 'count');
    const origins = sumBy(rowsOf('zeek-rst-overview-origin'), 'origin', 'count');
    // Elasticsearch keys boolean terms 1 / 0.
    expect(bySampled['1'] ?? 0).toBe((origins['endpoint'] ?? 0) + (origins['middlebox'] ?? 0));
    expect(bySampled['0'] ?? 0).toBe(origins['unknown'] ?? 0);
    // teredo's 3 forged RSTs were sampled (TTL 255): at least those 3.
    expect(rows.filter((r) => r['observer'] === 'teredo-orphan-rst' && r['sampled'] === 1).map((r) => r['count'])[0]).toBeGreaterThanOrEqual(3);
  });

  it('KPI share injected: (injected_reset + policy_reset) / resets = (3 + 3) / 32, as the injected tile, the firewall view and the resets tile say', () => {
    const policy = sumBy(rowsOf('zeek-rst-policy-verdicts'), 'verdict', 'count');
    const injected = rowsOf('zeek-rst-kpi-injected')[0]?.['m'];
    const resets = rowsOf('zeek-rst-kpi-resets')[0]?.['m'];
    expect(only(rowsOf('zeek-rst-kpi-share-injected'), ['m'])).toEqual([{ m: 6 / 32 }]);
    expect(typeof injected === 'number' && typeof resets === 'number' ? (injected + (policy['policy_reset'] ?? 0)) / resets : undefined).toBe(6 / 32);
  });

  // --- Flows by Community ID, and the drilldown to every connection of a flow ------------------
  // Teredo.pcap's three TCP 5-tuples of 192.168.2.16 with the forged RSTs (conn.json): Zeek split
  // each into several uids, which share the Community ID:
  // - port 1576 to 75.126.130.163:80: ClEkJM2 `^fA` (no RST), CwjjYJ2 `R` (backscatter), CykQaM3 `^r` (forged);
  // - port 1577 to 75.126.203.78:80: C4J4Th3 `^fA`, C37jN32 `Fa` (no RST), C7fIlMZ `^r` (forged);
  // - port 1578 to 75.126.203.78:80: C3eiCBG `ShADadR` (client abort), C1Xkzz2 `^r` (forged).
  // Each is indexed under two sensors (teredo-orphan-rst, teredo+tap-ips).
  const TEREDO_FLOWS = [
    { port: 1576, uids: ['ClEkJM2Vm5giqnMf4h', 'CwjjYJ2WqgTbAqiHl6', 'CykQaM33ztNt0csB9a'], resetUids: 2 },
    { port: 1577, uids: ['C4J4Th3PJpwUYZZ6gc', 'C37jN32gN3y3AZzyf6', 'C7fIlMZDuRiqjpYbb'], resetUids: 1 },
    { port: 1578, uids: ['C3eiCBGOLw3VtHfOj', 'C1Xkzz2MaGtLrc1Tla'], resetUids: 2 },
  ] as const;

  /** The Community ID indexed for a uid (the key to look rows up by; the counts come from the trace). */
  async function communityIdOf(uid: string): Promise<string> {
    const res = await es.search<{ network?: { community_id?: string } }>({ index: names.connAlias, size: 1, query: { term: { 'zeek.session_id': uid } } });
    const cid = res.hits.hits[0]?._source?.network?.community_id;
    if (cid === undefined) throw new Error(`no document for uid ${uid}`);
    return cid;
  }

  it('reset flows by Community ID: a flow is every uid and sensor of one 5-tuple, and the rows add up to the 32 resets', async () => {
    const rows = rowsOf('zeek-rst-overview-flows');
    for (const f of TEREDO_FLOWS) {
      const cid = await communityIdOf(f.uids[0]);
      expect(await Promise.all(f.uids.map(communityIdOf))).toEqual(f.uids.map(() => cid));
      // Resets: the flow's uids with a RST, each under both sensors.
      expect({ port: f.port, row: only(rows.filter((r) => r['cid'] === cid), ['uids', 'sensors', 'count']) }).toEqual({ port: f.port, row: [{ uids: f.resetUids, sensors: 2, count: 2 * f.resetUids }] });
    }
    expect(rows.length).toBeLessThanOrEqual(20); // within the terms size: no flow is cut off
    expect(rows.reduce((a, r) => a + (typeof r['count'] === 'number' ? r['count'] : 0), 0)).toBe(32);
  });

  it('the Community ID drilldown opens every connection of the flow, with and without a RST, from every sensor', async () => {
    const overview = objects.find((o) => o.type === 'dashboard' && o.id === 'zeek-rst-overview');
    const panels: unknown = JSON.parse(String(overview?.attributes['panelsJSON']));
    const flowPanel = (Array.isArray(panels) ? panels : []).filter(isRecord).find((p) => p['panelIndex'] === 'x9');
    const cfg = flowPanel?.['embeddableConfig'];
    const events: unknown = isRecord(cfg) && isRecord(cfg['enhancements']) && isRecord(cfg['enhancements']['dynamicActions']) ? cfg['enhancements']['dynamicActions']['events'] : undefined;
    const url = (Array.isArray(events) ? events : []).filter(isRecord).map((e) => e['action']).filter(isRecord).find((a) => a['factoryId'] === 'URL_DRILLDOWN');
    const template = isRecord(url) && isRecord(url['config']) && isRecord(url['config']['url']) ? String(url['config']['url']['template']) : '';
    const dataViewId = /_a=\(index:'([a-z0-9-]+)'/.exec(template)?.[1] ?? '';
    const kql = /query:\(language:kuery,query:'([^']*)'\)/.exec(template)?.[1] ?? '';
    const title = String(dataViews.get(dataViewId)?.['title']);
    expect({ dataViewId, title }).toEqual({ dataViewId: 'zeek-rst-conn', title: 'zeek-rst-conn' });
    for (const f of TEREDO_FLOWS) {
      const cid = await communityIdOf(f.uids[0]);
      // As Kibana fills the template on a click on that Community ID cell (the time range left out: the corpus is from 2008).
      const query = kqlToEs(parseKql(kql.replace('{{event.value}}', cid)));
      const res = await es.search<{ zeek: { session_id: string }; observer: { name: string } }>({ index: `${prefix}-${title.slice('zeek-rst-'.length)}`, size: 100, query });
      const seen = res.hits.hits.map((h) => `${h._source?.observer.name ?? ''}/${h._source?.zeek.session_id ?? ''}`).sort();
      expect({ port: f.port, seen }).toEqual({ port: f.port, seen: ['teredo+tap-ips', 'teredo-orphan-rst'].flatMap((o) => f.uids.map((u) => `${o}/${u}`)).sort() });
    }
  });

  // --- Forged / injected -----------------------------------------------------------------------
  // Teredo: RST-ACKs from 75.126.203.78 (to ports 1577, 1578) and 75.126.130.163 (to 1576) with
  // TTL 255, where those servers' packets arrive with TTL 53: delta 202; hops 0 (255 - 255) against
  // 11 (64 - 53). The client is 192.168.2.16, the originator of each conn.
  it('forged: injected resets over time per sensor', () => {
    const rows = rowsOf('zeek-rst-forged-over-time');
    expect(only(rows, ['time', 'observer', 'count'])).toEqual([{ time: YEAR.teredo, observer: 'teredo-orphan-rst', count: 3 }]);
  });

  it('forged: TTL delta distribution', () => {
    expect(only(rowsOf('zeek-rst-forged-ttl-delta'), ['delta', 'count'])).toEqual([{ delta: '64-255', count: 3 }]);
  });

  it('forged: hops observed vs expected', () => {
    expect(only(rowsOf('zeek-rst-forged-hops'), ['observed', 'expected', 'count'])).toEqual([{ observed: 0, expected: 11, count: 3 }]);
  });

  it('forged: targets', () => {
    expect(only(rowsOf('zeek-rst-forged-targets'), ['dest', 'port', 'source', 'count'])).toEqual([
      { dest: '75.126.203.78', port: 80, source: '192.168.2.16', count: 2 },
      { dest: '75.126.130.163', port: 80, source: '192.168.2.16', count: 1 },
    ]);
  });
});

const EXPECTED_PANELS = [
  'zeek-rst-overview-verdicts-over-time', 'zeek-rst-overview-phase', 'zeek-rst-overview-origin', 'zeek-rst-overview-verdict-origin',
  'zeek-rst-policy-devices-over-time', 'zeek-rst-policy-top-devices', 'zeek-rst-policy-verdicts', 'zeek-rst-policy-targets',
  'zeek-rst-scans-top-scanners', 'zeek-rst-scans-top-ports', 'zeek-rst-scans-sweeps', 'zeek-rst-scans-over-time',
  'zeek-rst-forged-over-time', 'zeek-rst-forged-ttl-delta', 'zeek-rst-forged-hops', 'zeek-rst-forged-targets',
  'zeek-rst-kpi-resets', 'zeek-rst-kpi-injected', 'zeek-rst-kpi-policy', 'zeek-rst-kpi-scanners',
  'zeek-rst-overview-confidence', 'zeek-rst-overview-header-coverage', 'zeek-rst-scans-summaries', 'zeek-rst-scans-backscatter',
  'zeek-rst-kpi-share-injected', 'zeek-rst-overview-flows',
] as const;
