/**
 * How far, in seconds, the committed offsets trail what `run` has consumed: for a partition at
 * time t, the age of the committed offset, i.e. how long ago the consumer's position first
 * reached it (0 when everything consumed is committed). A backlog makes "high watermark minus
 * committed" large whatever the commits do; this is the figure the delivery target names
 * (committed offsets at most 30 s behind the consumed position).
 *
 * The consumed positions come from samples (the bench reads them once a second from `run`'s
 * consumer-lag metric), so a delay is known to about one sample interval plus that metric's
 * refresh interval.
 */

export interface PartitionSample {
  /** `topic/partition`. */
  readonly key: string;
  /** The next offset the consumer will read. */
  readonly consumed: bigint;
  /** The group's committed offset; undefined when it has committed none. */
  readonly committed: bigint | undefined;
}

export interface CommitDelay {
  /** Records a sample taken at `nowMs`; returns the largest delay over its partitions, in seconds. */
  observe(nowMs: number, partitions: readonly PartitionSample[]): number;
}

export function createCommitDelay(): CommitDelay {
  /** Per partition: when each consumed position was first seen, in increasing order. */
  const history = new Map<string, { t: number; consumed: bigint }[]>();
  return {
    observe(nowMs, partitions) {
      let worst = 0;
      for (const p of partitions) {
        let h = history.get(p.key);
        if (h === undefined) {
          h = [];
          history.set(p.key, h);
        }
        const last = h[h.length - 1];
        if (last === undefined || p.consumed > last.consumed) h.push({ t: nowMs, consumed: p.consumed });
        const committed = p.committed ?? 0n;
        if (committed >= p.consumed) continue;
        // The first time the position was at or past the committed offset: older entries are
        // no longer needed (commits only move forward), except the one just before it.
        const i = h.findIndex((e) => e.consumed >= committed);
        const reachedAt = i === -1 ? nowMs : (h[i]?.t ?? nowMs);
        if (i > 1) h.splice(0, i - 1);
        worst = Math.max(worst, (nowMs - reachedAt) / 1000);
      }
      return worst;
    },
  };
}
