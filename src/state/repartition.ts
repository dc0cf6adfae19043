/**
 * The repartition topic (docs/scale-out.md): decoded records re-keyed by their connection's
 * Community ID, so that every record of one connection is read by the one instance that owns its
 * partition, whatever input partition it came in on.
 *
 * - A message carries records of ONE partition (src/partition.ts), one JSON line each:
 *   `{"n":<ordinal in its input message>,"k":"c"|"w"|"h","r":<the decoded record>}`. A conn or
 *   weird keeps its `source` (input topic, partition, offset), so dead letters and marks name the
 *   input; a header, which does not keep it, has it beside the record (`"s":<source>`). Lines
 *   written before headers dropped their source have it inside the header: both are read.
 *   Records are batched per partition: a sensor's header rate in one message per record would be
 *   the dominant cost.
 * - The writer is an idempotent producer with one request in flight: a partition receives the
 *   records in the order they were given (state/marks.ts relies on it). An input message is
 *   complete once every record of it is acknowledged.
 *
 * Internal: nothing but `run` should write to the topic; a line that is not what `run` writes
 * becomes a dead letter (`invalid_repartition_record`), never an exception.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { InputRecord } from '../decode/dispatch';
import type { Decoded, SourceRef } from '../domain';
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

/** One record on its way through the repartition topic. */
export interface RepartitionItem {
  /** Ordinal of the record among those decoded from its input message (dead ones included). */
  readonly n: number;
  readonly record: InputRecord;
}

/** A record read back, with its line (the bytes a dead letter of the correlating stage carries). */
export interface ReadItem extends RepartitionItem {
  readonly raw: Uint8Array;
}

const KIND_CODES = { conn: 'c', weird: 'w', header: 'h' } as const;
const NEWLINE = 0x0a;
const KINDS = { c: 'conn', w: 'weird', h: 'header' } as const;

export function encodeItem(item: RepartitionItem): string {
  const r = item.record;
  return JSON.stringify(r.kind === 'header' ? { n: item.n, k: KIND_CODES.header, s: r.source, r: r.record } : { n: item.n, k: KIND_CODES[r.kind], r: r.record });
}

const NO_SOURCE: Extract<SourceRef, { kind: 'kafka' }> = { kind: 'kafka', topic: '', partition: -1, offset: '-1' };

function isKafkaSource(v: unknown): v is Extract<SourceRef, { kind: 'kafka' }> {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return s['kind'] === 'kafka' && typeof s['topic'] === 'string' && Number.isInteger(s['partition']) && typeof s['offset'] === 'string' && /^\d+$/.test(s['offset']);
}

/**
 * The records of one repartition message. `source` is the repartition message, named by a
 * dead letter whose line does not parse (its input is unknown then).
 */
export function decodeItems(value: Uint8Array, source: SourceRef): readonly Decoded<ReadItem>[] {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const out: Decoded<ReadItem>[] = [];
  // Lines are cut at the bytes (0x0A is never part of a multi-byte UTF-8 sequence), and each
  // record's `raw` is a view of its line, not a copy: it is read only while the record is handled,
  // for a dead letter.
  for (let start = 0; start < bytes.length;) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    if (raw.length === 0) continue;
    const line = raw.toString('utf8');
    const dead = (detail: string): Decoded<ReadItem> => ({ ok: false, dead: { reason: 'invalid_repartition_record', stage: 'decode', detail, raw, source } });
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      out.push(dead('a repartition line that is not JSON'));
      continue;
    }
    const o = parsed as { n?: unknown; k?: unknown; s?: unknown; r?: unknown };
    const kind = typeof o.k === 'string' ? KINDS[o.k as keyof typeof KINDS] : undefined;
    const r = o.r as Record<string, unknown> | null | undefined;
    const input: unknown = kind === 'header' && o.s !== undefined ? o.s : r?.['source'];
    if (!Number.isInteger(o.n) || kind === undefined || typeof r !== 'object' || r === null || !isKafkaSource(input) || typeof r['tsUs'] !== 'number') {
      out.push(dead('not a record that zeek-rst run writes to the repartition topic (n, k, r with tsUs and a Kafka source)'));
      continue;
    }
    // A header of an older line leaves its source out of the record, as a header now decodes.
    const record = kind === 'header' && o.s === undefined ? withoutSource(r) : r;
    // Written by `run` from a record its decoder validated: the shape is that record's.
    out.push({ ok: true, value: { n: o.n as number, record: { kind, record, source: input } as unknown as InputRecord, raw } });
  }
  return out;
}

function withoutSource(r: Record<string, unknown>): Record<string, unknown> {
  const { source: _source, ...rest } = r;
  return rest;
}

/** The input a record came from (a repartition record always has a Kafka source). */
export const sourceOfItem = (record: InputRecord): Extract<SourceRef, { kind: 'kafka' }> => (record.source.kind === 'kafka' ? record.source : NO_SOURCE);

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
