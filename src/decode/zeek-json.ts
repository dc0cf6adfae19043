/**
 * Zeek JSON (`LogAscii::use_json=T`, and what the zeek-kafka plugin sends) -> records.
 *
 * Accepted shapes, all normalised to Zeek's flat dotted names before validation:
 * - flat: `{"ts":..., "id.orig_h":..., ...}` (Zeek's JSON writer);
 * - nested: `{"id": {"orig_h": ...}}` (some shippers re-nest dotted names);
 * - wrapped: `{"conn": {...}}` / `{"weird": {...}}` (zeek-kafka with `tag_json`): one key whose
 *   value is an object; the key is the log type.
 * `_path` names the log type of an unwrapped record (zeek-kafka's single `zeek` topic);
 * `_system_name` becomes `observer`; `_write_ts` and any other unknown key are ignored.
 * JSON `null` counts as unset, like an absent key.
 */
import type { ConnRecord, DeadLetter, Decoded, SourceRef, WeirdRecord } from '../domain';
import type { RecordContext, ZeekLogRecord, ZeekLogType } from './zeek-record';
import { buildZeekRecord, isZeekLogType } from './zeek-record';
import type { DecodeOptions, Fields } from './validate';
import { DEFAULT_MAX_MESSAGE_BYTES, deadLetter, isPlainObject, objectFields, isProblem, parseJsonObject, problem, show } from './validate';

/** Nesting deeper than this is not Zeek's and is ignored (kept out of the flat map). */
const MAX_NESTING = 4;

/** Zeek's own JSON is flat; only re-nested input (`{"id": {...}}`) needs the copy below. */
function hasNesting(obj: Record<string, unknown>): boolean {
  for (const key in obj) if (isPlainObject(obj[key])) return true;
  return false;
}

function flatten(obj: Record<string, unknown>): Fields {
  const out = new Map<string, unknown>();
  flattenInto(obj, '', out, 0);
  return out;
}

function flattenInto(obj: Record<string, unknown>, prefix: string, out: Map<string, unknown>, depth: number): void {
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const name = prefix + key;
    if (isPlainObject(value)) {
      if (depth < MAX_NESTING) flattenInto(value, `${name}.`, out, depth + 1);
    } else {
      out.set(name, value);
    }
  }
}

/** The record object and the log type its shape declares (wrapper key or `_path`), if any. */
interface Unwrapped {
  readonly body: Record<string, unknown>;
  readonly declared: string | undefined;
  readonly wrapped: boolean;
}

function unwrap(obj: Record<string, unknown>): Unwrapped {
  const keys = Object.keys(obj);
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only !== undefined) {
    const inner = obj[only];
    if (isPlainObject(inner)) return { body: inner, declared: only, wrapped: true };
  }
  const path = obj['_path'];
  return { body: obj, declared: typeof path === 'string' ? path : undefined, wrapped: false };
}

/**
 * Decodes one Zeek JSON record. `log` is the type the caller knows (a typed topic such as
 * zeek-conn, or a file given as --conn); without it, the wrapper key or `_path` decides, and any
 * other log type is dead-lettered as `unknown_log_type`. A wrapper key, or a `_path` of conn or
 * weird, that contradicts `log` is `unknown_log_type` too; other `_path` values (renamed log
 * streams) are not checked when the caller gives the type.
 */
export function decodeZeekJson(
  raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, log?: ZeekLogType, index?: number,
): Decoded<ZeekLogRecord> {
  const obj = parseJsonObject(raw, options);
  if (isProblem(obj)) return deadLetter(obj, raw, source);
  const { body, declared, wrapped } = unwrap(obj);
  let type: ZeekLogType;
  if (wrapped || log === undefined) {
    if (!isZeekLogType(declared)) {
      const why = declared === undefined ? 'no wrapper key or _path names the log type' : `log type ${show(declared)} is not conn or weird`;
      return deadLetter(problem('unknown_log_type', why, 'decode'), raw, source);
    }
    if (log !== undefined && declared !== log) {
      return deadLetter(problem('unknown_log_type', `expected a ${log} record, the wrapper says ${declared}`, 'decode'), raw, source);
    }
    type = declared;
  } else {
    if (isZeekLogType(declared) && declared !== log) {
      return deadLetter(problem('unknown_log_type', `expected a ${log} record, _path says ${declared}`, 'decode'), raw, source);
    }
    type = log;
  }
  const fields = hasNesting(body) ? flatten(body) : objectFields(body);
  const ctx: RecordContext = { raw, source, options, ...(index !== undefined && { index }) };
  return buildZeekRecord(type, fields, ctx);
}

/** Decodes one conn record (typed topic or --conn file). */
export function decodeConnJson(raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, index?: number): Decoded<ConnRecord> {
  const d = decodeZeekJson(raw, source, options, 'conn', index);
  if (!d.ok) return d;
  return d.value.log === 'conn' ? { ok: true, value: d.value.record } : unreachable(raw, source);
}

/** Decodes one weird record (typed topic or --weird file). */
export function decodeWeirdJson(raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, index?: number): Decoded<WeirdRecord> {
  const d = decodeZeekJson(raw, source, options, 'weird', index);
  if (!d.ok) return d;
  return d.value.log === 'weird' ? { ok: true, value: d.value.record } : unreachable(raw, source);
}

function unreachable(raw: Uint8Array, source: SourceRef): { readonly ok: false; readonly dead: DeadLetter } {
  return deadLetter(problem('unknown_log_type', 'record type changed during decoding', 'decode'), raw, source);
}

/**
 * Splits a Kafka message into its newline-separated records (CRLF tolerated, blank lines
 * skipped). Each part is a view of the original bytes. A message with no record at all yields
 * the whole message once, so that it becomes an `empty_message` dead letter.
 */
export function splitRecords(raw: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  const push = (end: number): void => {
    let e = end;
    if (e > start && raw[e - 1] === 0x0d) e--;
    const part = raw.subarray(start, e);
    if (!isBlank(part)) parts.push(part);
  };
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0a) {
      push(i);
      start = i + 1;
    }
  }
  push(raw.length);
  return parts.length === 0 ? [raw] : parts;
}

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/**
 * Decodes a whole Kafka message: one result per newline-separated record. The size limit
 * applies to the whole message first; an oversized message is one dead letter.
 */
export function decodeZeekMessage(raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, log?: ZeekLogType): Decoded<ZeekLogRecord>[] {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (raw.length > max) {
    return [deadLetter(problem('oversized_message', `message is ${raw.length} bytes, limit ${max}`, 'decode'), raw, source)];
  }
  return splitRecords(raw).map((part, i) => decodeZeekJson(part, source, options, log, i));
}
