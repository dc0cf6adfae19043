/**
 * Which Kafka offsets may be committed. A message's offset becomes committable only when
 * everything it produced is durable; the tracker counts that as "holds" on the message:
 *
 * - `track` registers a message, with one hold for the processing step itself;
 * - `acquire` adds a hold (one per record or dead letter the message produced);
 * - `release` removes one (document acknowledged by Elasticsearch, dead letter acknowledged by
 *   Kafka, evidence expired or evicted from the correlator).
 *
 * Per partition, the committable position is the offset after the last message of the longest
 * completed run from the oldest tracked message: Kafka's commit means "everything before this
 * offset is done", so one slow message holds back the ones after it. Offsets of a partition are
 * tracked in delivery order; gaps in the numbering (compaction, transaction markers) do not
 * matter because contiguity is by delivery, not by arithmetic.
 *
 * Memory is bounded by the caller: `incompleteCount()` is what the consumer's pause/resume
 * watches, so no more than the configured number of messages are ever held here.
 */

export interface PartitionKey {
  readonly topic: string;
  readonly partition: number;
}

export interface MessageRef extends PartitionKey {
  /** Kafka offset as the decimal string kafkajs gives. */
  readonly offset: string;
}

/** A position to commit: the offset of the next message to read (last completed + 1). */
export interface CommitPosition extends PartitionKey {
  readonly offset: string;
}

interface Entry {
  readonly offset: bigint;
  holds: number;
}

interface PartitionState {
  readonly entries: Entry[];
  /** Index of the oldest entry still in `entries` (entries before it were shifted out lazily). */
  head: number;
  /** Offsets to entries, for release by offset. */
  readonly byOffset: Map<bigint, Entry>;
  /** Next offset to commit (last completed + 1) that has not been committed yet, if any. */
  pendingCommit: bigint | undefined;
  /** Highest offset tracked so far: offsets must grow. */
  lastTracked: bigint | undefined;
}

export interface OffsetTracker {
  /**
   * Registers a delivered message with one hold and returns true. Returns false, tracking
   * nothing, for an offset at or below one already tracked on that partition: Kafka re-delivers
   * from the last commit after a rebalance, and this process is still working on that message.
   */
  track(ref: MessageRef): boolean;
  /** Adds `n` holds to a tracked message. */
  acquire(ref: MessageRef, n?: number): void;
  /** Removes one hold; at zero the message is complete. Unknown refs (revoked partitions) are ignored and reported false. */
  release(ref: MessageRef): boolean;
  /** Positions that advanced since the last `markCommitted`, one per partition. */
  committable(): readonly CommitPosition[];
  /** Records that these positions were committed. */
  markCommitted(positions: readonly CommitPosition[]): void;
  /** Forgets a partition (revoked in a rebalance): its uncommitted messages will be re-delivered to the new owner. */
  forget(key: PartitionKey): void;
  /** Messages tracked and not yet complete, over all partitions. */
  incompleteCount(): number;
  /** Messages tracked and not yet committed (complete or not), over all partitions. */
  trackedCount(): number;
}

const keyOf = (k: PartitionKey): string => `${k.topic}\u0000${k.partition}`;

export function createOffsetTracker(): OffsetTracker {
  const partitions = new Map<string, { key: PartitionKey; state: PartitionState }>();
  let incomplete = 0;

  function stateOf(key: PartitionKey): PartitionState | undefined {
    return partitions.get(keyOf(key))?.state;
  }

  /** Drops the completed prefix and remembers its end as the position to commit. */
  function advance(state: PartitionState): void {
    while (state.head < state.entries.length) {
      const first = state.entries[state.head];
      if (first === undefined || first.holds > 0) break;
      state.byOffset.delete(first.offset);
      state.pendingCommit = first.offset + 1n;
      state.head += 1;
    }
    // Shift lazily: compacting on every completion would make a long queue quadratic.
    if (state.head > 1024 && state.head * 2 > state.entries.length) {
      state.entries.splice(0, state.head);
      state.head = 0;
    }
  }

  return {
    track(ref) {
      const k = keyOf(ref);
      let slot = partitions.get(k);
      if (slot === undefined) {
        slot = {
          key: { topic: ref.topic, partition: ref.partition },
          state: { entries: [], head: 0, byOffset: new Map(), pendingCommit: undefined, lastTracked: undefined },
        };
        partitions.set(k, slot);
      }
      const offset = BigInt(ref.offset);
      const state = slot.state;
      if (state.lastTracked !== undefined && offset <= state.lastTracked) return false;
      state.lastTracked = offset;
      const entry: Entry = { offset, holds: 1 };
      state.entries.push(entry);
      state.byOffset.set(offset, entry);
      incomplete += 1;
      return true;
    },

    acquire(ref, n = 1) {
      const entry = stateOf(ref)?.byOffset.get(BigInt(ref.offset));
      if (entry === undefined) throw new RangeError(`acquire on untracked ${ref.topic}/${ref.partition}@${ref.offset}`);
      if (entry.holds === 0) throw new RangeError(`acquire on completed ${ref.topic}/${ref.partition}@${ref.offset}`);
      entry.holds += n;
    },

    release(ref) {
      const state = stateOf(ref);
      const entry = state?.byOffset.get(BigInt(ref.offset));
      if (state === undefined || entry === undefined || entry.holds === 0) return false;
      entry.holds -= 1;
      if (entry.holds === 0) {
        incomplete -= 1;
        advance(state);
      }
      return true;
    },

    committable() {
      const out: CommitPosition[] = [];
      for (const { key, state } of partitions.values()) {
        if (state.pendingCommit !== undefined) out.push({ topic: key.topic, partition: key.partition, offset: state.pendingCommit.toString() });
      }
      return out;
    },

    markCommitted(positions) {
      for (const p of positions) {
        const state = stateOf(p);
        if (state?.pendingCommit !== undefined && state.pendingCommit <= BigInt(p.offset)) state.pendingCommit = undefined;
      }
    },

    forget(key) {
      const slot = partitions.get(keyOf(key));
      if (slot === undefined) return;
      for (let i = slot.state.head; i < slot.state.entries.length; i += 1) {
        const e = slot.state.entries[i];
        if (e !== undefined && e.holds > 0) incomplete -= 1;
      }
      partitions.delete(keyOf(key));
    },

    incompleteCount() {
      return incomplete;
    },

    trackedCount() {
      let n = 0;
      for (const { state } of partitions.values()) n += state.entries.length - state.head;
      return n;
    },
  };
}
