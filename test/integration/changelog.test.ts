/**
 * The changelog on the real broker (src/state/changelog.ts): a writer that connects fences a killed
 * predecessor with the same transactional id before anything is restored. The predecessor's open
 * transaction is aborted then, not at the new writer's first checkpoint: a previous owner that is
 * still alive (a rebalance, not a kill) can no longer commit a checkpoint after the new owner has
 * read the changelog, and the partition's last stable offset does not wait for the broker's
 * transaction timeout.
 */
import type { Kafka, Producer } from 'kafkajs';
import { createRootLogger } from '../../src/log';
import { createChangelogWriter, ensureChangelogTopic, restoreChangelog, type ChangelogSettings } from '../../src/state/changelog';
import { kafkaClient, testNames } from './pipeline-harness';

const log = createRootLogger({ level: 'error' });

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
    const s: ChangelogSettings = { topic: `${n.prefix}-changelog`, partitions: 4, replicationFactor: 1, group: n.group };
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureChangelogTopic(admin, s);
    } finally {
      await admin.disconnect();
    }
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
