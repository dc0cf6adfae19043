/**
 * The dead-letter topic: every input that could not become a document, with its original bytes
 * as the message value and Kafka headers that say why and where it came from:
 * `reason` (a DeadLetterReason literal), `stage` (decode, validate, sink), `detail` (one line for
 * a person), `source_topic`, `source_partition`, `source_offset`, `source_index` (the record's 0-based
 * position in a batched message, when it holds several) (or `source_path`,
 * `source_line` for file input). Writes wait for all in-sync replicas (acks -1): a dead letter
 * is only "done" (and its offset committable) once Kafka holds it.
 */
import type { Message, Producer } from 'kafkajs';
import type { DeadLetter } from '../domain';
import type { Metrics } from '../metrics';

/** Kafka headers of a dead letter, as strings. */
export function deadLetterHeaders(dead: DeadLetter): Record<string, string> {
  const headers: Record<string, string> = { reason: dead.reason, stage: dead.stage, detail: dead.detail.slice(0, 2000) };
  if (dead.source.kind === 'kafka') {
    headers['source_topic'] = dead.source.topic;
    headers['source_partition'] = String(dead.source.partition);
    headers['source_offset'] = dead.source.offset;
    if (dead.source.index !== undefined) headers['source_index'] = String(dead.source.index);
  } else {
    headers['source_path'] = dead.source.path;
    headers['source_line'] = String(dead.source.line);
  }
  return headers;
}

export function toDeadLetterMessage(dead: DeadLetter): Message {
  return { value: Buffer.from(dead.raw.buffer, dead.raw.byteOffset, dead.raw.byteLength), headers: deadLetterHeaders(dead) };
}

export interface DeadLetterWriter {
  /** Resolves when Kafka has acknowledged every one of them. */
  write(deads: readonly DeadLetter[]): Promise<void>;
  /**
   * Dead letters handed to `write` and not yet acknowledged (or failed): they hold their bytes in
   * memory, so they count against `sink.maxPendingDocs` like documents do (docs/delivery.md).
   */
  inFlight(): number;
}

/** The part of a kafkajs Producer the writer uses. */
export type DeadLetterProducer = Pick<Producer, 'send'>;

export function createDeadLetterWriter(producer: DeadLetterProducer, topic: string, metrics: Metrics): DeadLetterWriter {
  let inFlight = 0;
  return {
    async write(deads) {
      if (deads.length === 0) return;
      inFlight += deads.length;
      try {
        await producer.send({ topic, acks: -1, messages: deads.map(toDeadLetterMessage) });
      } finally {
        inFlight -= deads.length;
      }
      for (const d of deads) metrics.deadLetters.inc({ reason: d.reason, stage: d.stage });
    },
    inFlight: () => inFlight,
  };
}
