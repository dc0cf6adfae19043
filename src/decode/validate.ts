/**
 * Narrowing helpers shared by every decoder: bytes -> text, `unknown` -> typed fields, and the
 * dead letters that come out when that fails. Each check names the field and the value it saw.
 */
import type { DeadLetter, DeadLetterReason, DeadLetterStage, SourceRef } from '../domain';
import { parseIp } from './ip';

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

export function problem(reason: DeadLetterReason, detail: string, stage: DeadLetterStage = 'validate'): Problem {
  return { reason, stage, detail };
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

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The first checks every message gets: size, emptiness, UTF-8. Returns the text or a problem.
 * A message of only whitespace counts as empty.
 */
export function messageText(raw: Uint8Array, options: DecodeOptions): string | Problem {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (raw.length > max) return problem('oversized_message', `message is ${raw.length} bytes, limit ${max}`, 'decode');
  let text: string;
  try {
    text = FATAL_UTF8.decode(raw);
  } catch {
    return problem('invalid_utf8', 'message is not valid UTF-8', 'decode');
  }
  if (text.trim() === '') return problem('empty_message', raw.length === 0 ? 'message has no bytes' : 'message is only whitespace', 'decode');
  return text;
}

export function isProblem(x: unknown): x is Problem {
  return typeof x === 'object' && x !== null && 'reason' in x && 'stage' in x && 'detail' in x;
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Canonified values in Zeek test baselines: ts `XXXXXXXXXX.XXXXXX`, uid `XXXXXXXXXXX`. */
const CANONIFIED = /^X+(?:\.X+)?$/;
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

/**
 * Reads typed fields from a flat `name -> unknown` map, remembering the first problem. Required
 * reads return a placeholder after a problem; the caller checks `problem()` before using them.
 */
export interface FieldReader {
  problem(): Problem | undefined;
  fail(p: Problem): void;
  has(name: string): boolean;
  raw(name: string): unknown;
  string(name: string): string;
  optString(name: string): string | undefined;
  bool(name: string): boolean | undefined;
  /** An IP address (checked); required. */
  addr(name: string): string;
  optAddr(name: string): string | undefined;
  /** A port 0..65535; required. */
  port(name: string): number;
  optPort(name: string): number | undefined;
  /** A non-negative integer count (bytes, packets). */
  count(name: string): number | undefined;
  /** A non-negative number of seconds, returned in µs. */
  intervalUs(name: string): number | undefined;
  /** An integer in [lo, hi]; `reason` names the range failure. */
  intIn(name: string, lo: number, hi: number, reason: DeadLetterReason, required: boolean): number | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[], required: true): T;
  oneOf<T extends string>(name: string, allowed: readonly T[], required: false): T | undefined;
}

export function createFieldReader(fields: ReadonlyMap<string, unknown>): FieldReader {
  let first: Problem | undefined;
  const fail = (p: Problem): void => {
    first ??= p;
  };
  const get = (name: string, required: boolean): unknown => {
    const v = fields.get(name);
    if ((v === undefined || v === null) && required) fail(problem('missing_field', `${name} is missing`));
    return v ?? undefined;
  };
  const num = (name: string, v: unknown): number | undefined => {
    if (typeof v !== 'number') {
      fail(problem('wrong_type', `${name} must be a number, got ${show(v)}`));
      return undefined;
    }
    if (!Number.isFinite(v)) {
      fail(problem('non_finite_number', `${name} is ${show(v)}`));
      return undefined;
    }
    return v;
  };
  const intIn = (name: string, lo: number, hi: number, reason: DeadLetterReason, required: boolean): number | undefined => {
    const v = get(name, required);
    if (v === undefined) return undefined;
    const n = num(name, v);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n)) {
      fail(problem(reason, `${name} ${show(n)} is not an integer`));
      return undefined;
    }
    if (n < lo || n > hi) {
      fail(problem(reason, `${name} ${show(n)} is outside ${lo}..${hi}`));
      return undefined;
    }
    return n;
  };
  const str = (name: string, required: boolean): string | undefined => {
    const v = get(name, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      fail(problem('wrong_type', `${name} must be a string, got ${show(v)}`));
      return undefined;
    }
    return v;
  };
  const addr = (name: string, required: boolean): string | undefined => {
    const v = str(name, required);
    if (v === undefined) return undefined;
    if (parseIp(v) === undefined) {
      fail(problem('invalid_ip', `${name} ${show(v)} is not an IPv4 or IPv6 address`));
      return undefined;
    }
    return v;
  };
  function oneOf<T extends string>(name: string, allowed: readonly T[], required: true): T;
  function oneOf<T extends string>(name: string, allowed: readonly T[], required: false): T | undefined;
  function oneOf<T extends string>(name: string, allowed: readonly T[], required: boolean): T | undefined {
    const v = str(name, required);
    if (v === undefined) return required ? allowed[0] : undefined;
    const hit = allowed.find((a) => a === v);
    if (hit === undefined) fail(problem('invalid_enum', `${name} ${show(v)} is not one of ${allowed.join(', ')}`));
    return hit ?? (required ? allowed[0] : undefined);
  }
  return {
    problem: () => first,
    fail,
    has: (name) => fields.get(name) !== undefined && fields.get(name) !== null,
    raw: (name) => fields.get(name),
    string: (name) => str(name, true) ?? '',
    optString: (name) => str(name, false),
    bool: (name) => {
      const v = get(name, false);
      if (v === undefined) return undefined;
      if (typeof v !== 'boolean') {
        fail(problem('wrong_type', `${name} must be a boolean, got ${show(v)}`));
        return undefined;
      }
      return v;
    },
    addr: (name) => addr(name, true) ?? '',
    optAddr: (name) => addr(name, false),
    port: (name) => intIn(name, 0, 65535, 'invalid_port', true) ?? 0,
    optPort: (name) => intIn(name, 0, 65535, 'invalid_port', false),
    count: (name) => {
      const v = get(name, false);
      if (v === undefined) return undefined;
      const n = num(name, v);
      if (n === undefined) return undefined;
      if (n < 0) {
        fail(problem('negative_count', `${name} ${show(n)} is negative`));
        return undefined;
      }
      if (!Number.isSafeInteger(n)) {
        fail(problem('wrong_type', `${name} ${show(n)} is not an integer count`));
        return undefined;
      }
      return n;
    },
    intervalUs: (name) => {
      const v = get(name, false);
      if (v === undefined) return undefined;
      const n = num(name, v);
      if (n === undefined) return undefined;
      if (n < 0) {
        fail(problem('negative_duration', `${name} ${show(n)} is negative`));
        return undefined;
      }
      return Math.round(n * 1e6);
    },
    intIn,
    oneOf,
  };
}
