/**
 * Input marks of a correlation partition (docs/scale-out.md, "No record twice").
 *
 * In repartition mode, the stage that decodes the input topics produces each record to the
 * repartition topic, and commits the input offsets once the repartition topic acknowledged them.
 * A process killed in between has produced records whose input offsets were not committed: its
 * successor decodes and produces them again. Those copies are the only duplicates the repartition
 * topic can hold, and they are recognisable: one input partition is decoded in offset order by
 * one process at a time, and its records reach a repartition partition in that order (an
 * idempotent producer keeps the order of a partition). So a correlation partition remembers, per
 * input partition, the last record it took (offset, and ordinal in its message), and skips a record
 * at or before it. The marks are part of the partition's state: a checkpoint writes them with the
 * changes, a restore loads them with the state they describe.
 *
 * Pure bookkeeping: no I/O.
 */
import type { PartitionKey } from '../source/offset-tracker';

export interface InputMark extends PartitionKey {
  /** Offset of the input message, as kafkajs writes it. */
  readonly offset: string;
  /** Ordinal of the record in that message (a message may carry many). */
  readonly n: number;
}

export interface InputMarks {
  /** True (and remembered) when the record is new; false for a copy of one the state holds. */
  take(topic: string, partition: number, offset: string, n: number): boolean;
  /** The marks changed since the last call: what the next checkpoint writes. */
  drain(): readonly InputMark[];
  /** Copies skipped so far. */
  readonly skipped: () => number;
}

interface Last {
  readonly offset: bigint;
  readonly n: number;
}

export function createInputMarks(restored: readonly InputMark[] = []): InputMarks {
  const last = new Map<string, Last>();
  const dirty = new Map<string, InputMark>();
  for (const m of restored) last.set(`${m.topic}/${m.partition}`, { offset: BigInt(m.offset), n: m.n });
  let skipped = 0;
  return {
    take(topic, partition, offset, n) {
      const key = `${topic}/${partition}`;
      const o = BigInt(offset);
      const prev = last.get(key);
      if (prev !== undefined && (o < prev.offset || (o === prev.offset && n <= prev.n))) {
        skipped++;
        return false;
      }
      last.set(key, { offset: o, n });
      dirty.set(key, { topic, partition, offset, n });
      return true;
    },
    drain() {
      const out = [...dirty.values()];
      dirty.clear();
      return out;
    },
    skipped: () => skipped,
  };
}
