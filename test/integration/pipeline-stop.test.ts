/**
 * SIGTERM during a stream: `zeek-rst run` exits 0 with every document it read indexed and its
 * offsets committed (admin fetchOffsets); a restart re-delivers nothing already indexed, which
 * Elasticsearch's own count of index operations shows (one per document, none twice). In both
 * partitioning modes: in repartition mode (docs/scale-out.md) the input offsets are committed once
 * the repartition topic holds their records, and the repartition topic's once they are indexed.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { waitFor } from '../helpers/wait';
import { committedOffsets, connCount, createTopics, endOffsets, esClient, kafkaClient, produceValues, repartitionRecords, spawnCli, testEnv, testNames, type Child } from './pipeline-harness';

const RECORDS = 40_000;

function conn(i: number): Buffer {
  // A connect scan probe as Zeek writes it (history ShAR), one uid per record.
  return Buffer.from(
    JSON.stringify({
      ts: 1711036787.549335 + i / 1000, uid: `CStop${i}`, 'id.orig_h': '10.1.0.1', 'id.orig_p': 10000 + (i % 50000), 'id.resp_h': '10.1.0.2', 'id.resp_p': 22, proto: 'tcp',
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
  });
});
