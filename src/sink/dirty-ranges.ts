/**
 * Which time ranges `run` has written conn documents into since its last scan summary pass, and
 * whether Elasticsearch has acknowledged them yet. Bounded: at most `cap` segments; beyond it the
 * two oldest merge (a wider range to recompute, never a forgotten one).
 */
import type { TimeRange } from './scan-summaries';

interface Segment {
  /** Sink sequence number of the last document of the segment. */
  seq: number;
  fromMs: number;
  toMs: number;
}

export interface DirtyRanges {
  /** A document with this sink sequence number and @timestamp (ms) was enqueued. */
  note(seq: number, timestampMs: number): void;
  /** Removes and returns the union of the segments whose documents are all acknowledged (seq <= completedThrough). */
  take(completedThrough: number): TimeRange | undefined;
  /** Gives a range back (its pass failed): it is taken again with the next ready segments. */
  putBack(range: TimeRange): void;
  size(): number;
}

export function createDirtyRanges(cap = 64, segmentMs = 60_000): DirtyRanges {
  let segments: Segment[] = [];
  let returned: TimeRange | undefined;
  const union = (a: TimeRange | undefined, b: TimeRange): TimeRange => (a === undefined ? { fromMs: b.fromMs, toMs: b.toMs } : { fromMs: Math.min(a.fromMs, b.fromMs), toMs: Math.max(a.toMs, b.toMs) });
  return {
    note(seq, timestampMs) {
      const last = segments[segments.length - 1];
      // Consecutive documents of nearby times share a segment; a new segment starts after segmentMs of spread.
      if (last !== undefined && Math.max(last.toMs, timestampMs + 1) - Math.min(last.fromMs, timestampMs) <= segmentMs) {
        last.seq = seq;
        last.fromMs = Math.min(last.fromMs, timestampMs);
        last.toMs = Math.max(last.toMs, timestampMs + 1);
        return;
      }
      segments.push({ seq, fromMs: timestampMs, toMs: timestampMs + 1 });
      if (segments.length > cap) {
        const [a, b, ...rest] = segments;
        if (a !== undefined && b !== undefined) segments = [{ seq: b.seq, fromMs: Math.min(a.fromMs, b.fromMs), toMs: Math.max(a.toMs, b.toMs) }, ...rest];
      }
    },
    take(completedThrough) {
      let out = returned;
      const keep: Segment[] = [];
      for (const s of segments) {
        if (s.seq <= completedThrough) out = union(out, s);
        else keep.push(s);
      }
      segments = keep;
      returned = undefined;
      return out;
    },
    putBack(range) {
      returned = union(returned, range);
    },
    size: () => segments.length + (returned === undefined ? 0 : 1),
  };
}
