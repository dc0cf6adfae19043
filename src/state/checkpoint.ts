/**
 * Checkpoint bookkeeping of `run` (docs/delivery.md, "State in Kafka"): which input messages a
 * checkpoint covers, and the positions it records.
 *
 * A checkpoint is a cut between two messages. Everything handled before it is in the correlator
 * state that the checkpoint writes to the changelog; once the dead letters issued before the cut
 * are acknowledged and the changelog transaction is committed, the messages before the cut are
 * released and their offsets may be committed. Documents are not waited for: a conn whose document
 * is unacknowledged is written dirty, so that a restore writes it again (unacked.ts). No message
 * waits longer than a checkpoint interval plus the changelog write, whatever the late window.
 *
 * After a crash, the consumer resumes at the committed offsets, which may lie before the positions
 * of the last checkpoint (the process died between the changelog commit and the offset commit).
 * Messages below those positions are in the restored state already: they are skipped, not
 * applied twice.
 *
 * Pure bookkeeping: no I/O, no clock.
 */
import type { CommitPosition, MessageRef } from '../source/offset-tracker';

export interface Cut {
  /** Messages whose release waits for this checkpoint. */
  readonly refs: readonly MessageRef[];
  /** Per input partition changed since the previous cut: the offset after the last message handled. */
  readonly positions: readonly CommitPosition[];
}

export interface Checkpoints {
  /** `ref` was handled: the state reflects it. `held`: its release waits for the next checkpoint. */
  handled(ref: MessageRef, held: boolean): void;
  /** True when `ref`'s records are in the restored state already (skip it). */
  restored(ref: MessageRef): boolean;
  /** Takes the messages and positions since the previous cut. */
  cut(): Cut;
  /** Messages waiting for a checkpoint. */
  waiting(): number;
}

const partitionOf = (ref: { readonly topic: string; readonly partition: number }): string => `${ref.topic}/${ref.partition}`;

export function createCheckpoints(restoredPositions: ReadonlyMap<string, bigint> = new Map()): Checkpoints {
  let refs: MessageRef[] = [];
  const positions = new Map<string, CommitPosition>();
  return {
    handled(ref, held) {
      if (held) refs.push(ref);
      positions.set(partitionOf(ref), { topic: ref.topic, partition: ref.partition, offset: (BigInt(ref.offset) + 1n).toString() });
    },
    restored(ref) {
      const p = restoredPositions.get(partitionOf(ref));
      return p !== undefined && BigInt(ref.offset) < p;
    },
    cut() {
      const out: Cut = { refs, positions: [...positions.values()] };
      refs = [];
      positions.clear();
      return out;
    },
    waiting: () => refs.length,
  };
}

/** Two cuts as one (a checkpoint that failed is written again with the next). */
export function mergeCuts(a: Cut, b: Cut): Cut {
  const positions = new Map<string, CommitPosition>();
  for (const p of [...a.positions, ...b.positions]) positions.set(partitionOf(p), p);
  return { refs: [...a.refs, ...b.refs], positions: [...positions.values()] };
}
