/**
 * Consumer lag on COMMITTED offsets: per topic/partition, the broker's high watermark minus the
 * offset the consumer group has committed (what a restart would resume from, and what an
 * operator's lag alerting watches). Polled with the kafkajs admin client every
 * `metrics.lagIntervalMs`, never per message; a failed poll is the next one's job.
 *
 * A partition the group has never committed counts from its low watermark (everything still in
 * the topic is unread as far as the group is concerned).
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly high: bigint;
  /** The group's committed offset; undefined when it has none. */
  readonly committed: bigint | undefined;
  /** high - (committed ?? low). */
  readonly lag: number;
}

/** One poll: every partition of `topics`, committed offsets of `group`. */
export async function fetchCommittedLag(admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>, group: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const out: PartitionLag[] = [];
  const unique = [...new Set(topics)];
  const committed = new Map<string, bigint>();
  const entries = await admin.fetchOffsets({ groupId: group, topics: unique });
  for (const e of entries) for (const p of e.partitions) if (BigInt(p.offset) >= 0n) committed.set(`${e.topic}/${p.partition}`, BigInt(p.offset));
  for (const topic of unique) {
    for (const h of await admin.fetchTopicOffsets(topic)) {
      const c = committed.get(`${topic}/${h.partition}`);
      const high = BigInt(h.high);
      const from = c ?? BigInt(h.low);
      out.push({ topic, partition: h.partition, high, committed: c, lag: Number(high > from ? high - from : 0n) });
    }
  }
  return out;
}

export interface CommittedLagOptions {
  readonly kafka: Kafka;
  readonly group: string;
  readonly topics: readonly string[];
  /** Partitions assigned to this member: only those are reported (every member reports its own). */
  readonly assigned: () => readonly { readonly topic: string; readonly partition: number }[];
  readonly metrics: Metrics;
  readonly intervalMs: number;
  readonly log: Logger;
}

export interface CommittedLagPoller {
  start(): Promise<void>;
  /** Polls now (also what the timer does). */
  poll(): Promise<void>;
  /** The last poll's figures per `topic/partition` (assigned partitions only). */
  latest(): ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

export function createCommittedLagPoller(o: CommittedLagOptions): CommittedLagPoller {
  // Short retries: an admin call still retrying when stop() runs would reconnect afterwards.
  const admin = o.kafka.admin({ retry: { retries: 1, initialRetryTime: 300, maxRetryTime: 1000 } });
  let latest = new Map<string, number>();
  let reported = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const pollOnce = async (): Promise<void> => {
    const mine = new Set(o.assigned().map((p) => `${p.topic}/${p.partition}`));
    const figures = await fetchCommittedLag(admin, o.group, o.topics);
    const next = new Map<string, number>();
    for (const f of figures) {
      const key = `${f.topic}/${f.partition}`;
      if (!mine.has(key)) continue;
      next.set(key, f.lag);
      o.metrics.committedLag.set({ topic: f.topic, partition: String(f.partition) }, f.lag);
    }
    // Partitions this member no longer owns: their series go, the new owner reports them.
    for (const key of reported) {
      if (next.has(key)) continue;
      const slash = key.lastIndexOf('/');
      o.metrics.committedLag.remove({ topic: key.slice(0, slash), partition: key.slice(slash + 1) });
    }
    reported = new Set(next.keys());
    latest = next;
  };

  const poll = (): Promise<void> => {
    inFlight ??= pollOnce()
      .catch((err: unknown) => {
        o.log.debug({ error: err instanceof Error ? err.message : String(err) }, 'committed-lag poll failed');
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    async start() {
      await admin.connect();
      timer = setInterval(() => void poll(), o.intervalMs);
      timer.unref();
    },
    poll,
    latest: () => latest,
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await inFlight;
      await admin.disconnect().catch(() => undefined);
    },
  };
}
