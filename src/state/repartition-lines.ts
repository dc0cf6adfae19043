/**
 * The lines of the repartition topic (state/repartition.ts, docs/scale-out.md): a decoded record
 * as `run` writes it between its two stages, and read back.
 *
 * One JSON line per record: `{"n":<ordinal in its input message>,"k":"c"|"w"|"h",...}`. A conn
 * or a header is an array of its fields in a fixed order (`"a"`, the changelog's array form:
 * state/entry-codec.ts), since field names were half of a header's line; a weird, rarer, is its
 * object (`"r"`). A conn or weird keeps its `source` (input topic, partition, offset), so dead
 * letters and marks name the input; a header, which does not keep it, has it beside the record
 * (`"s"`, as an array). Lines written before records were arrays (`"r"` objects; a header's
 * source inside the record in the oldest) are read as well.
 *
 * A line that is not what `run` writes becomes a dead letter (`invalid_repartition_record`),
 * never an exception. Pure: no I/O.
 */
import type { InputRecord } from '../decode/dispatch';
import type { Decoded, SourceRef } from '../domain';
import { connFields, connOf, inlineHeaderFields, inlineHeaderOf, sourceFields, sourceOf, type Json, type WireSource } from './entry-codec';

/** One record on its way through the repartition topic. */
export interface RepartitionItem {
  /** Ordinal of the record among those decoded from its input message (dead ones included). */
  readonly n: number;
  readonly record: InputRecord;
}

/** A record read back, with its line (the bytes a dead letter of the correlating stage carries). */
export interface ReadItem extends RepartitionItem {
  readonly raw: Uint8Array;
}

const KIND_CODES = { conn: 'c', weird: 'w', header: 'h' } as const;
const NEWLINE = 0x0a;
const KINDS = { c: 'conn', w: 'weird', h: 'header' } as const;

export function encodeItem(item: RepartitionItem): string {
  const r = item.record;
  if (r.kind === 'conn') return JSON.stringify({ n: item.n, k: KIND_CODES.conn, a: connFields(r.record) });
  if (r.kind === 'header') return JSON.stringify({ n: item.n, k: KIND_CODES.header, s: sourceFields(r.source), a: inlineHeaderFields(r.record) });
  return JSON.stringify({ n: item.n, k: KIND_CODES[r.kind], r: r.record });
}

const NO_SOURCE: Extract<SourceRef, { kind: 'kafka' }> = { kind: 'kafka', topic: '', partition: -1, offset: '-1' };

function isKafkaSource(v: unknown): v is Extract<SourceRef, { kind: 'kafka' }> {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return s['kind'] === 'kafka' && typeof s['topic'] === 'string' && Number.isInteger(s['partition']) && typeof s['offset'] === 'string' && /^\d+$/.test(s['offset']);
}

/**
 * The records of one repartition message. `source` is the repartition message, named by a
 * dead letter whose line does not parse (its input is unknown then).
 */
export function decodeItems(value: Uint8Array, source: SourceRef): readonly Decoded<ReadItem>[] {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const out: Decoded<ReadItem>[] = [];
  // Lines are cut at the bytes (0x0A is never part of a multi-byte UTF-8 sequence), and each
  // record's `raw` is a view of its line, not a copy: it is read only while the record is handled,
  // for a dead letter.
  for (let start = 0; start < bytes.length;) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    if (raw.length === 0) continue;
    const line = raw.toString('utf8');
    const dead = (detail: string): Decoded<ReadItem> => ({ ok: false, dead: { reason: 'invalid_repartition_record', stage: 'decode', detail, raw, source } });
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      out.push(dead('a repartition line that is not JSON'));
      continue;
    }
    const o = parsed as Line;
    const kind = typeof o.k === 'string' ? KINDS[o.k as keyof typeof KINDS] : undefined;
    const read = kind === undefined ? undefined : recordOf(kind, o);
    if (!Number.isInteger(o.n) || kind === undefined || read === undefined || !isKafkaSource(read.input) || typeof read.record['tsUs'] !== 'number') {
      out.push(dead('not a record that zeek-rst run writes to the repartition topic (n, k, a or r with tsUs, and a Kafka source)'));
      continue;
    }
    // Written by `run` from a record its decoder validated: the shape is that record's.
    out.push({ ok: true, value: { n: o.n as number, record: { kind, record: read.record, source: read.input } as unknown as InputRecord, raw } });
  }
  return out;
}

interface Line {
  readonly n?: unknown;
  readonly k?: unknown;
  readonly s?: unknown;
  readonly a?: unknown;
  readonly r?: unknown;
}

/** A line's record and the input it came from, each of any shape yet; undefined when the line has none that can be read. */
function recordOf(kind: InputRecord['kind'], o: Line): { readonly record: Record<string, unknown>; readonly input: unknown } | undefined {
  if (Array.isArray(o.a)) {
    const fields = o.a as readonly Json[];
    try {
      if (kind === 'conn') {
        const record = connOf(fields) as unknown as Record<string, unknown>;
        return { record, input: record['source'] };
      }
      if (kind === 'header' && Array.isArray(o.s)) return { record: inlineHeaderOf(fields) as unknown as Record<string, unknown>, input: sourceOf(o.s as unknown as WireSource) };
    } catch {
      return undefined; // an array too short or with a source that is not one
    }
    return undefined;
  }
  const r = o.r;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return undefined;
  const record = r as Record<string, unknown>;
  if (kind !== 'header') return { record, input: record['source'] };
  // A header of the oldest lines has its source inside the record; a header now decodes without one.
  if (o.s !== undefined) return { record, input: o.s };
  const { source, ...rest } = record;
  return { record: rest, input: source };
}

/** The input a record came from (a repartition record always has a Kafka source). */
export const sourceOfItem = (record: InputRecord): Extract<SourceRef, { kind: 'kafka' }> => (record.source.kind === 'kafka' ? record.source : NO_SOURCE);
