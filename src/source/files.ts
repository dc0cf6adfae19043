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

import type { Decoded, InputKind, InputMessage, PacketHeader, SourceRef } from '../domain';
import { AVRO_CONTAINER_MAGIC, frameBlock, readHeader, type ContainerHeader } from '../decode/avro-container';
import { createInputDecoder, type InputRecord } from '../decode/dispatch';
import { createHeaderCodec, type HeaderCodec } from '../decode/packet-header';
import type { DecodeOptions } from '../decode/validate';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../decode/validate';
import type { ZeekLogRecord, ZeekLogType } from '../decode/zeek-record';

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
async function* lines(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<{ line: Buffer; lineNo: number }> {
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
      yield { line: over ? line.subarray(0, maxLineBytes) : line, lineNo };
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
  if (pendingLen > 0) yield { line: Buffer.concat(pending), lineNo: lineNo + 1 };
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

/**
 * An Avro container file, block by block: each message is the file's header and one block, a
 * container of its own that decode reads as it reads a whole file, its source line the number of
 * the block's first record. Memory holds one block, not the file. Header and blocks are read by
 * decode's own readHeader and frameBlock. What cannot be split (a header that fails its checks, a
 * block that is cut off or does not end with the file's sync marker) goes, with the rest of the
 * file, in one last message, and decode says what is wrong with it.
 */
async function* containerMessages(chunks: AsyncIterable<Buffer>, path: string, input: InputKind): AsyncGenerator<InputMessage> {
  const it = chunks[Symbol.asyncIterator]();
  let rest: Buffer = Buffer.alloc(0);
  let done = false;
  /**
   * Reads until `rest` holds `n` bytes or the file ends, joining the chunks once (a block may be
   * the whole file); whether the file has ended.
   */
  const readUntil = async (n: number): Promise<boolean> => {
    const parts: Buffer[] = [rest];
    let total = rest.length;
    let ended = false;
    while (total < n) {
      const r = await it.next();
      if (r.done === true) {
        ended = true;
        break;
      }
      parts.push(r.value);
      total += r.value.length;
    }
    if (parts.length > 1) rest = Buffer.concat(parts, total);
    return ended;
  };
  // The header's own checks are decode's: here only whether it passes them, or may once complete.
  const readHead = (): { readonly header: ContainerHeader | undefined; readonly truncated: boolean } => {
    let truncated = false;
    const header = readHeader(rest, (reason) => {
      truncated = reason === 'truncated_avro';
    });
    return { header, truncated };
  };
  let read = readHead();
  while (read.header === undefined && read.truncated && !done) {
    done = await readUntil(rest.length + 1);
    read = readHead();
  }
  const header = read.header;
  if (header === undefined) {
    if (!done) await readUntil(Number.POSITIVE_INFINITY);
    yield { value: rest, source: { kind: 'file', path, line: 1 }, input };
    return;
  }
  const head = Buffer.from(rest.subarray(0, header.end));
  rest = rest.subarray(header.end);
  let line = 1;
  for (;;) {
    if (rest.length === 0) {
      if (done || (done = await readUntil(1))) return;
      continue;
    }
    const block = frameBlock(rest, 0, header.sync);
    if (!block.ok && block.need !== undefined && !done) {
      done = await readUntil(block.need);
      continue;
    }
    if (!block.ok) {
      if (!done) await readUntil(Number.POSITIVE_INFINITY);
      yield { value: Buffer.concat([head, rest]), source: { kind: 'file', path, line }, input };
      return;
    }
    yield { value: Buffer.concat([head, rest.subarray(0, block.end)]), source: { kind: 'file', path, line }, input };
    line += block.count;
    rest = rest.subarray(block.end);
  }
}

/**
 * The file source: every unit of input of one file as an InputMessage, for the decode dispatch
 * that Kafka messages go through too. A JSON-lines or TSV file gives one message per non-blank
 * line (TSV lines flagged, header lines included: the decoder needs them); an Avro container
 * file gives one message per block (containerMessages). A line longer than the buffering limit is cut to it,
 * and decode refuses it as `oversized_message`.
 */
export async function* fileMessages(path: string, input: InputKind, options: ReadFileOptions = {}): AsyncGenerator<InputMessage> {
  const sniffed = await sniff(path);
  if (sniffed.kind === 'avro') {
    yield* containerMessages(sniffed.chunks, path, input);
    return;
  }
  let tsv: boolean | undefined;
  for await (const { line, lineNo } of lines(sniffed.chunks, lineLimit(options))) {
    if (isBlank(line)) continue;
    // Zeek TSV logs open with `#separator`; the first non-blank line decides for the whole file.
    tsv ??= input !== 'headers' && line[0] === 0x23;
    const source: SourceRef = { kind: 'file', path, line: lineNo };
    yield tsv ? { value: line, source, input, format: 'zeek-tsv' } : { value: line, source, input };
  }
}

/** Decoded records of one file, through the same dispatch as Kafka messages. */
async function* decodeFile(path: string, input: InputKind, options: ReadFileOptions & { readonly codec?: HeaderCodec }): AsyncGenerator<Decoded<InputRecord>> {
  const decoder = createInputDecoder(options.decode ?? {}, options.codec ?? createHeaderCodec());
  for await (const m of fileMessages(path, input, options)) yield* decoder.decode(m);
  decoder.endOfFile(path);
}

/**
 * Reads a Zeek conn or weird log (JSON lines or TSV, optionally gzip). `log` is the type the
 * caller knows (`--conn FILE`); without it each record's wrapper key, `_path` or `#path` decides.
 */
export async function* readZeekLogFile(path: string, log?: ZeekLogType, options: ReadFileOptions = {}): AsyncGenerator<Decoded<ZeekLogRecord>> {
  for await (const d of decodeFile(path, log ?? 'zeek', options)) {
    if (!d.ok) yield d;
    else if (d.value.kind === 'conn') yield { ok: true, value: { log: 'conn', record: d.value.record } };
    else if (d.value.kind === 'weird') yield { ok: true, value: { log: 'weird', record: d.value.record } };
  }
}

/**
 * Reads packet headers: JSON lines (`*.headers.jsonl`, ts in epoch seconds) or an Avro object
 * container file whose writer schema resolves to zeek_rst.PacketHeader; optionally gzip.
 */
export async function* readHeaderFile(path: string, options: ReadFileOptions & { readonly codec?: HeaderCodec } = {}): AsyncGenerator<Decoded<PacketHeader>> {
  for await (const d of decodeFile(path, 'headers', options)) {
    if (!d.ok) yield d;
    else if (d.value.kind === 'header') yield { ok: true, value: d.value.record };
  }
}

function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}
