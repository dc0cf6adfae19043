/**
 * Narrowing helpers shared by every decoder: bytes -> text, `unknown` -> typed fields, and the
 * dead letters that come out when that fails. Each check names the field and the value it saw.
 */
import { isUtf8 } from 'node:buffer';

import type { DeadLetter, DeadLetterReason, DeadLetterStage, SourceRef } from '../domain';
import { isIp, writeIp } from './ip';

/** Decode options shared by all decoders. Every field has a static default: decode is pure. */
export interface DecodeOptions {
  /**
   * Accept rows of canonified test logs (Zeek btest / zeek-testing baselines): a `ts` of X's or
   * none becomes 0, a conn `uid` of X's or none becomes a synthetic `X<line>` (file) or
   * `X<partition>-<offset>` (Kafka), a weird's X'd uid is dropped; such records carry
   * `canonified: true`. Default false: those rows are dead letters (`invalid_timestamp`,
   * `missing_field`).
   */
  readonly allowCanonified?: boolean;
  /** Earliest accepted timestamp, µs since epoch. Default 1990-01-01T00:00:00Z. */
  readonly minTsUs?: number;
  /** Latest accepted timestamp, µs since epoch. Default 2100-01-01T00:00:00Z (decode reads no clock). */
  readonly maxTsUs?: number;
  /** Largest accepted message or line, in bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Observer name for records that carry no `_system_name`. */
  readonly observer?: string;
}

export const DEFAULT_MIN_TS_US = Date.UTC(1990, 0, 1) * 1000;
export const DEFAULT_MAX_TS_US = Date.UTC(2100, 0, 1) * 1000;
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** A failed check: reason and detail; the caller adds bytes and source. */
export interface Problem {
  readonly reason: DeadLetterReason;
  readonly stage: DeadLetterStage;
  readonly detail: string;
}

/**
 * Problems are instances of one class, so that telling a problem from a parsed record never looks
 * at the record's keys: an input object that happens to have `reason`, `stage` and `detail` fields
 * is a record, not a failure.
 */
class ProblemValue implements Problem {
  constructor(
    readonly reason: DeadLetterReason,
    readonly detail: string,
    readonly stage: DeadLetterStage,
  ) {}
}

export function problem(reason: DeadLetterReason, detail: string, stage: DeadLetterStage = 'validate'): Problem {
  return new ProblemValue(reason, detail, stage);
}

export function deadLetter(p: Problem, raw: Uint8Array, source: SourceRef): { readonly ok: false; readonly dead: DeadLetter } {
  return { ok: false, dead: { reason: p.reason, stage: p.stage, detail: p.detail, raw, source } };
}

/** A short, safe rendering of an offending value for a dead letter's detail. */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === 'number') text = String(value);
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const BLANK = /^\s*$/;

/**
 * The first checks every message gets: size, emptiness, UTF-8. Returns the text or a problem.
 * A message of only whitespace counts as empty.
 */
export function messageText(raw: Uint8Array, options: DecodeOptions): string | Problem {
  const text = utf8Text(raw, options);
  if (isProblem(text) || !BLANK.test(text)) return text;
  return blankProblem(raw);
}

/** messageText without the blank check: size, UTF-8, text. */
function utf8Text(raw: Uint8Array, options: DecodeOptions): string | Problem {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (raw.length > max) return problem('oversized_message', `message is ${raw.length} bytes, limit ${max}`, 'decode');
  const text = (Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).toString('utf8');
  // Decoding replaces every ill-formed sequence with U+FFFD, so text without one came from valid
  // UTF-8 and only text with one needs isUtf8's scan (a well-formed U+FFFD is valid). For ASCII
  // text the search is free: V8 knows a one-byte string cannot hold U+FFFD. Cheaper than isUtf8
  // on every record or a fatal TextDecoder (npm run bench, decode); bad-input.test.ts checks the
  // verdict against isUtf8.
  if (text.includes(REPLACEMENT) && !isUtf8(raw)) return problem('invalid_utf8', 'message is not valid UTF-8', 'decode');
  return text;
}

const REPLACEMENT = '\uFFFD';

function blankProblem(raw: Uint8Array): Problem {
  return problem('empty_message', raw.length === 0 ? 'message has no bytes' : 'message is only whitespace', 'decode');
}

export function isProblem(x: unknown): x is Problem {
  return x instanceof ProblemValue;
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Canonified values in Zeek test baselines: ts `XXXXXXXXXX.XXXXXX`, uid `XXXXXXXXXXX`. */
const CANONIFIED = /^X+(?:\.X+)?$/;
/**
 * One message's bytes -> its JSON object, or the problem that stops it (oversized, invalid
 * UTF-8, empty, not JSON, not an object). Shared by Zeek JSON and header JSON lines.
 */
export function parseJsonObject(raw: Uint8Array, options: DecodeOptions): Record<string, unknown> | Problem {
  const text = utf8Text(raw, options);
  if (isProblem(text)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Blank text never parses: checked only then, not on every record (same verdict as messageText).
    if (BLANK.test(text)) return blankProblem(raw);
    return problem('malformed_json', `not JSON: ${err instanceof Error ? err.message : 'unparseable'}`, 'decode');
  }
  return isPlainObject(parsed) ? parsed : problem('not_an_object', `expected a JSON object, got ${show(parsed)}`, 'decode');
}

export function isCanonified(value: unknown): boolean {
  return typeof value === 'string' && CANONIFIED.test(value);
}

/**
 * A time value -> µs since epoch. Numbers are epoch seconds, except that |ts| >= 1e11 is read as
 * epoch milliseconds (Zeek's JSON::TS_MILLIS): 1e11 s is the year 5138, while 1e11 ms is
 * 1973-03-03, so the two ranges cannot be confused for any plausible traffic. Strings must be
 * ISO 8601 with a date, a time, optional fraction (up to µs are kept) and `Z` or an offset.
 */
export function timeToUs(field: string, value: unknown, options: DecodeOptions): number | Problem {
  let us: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return problem('non_finite_number', `${field} is ${show(value)}`);
    us = Math.abs(value) >= 1e11 ? Math.round(value * 1000) : Math.round(value * 1e6);
  } else if (typeof value === 'string') {
    const parsed = parseIso8601Us(value);
    if (parsed === undefined) return problem('invalid_timestamp', `${field} ${show(value)} is neither epoch seconds nor ISO 8601`);
    us = parsed;
  } else {
    return problem('wrong_type', `${field} must be a number or an ISO 8601 string, got ${show(value)}`);
  }
  return checkTsRange(field, us, options);
}

export function checkTsRange(field: string, us: number, options: DecodeOptions): number | Problem {
  const min = options.minTsUs ?? DEFAULT_MIN_TS_US;
  const max = options.maxTsUs ?? DEFAULT_MAX_TS_US;
  if (!Number.isSafeInteger(us) || us < min || us > max) {
    return problem('timestamp_out_of_range', `${field} ${us} µs is outside [${min}, ${max}]`);
  }
  return us;
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** ISO 8601 date-time -> µs since epoch, keeping microseconds (Date.parse keeps only ms). */
export function parseIso8601Us(text: string): number | undefined {
  const m = ISO_8601.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  // Date.UTC rolls over (Feb 30 -> Mar 2); a round trip rejects such dates. Leap seconds are not accepted.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day
    || check.getUTCHours() !== hour || check.getUTCMinutes() !== minute || check.getUTCSeconds() !== second) {
    return undefined;
  }
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  const fracUs = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1e6);
  return (ms - offsetMin * 60_000) * 1000 + fracUs;
}

/** Where a reader gets raw values by Zeek field name: a Map (TSV) or a parsed JSON object. */
export interface Fields {
  get(name: string): unknown;
}

/** Own properties of a parsed JSON object as Fields; inherited names (`constructor`, ...) are not fields. */
export function objectFields(obj: Record<string, unknown>): Fields {
  return new ObjectFields(obj);
}

/** A class, not a closure: its method lives on the prototype, not in every record's Fields. */
class ObjectFields implements Fields {
  constructor(private readonly obj: Record<string, unknown>) {}

  get(name: string): unknown {
    return Object.hasOwn(this.obj, name) ? this.obj[name] : undefined;
  }
}

/** No fields: for a reader that is given its values (the `...Of` methods) rather than a name to look up. */
const NO_FIELDS: Fields = { get: () => undefined };

/**
 * Reads typed fields, remembering the first problem. Required reads return a placeholder after a
 * problem; the caller checks `problem()` before using the values. A class rather than a closure
 * factory: one is made per record, and methods on the prototype cost nothing per record.
 * JSON `null` counts as unset.
 *
 * Each check exists twice: by name (`count(name)`, the value looked up in the reader's Fields) and
 * with the value given (`countOf(name, value)`, the name only for the problem's detail), for a
 * decoder that has read its values already (zeek-record.ts reads a flat JSON conn by property
 * name, cheaper than a lookup per field through Fields).
 */
export class FieldReader {
  private first: Problem | undefined;

  constructor(private readonly fields: Fields = NO_FIELDS) {}

  problem(): Problem | undefined {
    return this.first;
  }

  fail(p: Problem): void {
    this.first ??= p;
  }

  has(name: string): boolean {
    const v = this.fields.get(name);
    return v !== undefined && v !== null;
  }

  raw(name: string): unknown {
    return this.fields.get(name);
  }

  private present(name: string, v: unknown, required: boolean): unknown {
    if (v === undefined || v === null) {
      if (required) this.fail(problem('missing_field', `${name} is missing`));
      return undefined;
    }
    return v;
  }

  private num(name: string, v: unknown): number | undefined {
    if (typeof v !== 'number') {
      this.fail(problem('wrong_type', `${name} must be a number, got ${show(v)}`));
      return undefined;
    }
    if (!Number.isFinite(v)) {
      this.fail(problem('non_finite_number', `${name} is ${show(v)}`));
      return undefined;
    }
    return v;
  }

  private str(name: string, value: unknown, required: boolean): string | undefined {
    const v = this.present(name, value, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.fail(problem('wrong_type', `${name} must be a string, got ${show(v)}`));
      return undefined;
    }
    return v;
  }

  /** `out`, when given, receives the address's bytes (writeIp), for a caller that needs them too. */
  private address(name: string, value: unknown, required: boolean, out?: Uint8Array): string | undefined {
    const v = this.str(name, value, required);
    if (v === undefined) return undefined;
    if (out === undefined ? !isIp(v) : writeIp(v, out, 0) === 0) {
      this.fail(problem('invalid_ip', `${name} ${show(v)} is not an IPv4 or IPv6 address`));
      return undefined;
    }
    return v;
  }

  string(name: string): string {
    return this.stringOf(name, this.fields.get(name));
  }

  stringOf(name: string, value: unknown): string {
    return this.str(name, value, true) ?? '';
  }

  optString(name: string): string | undefined {
    return this.optStringOf(name, this.fields.get(name));
  }

  optStringOf(name: string, value: unknown): string | undefined {
    return this.str(name, value, false);
  }

  bool(name: string): boolean | undefined {
    return this.boolOf(name, this.fields.get(name));
  }

  boolOf(name: string, value: unknown): boolean | undefined {
    const v = this.present(name, value, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.fail(problem('wrong_type', `${name} must be a boolean, got ${show(v)}`));
      return undefined;
    }
    return v;
  }

  /** An IP address (checked); required. */
  addr(name: string): string {
    return this.addrOf(name, this.fields.get(name));
  }

  /** addr of a value already read; `out` (16 bytes) receives the address's bytes when it is valid. */
  addrOf(name: string, value: unknown, out?: Uint8Array): string {
    return this.address(name, value, true, out) ?? '';
  }

  optAddr(name: string): string | undefined {
    return this.address(name, this.fields.get(name), false);
  }

  /** A port 0..65535; required. */
  port(name: string): number {
    return this.portOf(name, this.fields.get(name));
  }

  portOf(name: string, value: unknown): number {
    return this.intInOf(name, value, 0, 65535, 'invalid_port', true) ?? 0;
  }

  optPort(name: string): number | undefined {
    return this.intIn(name, 0, 65535, 'invalid_port', false);
  }

  /** A non-negative integer count (bytes, packets). */
  count(name: string): number | undefined {
    return this.countOf(name, this.fields.get(name));
  }

  countOf(name: string, value: unknown): number | undefined {
    const v = this.present(name, value, false);
    if (v === undefined) return undefined;
    const n = this.num(name, v);
    if (n === undefined) return undefined;
    if (n < 0) {
      this.fail(problem('negative_count', `${name} ${show(n)} is negative`));
      return undefined;
    }
    if (!Number.isSafeInteger(n)) {
      this.fail(problem('wrong_type', `${name} ${show(n)} is not an integer count`));
      return undefined;
    }
    return n;
  }

  /** A non-negative number of seconds, returned in µs. */
  intervalUs(name: string): number | undefined {
    return this.intervalUsOf(name, this.fields.get(name));
  }

  intervalUsOf(name: string, value: unknown): number | undefined {
    const v = this.present(name, value, false);
    if (v === undefined) return undefined;
    const n = this.num(name, v);
    if (n === undefined) return undefined;
    if (n < 0) {
      this.fail(problem('negative_duration', `${name} ${show(n)} is negative`));
      return undefined;
    }
    return Math.round(n * 1e6);
  }

  /** An integer in [lo, hi]; `reason` names the range failure. */
  intIn(name: string, lo: number, hi: number, reason: DeadLetterReason, required: boolean): number | undefined {
    return this.intInOf(name, this.fields.get(name), lo, hi, reason, required);
  }

  intInOf(name: string, value: unknown, lo: number, hi: number, reason: DeadLetterReason, required: boolean): number | undefined {
    const v = this.present(name, value, required);
    if (v === undefined) return undefined;
    const n = this.num(name, v);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n)) {
      this.fail(problem(reason, `${name} ${show(n)} is not an integer`));
      return undefined;
    }
    if (n < lo || n > hi) {
      this.fail(problem(reason, `${name} ${show(n)} is outside ${lo}..${hi}`));
      return undefined;
    }
    return n;
  }

  /** A member of a closed set of strings; required reads return the first member as placeholder. */
  oneOf<T extends string>(name: string, allowed: ReadonlySet<T>, required: true): T;
  oneOf<T extends string>(name: string, allowed: ReadonlySet<T>, required: false): T | undefined;
  oneOf<T extends string>(name: string, allowed: ReadonlySet<T>, required: boolean): T | undefined {
    return this.oneOfValue(name, this.fields.get(name), allowed, required);
  }

  oneOfOf<T extends string>(name: string, value: unknown, allowed: ReadonlySet<T>, required: true): T;
  oneOfOf<T extends string>(name: string, value: unknown, allowed: ReadonlySet<T>, required: false): T | undefined;
  oneOfOf<T extends string>(name: string, value: unknown, allowed: ReadonlySet<T>, required: boolean): T | undefined {
    return this.oneOfValue(name, value, allowed, required);
  }

  private oneOfValue<T extends string>(name: string, value: unknown, allowed: ReadonlySet<T>, required: boolean): T | undefined {
    const v = this.str(name, value, required);
    if (v !== undefined && isMember(allowed, v)) return v;
    if (v !== undefined) this.fail(problem('invalid_enum', `${name} ${show(v)} is not one of ${[...allowed].join(', ')}`));
    return required ? allowed.values().next().value : undefined;
  }
}

function isMember<T extends string>(set: ReadonlySet<T>, v: string): v is T {
  return (set as ReadonlySet<string>).has(v);
}
