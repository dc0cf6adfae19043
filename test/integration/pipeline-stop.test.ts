/**
 * SIGTERM during a stream: `zeek-rst run` exits 0 with every document it read indexed and its
 * offsets committed (admin fetchOffsets); a restart re-delivers nothing already indexed, which
 * Elasticsearch's own count of index operations shows (one per document, none twice). In both
 * partitioning modes: in repartition mode (docs/scale-out.md) the input offsets are committed once
 * the repartition topic holds their records, and the repartition topic's once they are indexed.
 *
 * And a stop whose final offset commit the group refuses, because the group went on without this
 * member (evicted while frozen, the partitions given to another): a warning and exit 0, since
 * the next owner resumes from the last committed offsets and the changelog; it indexes nothing
 * twice and loses nothing.
 */
import type { Client } from '@elastic/elasticsearch';
import { createServer } from 'node:net';
import type { Consumer, Kafka } from 'kafkajs';
import { waitFor } from '../helpers/wait';
import { committedOffsets, committedToEnd, connCount, createTopics, endOffsets, esClient, kafkaClient, produceValues, repartitionRecords, spawnCli, testEnv, testNames, type Child } from './pipeline-harness';

/**
 * Enough that the stop lands mid-stream. The first run is stopped once 3,000 documents are
 * indexed, and a graceful stop indexes everything it has read: up to the sink's bound
 * (`sink.maxPendingDocs`, 20,000, plus an allowance that grows with the rate acknowledged). Once
 * decode got faster, a run had read and then indexed all of a 40,000-record stream by then (CI,
 * 80047b3).
 */
const RECORDS = 150_000;

function conn(i: number): Buffer {
  // A connect scan probe as Zeek writes it (history ShAR), one uid and one 4-tuple per record.
  return Buffer.from(
    JSON.stringify({
      ts: 1711036787.549335 + i / 1000, uid: `CStop${i}`, 'id.orig_h': `10.1.${Math.floor(i / 50000)}.1`, 'id.orig_p': 10000 + (i % 50000), 'id.resp_h': '10.1.0.2', 'id.resp_p': 22, proto: 'tcp',
      duration: 0.0012, orig_bytes: 0, resp_bytes: 0, conn_state: 'RSTO', missed_bytes: 0, history: 'ShAR', orig_pkts: 3, orig_ip_bytes: 152, resp_pkts: 1, resp_ip_bytes: 60,
    }),
  );
}

describe.each(['repartition', 'direct'] as const)('pipeline: SIGTERM (%s mode)', (mode) => {
  const n = testNames(`sigterm-${mode}`);
  let kafka: Kafka;
  let es: Client;
  const children: Child[] = [];

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    await createTopics(kafka, n, { conn: 3 });
  });

  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await es.close();
  });

  const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + Math.max(b, 0), 0);
  const indexOps = async (): Promise<number> => {
    const stats = await es.indices.stats({ index: `${n.prefix}-conn-*`, metric: 'indexing' });
    return stats._all.primaries?.indexing?.index_total ?? -1;
  };

  it('drains, commits and exits 0; the restart re-delivers nothing already indexed', async () => {
    await produceValues(kafka, n.conn, Array.from({ length: RECORDS }, (_, i) => conn(i)));
    // A late window far longer than the test: only the graceful stop can release these offsets.
    const env = testEnv(n, { ZEEK_RST_CORRELATE_GRACE_MS: '200', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '600000', ZEEK_RST_SINK_BULK_MAX_DOCS: '500', ZEEK_RST_PARTITIONING_MODE: mode });

    const first = spawnCli(['run'], env);
    children.push(first);
    await waitFor(async () => (await connCount(es, n)) >= 3000, { timeoutMs: 60_000, intervalMs: 50, what: () => `3,000 documents (${first.stderr()})` });
    first.process.kill('SIGTERM');
    const exit = await first.exited;
    expect({ exit, log: exit.code === 0 ? '' : first.stderr() }).toEqual({ exit: { code: 0, signal: null }, log: '' });

    const indexed = await connCount(es, n);
    const committedInput = sum(await committedOffsets(kafka, n.group, n.conn));
    if (mode === 'direct') {
      // Every message read was indexed and committed.
      expect(committedInput).toBe(indexed);
    } else {
      // Every input message read is in the repartition topic, once; every record of the
      // repartition topic below its committed offsets was indexed.
      expect(await repartitionRecords(kafka, n.group)).toBe(committedInput);
      expect(await repartitionRecords(kafka, n.group, await committedOffsets(kafka, n.group, `${n.group}-repartition`))).toBe(indexed);
    }
    // The stop came mid-stream.
    expect(indexed).toBeGreaterThanOrEqual(3000);
    expect(indexed).toBeLessThan(RECORDS);
    expect(await indexOps()).toBe(indexed);

    const second = spawnCli(['run'], env);
    children.push(second);
    await waitFor(async () => (await connCount(es, n)) === RECORDS, { timeoutMs: 90_000, intervalMs: 250, what: () => `${RECORDS} documents (${second.stderr()})` });
    second.process.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const end = await endOffsets(kafka, n.conn);
    expect(await committedOffsets(kafka, n.group, n.conn)).toEqual(end);
    if (mode === 'repartition') {
      const topic = `${n.group}-repartition`;
      const committed = await committedOffsets(kafka, n.group, topic);
      for (const [p, high] of await endOffsets(kafka, topic)) if (high > 0) expect({ p, committed: committed.get(p) }).toEqual({ p, committed: high });
      expect(await repartitionRecords(kafka, n.group)).toBe(RECORDS);
    }
    // One index operation per document: the restart wrote none of the first run's documents again.
    expect(await indexOps()).toBe(RECORDS);
    // Above the sum of the waits (60 s + 90 s, plus producing and two exits), so that a slow run
    // fails with what it was waiting for; the default 120 s ran out first in CI beside the load suite.
  }, 240_000);
});

describe('pipeline: SIGTERM after the group went on without this member', () => {
  const n = testNames('sigterm-evicted');
  let kafka: Kafka;
  let es: Client;
  let other: Consumer | undefined;
  const children: Child[] = [];
  const records = 3000;

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    await createTopics(kafka, n, { conn: 2 });
  });

  afterAll(async () => {
    for (const c of children) {
      if (c.process.exitCode === null && c.process.signalCode === null) {
        c.process.kill('SIGCONT');
        c.process.kill('SIGKILL');
      }
    }
    await other?.disconnect().catch(() => undefined);
    await es.close();
  });

  it('warns that the commit was refused, exits 0, and the next owner indexes nothing twice', async () => {
    await produceValues(kafka, n.conn, Array.from({ length: records }, (_, i) => conn(i)));
    // No checkpoint before the stop: the repartition topic's offsets stay uncommitted until the final commit.
    const env = testEnv(n, {
      ZEEK_RST_CORRELATE_GRACE_MS: '200', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '600000', ZEEK_RST_STATE_CHECKPOINT_INTERVAL_MS: '600000',
      ZEEK_RST_KAFKA_SESSION_TIMEOUT_MS: '6000', ZEEK_RST_LOG_LEVEL: 'debug',
    });
    const first = spawnCli(['run'], env);
    children.push(first);
    await waitFor(async () => (await connCount(es, n)) === records, { timeoutMs: 60_000, intervalMs: 100, what: () => `${records} documents (${first.stderr()})` });
    const repartition = `${n.group}-repartition`;
    expect(await committedOffsets(kafka, n.group, repartition)).toEqual(new Map([...(await endOffsets(kafka, repartition)).keys()].map((p) => [p, -1])));

    // Frozen past its session timeout while another member joins: the group evicts it and hands
    // every partition to the other member, which then stays quiet (a heartbeat 50 s apart).
    first.process.kill('SIGSTOP');
    const topics = [n.conn, n.weird, n.headers, repartition];
    const partitions = (await Promise.all(topics.map(async (t) => (await endOffsets(kafka, t)).size))).reduce((a, b) => a + b, 0);
    other = kafka.consumer({ groupId: n.group, sessionTimeout: 60_000, heartbeatInterval: 50_000 });
    let owned = 0;
    other.on(other.events.GROUP_JOIN, (e) => {
      owned = Object.values(e.payload.memberAssignment).reduce((a, ps) => a + ps.length, 0);
    });
    await other.connect();
    for (const topic of topics) await other.subscribe({ topic });
    await other.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: () => Promise.resolve() });
    await waitFor(() => owned === partitions, { timeoutMs: 60_000, intervalMs: 100, what: () => `the other member owning all ${partitions} partitions (owns ${owned})` });

    // Thawed and stopped at once. kafkajs learns from its next heartbeat that it was evicted and
    // asks to join again; that join, and the stop's final commit behind it on the same
    // connection, wait until the other member takes part or leaves. It leaves once the stop's
    // checkpoints are written (one per correlation partition), so the commit carries the old
    // membership for certain.
    let afterStop = '';
    first.process.stderr?.on('data', (c: Buffer) => (afterStop = (afterStop + c.toString('utf8')).slice(-100_000)));
    first.process.kill('SIGCONT');
    first.process.kill('SIGTERM');
    const tasks = (await endOffsets(kafka, repartition)).size;
    await waitFor(() => afterStop.split('"msg":"checkpoint"').length - 1 >= tasks, { timeoutMs: 30_000, intervalMs: 50, what: () => `the stop's ${tasks} checkpoints (${first.stderr()})` });
    await new Promise((r) => setTimeout(r, 500));
    await other.disconnect();
    other = undefined;
    const exit = await first.exited;
    expect({ exit, log: exit.code === 0 ? '' : first.stderr() }).toEqual({ exit: { code: 0, signal: null }, log: '' });
    expect(first.stderr()).toContain('offset commit refused: the consumer group rebalanced');
    expect(first.stderr()).not.toContain('error while stopping');

    // The next owner starts from the offsets committed before (the stopping process may still
    // have committed once it had joined again): what it reads again of the repartition topic is
    // in the changelog already (the stop's checkpoint) and is skipped.
    const next = spawnCli(['run'], { ...env, ZEEK_RST_STATE_CHECKPOINT_INTERVAL_MS: '500', ZEEK_RST_LOG_LEVEL: 'info' });
    children.push(next);
    await waitFor(() => next.stderr().includes('"msg":"pipeline running"'), { timeoutMs: 60_000, intervalMs: 100, what: () => `the next owner running (${next.stderr()})` });
    await waitFor(() => committedToEnd(kafka, n.group, repartition), { timeoutMs: 90_000, intervalMs: 250, what: () => `the repartition topic committed to its end (${next.stderr()})` });
    next.process.kill('SIGTERM');
    const nextExit = await next.exited;
    expect({ nextExit, log: nextExit.code === 0 ? '' : next.stderr() }).toEqual({ nextExit: { code: 0, signal: null }, log: '' });
    expect(await connCount(es, n)).toBe(records);
    const stats = await es.indices.stats({ index: `${n.prefix}-conn-*`, metric: 'indexing' });
    expect(stats._all.primaries?.indexing?.index_total).toBe(records);
  });
});

describe('pipeline: SIGTERM during start-up', () => {
  it('exits 0 at once, saying nothing was committed, while start-up still waits for the broker', async () => {
    // A port nothing listens on: start-up retries the broker for minutes.
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
      });
    });
    const child = spawnCli(['run'], testEnv(testNames('sigterm-startup'), { ZEEK_RST_KAFKA_BROKERS: `127.0.0.1:${port}`, ZEEK_RST_LOG_LEVEL: 'info' }));
    // Past Elasticsearch (templates), now retrying the broker.
    await waitFor(() => child.stderr().includes('index templates checked'), { timeoutMs: 30_000, intervalMs: 50, what: () => `run's templates checked (${child.stderr()})` });
    const signalled = Date.now();
    child.process.kill('SIGTERM');
    const exit = await child.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(child.stderr()).toContain('SIGTERM during start-up: exiting; nothing was committed');
  });
});
