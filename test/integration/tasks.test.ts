/**
 * Correlation tasks on the real broker (src/cli/tasks.ts): what happens to an instance that keeps
 * a partition which another instance owned meanwhile.
 *
 * Within one group membership a member takes part in every rebalance, so a partition it keeps had
 * no other owner. An instance evicted from the group (it missed a rebalance timeout on a loaded
 * machine) and joining again under a new member id may be given the same partition back, after
 * another instance restored it, checkpointed it and fenced this one's writer. Its task is then
 * stale in both ways: its state lacks the other owner's checkpoints, and its writer can never
 * write again. `assign(..., { lost: true })` (the source's new-membership join) must replace it.
 */
import type { Kafka } from 'kafkajs';
import { createTaskSet, type TaskSet } from '../../src/cli/tasks';
import { changelogSettingsOf } from '../../src/cli/run';
import { stageSettingsOf } from '../../src/config/stages';
import { createRecordClock } from '../../src/correlate/correlator';
import { createHeaderCodec } from '../../src/decode/packet-header';
import { createRootLogger } from '../../src/log';
import { isFenced } from '../../src/source/kafka';
import { waitFor } from '../helpers/wait';
import { createChangelogTopic, kafkaClient, testConfig, testNames } from './pipeline-harness';

const log = createRootLogger({ level: 'silent' });

describe('tasks: a partition owned by another instance meanwhile', () => {
  const n = testNames('tasks');
  const config = testConfig(n);
  const changelog = { ...changelogSettingsOf(config), partitions: 2 };
  let kafka: Kafka;
  const sets: TaskSet[] = [];

  /** One instance's task set; its checkpoint errors are collected. */
  const instance = (): { set: TaskSet; errors: unknown[] } => {
    const errors: unknown[] = [];
    const set = createTaskSet({
      kafka,
      changelog,
      settings: stageSettingsOf(config, []),
      codec: createHeaderCodec(),
      clock: createRecordClock(),
      documents: { write: () => [] },
      log,
      restoreTimeoutMs: 60_000,
      // No documents in this test: nothing to wait for before a checkpoint.
      sink: { completedThrough: () => 0 },
      deadLettersInFlight: () => [],
      closed: () => false,
      release: () => undefined,
      onCheckpointError: (err) => errors.push(err),
      onRestoreError: (err) => {
        throw err;
      },
    });
    sets.push(set);
    return { set, errors };
  };

  /** The task of partition 0 once restored; `except`: not that (stale) one. */
  const readyTask = async (set: TaskSet, except?: unknown): Promise<NonNullable<ReturnType<TaskSet['get']>>> => {
    await waitFor(() => { const t = set.get(0); return t !== undefined && t !== except; }, { timeoutMs: 60_000, intervalMs: 50, what: 'partition 0 restored' });
    const t = set.get(0);
    if (t === undefined) throw new Error('partition 0 not restored');
    return t;
  };

  /** Marks input offset `offset` handled, so the next checkpoint writes its position. */
  const handle = (t: NonNullable<ReturnType<TaskSet['get']>>, offset: number): void => {
    t.checkpoints.handled({ topic: n.conn, partition: 0, offset: String(offset) }, false);
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    await createChangelogTopic(kafka, changelog);
  });

  afterAll(async () => {
    for (const s of sets) await s.close();
  });

  it('a new membership drops the stale task and restores the partition again; a fenced task stops writing', async () => {
    const a = instance();
    a.set.assign([0]);
    const first = await readyTask(a.set);
    handle(first, 9);
    await a.set.checkpoint();
    expect(a.errors).toEqual([]);

    // Another instance takes partition 0 over while A is out of the group: it fences A's writer,
    // restores A's checkpoint (offset 9 is in its state) and checkpoints further.
    const b = instance();
    b.set.assign([0]);
    const other = await readyTask(b.set);
    expect(other.checkpoints.restored({ topic: n.conn, partition: 0, offset: '9' })).toBe(true);
    expect(other.checkpoints.restored({ topic: n.conn, partition: 0, offset: '10' })).toBe(false);
    handle(other, 19);
    await b.set.checkpoint();
    expect(b.errors).toEqual([]);

    // A, unaware, goes on: its write is fenced, and it does not try again.
    handle(first, 10);
    await a.set.checkpoint();
    expect(a.errors).toHaveLength(1);
    expect(isFenced(a.errors[0])).toBe(true);
    await a.set.checkpoint();
    expect(a.errors).toHaveLength(1);

    // The same membership keeping the partition keeps its task (no restore on every rebalance).
    a.set.assign([0]);
    expect(a.set.get(0)).toBe(first);

    // A joins again as a new member and is given partition 0 back: a new task, restored from what
    // B wrote, whose writer fences B in turn.
    a.set.assign([0], { lost: true });
    expect(a.set.restoring(0)).toBe(true);
    const again = await readyTask(a.set, first);
    expect(again.checkpoints.restored({ topic: n.conn, partition: 0, offset: '19' })).toBe(true);
    handle(again, 20);
    await a.set.checkpoint();
    expect(a.errors).toHaveLength(1);
    handle(other, 20);
    await b.set.checkpoint();
    expect(b.errors).toHaveLength(1);
    expect(isFenced(b.errors[0])).toBe(true);
  }, 180_000);
});
