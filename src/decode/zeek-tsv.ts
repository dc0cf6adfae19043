/**
 * Zeek TSV ("ASCII") logs -> records. A log is a series of blocks, each opened by its header:
 *
 *     #separator \x09          (written with a space; its value is \x-escaped)
 *     #set_separator  ,        (between elements of set[...] / vector[...] values)
 *     #empty_field    (empty)  (an empty set, vector or string)
 *     #unset_field    -        (an unset field: the key is left out, as in JSON)
 *     #path   conn             (the log type, unless the caller gives it)
 *     #fields ts  uid ...      (column names, dotted)
 *     #types  time string ...  (column types: time, interval, double, count, int, port, bool,
 *                               addr, subnet, string, enum, set[T], vector[T], ...)
 *
 * `#open`/`#close` and `###` comment lines (btest baselines start with one) are skipped;
 * a file may hold several blocks (the bad-checksums weird.log does). Values are converted by
 * their declared type into what Zeek's JSON writer would write, so both formats share
 * zeek-record.ts. String values are \xNN-unescaped. Text that does not parse as its declared
 * type is passed on unconverted and fails validation with the field's name (e.g. a canonified
 * ts `XXXXXXXXXX.XXXXXX`, handled by `allowCanonified`).
 */
import type { Decoded, SourceRef } from '../domain';
import type { RecordContext, ZeekLogRecord, ZeekLogType } from './zeek-record';
import { buildZeekRecord, isZeekLogType } from './zeek-record';
import type { DecodeOptions, Problem } from './validate';
import { deadLetter, isProblem, messageText, problem, show } from './validate';

const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ['nan', NaN], ['-nan', NaN], ['NaN', NaN], ['inf', Infinity], ['-inf', -Infinity], ['Infinity', Infinity], ['-Infinity', -Infinity],
]);
const ESCAPE = /\\x([0-9A-Fa-f]{2})/g;

/** Undoes Zeek's \xNN escaping, byte-wise so that escaped UTF-8 sequences come back whole. */
export function unescapeZeek(text: string): string {
  if (!text.includes('\\x')) return text;
  const chunks: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(ESCAPE)) {
    chunks.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1] ?? '0', 16)]));
    last = m.index + m[0].length;
  }
  chunks.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(chunks).toString('utf8');
}

function toNumber(text: string): number | string {
  if (NUMBER.test(text)) return Number(text);
  return NON_FINITE.get(text) ?? text;
}

/** What a header block sets; a later block (a new `#separator` ...) replaces it. */
export interface TsvHeader {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  path: string | undefined;
  fields: string[] | undefined;
  types: string[] | undefined;
}

export function createTsvHeader(): TsvHeader {
  return { separator: '\t', setSeparator: ',', emptyField: '(empty)', unsetField: '-', path: undefined, fields: undefined, types: undefined };
}

/** Applies one `#` line to the header state; `#open`, `#close` and `###` comments change nothing. */
export function applyTsvHeaderLine(h: TsvHeader, text: string): void {
  if (text.startsWith('#separator ')) {
    h.separator = unescapeZeek(text.slice('#separator '.length));
    return;
  }
  const parts = text.split(h.separator);
  const key = parts[0] ?? '';
  const values = parts.slice(1);
  switch (key) {
    case '#set_separator':
      h.setSeparator = unescapeZeek(values[0] ?? ',');
      break;
    case '#empty_field':
      h.emptyField = values[0] ?? '(empty)';
      break;
    case '#unset_field':
      h.unsetField = values[0] ?? '-';
      break;
    case '#path':
      h.path = values[0];
      break;
    case '#fields':
      h.fields = values;
      break;
    case '#types':
      h.types = values;
      break;
    default:
      break;
  }
}

const CONTAINER = /^(?:set|vector)\[(.+)\]$/;

/** One cell -> what Zeek's JSON writer writes for it: numbers, booleans, arrays for set[T]/vector[T], strings. */
function convert(type: string, text: string, h: TsvHeader): unknown {
  const container = CONTAINER.exec(type);
  if (container !== null) {
    if (text === h.emptyField) return [];
    const inner = container[1] ?? 'string';
    return text.split(h.setSeparator).map((t) => convert(inner, t, h));
  }
  switch (type) {
    case 'time':
    case 'interval':
    case 'double':
    case 'count':
    case 'int':
    case 'port':
      return toNumber(text);
    case 'bool':
      return text === 'T' ? true : text === 'F' ? false : text;
    default:
      return text === h.emptyField ? '' : unescapeZeek(text);
  }
}

/**
 * One data line -> its fields by dotted name, converted by their declared types, unset fields
 * left out (as in Zeek JSON); or the problem with the line's shape.
 */
export function tsvRowFields(h: TsvHeader, line: string): Map<string, unknown> | Problem {
  const { fields, types } = h;
  if (fields === undefined || types === undefined) return problem('invalid_tsv', 'data line before the #fields and #types headers', 'decode');
  if (types.length !== fields.length) return problem('invalid_tsv', `#fields has ${fields.length} columns but #types has ${types.length}`, 'decode');
  const cells = line.split(h.separator);
  if (cells.length !== fields.length) return problem('invalid_tsv', `line has ${cells.length} columns, #fields declares ${fields.length}`, 'decode');
  const map = new Map<string, unknown>();
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i] ?? h.unsetField;
    if (cell === h.unsetField) continue;
    map.set(fields[i] ?? '', convert(types[i] ?? 'string', cell, h));
  }
  return map;
}

/** A line-at-a-time TSV decoder; the header state lives in the object (files are read as streams). */
export interface ZeekTsvReader {
  /** Feeds one line without its newline. Data lines give a result; header, comment and blank lines give undefined. */
  line(raw: Uint8Array, lineNo: number): Decoded<ZeekLogRecord> | undefined;
}

/** `log` is the type the caller knows (e.g. `--conn FILE`); otherwise `#path` decides. */
export function createZeekTsvReader(path: string, options: DecodeOptions = {}, log?: ZeekLogType): ZeekTsvReader {
  const h = createTsvHeader();
  return {
    line(raw, lineNo) {
      const source: SourceRef = { kind: 'file', path, line: lineNo };
      if (raw.length === 0 || (raw.length === 1 && raw[0] === 0x0d)) return undefined;
      const text = messageText(raw, options);
      if (isProblem(text)) return text.reason === 'empty_message' ? undefined : deadLetter(text, raw, source);
      const line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (line.startsWith('#')) {
        applyTsvHeaderLine(h, line);
        return undefined;
      }
      const map = tsvRowFields(h, line);
      if (isProblem(map)) return deadLetter(map, raw, source);
      const type = log ?? h.path;
      if (!isZeekLogType(type)) {
        const why = type === undefined ? 'no #path header names the log type' : `log type ${show(type)} is not conn or weird`;
        return deadLetter(problem('unknown_log_type', why, 'decode'), raw, source);
      }
      const ctx: RecordContext = { raw, source, options };
      return buildZeekRecord(type, map, ctx);
    },
  };
}

/** Splits bytes into lines (LF; a trailing CR is dropped by the reader), numbered from 1. */
export function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

/** Decodes a whole TSV log held in memory: one result per data line. */
export function decodeZeekTsv(bytes: Uint8Array, path: string, options: DecodeOptions = {}, log?: ZeekLogType): Decoded<ZeekLogRecord>[] {
  const reader = createZeekTsvReader(path, options, log);
  const out: Decoded<ZeekLogRecord>[] = [];
  splitLines(bytes).forEach((line, i) => {
    const d = reader.line(line, i + 1);
    if (d !== undefined) out.push(d);
  });
  return out;
}
