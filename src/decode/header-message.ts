/**
 * One Kafka message of the headers topic -> the packet headers it carries. Sensors batch their
 * samples (one message per sampled packet is the dominant cost of the input), so a message holds
 * one record or many, in one of three shapes told apart by the first bytes:
 * - `Obj\x01`: an Avro object container (its own writer schema, `null` or `deflate` blocks);
 * - `C3 01` or `00`: one framed record (single-object or Confluent, packet-header.ts), or several
 *   written back to back, each with its own framing.
 *
 * A record that fails dead-letters alone, its position in the message (0-based) in its source's
 * `index`; the others still decode. In a sequence, a record whose Avro bytes cannot be delimited
 * (a cut or corrupt body) takes with it the bytes up to the next `C3 01` + the same fingerprint,
 * where decoding resumes (Confluent records carry no marker to resynchronise on: the rest of the
 * message is then one dead letter). A message of exactly one record keeps the message's source
 * without `index`, as before batching. Pure; never throws on input.
 */
import type { Decoded, PacketHeader, SourceRef } from '../domain';
import { AVRO_CONTAINER_MAGIC, decodeContainerRecords } from './avro-container';
import { SINGLE_OBJECT_MAGIC, type HeaderCodec } from './packet-header';
import type { DecodeOptions } from './validate';
import { DEFAULT_MAX_MESSAGE_BYTES, deadLetter, problem } from './validate';

/** Bytes of a single-object prefix: `C3 01` + 8-byte fingerprint. */
const SINGLE_OBJECT_PREFIX_BYTES = 10;

/** The message's source with the record's position (a dead letter's). */
function withIndex(source: SourceRef, index: number): SourceRef {
  return source.kind === 'kafka' ? { kind: 'kafka', topic: source.topic, partition: source.partition, offset: source.offset, index } : source;
}

/** Where decoding may resume after an undelimitable single-object record at `offset`, or the buffer's end. */
function resyncPoint(buf: Buffer, offset: number): number {
  const isSingleObject = buf[offset] === SINGLE_OBJECT_MAGIC[0] && buf[offset + 1] === SINGLE_OBJECT_MAGIC[1] && buf.length - offset >= SINGLE_OBJECT_PREFIX_BYTES;
  if (!isSingleObject) return buf.length;
  const next = buf.indexOf(buf.subarray(offset, offset + SINGLE_OBJECT_PREFIX_BYTES), offset + SINGLE_OBJECT_PREFIX_BYTES);
  return next === -1 ? buf.length : next;
}

function decodeSequence(buf: Buffer, codec: HeaderCodec, source: SourceRef, options: DecodeOptions): Decoded<PacketHeader>[] {
  const out: Decoded<PacketHeader>[] = [];
  let offset = 0;
  while (offset < buf.length) {
    // A header does not keep its source: only a dead letter is named, by the record's position.
    const { result, end } = codec.decodeAt(buf, offset, source, options);
    if (end !== undefined) {
      out.push(result.ok ? result : { ok: false, dead: { ...result.dead, source: withIndex(source, out.length) } });
      offset = end;
      continue;
    }
    const stop = resyncPoint(buf, offset);
    out.push(result.ok ? result : { ok: false, dead: { ...result.dead, source: withIndex(source, out.length), raw: buf.subarray(offset, stop) } });
    offset = stop;
  }
  return out;
}

/** Every header record of one message (at least one result: a record or a dead letter). */
export function decodeHeaderMessage(raw: Uint8Array, source: SourceRef, codec: HeaderCodec, options: DecodeOptions = {}): Decoded<PacketHeader>[] {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (raw.length > max) return [deadLetter(problem('oversized_message', `message is ${raw.length} bytes, limit ${max}`, 'decode'), raw, source)];
  if (raw.length === 0) return [deadLetter(problem('empty_message', 'message has no bytes', 'decode'), raw, source)];
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const isContainer = buf.length >= AVRO_CONTAINER_MAGIC.length && buf.subarray(0, AVRO_CONTAINER_MAGIC.length).equals(AVRO_CONTAINER_MAGIC);
  const out = isContainer ? decodeContainerRecords(buf, codec, (i) => withIndex(source, i), options) : decodeSequence(buf, codec, source, options);
  if (out.length === 0) return [deadLetter(problem('invalid_avro', 'Avro object container holds no record', 'decode'), raw, source)];
  const only = out[0];
  if (out.length === 1 && only !== undefined) {
    // One record: the message's own source, and a dead letter keeps every byte of the message.
    return [only.ok ? only : { ok: false, dead: { ...only.dead, source, raw } }];
  }
  return out;
}
