/**
 * The one decode entry: an InputMessage from any source (Kafka message, file line, Avro
 * container file) -> decoded records of the three kinds, or dead letters. Pure apart from the
 * header lines of Zeek TSV files, which it remembers per file path (a TSV row means nothing
 * without the `#fields` line that came before it).
 */
import type { ConnRecord, Decoded, InputMessage, PacketHeader, SourceRef, WeirdRecord } from '../domain';
import { AVRO_CONTAINER_MAGIC, decodeHeaderContainer } from './avro-container';
import { decodeHeaderMessage } from './header-message';
import { decodeHeaderJson, type HeaderCodec } from './packet-header';
import type { DecodeOptions } from './validate';
import { decodeZeekMessage } from './zeek-json';
import type { ZeekLogRecord, ZeekLogType } from './zeek-record';
import { createZeekTsvReader, type ZeekTsvReader } from './zeek-tsv';

/**
 * A decoded record and the input it came from: a conn's and a weird's are also their own `source`
 * (documents and dead letters name them); a header does not keep it (the correlator stores
 * millions of headers, and nothing after decode needs to know their message).
 */
export type InputRecord =
  | { readonly kind: 'conn'; readonly record: ConnRecord; readonly source: SourceRef }
  | { readonly kind: 'weird'; readonly record: WeirdRecord; readonly source: SourceRef }
  | { readonly kind: 'header'; readonly record: PacketHeader; readonly source: SourceRef };

export interface InputDecoder {
  decode(message: InputMessage): readonly Decoded<InputRecord>[];
  /** Forgets a file's TSV header (its last line was read). */
  endOfFile(path: string): void;
}

function fromZeek(d: Decoded<ZeekLogRecord>): Decoded<InputRecord> {
  if (!d.ok) return d;
  const r = d.value;
  return r.log === 'conn' ? { ok: true, value: { kind: 'conn', record: r.record, source: r.record.source } } : { ok: true, value: { kind: 'weird', record: r.record, source: r.record.source } };
}

/** A decoded header of the message `source` names, as an input record. */
export function headerRecord(d: Decoded<PacketHeader>, source: SourceRef): Decoded<InputRecord> {
  return d.ok ? { ok: true, value: { kind: 'header', record: d.value, source } } : d;
}

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/** First byte that is not JSON whitespace. */
function firstByte(bytes: Uint8Array): number | undefined {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return b;
  return undefined;
}

export function createInputDecoder(options: DecodeOptions, codec: HeaderCodec): InputDecoder {
  const tsvReaders = new Map<string, ZeekTsvReader>();
  const logTypeOf = (m: InputMessage): ZeekLogType | undefined => (m.input === 'zeek' || m.input === 'headers' ? undefined : m.input);

  const decodeHeaders = (m: InputMessage): readonly Decoded<InputRecord>[] => {
    const bytes = m.value;
    if (startsWith(bytes, AVRO_CONTAINER_MAGIC) && m.source.kind === 'file') {
      return decodeHeaderContainer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), m.source.path, codec, options, m.source.line).map((d) => headerRecord(d, m.source));
    }
    // JSON lines (`*.headers.jsonl`, ts in epoch seconds) start with `{`; a Kafka message is one
    // Avro record or a batch of them (decode/header-message.ts: each bad record dead-letters alone).
    if (firstByte(bytes) === 0x7b) return [headerRecord(decodeHeaderJson(bytes, m.source, options), m.source)];
    return decodeHeaderMessage(bytes, m.source, codec, options).map((d) => headerRecord(d, m.source));
  };

  return {
    decode(m) {
      if (m.input === 'headers') return decodeHeaders(m);
      if (m.format === 'zeek-tsv' && m.source.kind === 'file') {
        const path = m.source.path;
        let reader = tsvReaders.get(path);
        if (reader === undefined) {
          reader = createZeekTsvReader(path, options, logTypeOf(m));
          tsvReaders.set(path, reader);
        }
        const d = reader.line(m.value, m.source.line);
        return d === undefined ? [] : [fromZeek(d)];
      }
      return decodeZeekMessage(m.value, m.source, options, logTypeOf(m)).map(fromZeek);
    },
    endOfFile(path) {
      tsvReaders.delete(path);
    },
  };
}
