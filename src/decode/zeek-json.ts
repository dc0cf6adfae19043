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
import { buildConn, buildConnFrom, buildWeird, buildZeekRecord, connValuesOfObject, isZeekLogType } from './zeek-record';
import type { DecodeOptions, Fields, Problem } from './validate';
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

/** The object's key when it has exactly one (JSON.parse gives own, enumerable keys only); no key array. */
function onlyKey(obj: Record<string, unknown>): string | undefined {
  let only: string | undefined;
  for (const key in obj) {
    if (only !== undefined) return undefined;
    only = key;
  }
  return only;
}

/** A record object and the log type it is decoded as. */
interface Resolved {
  readonly type: ZeekLogType;
  readonly body: Record<string, unknown>;
}

/**
 * Parses one record and decides its log type. `log` is the type the caller knows (a typed topic
 * such as zeek-conn, or a file given as --conn); without it, the wrapper key or `_path` decides,
 * and any other log type is `unknown_log_type`. A wrapper key, or a `_path` of conn or weird,
 * that contradicts `log` is `unknown_log_type` too; other `_path` values (renamed log streams)
 * are not checked when the caller gives the type.
 */
function resolve(raw: Uint8Array, options: DecodeOptions, log: ZeekLogType | undefined): Resolved | Problem {
  const obj = parseJsonObject(raw, options);
  if (isProblem(obj)) return obj;
  // The log type its shape declares: a wrapper key (one key whose value is an object) or `_path`.
  let body = obj;
  let declared: string | undefined;
  let wrapped = false;
  const only = onlyKey(obj);
  const inner = only === undefined ? undefined : obj[only];
  if (only !== undefined && isPlainObject(inner)) {
    body = inner;
    declared = only;
    wrapped = true;
  } else {
    const path = obj['_path'];
    declared = typeof path === 'string' ? path : undefined;
  }
  if (wrapped || log === undefined) {
    if (!isZeekLogType(declared)) {
      const why = declared === undefined ? 'no wrapper key or _path names the log type' : `log type ${show(declared)} is not conn or weird`;
      return problem('unknown_log_type', why, 'decode');
    }
    if (log !== undefined && declared !== log) return problem('unknown_log_type', `expected a ${log} record, the wrapper says ${declared}`, 'decode');
    return { type: declared, body };
  }
  if (isZeekLogType(declared) && declared !== log) return problem('unknown_log_type', `expected a ${log} record, _path says ${declared}`, 'decode');
  return { type: log, body };
}

function fieldsOf(body: Record<string, unknown>): Fields {
  return hasNesting(body) ? flatten(body) : objectFields(body);
}

function contextOf(raw: Uint8Array, source: SourceRef, options: DecodeOptions, index: number | undefined): RecordContext {
  return index === undefined ? { raw, source, options } : { raw, source, options, index };
}

/** Decodes one Zeek JSON record, of the type `log` names or, without it, the record's shape declares (see resolve). */
export function decodeZeekJson(
  raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, log?: ZeekLogType, index?: number,
): Decoded<ZeekLogRecord> {
  const r = resolve(raw, options, log);
  if (isProblem(r)) return deadLetter(r, raw, source);
  return buildZeekRecord(r.type, fieldsOf(r.body), contextOf(raw, source, options, index));
}

/** Decodes one conn record (typed topic or --conn file). */
export function decodeConnJson(raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, index?: number): Decoded<ConnRecord> {
  const r = resolve(raw, options, 'conn');
  if (isProblem(r)) return deadLetter(r, raw, source);
  if (r.type !== 'conn') return unreachable(raw, source);
  const ctx = contextOf(raw, source, options, index);
  // Zeek's flat JSON is read by property (zeek-record.ts, connValuesOfObject); re-nested input through its flat copy.
  return hasNesting(r.body) ? buildConn(flatten(r.body), ctx) : buildConnFrom(connValuesOfObject(r.body), ctx);
}

/** Decodes one weird record (typed topic or --weird file). */
export function decodeWeirdJson(raw: Uint8Array, source: SourceRef, options: DecodeOptions = {}, index?: number): Decoded<WeirdRecord> {
  const r = resolve(raw, options, 'weird');
  if (isProblem(r)) return deadLetter(r, raw, source);
  return r.type === 'weird' ? buildWeird(fieldsOf(r.body), contextOf(raw, source, options, index)) : unreachable(raw, source);
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
