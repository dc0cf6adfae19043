/**
 * The changelog on the real broker (src/state/changelog.ts): a writer that connects fences a killed
 * predecessor with the same transactional id before anything is restored. The predecessor's open
 * transaction is aborted then, not at the new writer's first checkpoint: a previous owner that is
 * still alive (a rebalance, not a kill) can no longer commit a checkpoint after the new owner has
 * read the changelog, and the partition's last stable offset does not wait for the broker's
 * transaction timeout.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { StateValue } from '../../src/correlate/state';
import { createRootLogger } from '../../src/log';
import { CONCURRENT_TRANSACTIONS } from '../../src/source/kafka';
import { createChangelogWriter, restoreChangelog, type ChangelogSettings } from '../../src/state/changelog';
import { testStack } from '../helpers/stack-env';
import { waitFor } from '../helpers/wait';
import { createChangelogTopic, kafkaClient, testNames } from './pipeline-harness';

const log = createRootLogger({ level: 'error' });

/** A fresh changelog topic of `partitions` partitions, created as `run` creates it. */
async function changelogTopic(kafka: Kafka, n: ReturnType<typeof testNames>, partitions: number): Promise<ChangelogSettings> {
  const s: ChangelogSettings = { topic: `${n.prefix}-changelog`, partitions, replicationFactor: 1, group: n.group };
  await createChangelogTopic(kafka, s);
  return s;
}

/** Longer than the test: only a fence, never the broker's timeout, can end this transaction. */
const PREDECESSOR_TRANSACTION_TIMEOUT_MS = 600_000;

describe('changelog: a connecting writer fences its predecessor', () => {
  let kafka: Kafka;
  const predecessors: Producer[] = [];

  beforeAll(() => {
    kafka = kafkaClient();
  });

  afterAll(async () => {
    for (const p of predecessors) await p.disconnect().catch(() => undefined);
  });

  it.each([
    ['repartition mode: one partition per writer', 2],
    ['direct mode: entries by Community ID', undefined],
  ])('%s: the open transaction is aborted on connect, and the restore holds only what was committed', async (_label, partition) => {
    const n = testNames('changelog-fence');
    const s = await changelogTopic(kafka, n, 4);
    const transactionalId = `${n.group}-writer`;
    const target = partition === undefined ? { transactionalId } : { transactionalId, partition };

    // The first life of the instance: one committed checkpoint.
    const first = createChangelogWriter(kafka, s, log, target);
    await first.connect();
    await first.write({ changes: [{ key: 's', value: { t: 'stream', streamUs: 1, byObserver: [] } }], positions: [{ topic: n.conn, partition: 0, offset: '10' }] });
    await first.disconnect();

    // The second life, killed in the middle of a checkpoint: its transaction stays open.
    const killed = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: PREDECESSOR_TRANSACTION_TIMEOUT_MS });
    predecessors.push(killed);
    await killed.connect();
    const tx = await killed.transaction();
    const to = partition === undefined ? {} : { partition };
    await tx.send({ topic: s.topic, messages: [{ key: 's', value: JSON.stringify({ t: 'stream', streamUs: 2, byObserver: [] }), ...to }, { key: `o|${n.conn}|0`, value: JSON.stringify({ t: 'position', offset: '20' }), ...to }] });

    // The third life: connecting fences the second, then the restore reads to the end.
    const third = createChangelogWriter(kafka, s, log, target);
    await third.connect();
    try {
      const restored = await restoreChangelog(kafka, s, log, { timeoutMs: 20_000, ...(partition === undefined ? {} : { partitions: [partition] }) });
      expect(restored.values).toEqual([{ t: 'stream', streamUs: 1, byObserver: [] }]);
      expect(restored.positions.get(`${n.conn}/0`)).toBe(10n);
      // The fenced predecessor can no longer commit what it left open.
      await expect(tx.commit()).rejects.toThrow();
    } finally {
      await third.disconnect();
    }
  });
});

/**
 * The log cleaner keeps a batch whose records it removed as an empty batch; when one ends its
 * segment, a fetch at its offset returns it alone. kafkajs by itself fetched that offset again
 * forever (src/source/kafkajs-empty-batches.ts). Built here as compaction builds it: one
 * transaction writes a batch and commits it once the segment is older than `segment.ms` (so its
 * commit marker opens the next segment), a second transaction writes the same keys again, and the
 * cleaner empties the first batch.
 */
const SEGMENT_MS = 2000;
describe('changelog: a restore reads past an empty batch at the end of a segment', () => {
  it('restores the latest value of every key once the first segment is compacted', async () => {
    const kafka = kafkaClient();
    const n = testNames('changelog-empty-batch');
    const s: ChangelogSettings = { topic: `${n.prefix}-changelog`, partitions: 1, replicationFactor: 1, group: n.group };
    const admin = kafka.admin();
    await admin.connect();
    const keys = 400;
    const padding = 'x'.repeat(1500); // 400 x 1.5 kB: a batch of 600 kB
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: s.topic, numPartitions: 1, configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.ms', value: String(SEGMENT_MS) },
          // Two segments of 600 kB do not fit one: the cleaner rewrites each on its own, so the
          // first one ends with what is left of the first batch.
          { name: 'segment.bytes', value: String(1048576) },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          { name: 'min.compaction.lag.ms', value: '0' },
          { name: 'delete.retention.ms', value: '0' },
        ] }],
      });
      // Two producers (two transactional ids, as two instances that owned the partition in
      // turn): the cleaner keeps the last batch of each producer, even empty.
      for (const round of [1, 2]) {
        const producer = kafka.producer({ transactionalId: `${n.group}-owner-${round}`, idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        try {
          const tx = await producer.transaction();
          await tx.send({ topic: s.topic, messages: Array.from({ length: keys }, (_, i) => ({ key: `k${i}`, partition: 0, value: JSON.stringify({ t: 'stream', streamUs: round * 1000 + i, byObserver: [], padding }) })) });
          // The segment is older than segment.ms when the marker comes: the marker opens the next
          // one. After round 2 both batches are outside the active segment, where the cleaner works.
          await new Promise((r) => setTimeout(r, SEGMENT_MS + 500));
          await tx.commit();
        } finally {
          await producer.disconnect();
        }
      }
      // Before the cleaner ran, a restore reads both rounds (800 records); once it has emptied the
      // first batch, 400, and only the fix lets a restore get past that batch at all.
      let restored: Awaited<ReturnType<typeof restoreChangelog>> | undefined;
      await waitFor(async () => {
        restored = await restoreChangelog(kafka, s, log, { timeoutMs: 15_000 });
        return restored.messages === keys;
      }, { timeoutMs: 90_000, intervalMs: 1000, what: () => `the cleaner to empty the first batch (last restore read ${String(restored?.messages)} records)` });
      const values = restored?.values ?? [];
      expect(values).toHaveLength(keys);
      expect(values.every((v) => v.t === "stream" && (v.streamUs ?? 0) >= 2000)).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });
});

/**
 * A checkpoint that follows the last one at once (state/checkpoint.ts: a slow one is followed
 * without waiting for the timer) finds the broker still writing the last commit's markers, and
 * its first send is refused with CONCURRENT_TRANSACTIONS. kafkajs retried that after the client's
 * 300 ms; the changelog producer retries after 20 ms, as the Java producer does
 * (CHANGELOG_PRODUCER_RETRY). Its batches are gzip (state/compression.ts): the restore reads back
 * through the broker what was written.
 */
describe('changelog: back-to-back checkpoints', () => {
  it('retry a refused send after tens of ms, and restore the last one', async () => {
    const retries: { retryTime: number; retryCount: number }[] = [];
    const kafka = new Kafka({
      clientId: 'zeek-rst-it',
      brokers: testStack().kafkaBrokers,
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => {
        if (entry.namespace === 'Producer' && entry.log.message.includes(CONCURRENT_TRANSACTIONS)) retries.push({ retryTime: Number(entry.log['retryTime']), retryCount: Number(entry.log['retryCount']) });
      },
    });
    const n = testNames('changelog-back-to-back');
    const s = await changelogTopic(kafka, n, 2);
    const writer = createChangelogWriter(kafka, s, log, { transactionalId: `${n.group}-writer`, partition: 1 });
    await writer.connect();
    const rounds = 40;
    // Entries as the correlator writes them, rewritten at each round as a changing flow is.
    const flow = (round: number, i: number): StateValue => ({ t: 'weirds', key: `|C${i}`, seq: round * 1000 + i, list: [], latestTsUs: round });
    try {
      for (let round = 1; round <= rounds; round++) {
        await writer.write({ changes: Array.from({ length: 50 }, (_, i) => ({ key: `w||C${i}`, value: flow(round, i) })), positions: [{ topic: n.conn, partition: 0, offset: String(round) }] });
      }
    } finally {
      await writer.disconnect();
    }
    const restored = await restoreChangelog(kafka, s, log, { timeoutMs: 20_000, partitions: [1] });
    expect(restored.positions.get(`${n.conn}/0`)).toBe(BigInt(rounds));
    expect(restored.values).toHaveLength(50);
    expect(restored.values).toEqual(expect.arrayContaining(Array.from({ length: 50 }, (_, i) => flow(rounds, i))));
    // Whether the broker refuses any of these sends depends on its timing; each refusal it made
    // was retried within the first backoff steps (20 ms, 40 ms, ..., with kafkajs's jitter).
    for (const r of retries) expect(r.retryTime).toBeLessThan(20 * 2 ** r.retryCount * 1.5);
  });
});
