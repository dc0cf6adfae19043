/**
 * Avro object container files (Avro specification, "Object Container Files") of packet headers,
 * parsed block by block here rather than through avsc's BlockDecoder stream so that every record
 * keeps its own bytes and a bad record or a cut-off block becomes a dead letter instead of
 * silently ending the stream. Codecs: `null` and `deflate` (the two every Avro implementation
 * must support). Pure: the caller reads the file.
 */
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

import { Type } from 'avsc';

import type { Decoded, PacketHeader, SourceRef } from '../domain';
import type { HeaderCodec } from './packet-header';
import { isSchema } from './packet-header';
import type { DecodeOptions } from './validate';
import { deadLetter, problem } from './validate';

export const AVRO_CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');

const HEADER = Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LONG = Type.forSchema('long');

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface ContainerHeader {
  readonly writer: Type;
  readonly codec: string;
  readonly sync: Buffer;
  readonly end: number;
}

/** Reads and checks a container's header at the start of `bytes`; `fail` says why not (`truncated_avro`: more bytes may complete it). */
export function readHeader(bytes: Buffer, fail: (reason: 'truncated_avro' | 'invalid_avro' | 'unknown_schema', detail: string) => void): ContainerHeader | undefined {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = HEADER.decode(bytes, 0);
  } catch (err) {
    fail('invalid_avro', `container header unreadable: ${message(err)}`);
    return undefined;
  }
  if (decoded.offset === -1) {
    fail('truncated_avro', 'container header ends early');
    return undefined;
  }
  const h = decoded.value;
  if (typeof h !== 'object' || h === null || !('meta' in h) || !('sync' in h) || !('magic' in h)) {
    fail('invalid_avro', 'container header is not a header record');
    return undefined;
  }
  const { meta, sync, magic } = h;
  if (!Buffer.isBuffer(magic) || !magic.equals(AVRO_CONTAINER_MAGIC) || !Buffer.isBuffer(sync) || typeof meta !== 'object' || meta === null) {
    fail('invalid_avro', 'not an Avro object container file (magic Obj\\x01)');
    return undefined;
  }
  const metaMap = new Map<string, unknown>(Object.entries(meta));
  const schemaBytes = metaMap.get('avro.schema');
  const codecBytes = metaMap.get('avro.codec');
  const codec = Buffer.isBuffer(codecBytes) ? codecBytes.toString('utf8') : 'null';
  if (codec !== 'null' && codec !== 'deflate') {
    fail('invalid_avro', `unsupported container codec ${codec}`);
    return undefined;
  }
  if (!Buffer.isBuffer(schemaBytes)) {
    fail('unknown_schema', 'container header has no avro.schema');
    return undefined;
  }
  let writer: Type;
  try {
    const schema: unknown = JSON.parse(schemaBytes.toString('utf8'));
    if (!isSchema(schema)) throw new Error('not an Avro schema');
    writer = Type.forSchema(schema);
  } catch (err) {
    fail('unknown_schema', `container schema unreadable: ${message(err)}`);
    return undefined;
  }
  return { writer, codec, sync, end: decoded.offset };
}

/**
 * Decodes every record of a container file held in memory, or of one part of it (the file's
 * header and some of its blocks, as `fileMessages` streams it): records are numbered from
 * `firstRecord`, the part's first record's number in the file.
 */
export function decodeHeaderContainer(bytes: Buffer, path: string, codec: HeaderCodec, options: DecodeOptions = {}, firstRecord = 1): Decoded<PacketHeader>[] {
  return decodeContainerRecords(bytes, codec, (i) => ({ kind: 'file', path, line: firstRecord + i }), options);
}

/**
 * The framing of the block at `pos`: its data and where it ends (after its sync marker), or why
 * it cannot be read, with `need` when more bytes may complete it (the block header or its data
 * are cut off) and `rawEnd` where its bytes end when known. Decode and the file source
 * (files.ts, which streams a container block by block) both frame blocks with it.
 */
export type BlockFrame =
  | { readonly ok: true; readonly count: number; readonly dataStart: number; readonly dataEnd: number; readonly end: number }
  | { readonly ok: false; readonly reason: 'truncated_avro' | 'invalid_avro'; readonly detail: string; readonly need?: number; readonly rawEnd?: number };

export function frameBlock(bytes: Buffer, pos: number, sync: Buffer): BlockFrame {
  const count = LONG.decode(bytes, pos);
  const size = count.offset === -1 ? count : LONG.decode(bytes, count.offset);
  if (size.offset === -1 || typeof count.value !== 'number' || typeof size.value !== 'number') {
    return { ok: false, reason: 'truncated_avro', detail: `block header at byte ${pos} ends early`, need: bytes.length + 1 };
  }
  const dataStart = size.offset;
  const dataEnd = dataStart + size.value;
  if (count.value < 0 || size.value < 0) return { ok: false, reason: 'truncated_avro', detail: `block at byte ${pos} declares ${size.value} bytes, file has ${bytes.length - dataStart}` };
  if (dataEnd + 16 > bytes.length) return { ok: false, reason: 'truncated_avro', detail: `block at byte ${pos} declares ${size.value} bytes, file has ${bytes.length - dataStart}`, need: dataEnd + 16 };
  if (!bytes.subarray(dataEnd, dataEnd + 16).equals(sync)) return { ok: false, reason: 'invalid_avro', detail: `block at byte ${pos} does not end with the file's sync marker`, rawEnd: dataEnd + 16 };
  return { ok: true, count: count.value, dataStart, dataEnd, end: dataEnd + 16 };
}

/**
 * Decodes every record of a container held in memory (a file, or one Kafka message carrying a
 * batch). `sourceOf(i)` names the record at 0-based position `i`. A record whose values fail
 * validation dead-letters alone; a block that cannot be read dead-letters the rest of that
 * block (records cannot be delimited inside it) and decoding goes on with the next block.
 */
export function decodeContainerRecords(bytes: Buffer, codec: HeaderCodec, sourceOf: (index: number) => SourceRef, options: DecodeOptions = {}): Decoded<PacketHeader>[] {
  const out: Decoded<PacketHeader>[] = [];
  let index = 0;
  const fail = (reason: 'truncated_avro' | 'invalid_avro' | 'unknown_schema', detail: string, raw: Uint8Array = new Uint8Array(0)): void => {
    out.push(deadLetter(problem(reason, detail, 'decode'), raw, sourceOf(index)));
  };
  const header = readHeader(bytes, fail);
  if (header === undefined) return out;
  let pos = header.end;
  while (pos < bytes.length) {
    const frame = frameBlock(bytes, pos, header.sync);
    if (!frame.ok) {
      fail(frame.reason, frame.detail, bytes.subarray(pos, frame.rawEnd));
      return out;
    }
    const { count, dataStart, dataEnd, end } = frame;
    let data: Buffer;
    try {
      data = header.codec === 'deflate' ? inflateRawSync(bytes.subarray(dataStart, dataEnd)) : bytes.subarray(dataStart, dataEnd);
    } catch (err) {
      fail('invalid_avro', `block at byte ${pos} does not inflate: ${message(err)}`, bytes.subarray(pos, end));
      index += count;
      pos = end;
      continue;
    }
    let p = 0;
    for (let i = 0; i < count; i++) {
      let next: number;
      try {
        next = header.writer.decode(data, p).offset;
      } catch (err) {
        fail('invalid_avro', `record ${index + 1} unreadable: ${message(err)}; the ${count - i} record(s) left in its block are in this dead letter`, data.subarray(p));
        index += count - i;
        break;
      }
      if (next === -1) {
        fail('truncated_avro', `record ${index + 1} runs past its block`, data.subarray(p));
        index += count - i;
        break;
      }
      out.push(codec.decodeRecord(data.subarray(p, next), header.writer, sourceOf(index), options));
      index++;
      p = next;
    }
    pos = end;
  }
  return out;
}

/**
 * Writes records as an object container with one block, codec `null`, and the reader schema.
 * The sync marker is the MD5 of the block data, so the same records always give the same bytes
 * (the workload generator and the tests depend on that); any 16 bytes are a valid marker.
 */
export function encodeHeaderContainer(headers: readonly PacketHeader[], codec: HeaderCodec): Buffer {
  const data = Buffer.concat(headers.map((h) => codec.encodeBody(h)));
  const sync = createHash('md5').update(data).digest();
  const head = HEADER.toBuffer({
    magic: AVRO_CONTAINER_MAGIC,
    meta: { 'avro.schema': Buffer.from(JSON.stringify(codec.type.schema()), 'utf8'), 'avro.codec': Buffer.from('null', 'utf8') },
    sync,
  });
  return Buffer.concat([head, LONG.toBuffer(headers.length), LONG.toBuffer(data.length), data, sync]);
}
