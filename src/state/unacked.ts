/**
 * Documents not yet acknowledged, as a checkpoint sees them (docs/delivery.md, "State in Kafka").
 *
 * A checkpoint does not wait for Elasticsearch. A written conn whose last document is still
 * unacknowledged at the cut goes to the changelog marked `dirty`, the mark late evidence already
 * uses: a restored correlator writes a dirty conn again, so a document lost with the process is
 * written by its successor (the same `_id`: an overwrite, never a double). Once the document is
 * acknowledged, the next checkpoint writes the conn's entry again, clean, unless a newer change
 * of it is written anyway.
 *
 * Where the mark cannot carry the document, the checkpoint still waits for it (its `barrier`):
 * a conn the correlator no longer holds (evicted or expired, so its entry is a tombstone), or
 * one held again as a new pending conn.
 *
 * Memory: one entry per document enqueued since the previous checkpoint, plus one per conn still
 * unacknowledged. Both are bounded by the sink's backpressure bound. Pure: no I/O, no clock.
 */
import type { StateChange, StateValue } from '../correlate/state';

export interface PreparedChanges {
  readonly changes: readonly StateChange[];
  /** The highest document sequence number the checkpoint must wait for before it writes (0: none). */
  readonly barrier: number;
  /** Conns written dirty because their document is unacknowledged. */
  readonly markedDirty: number;
}

export interface UnackedDocuments {
  /** A document of the conn entry `stateKey` was enqueued with sequence number `seq` (increasing). */
  noted(stateKey: string, seq: number): void;
  /**
   * A checkpoint's changes as written, given the sink's watermark: every document up to
   * `completedThrough` is acknowledged (or dead-lettered).
   */
  prepare(changes: readonly StateChange[], completedThrough: number): PreparedChanges;
  /** Conns whose last document is unacknowledged, as of the last `prepare`. */
  size(): number;
}

const isWrittenConn = (v: StateValue | null): v is Extract<StateValue, { t: 'conn' }> => v !== null && v.t === 'conn' && v.stage === 'e';

export function createUnackedDocuments(): UnackedDocuments {
  /** Conn entry -> the sequence number of its last document, while that is unacknowledged. */
  const lastSeq = new Map<string, number>();
  /** Every document noted, in enqueue order (so in sequence order), until a checkpoint passes it. */
  let seqs: number[] = [];
  let keys: string[] = [];
  let head = 0;
  /** Conn entries written dirty for an unacknowledged document: the value as the correlator gave it. */
  const writtenDirty = new Map<string, StateValue>();

  /** Forgets the documents acknowledged through `completed`; returns the entries to write clean. */
  const acknowledge = (completed: number): string[] => {
    const clean: string[] = [];
    while (head < seqs.length) {
      const seq = seqs[head] as number;
      if (seq > completed) break;
      const key = keys[head] as string;
      head++;
      if (lastSeq.get(key) !== seq) continue; // a later document of the conn is the one that counts
      lastSeq.delete(key);
      if (writtenDirty.has(key)) clean.push(key);
    }
    if (head === seqs.length) {
      seqs = [];
      keys = [];
      head = 0;
    } else if (head > 4096 && head * 2 > seqs.length) {
      seqs = seqs.slice(head);
      keys = keys.slice(head);
      head = 0;
    }
    return clean;
  };

  return {
    noted(stateKey, seq) {
      lastSeq.set(stateKey, seq);
      seqs.push(seq);
      keys.push(stateKey);
    },
    prepare(changes, completedThrough) {
      const clean = acknowledge(completedThrough);
      const out: StateChange[] = [];
      let barrier = 0;
      let markedDirty = 0;
      for (const c of changes) {
        const seq = lastSeq.get(c.key);
        writtenDirty.delete(c.key);
        if (seq === undefined || (isWrittenConn(c.value) && c.value.dirty === true)) {
          out.push(c);
        } else if (isWrittenConn(c.value)) {
          out.push({ key: c.key, value: { ...c.value, dirty: true } });
          writtenDirty.set(c.key, c.value);
          markedDirty++;
        } else {
          // No written conn to carry the mark: the document must be acknowledged first.
          barrier = Math.max(barrier, seq);
          out.push(c);
        }
      }
      // Acknowledged since they were written dirty, and not changed since: written again clean.
      for (const key of clean) {
        const value = writtenDirty.get(key);
        if (value === undefined) continue;
        writtenDirty.delete(key);
        out.push({ key, value });
      }
      return { changes: out, barrier, markedDirty };
    },
    size: () => lastSeq.size,
  };
}
