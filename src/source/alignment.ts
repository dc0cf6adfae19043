/**
 * Timestamp alignment of the input partitions: the conn, weird and header partitions are read in
 * the order of their message timestamps, the way Kafka Streams picks the next record of a task
 * from the partition with the lowest head timestamp (its PartitionGroup).
 *
 * Why: the correlator joins a conn with the headers and weirds of the same flow, within stores
 * that hold a bounded amount of record time (caps, the late window). When the topics are read
 * live, each arrives as the sensors write it and they stay together. When a backlog is read (a
 * restart, a new consumer group, an outage caught up), each partition is read as fast as its
 * fetches allow, and those rates differ: a header message carries 100 records, a conn message
 * one. Left alone, the header partition drifts minutes of record time away from the conns, and
 * the stores drop headers before their conn arrives (measured at 1 M conns: a third of the
 * headers never joined). Kafka's message timestamp (the producer's CreateTime, or the broker's
 * LogAppendTime) says when each message was written, so reading by it replays the topics in the
 * order in which they were produced.
 *
 * The rule: a partition may hand over its next message when that message's timestamp is at most
 * `maxSkewMs` after the lowest head of the other partitions that still have something to read.
 * A partition that is ahead is paused (Kafka fetches nothing for it) and resumed once the others
 * have caught up with it. A partition assigned and not fetched yet holds every other back (its
 * head is unknown, so lowest): a backlog's first fetch must not let one topic through whole
 * before the others are seen, as Kafka Streams waits for every partition of a task to have data.
 * Partitions that do not hold the others back:
 * - a partition that is caught up (its last batch reached the high watermark, or the lag the
 *   source reads says 0): live traffic flows unaligned, as it arrives;
 * - a partition that a fetch asked for and that has offered nothing for `idleMs` since that fetch
 *   came back (nothing readable arrives, e.g. only aborted transactional records): progress never
 *   waits on it. Idleness starts when the first fetch sent after the partition last offered a
 *   message, or was resumed or assigned, returns (`fetching`, `fetched`): a resumed partition
 *   waits for a fetch that asks for it (the one in flight may not), and a slow broker's answer is
 *   not silence. And it is counted on an idle clock (`createIdleClock`) that stands still while
 *   the consumer handles a batch: batches are handled one at a time, so while one is read or
 *   waits for the sink, no other partition can offer anything. Counted on the wall clock from its
 *   last message, a partition went "idle" while a fetch that left it out waited out its long
 *   poll, or while a conn batch waited for a full sink, and the other topic ran past it (headers
 *   dropped before their conns came).
 * The partition with the lowest head is never paused, so reading never stalls.
 *
 * Pure: the Kafka source feeds it the timestamps and applies its pause and resume decisions.
 */

export interface AlignmentOptions {
  /** How far (ms of message time) a partition may run ahead of the lowest other head. */
  readonly maxSkewMs: number;
  /** A partition that a fetch asked for and that handed over nothing for this long since holds nothing back. */
  readonly idleMs: number;
  /** The clock of `idleMs` (injected in tests). */
  readonly now?: () => number;
}

interface Head {
  /** Timestamp of the message it hands over next (or handed over last), ms; -Infinity before the first. */
  ts: number;
  /** Its last batch reached the high watermark. */
  caughtUp: boolean;
  /** Paused here, waiting for the others. */
  paused: boolean;
  /** A fetch sent since it last offered a message (or was resumed, or assigned) asks for it. */
  asking: boolean;
  /** When that fetch came back, by `now`; idleness counts from here. */
  answeredAt: number | undefined;
}

export interface Alignment {
  /**
   * Before a message of `key` is handled: true when it may go; false when the partition is
   * ahead and is now paused (the caller pauses its fetching and leaves the batch unresolved).
   * A timestamp that is not a finite non-negative number never holds back and is never held.
   */
  admit(key: string, timestampMs: number): boolean;
  /** Whether `key` has reached its high watermark: after a batch handled to its end, or from its lag. */
  reached(key: string, caughtUp: boolean): void;
  /** A fetch is being sent: it asks for every partition not paused. */
  fetching(): void;
  /** That fetch came back (its batches are handled next). */
  fetched(): void;
  /** Paused partitions that may read again; they are marked resumed (the caller resumes them). */
  resumable(): string[];
  /**
   * After a rebalance: every head is forgotten, and the partitions now assigned hold the others
   * back until they are seen, caught up or idle. Returns the partitions that were paused (to resume).
   */
  reset(assigned: readonly string[]): string[];
  /** Partitions paused here now. */
  pausedCount(): number;
}

export function createAlignment(o: AlignmentOptions): Alignment {
  const now = o.now ?? Date.now;
  const heads = new Map<string, Head>();

  /** Assigned, or seen for the first time: its head is unknown, so lowest. */
  const newHead = (): Head => ({ ts: Number.NEGATIVE_INFINITY, caughtUp: false, paused: false, asking: false, answeredAt: undefined });

  /** It offered a message or was resumed: it is not idle until a fetch asks for more and comes back. */
  const offered = (h: Head): void => {
    h.asking = false;
    h.answeredAt = undefined;
  };

  /** The lowest head of the partitions other than `key` that hold the others back. */
  const floorFor = (key: string, at: number): number => {
    let floor = Number.POSITIVE_INFINITY;
    for (const [k, h] of heads) {
      if (k === key || h.caughtUp) continue;
      if (!h.paused && h.answeredAt !== undefined && at - h.answeredAt > o.idleMs) continue;
      if (h.ts < floor) floor = h.ts;
    }
    return floor;
  };

  return {
    admit(key, timestampMs) {
      const at = now();
      let h = heads.get(key);
      if (h === undefined) {
        h = newHead();
        heads.set(key, h);
      }
      h.caughtUp = false;
      if (!Number.isFinite(timestampMs) || timestampMs < 0) {
        h.paused = false;
        offered(h);
        return true;
      }
      h.ts = timestampMs;
      const ahead = timestampMs > floorFor(key, at) + o.maxSkewMs;
      h.paused = ahead;
      offered(h);
      return !ahead;
    },

    reached(key, caughtUp) {
      const h = heads.get(key);
      if (h !== undefined && !h.paused) h.caughtUp = caughtUp;
    },

    fetching() {
      for (const h of heads.values()) if (!h.paused && h.answeredAt === undefined) h.asking = true;
    },

    fetched() {
      const at = now();
      for (const h of heads.values()) {
        if (!h.asking) continue;
        h.asking = false;
        h.answeredAt = at;
      }
    },

    resumable() {
      const at = now();
      const out: string[] = [];
      for (const [k, h] of heads) {
        if (!h.paused || h.ts > floorFor(k, at) + o.maxSkewMs) continue;
        h.paused = false;
        offered(h);
        out.push(k);
      }
      return out;
    },

    reset(assigned) {
      // A new assignment fetches from the committed offsets: every head is learnt again.
      const paused = [...heads].filter(([, h]) => h.paused).map(([k]) => k);
      heads.clear();
      for (const k of assigned) heads.set(k, newHead());
      return paused;
    },

    pausedCount() {
      let n = 0;
      for (const h of heads.values()) if (h.paused) n++;
      return n;
    },
  };
}

/**
 * The clock of `idleMs`: wall time that stands still from `stop` to `start`, while the consumer
 * handles a batch. A partition cannot offer a message while the consumer handles another's
 * batch, so that time is not time it spent with nothing to offer.
 */
export interface IdleClock {
  readonly now: () => number;
  /** A batch is being handled: the clock stands still (a second stop changes nothing). */
  readonly stop: () => void;
  /** No batch is handled any more: the clock runs again from where it stood. */
  readonly start: () => void;
}

export function createIdleClock(wall: () => number = Date.now): IdleClock {
  /** Wall time spent stopped, ms, up to the last start. */
  let stoppedMs = 0;
  let stoppedSince: number | undefined;
  return {
    now: () => (stoppedSince ?? wall()) - stoppedMs,
    stop() {
      stoppedSince ??= wall();
    },
    start() {
      if (stoppedSince === undefined) return;
      stoppedMs += wall() - stoppedSince;
      stoppedSince = undefined;
    },
  };
}
