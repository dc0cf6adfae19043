/**
 * When a record stops mattering, so that its Kafka message may be committed.
 *
 * The rule (README "Operations: delivery"): a message is committable once (1) every record it
 * produced has left the correlator's reach, and (2) every document written up to that moment
 * is acknowledged by Elasticsearch or dead-lettered. The correlator keeps a conn for its grace,
 * then `lateWindow` more for late evidence, and emits an update one grace after that evidence
 * arrives; evidence itself is kept `lateWindow + grace`. So `retentionUs = lateWindow + 2 × grace`
 * after a record arrives, nothing can write a document from it any more. Committing earlier
 * would break crash safety: after a kill -9, late evidence re-delivered from Kafka would find
 * no conn (the conn's offset already committed, its state gone with the process) and the
 * document would stay without it. The price is that a restart after a crash re-reads up to
 * `retention` of input, which the deterministic `_id`s make harmless.
 *
 * A graceful stop (SIGTERM) flushes the correlator and releases everything at once (`releaseAll`):
 * like the end of a file in `classify`, it closes the late window early.
 *
 * Pure bookkeeping: time and the sink's sequence numbers come in as arguments.
 */
import type { MessageRef } from './offset-tracker';

interface Waiting {
  readonly ref: MessageRef;
  readonly releaseAtUs: number;
}

interface Barriered {
  readonly ref: MessageRef;
  /** Sink sequence number that must be complete first. */
  readonly barrier: number;
}

export interface ReleaseQueue {
  /** A record from `ref` entered the correlator at `nowUs`. */
  hold(ref: MessageRef, nowUs: number): void;
  /**
   * Refs whose retention has passed and whose barrier the sink has reached. `lastEnqueued` is the
   * sink's last sequence number now (after this tick's documents were enqueued), `completedThrough`
   * the sink's contiguous completion.
   */
  due(nowUs: number, lastEnqueued: number, completedThrough: number): readonly MessageRef[];
  /** Every held ref, retention or not, once `completedThrough` reaches `lastEnqueued` (graceful stop, after a drain). */
  releaseAll(lastEnqueued: number, completedThrough: number): readonly MessageRef[];
  size(): number;
}

export function createReleaseQueue(retentionUs: number): ReleaseQueue {
  // Both queues are FIFO: arrival times and sink sequence numbers only grow.
  let waiting: Waiting[] = [];
  let waitingHead = 0;
  let barriered: Barriered[] = [];
  let barrieredHead = 0;

  const compact = (): void => {
    if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
      waiting = waiting.slice(waitingHead);
      waitingHead = 0;
    }
    if (barrieredHead > 1024 && barrieredHead * 2 > barriered.length) {
      barriered = barriered.slice(barrieredHead);
      barrieredHead = 0;
    }
  };

  const releaseBarriered = (completedThrough: number): MessageRef[] => {
    const out: MessageRef[] = [];
    for (;;) {
      const b = barriered[barrieredHead];
      if (b === undefined || b.barrier > completedThrough) break;
      out.push(b.ref);
      barrieredHead += 1;
    }
    return out;
  };

  return {
    hold(ref, nowUs) {
      waiting.push({ ref, releaseAtUs: nowUs + retentionUs });
    },
    due(nowUs, lastEnqueued, completedThrough) {
      for (;;) {
        const w = waiting[waitingHead];
        if (w === undefined || w.releaseAtUs > nowUs) break;
        barriered.push({ ref: w.ref, barrier: lastEnqueued });
        waitingHead += 1;
      }
      const out = releaseBarriered(completedThrough);
      compact();
      return out;
    },
    releaseAll(lastEnqueued, completedThrough) {
      for (let i = waitingHead; i < waiting.length; i += 1) {
        const w = waiting[i];
        if (w !== undefined) barriered.push({ ref: w.ref, barrier: lastEnqueued });
      }
      waiting = [];
      waitingHead = 0;
      const out = releaseBarriered(completedThrough);
      compact();
      return out;
    },
    size: () => waiting.length - waitingHead + barriered.length - barrieredHead,
  };
}
