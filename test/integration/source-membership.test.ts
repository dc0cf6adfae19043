/**
 * The Kafka source on the real broker (src/source/kafka.ts): a member that the group evicted and
 * that joins again under a new member id reports the join as a lost membership, even when it is
 * given the same partitions back, and forgets what it tracked for them, so Kafka's re-delivery
 * from the last committed offset reaches it again.
 *
 * The eviction is real: the handler of the first message blocks the event loop for longer than
 * the session timeout, as a process starved of CPU does, so no heartbeat reaches the coordinator.
 */
import { createMetrics } from '../../src/metrics';
import { createRootLogger } from '../../src/log';
import { createKafkaSource, type KafkaSource } from '../../src/source/kafka';
import { createOffsetTracker } from '../../src/source/offset-tracker';
import { waitFor } from '../helpers/wait';
import { createTopics, kafkaClient, produceValues, testConfig, testNames } from './pipeline-harness';

const SESSION_TIMEOUT_MS = 6000;

describe('source: a member evicted from the group', () => {
  let source: KafkaSource | undefined;

  afterAll(async () => {
    await source?.disconnect();
  });

  it('joins again as a new member, reports the membership lost, and takes the re-delivered messages', async () => {
    const n = testNames('membership');
    const kafka = kafkaClient();
    await createTopics(kafka, n, { conn: 1 });
    await produceValues(kafka, n.conn, [0, 1, 2].map((i) => Buffer.from(`m${i}`)));
    const config = testConfig(n, { ZEEK_RST_KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) }).kafka;
    const joins: { partitions: string[]; lost: boolean }[] = [];
    const seen: string[] = [];
    let stalled = false;
    source = createKafkaSource({
      kafka,
      config: { ...config, fromBeginning: true },
      topics: [n.conn],
      tracker: createOffsetTracker(),
      log: createRootLogger({ level: 'silent' }),
      metrics: createMetrics(),
      onMessage: (m) => {
        seen.push(m.offset);
        if (stalled) return;
        stalled = true;
        // No heartbeat for twice the session timeout: the coordinator evicts this member.
        const until = Date.now() + 2 * SESSION_TIMEOUT_MS;
        while (Date.now() < until) { /* a stalled process */ }
      },
      hasCapacity: () => true,
      onAssignment: (assigned, lost) => joins.push({ partitions: assigned.map((p) => `${p.topic}/${p.partition}`), lost }),
      commitEveryMs: 1000,
      onFatal: (err) => {
        throw err;
      },
    });
    await source.start();
    // Nothing is released, so nothing is committed: offset 0 comes again after the new join.
    await waitFor(() => joins.length >= 2 && seen.filter((o) => o === '0').length >= 2, { timeoutMs: 90_000, intervalMs: 100, what: () => `a second join and offset 0 delivered again (joins ${JSON.stringify(joins)}, seen ${seen.join(',')})` });
    expect(joins[0]).toEqual({ partitions: [`${n.conn}/0`], lost: false });
    expect(joins[1]).toEqual({ partitions: [`${n.conn}/0`], lost: true });
    // Every message reached the handler after the new join, the stalled one included.
    await waitFor(() => seen.lastIndexOf('2') > seen.lastIndexOf('0') && seen.lastIndexOf('0') > 0, { timeoutMs: 30_000, intervalMs: 100, what: () => `offsets 0-2 after the join (seen ${seen.join(',')})` });
  }, 150_000);
});
