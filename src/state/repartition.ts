/**
 * The repartition topic (docs/scale-out.md): decoded records re-keyed by their connection's
 * Community ID, so that every record of one connection is read by the one instance that owns its
 * partition, whatever input partition it came in on.
 *
 * - A message carries records of ONE partition (src/partition.ts), one line each
 *   (state/repartition-lines.ts). Records are batched per partition: a sensor's header rate in
 *   one message per record would be the dominant cost.
 * - The writer is an idempotent producer with one request in flight: a partition receives the
 *   records in the order they were given (state/marks.ts relies on it). An input message is
 *   complete once every record of it is acknowledged.
 *
 * Internal: nothing but `run` should write to the topic; how a line that is not what `run`
 * writes is read (a dead letter, never an exception) is state/repartition-lines.ts's part.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../log';
import { installKafkajsFixes } from '../source/kafkajs-fixes';
import { INTERNAL_COMPRESSION, installFastGzip } from './compression';
import { createTopicAndWait, partitionCount } from './topics';

// Before this module's producer encodes anything (source/kafkajs-fixes.ts).
installKafkajsFixes();
installFastGzip();

export interface RepartitionSettings {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly retentionMs: number;
}

/** Creates the repartition topic when absent; returns its partition count. */
export async function ensureRepartitionTopic(admin: Admin, s: RepartitionSettings): Promise<{ readonly created: boolean; readonly partitions: number }> {
  const existing = await admin.listTopics();
  if (!existing.includes(s.topic)) {
    await createTopicAndWait(admin, {
      topic: s.topic,
      numPartitions: s.partitions,
      replicationFactor: s.replicationFactor,
      configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }, { name: 'max.message.bytes', value: String(2 * 1048576) }],
    });
    return { created: true, partitions: s.partitions };
  }
  return { created: false, partitions: await partitionCount(admin, s.topic) };
}

export interface RepartitionWriter {
  connect(): Promise<void>;
  /** Queues the records of one input message; `acked` runs once all of them are in the topic. */
  add(items: readonly { readonly partition: number; readonly line: string }[], acked: () => void): void;
  /** Records queued or sent and not yet acknowledged (backpressure). */
  inFlight(): number;
  /** Resolves once everything queued so far is acknowledged. */
  drain(): Promise<void>;
  disconnect(): Promise<void>;
}

/** Bytes of one repartition message at most. */
const MESSAGE_BYTES = 256 * 1024;
/** Bytes of one partition's messages in one produce request (one record batch; the topic allows 2 MB). */
const REQUEST_PARTITION_BYTES = 1024 * 1024;
/** A partial batch is sent after this long. */
const LINGER_MS = 20;

interface Batch {
  readonly lines: Map<number, string[]>;
  readonly acked: (() => void)[];
  records: number;
}

const newBatch = (): Batch => ({ lines: new Map(), acked: [], records: 0 });

/**
 * Records queued per partition as produce requests, in order: messages of at most `messageBytes`,
 * and per partition and request at most `requestPartitionBytes` (the messages of one partition in
 * one request form one record batch, which the topic's max.message.bytes bounds). A partition's
 * records keep their order across messages and requests.
 */
export function produceRequests(lines: ReadonlyMap<number, readonly string[]>, limits: { readonly messageBytes: number; readonly requestPartitionBytes: number } = { messageBytes: MESSAGE_BYTES, requestPartitionBytes: REQUEST_PARTITION_BYTES }): { partition: number; value: Buffer }[][] {
  const requests: { partition: number; value: Buffer }[][] = [];
  for (const [partition, list] of lines) {
    let request = 0;
    let requestBytes = 0;
    let chunk: string[] = [];
    let chunkBytes = 0;
    const flush = (): void => {
      if (chunk.length === 0) return;
      const value = Buffer.from(chunk.join('\n'));
      if (requestBytes > 0 && requestBytes + value.length > limits.requestPartitionBytes) {
        request++;
        requestBytes = 0;
      }
      (requests[request] ??= []).push({ partition, value });
      requestBytes += value.length;
      chunk = [];
      chunkBytes = 0;
    };
    for (const line of list) {
      const bytes = Buffer.byteLength(line) + 1;
      if (chunkBytes + bytes > limits.messageBytes) flush();
      chunk.push(line);
      chunkBytes += bytes;
    }
    flush();
  }
  return requests;
}

export function createRepartitionWriter(kafka: Kafka, s: RepartitionSettings, log: Logger, onFatal: (err: unknown) => void): RepartitionWriter {
  // Every message names its partition; the partitioner is set only so that kafkajs does not warn.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  let open = newBatch();
  let sending: Promise<void> | undefined;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let failed = false;

  /** Sends the open batch (one request at a time, so partitions keep their order). */
  const send = (): Promise<void> => {
    if (sending !== undefined) return sending;
    if (open.records === 0 || failed) return Promise.resolve();
    const batch = open;
    open = newBatch();
    sending = (async (): Promise<void> => {
      for (const messages of produceRequests(batch.lines)) await producer.send({ topic: s.topic, acks: -1, compression: INTERNAL_COMPRESSION, messages });
    })()
      .then(
        () => {
          inFlight -= batch.records;
          for (const a of batch.acked) a();
        },
        (err: unknown) => {
          // kafkajs retried already; the records are not in the topic and their input offsets
          // stay uncommitted, so a restart produces them again.
          failed = true;
          log.error({ error: err instanceof Error ? err.message : String(err), records: batch.records }, 'repartition topic: produce failed');
          onFatal(err);
        },
      )
      .finally(() => {
        sending = undefined;
        if (open.records > 0) void send();
      });
    return sending;
  };

  return {
    connect: async () => {
      await producer.connect();
      timer = setInterval(() => void send(), LINGER_MS);
      timer.unref();
    },
    add(items, acked) {
      for (const it of items) {
        let lines = open.lines.get(it.partition);
        if (lines === undefined) {
          lines = [];
          open.lines.set(it.partition, lines);
        }
        lines.push(it.line);
      }
      open.records += items.length;
      inFlight += items.length;
      open.acked.push(acked);
    },
    inFlight: () => inFlight,
    async drain() {
      while (inFlight > 0 && !failed) {
        await (sending ?? send());
        if (sending === undefined && open.records === 0 && inFlight > 0) await new Promise((r) => setTimeout(r, LINGER_MS));
      }
    },
    async disconnect() {
      if (timer !== undefined) clearInterval(timer);
      await sending?.catch(() => undefined);
      await producer.disconnect();
    },
  };
}
