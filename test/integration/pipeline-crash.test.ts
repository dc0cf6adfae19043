/**
 * kill -9 in the middle of a 100,000-record stream, then a restart: the final document count
 * equals the number of distinct conn records. Nothing lost (offsets were committed only after
 * Elasticsearch acknowledged), nothing doubled (re-read records rewrite the same `_id`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { waitFor } from '../helpers/wait';
import { CORPUS, committedOffsets, connCount, createTopics, endOffsets, esClient, kafkaClient, produceValues, spawnCli, testEnv, testNames, type Child } from './pipeline-harness';

const RECORDS = 100_000;

/** Corpus conn records with real timestamps, each copied with a unique uid. */
function syntheticConns(count: number): Buffer[] {
  const bases = ['pop3-rej', 'modbus-p502-scan-rst', 'ssh-server-rst', 'retransmit-then-rst', 'zeek-docs-json-reference'].flatMap((c) =>
    readFileSync(path.join(CORPUS, c, 'conn.json'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l): unknown => JSON.parse(l)),
  );
  const out: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    const base = bases[i % bases.length];
    if (typeof base !== 'object' || base === null || !('uid' in base) || typeof base.uid !== 'string') throw new Error('corpus record without uid');
    out.push(Buffer.from(JSON.stringify({ ...base, uid: `${base.uid}S${i}` })));
  }
  return out;
}

describe('pipeline: kill -9 and restart', () => {
  const n = testNames('crash');
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

  it('loses nothing and doubles nothing', async () => {
    const values = syntheticConns(RECORDS);
    expect(new Set(values.map((v) => v.toString())).size).toBe(RECORDS);
    await produceValues(kafka, n.conn, values);
    const env = testEnv(n, { ZEEK_RST_CORRELATE_GRACE_MS: '200', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '1000', ZEEK_RST_SINK_BULK_MAX_DOCS: '1000' });

    const first = spawnCli(['run'], env);
    children.push(first);
    await waitFor(async () => (await connCount(es, n)) >= 20_000, { timeoutMs: 90_000, intervalMs: 50, what: `20,000 documents before the kill (${first.stderr()})` });
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const atKill = await connCount(es, n);
    // The kill really was mid-stream.
    expect(atKill).toBeLessThan(RECORDS);
    const committedAtKill = [...(await committedOffsets(kafka, n.group, n.conn)).values()].reduce((a, b) => a + Math.max(b, 0), 0);
    expect(committedAtKill).toBeLessThan(RECORDS);

    const second = spawnCli(['run'], env);
    children.push(second);
    const end = await endOffsets(kafka, n.conn);
    await waitFor(
      async () => {
        const committed = await committedOffsets(kafka, n.group, n.conn);
        return [...end].every(([p, high]) => committed.get(p) === high);
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `every offset of ${n.conn} committed (${second.stderr()})` },
    );
    second.process.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(await connCount(es, n)).toBe(RECORDS);
  });
});
