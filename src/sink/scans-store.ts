/**
 * The scan summary step (docs/scans.md): reads the indexed conn documents of a time range with
 * the aggregation of sink/scan-summaries.ts, writes one summary per (source, window) that meets
 * a rule under its deterministic `_id`, deletes the summaries of those windows that no longer
 * hold, and sets `rst.scan.scanner` on the conn documents of every scanner (and clears it where
 * a window no longer makes its source one).
 *
 * Everything is computed from what Elasticsearch holds, never from a process's memory, so every
 * `run` instance, a replay from offset 0, a crash and a rerun of `zeek-rst scans` converge on the
 * same summaries. Marking uses bulk partial `update`s (no painless on a bare node). A pass
 * over the same range twice writes the same documents: it is idempotent. Conn documents that the
 * pipeline rewrites after a pass (late evidence) carry `scanner: false` again until the next pass
 * over their window; `run` runs one over every window it wrote into.
 */
import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import { alignToWindows, type ScanKind, type ScanSettings } from '../classify/scans';
import { ZeekRstError } from '../errors';
import {
  scanAggregationRequest,
  scannerMark,
  staleMarkedConnsQuery,
  staleSummariesQuery,
  summariesFromResponse,
  unmarkedScannerConnsQuery,
  type ScanSummary,
  type TimeRange,
} from './scan-summaries';
import { indexNames } from './templates';

export interface ScanPassOptions {
  readonly prefix: string;
  readonly range: TimeRange;
  readonly settings: ScanSettings;
  /** Composite buckets per request. */
  readonly pageSize?: number;
  /** Conn documents marked per request. */
  readonly markBatch?: number;
  readonly onProgress?: (p: ScanProgress) => void;
}

export interface ScanProgress {
  readonly phase: 'aggregate' | 'write' | 'mark';
  /** Composite buckets (source, window) read so far. */
  readonly buckets: number;
  readonly summaries: number;
  /** Up to which window the aggregation has read (ISO), when known. */
  readonly window?: string;
  readonly marked: number;
}

export interface ScanPassReport {
  /** The range actually computed: whole windows. */
  readonly range: TimeRange;
  readonly buckets: number;
  readonly summaries: number;
  readonly byKind: Readonly<Record<ScanKind, number>>;
  /** Summaries of the range that no longer hold, deleted. */
  readonly deleted: number;
  /** Conn documents set to rst.scan.scanner: true / back to false. */
  readonly marked: number;
  readonly unmarked: number;
  /** Buckets of an unexpected shape (skipped). */
  readonly malformed: number;
}

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function request(client: Client, method: 'GET' | 'POST', path: string, body: unknown, querystring: Record<string, string | boolean> = {}, bulkBody?: readonly unknown[]): Promise<unknown> {
  try {
    const params = bulkBody === undefined ? { method, path, querystring, ...(body === undefined ? {} : { body: body as Record<string, unknown> }) } : { method, path, querystring, bulkBody: bulkBody as Record<string, unknown>[] };
    return await client.transport.request(params);
  } catch (err: unknown) {
    if (err instanceof errors.ResponseError) {
      const status = typeof err.meta.statusCode === 'number' ? err.meta.statusCode : 0;
      const retriable = status === 429 || status >= 500;
      throw new ZeekRstError(retriable ? 'ZRST_ES_UNAVAILABLE' : 'ZRST_ES_REJECTED', `scan summaries: ${method} ${path}: HTTP ${String(status)} ${err.message}`, { cause: err });
    }
    throw new ZeekRstError('ZRST_ES_UNAVAILABLE', `scan summaries: ${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Sends bulk operations; returns how many items succeeded. Item failures other than a vanished document are errors. */
async function bulk(client: Client, lines: readonly unknown[]): Promise<number> {
  if (lines.length === 0) return 0;
  const res = await request(client, 'POST', '/_bulk', undefined, {}, lines);
  const items = isObj(res) && Array.isArray(res.items) ? res.items : [];
  let ok = 0;
  const failures: string[] = [];
  for (const item of items) {
    const op = isObj(item) ? Object.values(item)[0] : undefined;
    const status = isObj(op) && typeof op.status === 'number' ? op.status : 0;
    if (status >= 200 && status < 300) ok++;
    else if (status !== 404) failures.push(isObj(op) ? JSON.stringify(op.error ?? status) : 'malformed bulk item');
  }
  if (failures.length > 0) throw new ZeekRstError('ZRST_ES_UNAVAILABLE', `scan summaries: ${String(failures.length)} bulk items failed, first: ${failures[0] ?? ''}`);
  return ok;
}

const NO_INDEX = { ignore_unavailable: true, allow_no_indices: true } as const;

async function refresh(client: Client, index: string): Promise<void> {
  await request(client, 'POST', `/${index}/_refresh`, undefined, NO_INDEX);
}

/** Hits (index, id) of a query, `_source` off. */
async function hitsOf(client: Client, index: string, query: unknown, size: number): Promise<{ index: string; id: string }[]> {
  const res = await request(client, 'POST', `/${index}/_search`, { size, _source: false, track_total_hits: false, query }, NO_INDEX);
  const hits = isObj(res) && isObj(res.hits) && Array.isArray(res.hits.hits) ? res.hits.hits : [];
  return hits.flatMap((h: unknown) => (isObj(h) && typeof h._index === 'string' && typeof h._id === 'string' ? [{ index: h._index, id: h._id }] : []));
}

/**
 * Sets `rst.scan.scanner` on every conn document the query matches, a batch at a time: each
 * round updates what is still unmarked, until nothing is (the query excludes what is done).
 */
async function markAll(client: Client, index: string, query: unknown, scanner: boolean, batch: number, onBatch: (n: number) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const hits = await hitsOf(client, index, query, batch);
    if (hits.length === 0) return total;
    const lines = hits.flatMap((h) => [{ update: { _index: h.index, _id: h.id, retry_on_conflict: 3 } }, { doc: scannerMark(scanner) }]);
    const done = await bulk(client, lines);
    total += done;
    onBatch(done);
    await refresh(client, index);
    if (done === 0) return total; // every hit vanished meanwhile: nothing left to do
  }
}

/** One pass over a time range; see the module comment. */
export async function computeScanSummaries(client: Client, options: ScanPassOptions): Promise<ScanPassReport> {
  const names = indexNames(options.prefix);
  const range = alignToWindows(options.range.fromMs, options.range.toMs, options.settings.windowS);
  const pageSize = options.pageSize ?? 1000;
  const markBatch = options.markBatch ?? 2000;
  const progress = options.onProgress ?? ((): void => undefined);
  await refresh(client, names.connAlias);

  const summaries: ScanSummary[] = [];
  let buckets = 0;
  let malformed = 0;
  let after: Readonly<Record<string, unknown>> | undefined;
  do {
    const res = await request(client, 'POST', `/${names.connAlias}/_search`, scanAggregationRequest(range, options.settings, pageSize, after), NO_INDEX);
    const page = summariesFromResponse(res, options.settings);
    summaries.push(...page.summaries);
    buckets += page.buckets;
    malformed += page.malformed;
    after = page.after;
    const w = after?.window;
    progress({ phase: 'aggregate', buckets, summaries: summaries.length, ...(typeof w === 'number' ? { window: new Date(w).toISOString() } : {}), marked: 0 });
  } while (after !== undefined);

  for (let i = 0; i < summaries.length; i += 500) {
    await bulk(client, summaries.slice(i, i + 500).flatMap((s) => [{ index: { _index: names.scansIndex, _id: s.id } }, s.doc]));
    progress({ phase: 'write', buckets, summaries: Math.min(i + 500, summaries.length), marked: 0 });
  }
  // No _delete_by_query (the reindex module is not on a bare node): find the stale ids, delete them in bulk.
  let deleted = 0;
  for (;;) {
    const stale = await hitsOf(client, names.scansIndex, staleSummariesQuery(range, summaries.map((s) => s.id)), markBatch);
    if (stale.length === 0) break;
    const done = await bulk(client, stale.map((h) => ({ delete: { _index: h.index, _id: h.id } })));
    deleted += done;
    await refresh(client, names.scansIndex);
    if (done === 0) break;
  }
  await refresh(client, names.scansIndex);

  const scanners = summaries.filter((s) => s.doc.scan.scanner);
  const byWindow = new Map<number, ScanSummary[]>();
  for (const s of scanners) byWindow.set(s.windowStartMs, [...(byWindow.get(s.windowStartMs) ?? []), s]);
  let marked = 0;
  const onBatch = (n: number): void => {
    marked += n;
    progress({ phase: 'mark', buckets, summaries: summaries.length, marked });
  };
  for (const [start, list] of byWindow) {
    const end = list[0]?.windowEndMs ?? start;
    const sources = list.map((s) => s.sourceIp);
    for (let i = 0; i < sources.length; i += 1000) {
      await markAll(client, names.connAlias, unmarkedScannerConnsQuery(start, end, sources.slice(i, i + 1000)), true, markBatch, onBatch);
    }
  }
  const unmarked = await markAll(client, names.connAlias, staleMarkedConnsQuery(range, scanners), false, markBatch, () => undefined);

  const byKind: Record<ScanKind, number> = { port_scan: 0, sweep: 0, both: 0, backscatter: 0 };
  for (const s of summaries) byKind[s.doc.scan.kind]++;
  return { range, buckets, summaries: summaries.length, byKind, deleted, marked, unmarked, malformed };
}
