/**
 * Sampled packet headers -> PacketHeader, from Avro (Kafka, both framings; object container
 * files via source/files.ts) and from the JSON-lines form of the corpus's `*.headers.jsonl`.
 *
 * Kafka framings, told apart by the first bytes:
 * - Avro single-object encoding: `C3 01`, the writer schema's 8-byte little-endian CRC-64-AVRO
 *   fingerprint, then the body. The fingerprint must be that of the reader schema or of a
 *   configured writer schema.
 * - Confluent: `00`, a 4-byte big-endian schema id, then the body. Ids map to writer schemas
 *   through configuration (`registry`); zeek-rst does not call a schema registry service.
 * Writer schemas are resolved against the reader schema with Avro's resolution rules
 * (`readerType.createResolver(writerType)`), so a writer with extra optional fields still decodes.
 * Unknown fingerprint or id -> `unknown_schema`; a body that ends early -> `truncated_avro`;
 * anything else avsc rejects -> `invalid_avro`. Decoding never throws.
 */
import type { Schema } from 'avsc';
import { Type } from 'avsc';

import type { Decoded, PacketHeader, SourceRef } from '../domain';
import { ZeekRstError } from '../errors';
import { fingerprintBytes } from './avro-fingerprint';
import { headerOf } from './header-fields';
import { PACKET_HEADER_SCHEMA } from './packet-header-schema';
import type { DecodeOptions, Problem } from './validate';
import {
  checkTsRange, DEFAULT_MAX_MESSAGE_BYTES, deadLetter, isPlainObject, isProblem, parseJsonObject, problem, show, timeToUs,
} from './validate';

export { HEADER_FIELD_NAMES } from './header-fields';

export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
export const CONFLUENT_MAGIC = 0x00;
const UINT32_MAX = 0xffffffff;

export interface HeaderCodecConfig {
  /** Confluent schema id -> writer schema (the parsed JSON of an .avsc file). */
  readonly registry?: Readonly<Record<number, unknown>>;
  /** More writer schemas accepted in the single-object encoding, looked up by fingerprint; keyed by a name for errors (the file). */
  readonly writerSchemas?: Readonly<Record<string, unknown>>;
}

export interface HeaderCodec {
  /** Decodes one Kafka message in either framing. */
  decode(raw: Uint8Array, source: SourceRef, options?: DecodeOptions): Decoded<PacketHeader>;
  /**
   * Validates a record that avsc already decoded with the reader schema (Avro container files,
   * whose blocks avsc decodes itself). `raw` of a dead letter is the record re-encoded with the
   * reader schema (the container's own bytes are not exposed per record), or empty if it cannot be.
   */
  decodeValue(value: unknown, source: SourceRef, options?: DecodeOptions): Decoded<PacketHeader>;
  /**
   * Decodes the framed record (either framing) that starts at `offset` of a message holding one
   * or more of them back to back. `end` is where the record's bytes end when they could be
   * delimited (the framing and the Avro body were readable, even if validation then refused
   * the values), undefined otherwise; a dead letter's `raw` runs from `offset` to `end` (or to
   * the end of the buffer).
   */
  decodeAt(buf: Buffer, offset: number, source: SourceRef, options?: DecodeOptions): FramedRecord;
  /** Decodes one record body written with `writer` (an Avro container file's schema), resolving it to the reader. */
  decodeRecord(body: Buffer, writer: Type, source: SourceRef, options?: DecodeOptions): Decoded<PacketHeader>;
  /** `C3 01` + fingerprint of the reader schema + body. */
  encodeSingleObject(header: PacketHeader): Buffer;
  /** The bare Avro body with the reader schema (what an object container's block holds). */
  encodeBody(header: PacketHeader): Buffer;
  /** `00` + id + body; the id must be in the registry and name a schema that can write the reader's fields. */
  encodeConfluent(header: PacketHeader, schemaId: number): Buffer;
  /** The reader type (zeek_rst.PacketHeader). */
  readonly type: Type;
}

/** One framed record of a message: its result and where its bytes end (undefined when they could not be delimited). */
export interface FramedRecord {
  readonly result: Decoded<PacketHeader>;
  readonly end: number | undefined;
}

interface Writer {
  readonly type: Type;
  readonly resolver: ReturnType<Type['createResolver']> | undefined;
}

/** Shape check before avsc's own validation in Type.forSchema. */
export function isSchema(x: unknown): x is Schema {
  return typeof x === 'string' || Array.isArray(x) || isPlainObject(x);
}

function parseSchema(schema: unknown, what: string): Type {
  if (!isSchema(schema)) throw new ZeekRstError('ZRST_SCHEMA_INVALID', `${what} is not an Avro schema`);
  try {
    return Type.forSchema(schema);
  } catch (err) {
    throw new ZeekRstError('ZRST_SCHEMA_INVALID', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Builds the codec. Throws ZeekRstError ZRST_SCHEMA_INVALID when a configured schema is not
 * valid Avro or cannot be resolved to the reader schema: that is configuration, not input.
 */
export function createHeaderCodec(config: HeaderCodecConfig = {}): HeaderCodec {
  const reader = Type.forSchema(PACKET_HEADER_SCHEMA);
  const readerFp = fingerprintBytes(reader);
  // The fingerprint as two 32-bit words: comparing them costs a seventh of Buffer.compare per record.
  const readerFpLow = readerFp.readInt32LE(0);
  const readerFpHigh = readerFp.readInt32LE(4);
  const resolverFor = (writer: Type, what: string): Writer => {
    if (writer.equals(reader)) return { type: writer, resolver: undefined };
    try {
      return { type: writer, resolver: reader.createResolver(writer) };
    } catch (err) {
      throw new ZeekRstError('ZRST_SCHEMA_INVALID', `${what} cannot be read as zeek_rst.PacketHeader: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  };
  const readerWriter: Writer = { type: reader, resolver: undefined };
  const byFingerprint = new Map<string, Writer>([[readerFp.toString('hex'), readerWriter]]);
  for (const [name, s] of Object.entries(config.writerSchemas ?? {})) {
    const t = parseSchema(s, `writer schema ${name}`);
    byFingerprint.set(fingerprintBytes(t).toString('hex'), resolverFor(t, `writer schema ${name}`));
  }
  const byId = new Map<number, Writer>();
  for (const [key, s] of Object.entries(config.registry ?? {})) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id > UINT32_MAX) throw new ZeekRstError('ZRST_SCHEMA_INVALID', `schema id ${key} is not a 32-bit unsigned integer`);
    const t = parseSchema(s, `schema id ${id}`);
    byId.set(id, resolverFor(t, `schema id ${id}`));
  }
  // Resolvers for container-file writer schemas, built on first use and kept per Type object.
  const fileResolvers = new WeakMap<Type, Writer | Problem>();

  /**
   * Decodes the body at `offset`; `end` is undefined when avsc could not delimit it. A dead
   * letter's bytes are `whole` when given, else the record's, from `recordStart` to its end (or
   * to the end of the buffer); they are sliced only for a dead letter.
   */
  const bodyAt = (buf: Buffer, offset: number, w: Writer, recordStart: number, whole: Uint8Array | undefined, source: SourceRef, options: DecodeOptions): FramedRecord => {
    let decoded: { value: unknown; offset: number };
    try {
      decoded = reader.decode(buf, offset, w.resolver);
    } catch (err) {
      return { result: deadLetter(problem('invalid_avro', `Avro body rejected: ${err instanceof Error ? err.message : String(err)}`, 'decode'), whole ?? buf.subarray(recordStart), source), end: undefined };
    }
    if (decoded.offset === -1) return { result: deadLetter(problem('truncated_avro', `Avro body ends early (${buf.length - offset} bytes)`, 'decode'), whole ?? buf.subarray(recordStart), source), end: undefined };
    const h = headerFromAvro(decoded.value, options);
    return { result: isProblem(h) ? deadLetter(h, whole ?? buf.subarray(recordStart, decoded.offset), source) : { ok: true, value: h }, end: decoded.offset };
  };

  const body = (buf: Buffer, offset: number, w: Writer, raw: Uint8Array, source: SourceRef, options: DecodeOptions): Decoded<PacketHeader> => {
    const r = bodyAt(buf, offset, w, 0, raw, source, options);
    if (r.end !== undefined && r.end !== buf.length) {
      return deadLetter(problem('invalid_avro', `${buf.length - r.end} trailing bytes after the Avro record`, 'decode'), raw, source);
    }
    return r.result;
  };

  /** The framing at `offset`: the writer and where the body starts, or a problem (then the record cannot be delimited). */
  const framing = (buf: Buffer, offset: number): { w: Writer; start: number } | Problem => {
    const n = buf.length - offset;
    if (buf[offset] === SINGLE_OBJECT_MAGIC[0] && (n < 2 || buf[offset + 1] === SINGLE_OBJECT_MAGIC[1])) {
      if (n < 10) return problem('truncated_avro', `single-object header needs 10 bytes, got ${n}`, 'decode');
      // The reader's own fingerprint first, by its bytes: no hex string per record.
      if (buf.readInt32LE(offset + 2) === readerFpLow && buf.readInt32LE(offset + 6) === readerFpHigh) return { w: readerWriter, start: offset + 10 };
      const fp = buf.subarray(offset + 2, offset + 10).toString('hex');
      const w = byFingerprint.get(fp);
      if (w === undefined) return problem('unknown_schema', `no configured schema has fingerprint ${fp} (little-endian)`, 'decode');
      return { w, start: offset + 10 };
    }
    if (buf[offset] === CONFLUENT_MAGIC) {
      if (n < 5) return problem('truncated_avro', `Confluent header needs 5 bytes, got ${n}`, 'decode');
      const id = buf.readUInt32BE(offset + 1);
      const w = byId.get(id);
      if (w === undefined) return problem('unknown_schema', `schema id ${id} is not configured`, 'decode');
      return { w, start: offset + 5 };
    }
    return problem('invalid_avro', `unknown framing: first byte 0x${buf.subarray(offset, offset + 1).toString('hex')} is neither C3 01 (single-object) nor 00 (Confluent)`, 'decode');
  };

  const toAvro = (h: PacketHeader): Buffer => reader.toBuffer({
    ts: h.tsUs, sensor: h.sensor, src_ip: h.srcIp, dst_ip: h.dstIp, src_port: h.srcPort, dst_port: h.dstPort,
    ip_version: h.ipVersion, ip_ttl: h.ipTtl, ip_id: h.ipId, tcp_flags: h.tcpFlags, seq: h.seq, ack: h.ack,
    window: h.window, payload_len: h.payloadLen, community_id: h.communityId === '' ? null : h.communityId,
  });

  return {
    type: reader,
    decode(raw, source, options = {}) {
      const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
      if (raw.length > max) return deadLetter(problem('oversized_message', `message is ${raw.length} bytes, limit ${max}`, 'decode'), raw, source);
      if (raw.length === 0) return deadLetter(problem('empty_message', 'message has no bytes', 'decode'), raw, source);
      const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      const f = framing(buf, 0);
      if (isProblem(f)) return deadLetter(f, raw, source);
      return body(buf, f.start, f.w, raw, source, options);
    },
    decodeAt(buf, offset, source, options = {}) {
      const f = framing(buf, offset);
      if (isProblem(f)) return { result: deadLetter(f, buf.subarray(offset), source), end: undefined };
      return bodyAt(buf, f.start, f.w, offset, undefined, source, options);
    },
    decodeValue(value, source, options = {}) {
      const h = headerFromAvro(value, options);
      if (!isProblem(h)) return { ok: true, value: h };
      let raw: Uint8Array;
      try {
        raw = reader.toBuffer(value);
      } catch {
        raw = new Uint8Array(0);
      }
      return deadLetter(h, raw, source);
    },
    decodeRecord(buf, writer, source, options = {}) {
      let w = fileResolvers.get(writer);
      if (w === undefined) {
        try {
          w = resolverFor(writer, 'the file schema');
        } catch (err) {
          w = problem('unknown_schema', err instanceof Error ? err.message : String(err), 'decode');
        }
        fileResolvers.set(writer, w);
      }
      if (isProblem(w)) return deadLetter(w, buf, source);
      return body(buf, 0, w, buf, source, options);
    },
    encodeSingleObject(h) {
      return Buffer.concat([SINGLE_OBJECT_MAGIC, readerFp, toAvro(h)]);
    },
    encodeBody: toAvro,
    encodeConfluent(h, schemaId) {
      const w = byId.get(schemaId);
      if (w === undefined) throw new ZeekRstError('ZRST_SCHEMA_INVALID', `schema id ${schemaId} is not configured`);
      const head = Buffer.alloc(5);
      head.writeUInt8(CONFLUENT_MAGIC, 0);
      head.writeUInt32BE(schemaId, 1);
      // The registered writer schema may differ from the reader's; encode with it, filling its extra fields from defaults.
      const record = reader.fromBuffer(toAvro(h)) as unknown;
      return Buffer.concat([head, w.resolver === undefined ? toAvro(h) : w.type.toBuffer(record)]);
    },
  };
}

/** The JSON-lines form (`*.headers.jsonl`): snake_case keys as in the Avro schema, `ts` in epoch seconds. */
export function decodeHeaderJson(raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}): Decoded<PacketHeader> {
  const parsed = parseJsonObject(raw, options);
  if (isProblem(parsed)) return deadLetter(parsed, raw, source);
  const ts = parsed.ts;
  if (ts === undefined || ts === null) return deadLetter(problem('missing_field', 'ts is missing'), raw, source);
  const tsUs = timeToUs('ts', ts, options);
  if (isProblem(tsUs)) return deadLetter(tsUs, raw, source);
  const h = headerOf(parsed, tsUs);
  return isProblem(h) ? deadLetter(h, raw, source) : { ok: true, value: h };
}

/** Validates a record avsc decoded (reader schema) into a PacketHeader, or the problem that refuses it. */
function headerFromAvro(value: unknown, options: DecodeOptions): PacketHeader | Problem {
  if (!isPlainObject(value)) return problem('invalid_avro', 'Avro body is not a record', 'decode');
  const ts = value.ts;
  if (typeof ts !== 'number') return problem('wrong_type', `ts must be a long, got ${show(ts)}`);
  const tsUs = checkTsRange('ts', ts, options);
  if (isProblem(tsUs)) return tsUs;
  return headerOf(value, tsUs);
}
