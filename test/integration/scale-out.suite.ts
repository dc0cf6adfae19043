/**
 * Scale-out (docs/scale-out.md): several `run` instances in one consumer group, on the generated
 * workload (bench/generator.ts: 300,000 connections of the m57 corpus with their sampled headers
 * and weirds), produced without keys as zeek-kafka sends them, so a conn, its weirds and its
 * headers land on partitions of three topics that different instances own.
 *
 * - Repartition mode (the default): three instances; one is killed with SIGKILL midway, a fourth
 *   joins later. Every connection has exactly one document and every verdict is what `classify`
 *   gives over the same records.
 * - Direct mode, three instances on the first quarter of the same workload: the documented control.
 *   Nothing is lost, but evidence splits between instances, so verdicts differ from `classify`;
 *   the test prints how many.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { createRecordClock } from '../../src/correlate/correlator';
import { stageSettingsOf } from '../../src/config/stages';
import { createHeaderCodec } from '../../src/decode/packet-header';
import type { InputKind, InputMessage } from '../../src/domain';
import { createDriver } from '../../src/driver';
import { generateWorkload } from '../../bench/generator';
import { waitFor } from '../helpers/wait';
import { committedToEnd, connCount, createTopics, esClient, exitOf, kafkaClient, produceValues, spawnCli, testConfig, testEnv, testNames, type Child, type Names } from './pipeline-harness';

const TOTAL = 300_000;
const SESSION_TIMEOUT_MS = 10_000;

interface Half {
  readonly conn: Buffer[];
  readonly weird: Buffer[];
  readonly headers: Buffer[];
}

/**
 * The workload in two halves (by connection), each topic in the order a sensor sends it, and its
 * first quarter (the direct-mode control's input).
 */
function workload(): { readonly halves: readonly [Half, Half]; readonly inOrder: { input: InputKind; value: Buffer }[][]; readonly quarter: Half; readonly quarterChunks: number } {
  const halves: [Half, Half] = [{ conn: [], weird: [], headers: [] }, { conn: [], weird: [], headers: [] }];
  const quarter: Half = { conn: [], weird: [], headers: [] };
  const inOrder: { input: InputKind; value: Buffer }[][] = [];
  let seen = 0;
  let quarterChunks = 0;
  for (const c of generateWorkload({ conns: TOTAL, chunk: 5000 })) {
    const h = seen < TOTAL / 2 ? halves[0] : halves[1];
    for (const part of seen < TOTAL / 4 ? [h, quarter] : [h]) {
      part.conn.push(...c.conns);
      part.weird.push(...c.weirds);
      part.headers.push(...c.headerMessages);
    }
    if (seen < TOTAL / 4) quarterChunks++;
    seen += c.conns.length;
    inOrder.push([...c.headerMessages.map((value) => ({ input: 'headers' as const, value })), ...c.weirds.map((value) => ({ input: 'weird' as const, value })), ...c.conns.map((value) => ({ input: 'conn' as const, value }))]);
  }
  return { halves, inOrder, quarter, quarterChunks };
}

/** `classify` over the same records (sensor order, record clock): verdict per `_id`. */
function classifyVerdicts(env: Readonly<Record<string, string>>, n: Names, inOrder: readonly { input: InputKind; value: Buffer }[][]): Map<string, string> {
  const verdicts = new Map<string, string>();
  const clock = createRecordClock();
  const driver = createDriver({
    settings: stageSettingsOf(testConfig(n, env), []),
    codec: createHeaderCodec(),
    clock,
    sink: { write: (docs) => { for (const d of docs) verdicts.set(d.id, d.doc.rst.verdict ?? '(none)'); } },
    onConn: (ts) => { clock.observe(ts); },
  });
  let i = 0;
  for (const chunk of inOrder) {
    for (const m of chunk) {
      const message: InputMessage = { value: m.value, input: m.input, source: { kind: 'kafka', topic: m.input, partition: 0, offset: String(i++) } };
      expect(driver.handle(message).dead).toEqual([]);
    }
    driver.tick();
  }
  driver.flush();
  return verdicts;
}

/** Verdict per `_id` of every document in the deployment's conn indices. */
async function indexedVerdicts(es: Client, prefix: string): Promise<Map<string, string>> {
  await es.indices.refresh({ index: `${prefix}-conn` });
  const out = new Map<string, string>();
  for await (const r of es.helpers.scrollSearch<{ rst?: { verdict?: string } }>({ index: `${prefix}-conn`, size: 10_000, _source: ['rst.verdict'], scroll: '1m' })) {
    for (const h of r.body.hits.hits) out.set(h._id ?? '', h._source?.rst?.verdict ?? '(none)');
  }
  return out;
}

async function produceHalf(kafka: Kafka, n: Names, h: Half): Promise<void> {
  await produceValues(kafka, n.headers, h.headers);
  await produceValues(kafka, n.weird, h.weird);
  await produceValues(kafka, n.conn, h.conn);
}

/** Until the group has committed every offset of every topic (the input, then what it re-keyed). */
async function waitAllCommitted(kafka: Kafka, group: string, topics: readonly string[], children: readonly Child[]): Promise<void> {
  for (const topic of topics) {
    await waitFor(
      () => committedToEnd(kafka, group, topic),
      { timeoutMs: 300_000, intervalMs: 1000, what: () => `every offset of ${topic} committed (${children.map((c) => c.stderr().slice(-2000)).join('\n---\n')})` },
    );
  }
}

const ENV = {
  // Record time: evidence read late by another instance is seconds of record time late.
  ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '600000',
  ZEEK_RST_CORRELATE_MAX_EMITTED_CONNS: '600000',
  ZEEK_RST_STATE_CHECKPOINT_INTERVAL_MS: '1000',
  ZEEK_RST_SINK_BULK_MAX_DOCS: '2000',
  ZEEK_RST_CLASSIFY_SCAN_SUMMARY_INTERVAL_MS: '0',
  ZEEK_RST_LOG_LEVEL: 'info',
  ZEEK_RST_KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
};

describe('scale-out: instances in one consumer group', () => {
  const n = testNames('scale');
  let kafka: Kafka;
  let es: Client;
  const children: Child[] = [];
  const prefixes = [n.prefix];
  const w = workload();
  const inOrder = w.inOrder;

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    await createTopics(kafka, n, { conn: 6, weird: 2, headers: 3 });
  });

  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    // 450,000 documents: not kept on the test node.
    // (by name: the node refuses wildcard deletes)
    for (const prefix of prefixes) {
      const names = Object.keys(await es.indices.get({ index: `${prefix}-*` }).catch(() => ({})));
      if (names.length > 0) await es.indices.delete({ index: names }).catch(() => undefined);
    }
    await es.close();
  });

  it('repartition mode: one instance killed, one joining later; nothing lost or doubled, every verdict as classify', async () => {
    const expected = classifyVerdicts(ENV, n, inOrder);
    expect(expected.size).toBe(TOTAL);
    const env = testEnv(n, ENV);
    await produceHalf(kafka, n, w.halves[0]);
    const spawn = (): Child => {
      const c = spawnCli(['run'], env);
      children.push(c);
      return c;
    };
    const [a, b, c] = [spawn(), spawn(), spawn()];
    await waitFor(async () => (await connCount(es, n)) >= TOTAL / 4, { timeoutMs: 300_000, intervalMs: 500, what: () => `a quarter of the documents (${a.stderr().slice(-3000)})` });
    b.process.kill('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');
    // The second half exists only after the kill: the kill is midway, however fast this machine is.
    await produceHalf(kafka, n, w.halves[1]);
    await waitFor(async () => (await connCount(es, n)) >= (TOTAL * 5) / 8, { timeoutMs: 300_000, intervalMs: 500, what: () => `five eighths of the documents (${a.stderr().slice(-3000)})` });
    const d = spawn();
    await waitAllCommitted(kafka, n.group, [n.conn, n.weird, n.headers, `${n.group}-repartition`], [a, c, d]);
    for (const x of [a, c, d]) x.process.kill('SIGTERM');
    for (const x of [a, c, d]) expect(await exitOf(x)).toEqual({ code: 0, stderr: '' });

    // Partitions were spread: every instance took correlation partitions over at some point.
    for (const x of [a, b, c, d]) expect(x.stderr()).toContain('taking over correlation partitions');
    const got = await indexedVerdicts(es, n.prefix);
    expect(got.size).toBe(TOTAL);
    const differing = [...expected].filter(([id, v]) => got.get(id) !== v);
    process.stdout.write(`scale-out (repartition, 3 instances, 1 killed, 1 joined): ${got.size} documents, ${differing.length} verdicts differ from classify\n`);
    expect(differing.slice(0, 5)).toEqual([]);
  }, 1_200_000);

  it('direct mode with three instances (a control, not a supported setup): nothing lost, but verdicts differ', async () => {
    // The first quarter of the workload (75,000 conns) in topics of its own, read by another group
    // into other indices. The split shows at any size (14-20 of the first 152,275 conns differed
    // in two CI runs, 50-54 of all 300,000 earlier); a quarter keeps the suite's time down.
    const m = testNames('scale-direct');
    prefixes.push(m.prefix);
    await createTopics(kafka, m, { conn: 6, weird: 2, headers: 3 });
    await produceHalf(kafka, m, w.quarter);
    const direct = { ...ENV, ZEEK_RST_PARTITIONING_MODE: 'direct' };
    const expected = classifyVerdicts(direct, m, inOrder.slice(0, w.quarterChunks));
    const total = expected.size;
    expect(total).toBe(w.quarter.conn.length);
    const instances = [0, 1, 2].map((i) => {
      // Distinct transactional ids: three instances on one host would otherwise fence each other.
      const c = spawnCli(['run'], testEnv(m, { ...direct, ZEEK_RST_STATE_TRANSACTIONAL_ID: `${m.group}-direct-${i}` }));
      children.push(c);
      return c;
    });
    // Every connection indexed (the instances rebalance among themselves as they come up, so
    // offsets of this unsupported setup are not what is checked here).
    await waitFor(async () => (await connCount(es, m)) >= total, { timeoutMs: 600_000, intervalMs: 1000, what: () => `every document of the direct control (${instances.map((c) => c.stderr().slice(-2000)).join('\n---\n')})` });
    for (const x of instances) x.process.kill('SIGTERM');
    for (const x of instances) expect(await exitOf(x)).toEqual({ code: 0, stderr: '' });
    const got = await indexedVerdicts(es, m.prefix);
    expect(got.size).toBe(total);
    const differing = [...expected].filter(([id, v]) => got.get(id) !== v);
    const resets = [...expected.values()].filter((v) => v !== '(none)').length;
    process.stdout.write(`scale-out control (direct, 3 instances): ${differing.length} of ${total} verdicts differ from classify (${resets} connections with a reset)\n`);
    // Evidence split between instances: conns judged without their headers or weirds.
    expect(differing.length).toBeGreaterThan(0);
  }, 1_200_000);
});
