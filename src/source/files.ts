/**
 * Reading records from files (`zeek-rst classify`, `produce`): Zeek logs as JSON lines or TSV,
 * packet headers as JSON lines or Avro object container files; any of them gzip-compressed
 * (detected by the magic bytes 1f 8b, not by the name). Every record comes out as a
 * Decoded<T> with a SourceRef of kind 'file' (1-based line, or 1-based record index for Avro).
 *
 * Format detection, after decompression: `Obj\x01` is an Avro container; otherwise the first
 * non-blank line decides: `#` opens a Zeek TSV header, anything else is JSON lines.
 * Files are streamed; only the current line is held. A line longer than 4x the message limit
 * stops being buffered: it becomes one `oversized_message` dead letter holding its first bytes.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

import type { Decoded, PacketHeader, SourceRef } from '../domain';
import { decodeHeaderContainer } from '../decode/avro-container';
import type { HeaderCodec } from '../decode/packet-header';
import { createHeaderCodec, decodeHeaderJson } from '../decode/packet-header';
import { AVRO_CONTAINER_MAGIC } from '../decode/avro-container';
import type { DecodeOptions } from '../decode/validate';
import { DEFAULT_MAX_MESSAGE_BYTES, deadLetter, problem } from '../decode/validate';
import { decodeZeekJson } from '../decode/zeek-json';
import type { ZeekLogRecord, ZeekLogType } from '../decode/zeek-record';
import { createZeekTsvReader } from '../decode/zeek-tsv';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface ReadFileOptions {
  readonly decode?: DecodeOptions;
}

/** Decompressed chunks of a file, gunzipping when it starts with 1f 8b. */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const raw = createReadStream(path);
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done === true) return;
  const head = first.value;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (let n = await it.next(); n.done !== true; n = await it.next()) yield n.value;
  };
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    yield* Readable.from(rest()).pipe(createGunzip());
  } else {
    yield* rest();
  }
}

/** Splits chunks into lines (LF), numbered from 1; a trailing CR stays for the decoder to drop. */
async function* lines(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<{ line: Buffer; lineNo: number; truncated: boolean }> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let skipping = false;
  let lineNo = 0;
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      lineNo++;
      const piece = chunk.subarray(start, nl);
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      const over = skipping || line.length > maxLineBytes;
      yield { line: over ? line.subarray(0, maxLineBytes) : line, lineNo, truncated: over };
      pending = [];
      pendingLen = 0;
      skipping = false;
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      pending.push(chunk.subarray(start));
      pendingLen += chunk.length - start;
      if (pendingLen > maxLineBytes) {
        const kept = Buffer.concat(pending).subarray(0, maxLineBytes);
        pending = [kept];
        pendingLen = kept.length;
        skipping = true;
      }
    }
  }
  if (pendingLen > 0) yield { line: Buffer.concat(pending), lineNo: lineNo + 1, truncated: skipping };
}

type Sniffed = { kind: 'avro'; chunks: AsyncIterable<Buffer> } | { kind: 'lines'; chunks: AsyncIterable<Buffer> };

/** Looks at the first decompressed bytes without losing them. */
async function sniff(path: string): Promise<Sniffed> {
  const it = fileChunks(path);
  const seen: Buffer[] = [];
  let total = 0;
  let r = await it.next();
  while (r.done !== true && total < AVRO_CONTAINER_MAGIC.length) {
    seen.push(r.value);
    total += r.value.length;
    if (total < AVRO_CONTAINER_MAGIC.length) r = await it.next();
  }
  const head = Buffer.concat(seen);
  const replay = async function* (): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (r.done === true) return;
    for (let n = await it.next(); n.done !== true; n = await it.next()) yield n.value;
  };
  const isAvro = head.length >= 4 && head.subarray(0, 4).equals(AVRO_CONTAINER_MAGIC);
  return { kind: isAvro ? 'avro' : 'lines', chunks: replay() };
}

function lineLimit(options: ReadFileOptions): number {
  return 4 * (options.decode?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
}

function oversized<T>(line: Buffer, source: SourceRef): Decoded<T> {
  return deadLetter(problem('oversized_message', `line is longer than the buffering limit; raw holds its first ${line.length} bytes`, 'decode'), line, source);
}

/**
 * Reads a Zeek conn or weird log (JSON lines or TSV, optionally gzip). `log` is the type the
 * caller knows (`--conn FILE`); without it each record's wrapper key, `_path` or `#path` decides.
 */
export async function* readZeekLogFile(path: string, log?: ZeekLogType, options: ReadFileOptions = {}): AsyncGenerator<Decoded<ZeekLogRecord>> {
  const decodeOptions = options.decode ?? {};
  const { chunks } = await sniff(path);
  let format: 'tsv' | 'json' | undefined;
  const tsv = createZeekTsvReader(path, decodeOptions, log);
  for await (const { line, lineNo, truncated } of lines(chunks, lineLimit(options))) {
    const source: SourceRef = { kind: 'file', path, line: lineNo };
    if (truncated) {
      yield oversized(line, source);
      continue;
    }
    if (format === undefined) {
      const text = line.toString('utf8').trim();
      if (text === '') continue;
      format = text.startsWith('#') ? 'tsv' : 'json';
    }
    if (format === 'tsv') {
      const d = tsv.line(line, lineNo);
      if (d !== undefined) yield d;
    } else if (!isBlank(line)) {
      yield decodeZeekJson(line, source, decodeOptions, log);
    }
  }
}

/**
 * Reads packet headers: JSON lines (`*.headers.jsonl`, ts in epoch seconds) or an Avro object
 * container file whose writer schema resolves to zeek_rst.PacketHeader; optionally gzip.
 */
export async function* readHeaderFile(path: string, options: ReadFileOptions & { readonly codec?: HeaderCodec } = {}): AsyncGenerator<Decoded<PacketHeader>> {
  const decodeOptions = options.decode ?? {};
  const sniffed = await sniff(path);
  if (sniffed.kind === 'avro') {
    yield* readAvroContainer(path, sniffed.chunks, options.codec ?? createHeaderCodec(), decodeOptions);
    return;
  }
  for await (const { line, lineNo, truncated } of lines(sniffed.chunks, lineLimit(options))) {
    const source: SourceRef = { kind: 'file', path, line: lineNo };
    if (truncated) yield oversized(line, source);
    else if (!isBlank(line)) yield decodeHeaderJson(line, source, decodeOptions);
  }
}

async function* readAvroContainer(path: string, chunks: AsyncIterable<Buffer>, codec: HeaderCodec, options: DecodeOptions): AsyncGenerator<Decoded<PacketHeader>> {
  // Container files are decoded whole (block boundaries and sync markers checked per block).
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  yield* decodeHeaderContainer(Buffer.concat(parts), path, codec, options);
}

function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}
