/**
 * kill -9 five times during a stream of 200,000 connections, with late packet headers arriving
 * across the kills (docs/delivery.md, "State in Kafka"). After the last restart:
 * - every connection has exactly one document (nothing lost; `_id`s are deterministic, so a
 *   rewrite cannot double one);
 * - every document equals what `classify` computes over the same records (the verdict counts of
 *   all 200,000, and the whole document of every connection whose headers came late);
 * - each restart consumed again within 30 s of the moment the group could rebalance (the killed
 *   member's session, 10 s here, expires first): the last of its partitions restored (from the
 *   process's own log), and it then wrote documents of conns produced after its kill.
 *
 * The late connections are pop3-rej's eleven refused retries (Zeek's own test trace), copied 400
 * times onto other originator addresses; their 125 headers per copy are produced only after the
 * conns were produced, one fifth after each restart, so each update depends on state that a
 * killed process checkpointed. The rest are corpus conns copied onto unique 4-tuples.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { stageSettingsOf } from '../../src/config/stages';
import { createRecordClock } from '../../src/correlate/correlator';
import { createHeaderCodec } from '../../src/decode/packet-header';
import type { InputKind, InputMessage } from '../../src/domain';
import { createDriver } from '../../src/driver';
import { waitFor } from '../helpers/wait';
import { CORPUS, committedOffsets, connCount, createTopics, endOffsets, esClient, kafkaClient, produceValues, spawnCli, testConfig, testEnv, testNames, type Child } from './pipeline-harness';

const TOTAL = 200_000;
const REPLICAS = 400;
const KILLS = 5;
/** The killed member's session: the group rebalances only once it expired. */
const SESSION_TIMEOUT_MS = 10_000;
/** After the rebalance, restoring the state and resuming may take this long (the figure). */
const RESUME_WITHIN_MS = 30_000;

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface Workload {
  readonly conns: Buffer[];
  /** Header messages of the late connections, in KILLS chunks. */
  readonly headerChunks: Buffer[][];
}

/** Deterministic: the same records every run. */
function workload(): Workload {
  const pop3Conns = lines(path.join(CORPUS, 'pop3-rej', 'conn.json'));
  const pop3Headers = lines(path.join(CORPUS, 'pop3-rej', 'pop3.headers.jsonl'));
  const client = pop3Conns[0]?.['id.orig_h'];
  if (typeof client !== 'string') throw new Error('pop3-rej without an originator');
  const late: Buffer[] = [];
  const headers: Buffer[] = [];
  for (let r = 0; r < REPLICAS; r++) {
    const ip = `10.77.${r >> 8}.${r & 255}`;
    for (const c of pop3Conns) late.push(Buffer.from(JSON.stringify({ ...c, uid: `${String(c.uid)}L${r}`, 'id.orig_h': ip, _system_name: 'late' })));
    for (const h of pop3Headers) {
      headers.push(Buffer.from(JSON.stringify({ ...h, src_ip: h.src_ip === client ? ip : h.src_ip, dst_ip: h.dst_ip === client ? ip : h.dst_ip, sensor: 'late' })));
    }
  }
  const bases = ['modbus-p502-scan-rst', 'ssh-server-rst', 'retransmit-then-rst', 'zeek-docs-json-reference', 'imap-starttls-teardown-rst'].flatMap((c) => lines(path.join(CORPUS, c, 'conn.json')));
  const bulkCount = TOTAL - late.length;
  const conns: Buffer[] = [];
  const every = Math.floor(bulkCount / late.length);
  let nextLate = 0;
  for (let i = 0; i < bulkCount; i++) {
    const base = bases[i % bases.length];
    if (base === undefined) throw new Error('no corpus conns');
    const { community_id: _dropped, ...rest } = base;
    // A unique 4-tuple per copy: 172.16.0.0/12 originators, ports 1024-60999.
    const orig = `172.${16 + ((i / 60_000 / 256) | 0) % 16}.${((i / 60_000) | 0) % 256}.${(i % 250) + 1}`;
    conns.push(Buffer.from(JSON.stringify({ ...rest, uid: `${String(base.uid)}B${i}`, 'id.orig_h': orig, 'id.orig_p': 1024 + (i % 59_976), _system_name: 'bulk' })));
    if (i % every === 0 && nextLate < late.length) conns.push(late[nextLate++] ?? Buffer.alloc(0));
  }
  while (nextLate < late.length) conns.push(late[nextLate++] ?? Buffer.alloc(0));
  const size = Math.ceil(headers.length / KILLS);
  const headerChunks = Array.from({ length: KILLS }, (_, k) => headers.slice(k * size, (k + 1) * size));
  return { conns, headerChunks };
}

/** When the restarted process logged each step of its start (ms after the restart), from its JSON log lines. */
function phasesOf(stderr: string, restartedAt: number): Record<string, number> {
  const steps: Record<string, string> = { 'joined the consumer group': 'joined', 'previous owners of the partitions fenced': 'fenced', 'correlator state restored from the changelog': 'restored' };
  const out: Record<string, number> = {};
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number };
      const step = steps[entry.msg ?? ''];
      // The first join; the last restore (a second rebalance can hand over more partitions).
      if (step !== undefined && entry.time !== undefined && (step === 'restored' || !(step in out))) out[step] = entry.time - restartedAt;
    } catch {
      // a line cut by the 20 kB tail
    }
  }
  return out;
}

const ENV = {
  ZEEK_RST_CORRELATE_GRACE_MS: '300',
  // Record time: the late headers are minutes (of processing) late, seconds (of record time) late.
  ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '600000',
  ZEEK_RST_CORRELATE_MAX_EMITTED_CONNS: '400000',
  ZEEK_RST_STATE_CHECKPOINT_INTERVAL_MS: '1000',
  ZEEK_RST_SINK_BULK_MAX_DOCS: '2000',
  // Scan summaries rewrite documents from Elasticsearch; this test compares documents with classify.
  ZEEK_RST_CLASSIFY_SCAN_SUMMARY_INTERVAL_MS: '0',
  // Restores, joins and refusals in the child's stderr, which a failed wait prints.
  ZEEK_RST_LOG_LEVEL: 'info',
  // The group rebalances once the killed member's session expires: that wait is Kafka's, not
  // the restore's, and is part of the 30 s measured from the restart.
  ZEEK_RST_KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
};

describe('pipeline: kill -9 five times, late headers across the kills', () => {
  const n = testNames('crash');
  let kafka: Kafka;
  let es: Client;
  const children: Child[] = [];

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    await createTopics(kafka, n, { conn: 3, headers: 2 });
  });

  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await es.close();
  });

  it('loses nothing, doubles nothing, and writes what classify computes', async () => {
    const w = workload();
    expect(w.conns).toHaveLength(TOTAL);

    // What classify computes over the same records (headers first, record clock).
    const config = testConfig(n, ENV);
    const expected = new Map<string, string>();
    const clock = createRecordClock();
    const driver = createDriver({ settings: stageSettingsOf(config, []), codec: createHeaderCodec(), clock, sink: { write: (docs) => { for (const d of docs) expected.set(d.id, JSON.stringify(d.doc)); } }, onConn: (ts) => { clock.observe(ts); } });
    const message = (input: InputKind, value: Buffer, i: number): InputMessage => ({ value, input, source: { kind: 'kafka', topic: input, partition: 0, offset: String(i) } });
    w.headerChunks.flat().forEach((v, i) => driver.handle(message('headers', v, i)));
    w.conns.forEach((v, i) => {
      driver.handle(message('conn', v, i));
      if (i % 1000 === 999) driver.tick(); // record time moves on: conns leave as in a stream (same documents, less memory)
    });
    driver.flush();
    expect(expected.size).toBe(TOTAL);
    const expectedVerdicts = new Map<string, number>();
    const lateExpected = new Map<string, string>();
    for (const [id, doc] of expected) {
      const d = JSON.parse(doc) as { rst?: { verdict?: string }; observer?: { name?: string } };
      const v = d.rst?.verdict ?? '(none)';
      expectedVerdicts.set(v, (expectedVerdicts.get(v) ?? 0) + 1);
      if (d.observer?.name === 'late') lateExpected.set(id, doc);
    }
    expect(lateExpected.size).toBe(REPLICAS * 11);
    // pop3-rej as read from its trace: six retries (REJ, `Sr`) are SYNs refused by the server's
    // RST+ACK, five are ordinary sessions closed with FINs (SF, no RST, no verdict).
    const lateVerdicts = [...lateExpected.values()].map((d) => (JSON.parse(d) as { rst?: { verdict?: string } }).rst?.verdict ?? '(none)');
    expect(lateVerdicts.filter((v) => v === 'closed_port')).toHaveLength(REPLICAS * 6);
    expect(lateVerdicts.filter((v) => v === '(none)')).toHaveLength(REPLICAS * 5);

    // The conns go in KILLS + 1 chunks, the next one only after a kill: a kill can then never come
    // after the whole stream was written, however fast this machine is, and a restarted process
    // always has new conns to write (which is how its resumption is seen).
    const chunk = Math.ceil(TOTAL / (KILLS + 1));
    const connChunk = (k: number): Buffer[] => w.conns.slice(k * chunk, (k + 1) * chunk);
    await produceValues(kafka, n.conn, connChunk(0));
    const env = testEnv(n, ENV);
    let child = spawnCli(['run'], env);
    children.push(child);
    const resumedAfterMs: number[] = [];
    const phases: Record<string, number>[] = [];
    let midChunkKills = 0;
    for (let k = 0; k < KILLS; k++) {
      const produced = Math.min(TOTAL, (k + 1) * chunk);
      const target = k * chunk + chunk / 2; // halfway through the newest chunk
      await waitFor(async () => (await connCount(es, n)) >= target, { timeoutMs: 100_000, intervalMs: 100, what: () => `${target} documents before kill ${k + 1} (${child.stderr()})` });
      child.process.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      const atKill = await connCount(es, n);
      if (atKill < produced) midChunkKills++;
      const restartedAt = Date.now();
      child = spawnCli(['run'], env);
      children.push(child);
      // The next conns, and the late headers of this round (their conns are all produced by now),
      // arrive while the new process restores and catches up.
      await produceValues(kafka, n.conn, connChunk(k + 1));
      await produceValues(kafka, n.headers, w.headerChunks[k] ?? []);
      // More documents than conns produced before the kill: only the new process can write those
      // (a bulk request of the killed one may still land after the kill).
      await waitFor(async () => (await connCount(es, n)) > produced, { timeoutMs: 120_000, intervalMs: 100, what: () => `writing again after restart ${k + 1} (${child.stderr()})` });
      // Consuming resumes once the last of its partitions is restored (the process logs it).
      const p = phasesOf(child.stderr(), restartedAt);
      phases.push(p);
      resumedAfterMs.push((p['restored'] ?? Infinity) - SESSION_TIMEOUT_MS);
    }
    process.stdout.write(`crash test: ${midChunkKills} of ${KILLS} kills came before the produced conns were all written\n`);
    // The figure the closing note quotes: per restart, ms from the rebalance to new documents.
    process.stdout.write(`crash test: consuming again ${resumedAfterMs.join(', ')} ms after each rebalance could start (restore included)\n`);
    process.stdout.write(`crash test: ms from each restart to ${phases.map((p) => JSON.stringify(p)).join('; ')}\n`);
    for (const ms of resumedAfterMs) expect(ms).toBeLessThan(RESUME_WITHIN_MS);
    // The input, then what it was re-keyed into (docs/scale-out.md): every record correlated.
    for (const topic of [n.conn, n.headers, `${n.group}-repartition`]) {
      const end = await endOffsets(kafka, topic);
      await waitFor(
        async () => {
          const committed = await committedOffsets(kafka, n.group, topic);
          return [...end].every(([p, high]) => high === 0 || committed.get(p) === high);
        },
        { timeoutMs: 120_000, intervalMs: 500, what: () => `every offset of ${topic} committed (${child.stderr()})` },
      );
    }
    child.process.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);

    expect(await connCount(es, n)).toBe(TOTAL);
    const agg = await es.search({ index: `${n.prefix}-conn`, size: 0, aggs: { v: { terms: { field: 'rst.verdict', size: 100, missing: '(none)' } } } });
    const buckets = (agg.aggregations?.['v'] as { buckets: { key: string; doc_count: number }[] }).buckets;
    expect(new Map(buckets.map((b) => [b.key, b.doc_count]))).toEqual(expectedVerdicts);
    const late = await es.search({ index: `${n.prefix}-conn`, size: 10_000, query: { term: { 'observer.name': 'late' } } });
    expect(late.hits.hits).toHaveLength(lateExpected.size);
    for (const hit of late.hits.hits) expect({ id: hit._id, doc: JSON.stringify(hit._source) }).toEqual({ id: hit._id, doc: lateExpected.get(hit._id ?? '') });
  }, 900_000);
});
