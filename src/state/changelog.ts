/**
 * The correlator's changelog in Kafka (docs/delivery.md, "State in Kafka"): a compacted topic
 * that holds, per key, the latest value of each state entry (correlate/state.ts) and, per input
 * partition, the position the state reflects (`o|<topic>|<partition>`: the offset after the last
 * message whose records are in it).
 *
 * - A checkpoint writes the entries that changed and the positions in ONE Kafka transaction, so
 *   a reader (read_committed) sees either all of a checkpoint or none of it.
 * - Entries are partitioned by Community ID (flows) or by their own key, with Kafka's default
 *   (murmur2) partitioner: the layout a topic re-keyed by Community ID has.
 * - `restoreChangelog` reads the topic from the beginning to the end it had when it started and
 *   returns the latest value of every key: what a new process loads before it consumes.
 *
 * Transactions fence: the producer's transactional id belongs to one instance; a restarted
 * instance with the same id aborts whatever its killed predecessor left open.
 */
import { Partitioners, type Admin, type ICustomPartitioner, type Kafka, type Producer } from 'kafkajs';
import { partitionKeyOf, type StateChange, type StateValue } from '../correlate/state';
import type { Logger } from '../log';
import type { CommitPosition, PartitionKey } from '../source/offset-tracker';
import type { InputMark } from './marks';
import { installKafkajsFixes } from '../source/kafkajs-fixes';
import { INTERNAL_COMPRESSION, installFastGzip } from './compression';
import { encodeEntry, entryOfJson } from './entry-codec';
import { createTopicAndWait, topicOffsets } from './topics';
import { partitionOfKey } from '../partition';

// Compaction leaves empty batches, which kafkajs alone cannot read past, and more (source/kafkajs-fixes.ts).
installKafkajsFixes();
installFastGzip();

export interface ChangelogSettings {
  readonly topic: string;
  /** Partitions when `run` creates the topic (the repartition topic's count, when there is one). */
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The consumer group of `run`: the restore reader's group and the partitions' transactional ids are derived from it. */
  readonly group: string;
}

/** Largest changelog message; the topic is created with this `max.message.bytes`. */
export const MAX_ENTRY_BYTES = 8 * 1048576;
/** A restore that takes longer logs its progress this often. */
const RESTORE_PROGRESS_MS = 10_000;
/** The broker's default `fetch.max.bytes`: a larger fetch is cut to it anyway. */
const FETCH_MAX_BYTES = 52_428_800;
/** Bytes per produce call inside a checkpoint's transaction (the broker's request limit is 100 MB). */
const SEND_CHUNK_BYTES = 4 * 1048576;
/**
 * Messages per produce call: kafkajs groups a call's messages by partition by copying the
 * partition's array once per message (producer/groupMessagesPerPartition.js), quadratic in the
 * messages of one partition, which in repartition mode is all of them. `zeek-rst` replaces that
 * grouping with a linear one (source/kafkajs-grouping.ts, from cli/main.ts); the bound stays for
 * a process where kafkajs loaded first, as in the tests.
 */
const SEND_CHUNK_MESSAGES = 2000;

const POSITION_PREFIX = 'o|';
const positionKey = (p: PartitionKey): string => `${POSITION_PREFIX}${p.topic}|${p.partition}`;
const MARK_PREFIX = 'i|';
const markKey = (m: PartitionKey): string => `${MARK_PREFIX}${m.topic}|${m.partition}`;

/** Topic configuration of the changelog: compacted, segments small enough that compaction keeps up. */
export const CHANGELOG_TOPIC_CONFIG: readonly { readonly name: string; readonly value: string }[] = Object.freeze([
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.ms', value: String(60_000) },
  { name: 'segment.bytes', value: String(64 * 1048576) },
  { name: 'min.cleanable.dirty.ratio', value: '0.1' },
  { name: 'delete.retention.ms', value: String(3_600_000) },
  { name: 'max.message.bytes', value: String(MAX_ENTRY_BYTES + 65536) },
]);

/** Creates the changelog topic when it does not exist; returns true when it created it. */
export async function ensureChangelogTopic(admin: Admin, s: ChangelogSettings): Promise<boolean> {
  const existing = await admin.listTopics();
  if (existing.includes(s.topic)) return false;
  await createTopicAndWait(admin, { topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor, configEntries: [...CHANGELOG_TOPIC_CONFIG] });
  return true;
}

export interface CheckpointWrite {
  readonly changes: readonly StateChange[];
  readonly positions: readonly CommitPosition[];
  /** Repartition mode: the last input record per input partition that the state holds (state/marks.ts). */
  readonly marks?: readonly InputMark[];
}

export interface CheckpointReport {
  readonly messages: number;
  readonly bytes: number;
  /** Entries too large for one message: not written (counted; their flow is not crash-safe). */
  readonly oversized: number;
}

export interface ChangelogWriter {
  /**
   * Connects the transactional producer and fences its predecessor with the same transactional
   * id: the broker aborts what that one left open, before this call returns.
   */
  connect(): Promise<void>;
  /** One checkpoint, atomically. */
  write(w: CheckpointWrite): Promise<CheckpointReport>;
  disconnect(): Promise<void>;
}

interface Encoded {
  readonly key: string;
  readonly value: Buffer | null;
  readonly partition?: number;
}

/**
 * Kafka's default partitioner (murmur2 of the key, as the Java client computes it), applied to the
 * entry's Community ID instead of its key: a flow lands where a topic keyed by Community ID puts it.
 */
export const byCommunityId: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== undefined) return message.partition; // repartition mode: fixed
    if (message.key === null || message.key === undefined) return byKey(args);
    return partitionOfKey(partitionKeyOf(message.key.toString()), partitionMetadata.length);
  };
};

export interface WriterTarget {
  readonly transactionalId: string;
  /**
   * Repartition mode: every entry goes to this partition of the changelog, the one of the
   * repartition partition whose state it is. Direct mode (absent): entries by Community ID.
   */
  readonly partition?: number;
}

/**
 * The changelog producer's retries. A transaction begun right after the last one committed finds
 * the broker still writing that one's commit markers, and its first send is refused with
 * CONCURRENT_TRANSACTIONS until they are written; kafkajs retries after the client's
 * `initialRetryTime` (300 ms), and a checkpoint that follows a slow one at once always begins that
 * way. The Java producer retries that refusal after 20 ms (TransactionManager,
 * ADD_PARTITIONS_RETRY_BACKOFF_MS), and so does this one. Over 40 back-to-back transactions of
 * one message on the local broker: 1,492 ms in all with 300 ms (up to 371 ms each), 528 ms with
 * 20 ms (up to 43 ms). The rest is the client's (source/kafka.ts): 12 retries, the backoff
 * doubling up to 30 s, about 70 s in all before a write fails (it is written again at the next
 * checkpoint).
 */
export const CHANGELOG_PRODUCER_RETRY = Object.freeze({ retries: 12, initialRetryTime: 20, maxRetryTime: 30_000 });

export function createChangelogWriter(kafka: Kafka, s: ChangelogSettings, log: Logger, target: WriterTarget): ChangelogWriter {
  const producer: Producer = kafka.producer({
    transactionalId: target.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: byCommunityId,
    retry: { ...CHANGELOG_PRODUCER_RETRY },
  });
  const fixed = target.partition;
  return {
    async connect() {
      await producer.connect();
      // kafkajs asks for the transactional producer id (the fence) only at the first transaction,
      // not on connect: open an empty one now, so the predecessor's open transaction is aborted
      // before anyone restores below it. An empty transaction sends nothing on abort.
      const tx = await producer.transaction();
      await tx.abort();
    },
    async write(w) {
      const encoded: Encoded[] = [];
      let bytes = 0;
      let oversized = 0;
      for (const c of w.changes) {
        const value = c.value === null ? null : encodeEntry(c.value);
        if (value !== null && value.length > MAX_ENTRY_BYTES) {
          oversized++;
          log.warn({ key: c.key, bytes: value.length, max: MAX_ENTRY_BYTES }, 'changelog entry too large; not written (this flow would not survive a crash)');
          continue;
        }
        bytes += (value?.length ?? 0) + c.key.length;
        encoded.push({ key: c.key, value });
      }
      for (const p of w.positions) {
        const value = Buffer.from(JSON.stringify({ t: 'position', offset: p.offset }));
        encoded.push({ key: positionKey(p), value });
        bytes += value.length;
      }
      for (const m of w.marks ?? []) {
        const value = Buffer.from(JSON.stringify({ t: 'mark', offset: m.offset, n: m.n }));
        encoded.push({ key: markKey(m), value });
        bytes += value.length;
      }
      if (encoded.length === 0) return { messages: 0, bytes: 0, oversized };
      const tx = await producer.transaction();
      try {
        let chunk: Encoded[] = [];
        let chunkBytes = 0;
        const send = async (): Promise<void> => {
          if (chunk.length === 0) return;
          await tx.send({ topic: s.topic, compression: INTERNAL_COMPRESSION, messages: chunk });
          chunk = [];
          chunkBytes = 0;
        };
        for (const e of encoded) {
          // Partitioned by Community ID (byCommunityId); the message key stays the entry's own (compaction is by key).
          chunk.push(fixed === undefined ? e : { ...e, partition: fixed });
          chunkBytes += (e.value?.length ?? 0) + e.key.length;
          if (chunkBytes >= SEND_CHUNK_BYTES || chunk.length >= SEND_CHUNK_MESSAGES) await send();
        }
        await send();
        await tx.commit();
      } catch (err: unknown) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      return { messages: encoded.length, bytes, oversized };
    },
    disconnect: () => producer.disconnect(),
  };
}

/** What the changelog holds for one of its partitions (or for all, in direct mode). */
export interface RestoredPart {
  readonly values: readonly StateValue[];
  /** Per `topic/partition` consumed: the offset the state reflects (skip below it). */
  readonly positions: ReadonlyMap<string, bigint>;
  readonly marks: readonly InputMark[];
}

export interface RestoredState extends RestoredPart {
  /** The same, per changelog partition. */
  readonly byPartition: ReadonlyMap<number, RestoredPart>;
  readonly messages: number;
  readonly bytes: number;
  readonly ms: number;
}

export interface RestoreOptions {
  readonly timeoutMs: number;
  readonly maxBytesPerPartition?: number;
  /** Only these changelog partitions (repartition mode: the partitions this instance was given); default all. */
  readonly partitions?: readonly number[];
}

/** Reads the changelog from the beginning to its end at the time of the call (read_committed). */
export async function restoreChangelog(kafka: Kafka, s: ChangelogSettings, log: Logger, options: RestoreOptions): Promise<RestoredState> {
  const started = Date.now();
  const wanted = options.partitions === undefined ? undefined : new Set(options.partitions);
  // Few retries per call: the loop in topicOffsets is the retry (state/topics.ts).
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } });
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await topicOffsets(admin, s.topic);
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low) && (wanted === undefined || wanted.has(o.partition))).map((o) => [o.partition, BigInt(o.high) - 1n]));
  } finally {
    await admin.disconnect();
  }
  const { latest, messages, bytes } = ends.size === 0 ? { latest: new Map<number, ReadonlyMap<string, Buffer | null>>(), messages: 0, bytes: 0 } : await readToEnds(kafka, s, log, ends, options);
  const byPartition = new Map<number, RestoredPart>();
  for (const [partition, entries] of latest) byPartition.set(partition, parsePart(entries));
  for (const p of options.partitions ?? []) if (!byPartition.has(p)) byPartition.set(p, { values: [], positions: new Map(), marks: [] });
  const all = [...byPartition.values()];
  const values = all.flatMap((p) => p.values);
  const positions = new Map(all.flatMap((p) => [...p.positions]));
  const marks = all.flatMap((p) => p.marks);
  const ms = Date.now() - started;
  log.info({ topic: s.topic, partitions: options.partitions ?? 'all', messages, bytes, entries: values.length, positions: positions.size, ms }, 'correlator state restored from the changelog');
  return { values, positions, marks, byPartition, messages, bytes, ms };
}

interface ReadResult {
  readonly latest: ReadonlyMap<number, ReadonlyMap<string, Buffer | null>>;
  readonly messages: number;
  readonly bytes: number;
}

/** How the restore reader fetches `partitions` changelog partitions (read_committed): also the ceiling `npm run bench -- restore` compares it with. */
export function restoreFetch(partitions: number, maxBytesPerPartition = MAX_ENTRY_BYTES * 2): { readonly readUncommitted: false; readonly maxBytesPerPartition: number; readonly maxBytes: number; readonly maxWaitTimeInMs: number } {
  return {
    readUncommitted: false,
    maxBytesPerPartition,
    // kafkajs's default for the whole fetch (10 MB) is below one partition's share.
    maxBytes: Math.min(FETCH_MAX_BYTES, maxBytesPerPartition * Math.max(1, partitions)),
    maxWaitTimeInMs: 200,
  };
}

/** One reader, from the beginning of the partitions to their ends; throws after `options.timeoutMs`. */
async function readToEnds(kafka: Kafka, s: ChangelogSettings, log: Logger, ends: ReadonlyMap<number, bigint>, options: RestoreOptions): Promise<ReadResult> {
  const latest = new Map<number, Map<string, Buffer | null>>();
  let messages = 0;
  let bytes = 0;
  // A group of its own, never committed: every restore reads from the beginning.
  const consumer = kafka.consumer({
    groupId: `${s.group}.restore.${process.pid}.${Date.now()}.${Math.floor(Math.random() * 1e9)}`,
    ...restoreFetch(ends.size, options.maxBytesPerPartition),
  });
  const remaining = new Set(ends.keys());
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const at = new Map<number, string>();
  const reached = (partition: number, offset: string): void => {
    at.set(partition, offset);
    const end = ends.get(partition);
    if (end !== undefined && BigInt(offset) >= end) remaining.delete(partition);
    if (remaining.size === 0) finish();
  };
  // A long restore says where it is (partition: last offset read / offset to reach), and how
  // many fetches came back since the last report and with how many partitions' data: fetches
  // without data point at the broker's answers, no fetches at all at the reader itself.
  let fetches = 0;
  let fetchedBatches = 0;
  consumer.on(consumer.events.FETCH, (e) => {
    fetches++;
    fetchedBatches += e.payload.numberOfBatches;
  });
  const progress = setInterval(() => {
    log.warn({ topic: s.topic, messages, fetches, fetchedBatches, remaining: [...remaining].map((p) => `${p}: ${at.get(p) ?? 'none'}/${String(ends.get(p))}`) }, 'changelog restore still reading');
    fetches = 0;
    fetchedBatches = 0;
  }, RESTORE_PROGRESS_MS);
  progress.unref();
  // Control records (transaction markers) end most partitions: only the batch events see them.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.topic === s.topic) reached(e.payload.partition, e.payload.lastOffset);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: s.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (!ends.has(batch.partition)) {
          payload.pause(); // another instance's partition, or an empty one
          return;
        }
        let part = latest.get(batch.partition);
        if (part === undefined) {
          part = new Map();
          latest.set(batch.partition, part);
        }
        for (const m of batch.messages) {
          if (m.key === null) continue;
          part.set(m.key.toString(), m.value);
          messages++;
          bytes += m.value?.length ?? 0;
        }
        await payload.heartbeat();
      },
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`restoring the changelog ${s.topic} took longer than ${options.timeoutMs} ms (${messages} messages read, partitions ${[...remaining].join(',')} not at their end)`));
      }, options.timeoutMs);
    });
    await Promise.race([done, timeout]);
    return { latest, messages, bytes };
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    await consumer.disconnect().catch(() => undefined);
  }
}

type Entry = { readonly t: StateValue['t'] } | { readonly t: 'position'; readonly offset: string } | { readonly t: 'mark'; readonly offset: string; readonly n: number };

function parsePart(entries: ReadonlyMap<string, Buffer | null>): RestoredPart {
  const values: StateValue[] = [];
  const positions = new Map<string, bigint>();
  const marks: InputMark[] = [];
  for (const [key, value] of entries) {
    if (value === null) continue;
    const parsed = JSON.parse(value.toString()) as Entry;
    if (parsed.t === 'position' || parsed.t === 'mark') {
      const [, topic, partition] = key.split('|');
      if (topic === undefined || partition === undefined) continue;
      if (parsed.t === 'position') positions.set(`${topic}/${partition}`, BigInt(parsed.offset));
      else marks.push({ topic, partition: Number(partition), offset: parsed.offset, n: parsed.n });
    } else {
      values.push(entryOfJson(parsed));
    }
  }
  return { values, positions, marks };
}
