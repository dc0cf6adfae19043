/**
 * The correlator (docs/correlation.md): joins weirds to conns on uid (+ observer) and packet headers on
 * Community ID + time window, whatever order the three inputs arrive in.
 *
 * - A conn waits `graceUs` for evidence, then is emitted (`kind: 'new'`).
 * - Evidence for an emitted conn arriving within `lateWindowUs` marks it dirty; it is emitted
 *   again (`kind: 'update'`, same conn so the same document id) one grace later, so that a burst
 *   of late headers gives one update, not one per header.
 * - Every map that grows with traffic is capped and evicts oldest first, counting evictions. A
 *   pending conn that is evicted is not lost: it is emitted early with the evidence it has.
 *
 * Two clocks, kept apart (docs/correlation.md, "Time"):
 * - processing time, the injected `clock.now()`: only the grace a conn waits for its evidence, and
 *   the grace an update waits so a burst of late evidence gives one rewrite;
 * - record time: every semantic window. The header join window and TIME_WAIT compare record
 *   timestamps with each other, and state expires by the stream time of its sensor, the latest
 *   conn end that sensor's records reached (conns drive the join: evidence older than the stream
 *   time minus the late window can no longer meet a conn that is still to come). Per sensor, so
 *   that a sensor whose logs lag behind another's does not see its evidence expire early;
 *   headers without a sensor go by the latest stream time of all. So `run` (wall clock) and `classify` (files) give
 *   the same documents for the same records, whatever order they arrive in.
 *
 * Order independence: a previous close on the 4-tuple that arrives after the conn it precedes
 * re-opens that conn (an update) instead of being missed.
 *
 * Pure and deterministic: no system clock, no I/O. It is a component fed by a source, so a
 * repartition step (docs/correlation.md) can sit in front of it.
 */
import type { ConnRecord, Correlated, PacketHeader, PreviousClose, WeirdRecord } from '../domain';
import { createHostBaselineStore, type HostEntry } from './baseline';
import { OrderedMap } from '../ordered-map';
import { FlowIndex } from './flow-index';
import type { CorrelateSettings } from './settings';
import { closeKey, connEntryKey, flowKey, hostKey, STREAM_KEY, weirdsKey, type FlowConnState, type StateChange, type StateValue, type StoredHeaderState } from './state';

export interface Clock {
  /** Current time, µs since the epoch (wall clock in `run`, record time in file mode). */
  now(): number;
}

export interface Emission {
  /** `new`: first classification; `update`: late evidence, re-write the same document. */
  readonly kind: 'new' | 'update';
  readonly correlated: Correlated;
  /** The conn's key in the correlator (connKey of its observer and uid), as its state entry is keyed. */
  readonly key: string;
}

/** Why a conn was refused by the correlator; the caller dead-letters it with the original bytes. */
export interface Refusal {
  readonly reason: 'conflicting_duplicate';
  readonly detail: string;
}

export interface CorrelatorStep {
  readonly ready: readonly Emission[];
  /** Entries evicted by caps during this call (all maps together). */
  readonly evicted: number;
  /** Set when the record given to this call was refused (addConn only). */
  readonly refused?: Refusal;
}

export interface EvictionCounters {
  pendingConns: number;
  emittedConns: number;
  weirdUids: number;
  headers: number;
  hosts: number;
  recentCloses: number;
}

/**
 * Records that never became part of a document, by kind: nothing leaves the correlator without
 * a counter (docs/delivery.md, "No silent discard").
 */
export interface DiscardCounters {
  /** A conn whose observer+uid was already known with the same content (a replay): a no-op. */
  duplicateConns: number;
  /** Weirds without a uid (Zeek logs some weirds for no connection, e.g. per packet). */
  weirdsWithoutUid: number;
  /** Weirds beyond maxWeirdsPerUid for one connection. */
  weirdsOverCap: number;
  /** Weirds whose conn never came within the late window (or whose uid was evicted). */
  weirdsUnjoined: number;
  /** Headers that expired or were evicted without ever joining a conn. */
  headersUnjoined: number;
}

export const DISCARD_KINDS = ['duplicateConns', 'weirdsWithoutUid', 'weirdsOverCap', 'weirdsUnjoined', 'headersUnjoined'] as const satisfies readonly (keyof DiscardCounters)[];

/** Every eviction counter at zero. */
export const NO_EVICTIONS: Readonly<EvictionCounters> = Object.freeze({ pendingConns: 0, emittedConns: 0, weirdUids: 0, headers: 0, hosts: 0, recentCloses: 0 });

/** Every discard counter at zero. */
export const NO_DISCARDS: Readonly<DiscardCounters> = Object.freeze({ duplicateConns: 0, weirdsWithoutUid: 0, weirdsOverCap: 0, weirdsUnjoined: 0, headersUnjoined: 0 });

export interface CorrelatorStats {
  readonly pendingConns: number;
  readonly emittedConns: number;
  /** Emitted conns with late evidence whose update the tick writes one grace later (backpressure counts them). */
  readonly pendingUpdates: number;
  readonly weirdUids: number;
  readonly headers: number;
  readonly hosts: number;
  readonly recentCloses: number;
  /** The stream time: the latest conn end seen, µs (record time). */
  readonly streamUs: number;
  readonly evictions: Readonly<EvictionCounters>;
  readonly discards: Readonly<DiscardCounters>;
}

export interface Correlator {
  addConn(conn: ConnRecord): CorrelatorStep;
  addWeird(weird: WeirdRecord): CorrelatorStep;
  addHeader(header: PacketHeader): CorrelatorStep;
  /** Emits conns whose grace has passed and dirty updates; expires state the stream time has left behind. */
  tick(): CorrelatorStep;
  /** Emits everything pending (end of a file, shutdown). */
  flush(): CorrelatorStep;
  stats(): CorrelatorStats;
  /** Evidence still held that never joined a conn (O(state): for an end-of-input summary, not per tick). */
  unjoinedNow(): { readonly headers: number; readonly weirds: number };
  /**
   * The entries changed since the last call (correlate/state.ts), valued as of now: what a
   * checkpoint writes to the changelog. Empty unless created with `trackChanges`.
   */
  drainChanges(): readonly StateChange[];
  /** Loads changelog entries into this correlator, which must be empty (start-up restore). */
  restore(values: Iterable<StateValue>): void;
}

export interface CorrelatorOptions {
  /** Record which entries change, for `drainChanges` (run keeps its state in a changelog). */
  readonly trackChanges?: boolean;
}

// Every stored entry has a `seq`: the order of insertion, which a restore must reproduce.
// A conn's weirds and headers are never changed in place: a new weird replaces the list
// (addWeird), so a list can be shared, and every conn without any shares one empty list. Most
// conns have neither, and each held for the late window would otherwise be one more object for
// the collector to mark (bench/README.md, "State").
const NO_WEIRDS: readonly WeirdRecord[] = Object.freeze([]);
const NO_HEADERS: readonly PacketHeader[] = Object.freeze([]);

/** `list`, or the shared empty list when it is empty (a restored or collected list). */
function sharedIfEmpty<T>(list: readonly T[], empty: readonly T[]): readonly T[] {
  return list.length === 0 ? empty : list;
}

interface PendingConn {
  readonly conn: ConnRecord;
  weirds: readonly WeirdRecord[];
  readonly deadlineUs: number;
  readonly seq: number;
}

interface EmittedConn {
  readonly conn: ConnRecord;
  weirds: readonly WeirdRecord[];
  headers: readonly PacketHeader[];
  previousClose: PreviousClose | undefined;
  readonly seq: number;
}

interface StoredHeader {
  readonly h: PacketHeader;
  /** Joined a conn at least once: its expiry is not a discard. */
  joined: boolean;
  readonly seq: number;
}

interface WaitingWeirds {
  readonly observer: string | undefined;
  readonly list: WeirdRecord[];
  /** Latest record time among them, µs. */
  latestTsUs: number;
  readonly seq: number;
}

/** Tolerance when deciding whether a header lies inside a conn's own [ts, ts + duration]. */
const CORE_TOLERANCE_US = 1_000;

/** The correlator's key of a conn (observer + uid). */
function connKey(observer: string | undefined, uid: string): string {
  return `${observer ?? ''}|${uid}`;
}

/**
 * The 4-tuple's key (with the observer). Joined rather than concatenated: a key built by `+` is
 * a chain of cons strings, which hashing flattens but leaves as a wrapper beside the flat string,
 * one more object per remembered close for the collector (bench/README.md, "State").
 */
function tupleKey(c: ConnRecord): string {
  return [c.observer ?? '', c.origH, c.origP, c.respH, c.respP].join('|');
}

/**
 * `tupleKey(a) === tupleKey(b)` without building either key (rememberClose compares every conn
 * of a flow): addresses hold no `|`, so the keys are equal exactly when the parts are.
 */
function sameTuple(a: ConnRecord, b: ConnRecord): boolean {
  return a.origP === b.origP && a.respP === b.respP && a.origH === b.origH && a.respH === b.respH && (a.observer ?? '') === (b.observer ?? '');
}

function observersCompatible(h: PacketHeader, c: ConnRecord): boolean {
  return h.sensor === null || c.observer === undefined || h.sensor === c.observer;
}

function connEndUs(c: ConnRecord): number {
  return c.tsUs + (c.durationUs ?? 0);
}

/** Same connection, same record: a replay. Another 5-tuple or start time under one uid is a conflict. */
function sameConn(a: ConnRecord, b: ConnRecord): boolean {
  return a.tsUs === b.tsUs && a.origH === b.origH && a.origP === b.origP && a.respH === b.respH && a.respP === b.respP && a.proto === b.proto;
}

function describeConn(c: ConnRecord): string {
  return `${c.proto} ${c.origH}:${c.origP} -> ${c.respH}:${c.respP} at ${c.tsUs} µs`;
}

export function createCorrelator(settings: CorrelateSettings, clock: Clock, options: CorrelatorOptions = {}): Correlator {
  // Capped stores, evicted and expired oldest first: OrderedMap, not Map (ordered-map.ts).
  const pending = new OrderedMap<string, PendingConn>();
  const emitted = new OrderedMap<string, EmittedConn>();
  // How many emitted conns of each flow hold headers (only those can own a new conn's packets,
  // see addConn): a flow of many header-less conns (mDNS, NetBIOS) is then not walked per conn.
  const headedByCid = new Map<string, number>();
  const dirty = new Map<string, number>(); // key -> processing time it became dirty
  const weirds = new OrderedMap<string, WaitingWeirds>();
  const headersByCid = new Map<string, StoredHeader[]>();
  let headerQueue: string[] = [];
  let headerQueueHead = 0;
  let headerCount = 0;
  const connsByCid = new FlowIndex();
  const recentCloses = new OrderedMap<string, PreviousClose>();
  const closeSeqs = new Map<string, number>();
  const track = options.trackChanges === true;
  const hosts = createHostBaselineStore(settings.maxHosts, settings.hostSamples, track);
  let seq = 0;
  const nextSeq = (): number => seq++;
  // What changed since the last drainChanges(): flows' headers by Community ID, conns by key
  // (with their Community ID), waiting weirds by conn key, closes by 4-tuple, and whether the
  // stream times moved.
  const touchedHeaders = new Set<string>();
  const touchedConns = new Map<string, string>();
  const touchedWeirds = new Set<string>();
  const touchedCloses = new Set<string>();
  let streamTouched = false;
  const touchHeaders = track ? (cid: string): void => void touchedHeaders.add(cid) : (): void => undefined;
  const touchConn = track ? (key: string, cid: string): void => void touchedConns.set(key, cid) : (): void => undefined;
  const touchWeirds = track ? (key: string): void => void touchedWeirds.add(key) : (): void => undefined;
  const touchClose = track ? (key: string): void => void touchedCloses.add(key) : (): void => undefined;
  const evictions: EvictionCounters = { ...NO_EVICTIONS };
  const discards: DiscardCounters = { ...NO_DISCARDS };
  let lastNow = Number.NEGATIVE_INFINITY;
  let streamUs = Number.NEGATIVE_INFINITY;
  // One entry per sensor (observer name): as many as the deployment has sensors.
  const streamByObserver = new Map<string, number>();
  const streamOf = (observer: string | null | undefined): number => (observer === null ? streamUs : (streamByObserver.get(observer ?? '') ?? Number.NEGATIVE_INFINITY));

  const now = (): number => {
    lastNow = Math.max(lastNow, clock.now());
    return lastNow;
  };

  const indexConn = (cid: string, key: string): void => {
    touchConn(key, cid);
    connsByCid.add(cid, key);
  };
  const unindexConn = (cid: string, key: string): void => {
    touchConn(key, cid);
    connsByCid.delete(cid, key);
  };

  const hasDirtySibling = (cid: string, key: string): boolean => {
    for (const k of connsByCid.keysOf(cid)) if (k !== key && dirty.has(k)) return true;
    return false;
  };

  const hasPendingConn = (cid: string): boolean => {
    for (const k of connsByCid.keysOf(cid)) if (pending.has(k)) return true;
    return false;
  };

  const countHeaded = (cid: string, d: number): void => {
    const n = (headedByCid.get(cid) ?? 0) + d;
    if (n === 0) headedByCid.delete(cid);
    else headedByCid.set(cid, n);
  };
  const setEmitted = (key: string, e: EmittedConn): void => {
    const old = emitted.get(key);
    if (old !== undefined && old.headers.length > 0) countHeaded(old.conn.communityId, -1);
    emitted.set(key, e);
    if (e.headers.length > 0) countHeaded(e.conn.communityId, 1);
  };
  /** Removes `e`, the entry at `key`. */
  const deleteEmitted = (key: string, e: EmittedConn): void => {
    emitted.delete(key);
    if (e.headers.length > 0) countHeaded(e.conn.communityId, -1);
  };

  const knownConn = (key: string): ConnRecord | undefined => pending.get(key)?.conn ?? emitted.get(key)?.conn;

  const looseWindowHolds = (c: ConnRecord, tsUs: number): boolean => tsUs >= c.tsUs - settings.headerBeforeUs && tsUs <= connEndUs(c) + settings.headerAfterUs;
  const coreHolds = (c: ConnRecord, tsUs: number): boolean => tsUs >= c.tsUs - CORE_TOLERANCE_US && tsUs <= connEndUs(c) + CORE_TOLERANCE_US;

  /**
   * Headers of the conn's flow in its window. Retried connections on one 4-tuple share a
   * Community ID and have overlapping windows (pop3-rej: three REJs 0.5 s apart), so a header
   * that lies inside another known conn's own [ts, ts + duration] and not inside this one's
   * belongs to that other conn.
   */
  const siblingsOf = (key: string, c: ConnRecord): ConnRecord[] => {
    const siblings: ConnRecord[] = [];
    for (const k of connsByCid.keysOf(c.communityId)) {
      if (k === key) continue;
      const other = knownConn(k);
      if (other !== undefined && other.observer === c.observer) siblings.push(other);
    }
    return siblings;
  };
  /** The header belongs to `c`: in its window, and not inside a sibling's own span unless inside c's too. */
  const belongs = (c: ConnRecord, siblings: readonly ConnRecord[], h: PacketHeader): boolean =>
    observersCompatible(h, c) && looseWindowHolds(c, h.tsUs) && (coreHolds(c, h.tsUs) || !siblings.some((o) => coreHolds(o, h.tsUs)));

  const collectHeaders = (key: string, c: ConnRecord): PacketHeader[] => {
    const stored = headersByCid.get(c.communityId);
    if (stored === undefined) return [];
    const siblings = siblingsOf(key, c);
    const out: PacketHeader[] = [];
    for (const s of stored) {
      if (!belongs(c, siblings, s.h)) continue;
      if (!s.joined) {
        s.joined = true;
        touchHeaders(c.communityId);
      }
      out.push(s.h);
    }
    return out;
  };

  /** Sorted by time in place; an empty list becomes the shared one. */
  const sortByTs = (hs: PacketHeader[]): readonly PacketHeader[] => sharedIfEmpty(hs.sort((a, b) => a.tsUs - b.tsUs), NO_HEADERS);

  const build = (c: ConnRecord, ws: readonly WeirdRecord[], hs: readonly PacketHeader[], prev: PreviousClose | undefined): Correlated => ({
    conn: c,
    weirds: ws,
    headers: hs,
    // As of the connection's last packet: its RST is judged against what the host sent before it.
    hostBaselines: { orig: hosts.get(c.observer, c.origH, connEndUs(c)), resp: hosts.get(c.observer, c.respH, connEndUs(c)) },
    previousClose: prev,
  });

  const markDirty = (key: string, atUs: number): void => {
    const e = emitted.get(key);
    if (e !== undefined) touchConn(key, e.conn.communityId);
    if (!dirty.has(key)) dirty.set(key, atUs);
  };

  /** The remembered close on the conn's 4-tuple (`key`, its tupleKey): looked up once per emitted conn, for both functions below. */
  const lastCloseOn = (c: ConnRecord, key: string): PreviousClose | undefined => (c.canonified === true ? undefined : recentCloses.get(key));

  /** The latest close on the conn's 4-tuple that ended before it started, if any is remembered (`known`: lastCloseOn). */
  const previousCloseOf = (c: ConnRecord, known: PreviousClose | undefined): PreviousClose | undefined =>
    known !== undefined && known.uid !== c.uid && known.closedTsUs <= c.tsUs + CORE_TOLERANCE_US ? known : undefined;

  /**
   * Remembers `c` as the last close on its 4-tuple (the latest in record time wins, whatever the
   * arrival order), and re-opens emitted conns on that tuple that started after it closed but
   * were classified before it arrived: their previous close changed.
   */
  const rememberClose = (c: ConnRecord, key: string, known: PreviousClose | undefined, t: number): number => {
    // Canonified logs have no real ts: a close time from them would be meaningless.
    if (c.canonified === true || c.proto !== 'tcp') return 0;
    const close: PreviousClose = { uid: c.uid, observer: c.observer, closedTsUs: connEndUs(c), connState: c.connState, history: c.history };
    let evicted = 0;
    if (known === undefined || known.closedTsUs <= close.closedTsUs) {
      if (known !== undefined) recentCloses.delete(key);
      if (recentCloses.size >= settings.maxRecentCloses) {
        const oldest = recentCloses.oldest();
        if (oldest !== undefined) {
          recentCloses.delete(oldest[0]);
          closeSeqs.delete(oldest[0]);
          touchClose(oldest[0]);
          evictions.recentCloses++;
          evicted++;
        }
      }
      recentCloses.set(key, close);
      closeSeqs.set(key, nextSeq());
      touchClose(key);
    }
    for (const k of connsByCid.keysOf(c.communityId)) {
      const e = emitted.get(k);
      if (e === undefined || e.conn.uid === c.uid || !sameTuple(e.conn, c)) continue;
      if (close.closedTsUs > e.conn.tsUs + CORE_TOLERANCE_US) continue; // not before it
      if (e.previousClose !== undefined && e.previousClose.closedTsUs >= close.closedTsUs) continue;
      e.previousClose = close;
      markDirty(k, t);
    }
    return evicted;
  };

  /** Moves a pending conn to the emitted map and returns its first emission. */
  const emitPending = (key: string, p: PendingConn, t: number, out: Emission[]): number => {
    pending.delete(key);
    touchConn(key, p.conn.communityId);
    let evicted = 0;
    const hs = sortByTs(collectHeaders(key, p.conn));
    // The 4-tuple's key, built once for both the previous close and this conn's own close.
    const tuple = tupleKey(p.conn);
    const lastClose = lastCloseOn(p.conn, tuple);
    const prev = previousCloseOf(p.conn, lastClose);
    if (emitted.size >= settings.maxEmittedConns) {
      const oldest = emitted.oldest();
      if (oldest !== undefined) {
        const [k, e] = oldest;
        deleteEmitted(k, e);
        dirty.delete(k);
        unindexConn(e.conn.communityId, k);
        evictions.emittedConns++;
        evicted++;
      }
    }
    setEmitted(key, { conn: p.conn, weirds: p.weirds, headers: hs, previousClose: prev, seq: nextSeq() });
    out.push({ kind: 'new', correlated: build(p.conn, p.weirds, hs, prev), key });
    evicted += rememberClose(p.conn, tuple, lastClose, t);
    return evicted;
  };

  const emitUpdate = (key: string, e: EmittedConn, out: Emission[]): void => {
    dirty.delete(key);
    // Recomputed, not merged: a sibling that arrived since may own some of the headers. Headers
    // the store no longer holds (expired, evicted) stay when they still belong.
    const fresh = collectHeaders(key, e.conn);
    const seen = new Set(fresh);
    const storedNow = new Set((headersByCid.get(e.conn.communityId) ?? []).map((x) => x.h));
    const siblings = siblingsOf(key, e.conn);
    for (const h of e.headers) if (!seen.has(h) && !storedNow.has(h) && belongs(e.conn, siblings, h)) fresh.push(h);
    const had = e.headers.length > 0;
    e.headers = sortByTs(fresh);
    if (had !== e.headers.length > 0) countHeaded(e.conn.communityId, had ? -1 : 1);
    touchConn(key, e.conn.communityId);
    out.push({ kind: 'update', correlated: build(e.conn, e.weirds, e.headers, e.previousClose), key });
  };

  const dropOldestHeader = (): StoredHeader | undefined => {
    const cid = headerQueue[headerQueueHead];
    if (cid === undefined) return undefined;
    headerQueueHead++;
    touchHeaders(cid);
    const list = headersByCid.get(cid);
    const dropped = list?.shift();
    // A written conn that refers to it by seq must now carry it in full (connState).
    if (track && dropped?.joined === true) {
      for (const k of connsByCid.keysOf(cid)) if (emitted.get(k)?.headers.includes(dropped.h) === true) touchConn(k, cid);
    }
    if (list !== undefined) {
      headerCount--;
      if (list.length === 0) headersByCid.delete(cid);
    }
    if (headerQueueHead > 4096 && headerQueueHead * 2 > headerQueue.length) {
      headerQueue = headerQueue.slice(headerQueueHead);
      headerQueueHead = 0;
    }
    if (dropped !== undefined && !dropped.joined) discards.headersUnjoined++;
    return dropped;
  };

  /** Drops what the stream time has left behind: nothing that is still to come can use it. */
  const expire = (): void => {
    const late = settings.lateWindowUs;
    // Each store is in arrival order; expiry stops at the first entry still inside its window.
    for (;;) {
      const cid = headerQueue[headerQueueHead];
      if (cid === undefined) break;
      const first = headersByCid.get(cid)?.[0];
      if (first !== undefined && first.h.tsUs >= streamOf(first.h.sensor) - late) break;
      // A conn of this flow still waits its grace: its evidence stays until it is classified
      // (it arrived late in stream terms, which Zeek's logging delays make common).
      if (hasPendingConn(cid)) break;
      dropOldestHeader();
    }
    for (const [k, w] of weirds) {
      if (w.latestTsUs >= streamOf(w.observer) - late) break;
      weirds.delete(k);
      touchWeirds(k);
      discards.weirdsUnjoined += w.list.length;
    }
    for (const [k, e] of emitted) {
      if (connEndUs(e.conn) >= streamOf(e.conn.observer) - late) break;
      if (dirty.has(k)) continue; // emitted by the dirty pass first
      // A sibling on the flow still has an update to write: it needs this conn to tell its own
      // headers from this one's (classify, which expires nothing, knows every sibling).
      if (hasDirtySibling(e.conn.communityId, k)) continue;
      deleteEmitted(k, e);
      unindexConn(e.conn.communityId, k);
    }
    const closeMemory = Math.max(late, settings.closeMemoryUs);
    for (const [k, c] of recentCloses) {
      if (c.closedTsUs >= streamOf(c.observer) - closeMemory) break;
      recentCloses.delete(k);
      closeSeqs.delete(k);
      touchClose(k);
    }
  };

  const step = (ready: Emission[], evicted: number): CorrelatorStep => ({ ready, evicted });

  /** The headers held for one flow, or null when none is. */
  const headersState = (cid: string): StateValue | null => {
    const stored = headersByCid.get(cid);
    if (stored === undefined) return null;
    return { t: 'flow', headers: stored.map((x): StoredHeaderState => ({ seq: x.seq, header: x.h, joined: x.joined })) };
  };

  /**
   * One conn, or null when it is no longer held. A written conn names the headers of its last
   * document by their seq in its flow's entry (`seqsOf`), or in full for those the flow no longer
   * holds: dropOldestHeader rewrites the conns that named a header it drops.
   */
  const connState = (key: string, seqsOf: (cid: string) => ReadonlyMap<PacketHeader, number>): StateValue | null => {
    const p = pending.get(key);
    if (p !== undefined) return { t: 'conn', key, seq: p.seq, stage: 'p', conn: p.conn, weirds: p.weirds };
    const e = emitted.get(key);
    if (e === undefined) return null;
    const refs = e.headers.length === 0 ? undefined : seqsOf(e.conn.communityId);
    return {
      t: 'conn', key, seq: e.seq, stage: 'e', conn: e.conn, weirds: e.weirds,
      headers: e.headers.map((h) => refs?.get(h) ?? h),
      ...(e.previousClose === undefined ? {} : { previousClose: e.previousClose }),
      ...(dirty.has(key) ? { dirty: true as const } : {}),
    };
  };

  /** The seq of each header stored for a flow, built at most once per flow and drain. */
  const headerSeqs = (): ((cid: string) => ReadonlyMap<PacketHeader, number>) => {
    const byCid = new Map<string, Map<PacketHeader, number>>();
    return (cid) => {
      let m = byCid.get(cid);
      if (m === undefined) {
        m = new Map();
        for (const x of headersByCid.get(cid) ?? []) m.set(x.h, x.seq);
        byCid.set(cid, m);
      }
      return m;
    };
  };

  const streamState = (): StateValue => ({ t: 'stream', streamUs: Number.isFinite(streamUs) ? streamUs : null, byObserver: [...streamByObserver] });

  return {
    addConn(conn) {
      const t = now();
      const key = connKey(conn.observer, conn.uid);
      const out: Emission[] = [];
      let evicted = 0;
      const known = knownConn(key);
      if (known !== undefined) {
        if (sameConn(known, conn)) {
          discards.duplicateConns++; // a replay: the document it would give exists already
          return step(out, 0);
        }
        return {
          ready: out,
          evicted: 0,
          refused: { reason: 'conflicting_duplicate', detail: `uid ${conn.uid} (observer ${conn.observer ?? '-'}) is already known as ${describeConn(known)}; this record says ${describeConn(conn)}` },
        };
      }
      if (conn.canonified !== true) {
        const end = connEndUs(conn);
        const observed = streamOf(conn.observer);
        if (end > streamUs || end > observed) streamTouched = true;
        streamUs = Math.max(streamUs, end);
        if (end > observed) streamByObserver.set(conn.observer ?? '', end);
      }
      const stored = weirds.get(key);
      if (stored !== undefined) {
        weirds.delete(key);
        touchWeirds(key);
      }
      if (pending.size >= settings.maxPendingConns) {
        const oldest = pending.oldest();
        if (oldest !== undefined) {
          evictions.pendingConns++;
          evicted += 1 + emitPending(oldest[0], oldest[1], t, out);
        }
      }
      pending.set(key, { conn, weirds: stored?.list ?? NO_WEIRDS, deadlineUs: t + settings.graceUs, seq: nextSeq() });
      indexConn(conn.communityId, key);
      // A retry on the same 4-tuple classified earlier may hold this conn's packets: re-open it.
      if (headedByCid.has(conn.communityId)) {
        for (const k of connsByCid.keysOf(conn.communityId)) {
          const e = emitted.get(k);
          if (e !== undefined && e.conn.observer === conn.observer && e.headers.some((h) => coreHolds(conn, h.tsUs) && !coreHolds(e.conn, h.tsUs))) markDirty(k, t);
        }
      }
      return step(out, evicted);
    },

    addWeird(weird) {
      const t = now();
      if (weird.uid === undefined) {
        discards.weirdsWithoutUid++;
        return step([], 0);
      }
      const key = connKey(weird.observer, weird.uid);
      const roomFor = (list: readonly WeirdRecord[]): boolean => {
        if (list.length < settings.maxWeirdsPerUid) return true;
        discards.weirdsOverCap++;
        return false;
      };
      // A conn's list is replaced, not changed (NO_WEIRDS): documents built from it keep theirs.
      const p = pending.get(key);
      const held = p ?? emitted.get(key);
      if (held !== undefined) {
        if (roomFor(held.weirds)) {
          held.weirds = [...held.weirds, weird];
          if (p !== undefined) touchConn(key, held.conn.communityId);
          else markDirty(key, t); // written already: its document is rewritten
        }
        return step([], 0);
      }
      const w = weirds.get(key);
      if (w !== undefined) {
        if (roomFor(w.list)) {
          w.list.push(weird);
          w.latestTsUs = Math.max(w.latestTsUs, weird.tsUs);
          touchWeirds(key);
        }
        return step([], 0);
      }
      let evicted = 0;
      if (weirds.size >= settings.maxWeirdUids) {
        const oldest = weirds.oldest();
        if (oldest !== undefined) {
          weirds.delete(oldest[0]);
          touchWeirds(oldest[0]);
          discards.weirdsUnjoined += oldest[1].list.length;
          evictions.weirdUids++;
          evicted++;
        }
      }
      weirds.set(key, { observer: weird.observer, list: [weird], latestTsUs: weird.tsUs, seq: nextSeq() });
      touchWeirds(key);
      return step([], evicted);
    },

    addHeader(header) {
      const t = now();
      let evicted = hosts.observe(header);
      evictions.hosts += evicted;
      if (headerCount >= settings.maxHeaders) {
        dropOldestHeader();
        evictions.headers++;
        evicted++;
      }
      let list = headersByCid.get(header.communityId);
      if (list === undefined) {
        list = [];
        headersByCid.set(header.communityId, list);
      }
      const stored: StoredHeader = { h: header, joined: false, seq: nextSeq() };
      list.push(stored);
      touchHeaders(header.communityId);
      headerQueue.push(header.communityId);
      headerCount++;
      for (const key of connsByCid.keysOf(header.communityId)) {
        const e = emitted.get(key);
        if (e !== undefined && observersCompatible(header, e.conn) && looseWindowHolds(e.conn, header.tsUs)) markDirty(key, t);
      }
      return step([], evicted);
    },

    tick() {
      const t = now();
      const out: Emission[] = [];
      let evicted = 0;
      const due: [string, PendingConn][] = [];
      for (const entry of pending) {
        if (entry[1].deadlineUs > t) break;
        due.push(entry);
      }
      due.sort((a, b) => a[1].conn.tsUs - b[1].conn.tsUs);
      for (const [k, p] of due) evicted += emitPending(k, p, t, out);
      for (const [k, since] of [...dirty]) {
        const e = emitted.get(k);
        if (e === undefined) dirty.delete(k);
        else if (since + settings.graceUs <= t) emitUpdate(k, e, out);
      }
      expire();
      return step(out, evicted);
    },

    flush() {
      const t = now();
      const out: Emission[] = [];
      let evicted = 0;
      const all = [...pending].sort((a, b) => a[1].conn.tsUs - b[1].conn.tsUs);
      for (const [k, p] of all) evicted += emitPending(k, p, t, out);
      for (const k of [...dirty.keys()]) {
        const e = emitted.get(k);
        if (e === undefined) dirty.delete(k);
        else emitUpdate(k, e, out);
      }
      return step(out, evicted);
    },

    stats() {
      return {
        pendingConns: pending.size,
        emittedConns: emitted.size,
        pendingUpdates: dirty.size,
        weirdUids: weirds.size,
        headers: headerCount,
        hosts: hosts.size(),
        recentCloses: recentCloses.size,
        streamUs,
        evictions: { ...evictions },
        discards: { ...discards },
      };
    },

    drainChanges() {
      if (!track) return [];
      const out: StateChange[] = [];
      for (const cid of touchedHeaders) out.push({ key: flowKey(cid), value: headersState(cid) });
      const seqsOf = headerSeqs();
      for (const [key, cid] of touchedConns) out.push({ key: connEntryKey(cid, key), value: connState(key, seqsOf) });
      for (const key of touchedWeirds) {
        const w = weirds.get(key);
        out.push({ key: weirdsKey(key), value: w === undefined ? null : { t: 'weirds', key, seq: w.seq, ...(w.observer === undefined ? {} : { observer: w.observer }), list: w.list.slice(), latestTsUs: w.latestTsUs } });
      }
      for (const key of touchedCloses) {
        const close = recentCloses.get(key);
        const closeSeq = closeSeqs.get(key);
        out.push({ key: closeKey(key), value: close === undefined || closeSeq === undefined ? null : { t: 'close', key, seq: closeSeq, close } });
      }
      for (const { host, entry } of hosts.drainChanges(nextSeq)) {
        out.push({ key: hostKey(host), value: entry === null ? null : { t: 'host', key: host, seq: entry.seq, samples: entry.samples } });
      }
      if (streamTouched) out.push({ key: STREAM_KEY, value: streamState() });
      touchedHeaders.clear();
      touchedConns.clear();
      touchedWeirds.clear();
      touchedCloses.clear();
      streamTouched = false;
      return out;
    },

    restore(values) {
      if (pending.size + emitted.size + weirds.size + headerCount + recentCloses.size + hosts.size() > 0) throw new Error('restore needs an empty correlator');
      const t = now();
      const pend: { key: string; c: FlowConnState }[] = [];
      const emit: { key: string; c: FlowConnState }[] = [];
      const stored: { cid: string; s: StoredHeaderState }[] = [];
      const waiting: Extract<StateValue, { t: 'weirds' }>[] = [];
      const closes: Extract<StateValue, { t: 'close' }>[] = [];
      const hostEntries: HostEntry[] = [];
      // Conns restored from a flow entry written before conns had their own: written again under
      // their own keys at the next checkpoint, with their flow's entry (without them).
      const legacy: FlowConnState[] = [];
      let maxSeq = -1;
      const restoreConn = (c: FlowConnState): void => {
        maxSeq = Math.max(maxSeq, c.seq);
        if (c.stage === 'p') pend.push({ key: c.key, c });
        else emit.push({ key: c.key, c });
      };
      for (const v of values) {
        switch (v.t) {
          case 'flow': {
            for (const s of v.headers) {
              stored.push({ cid: s.header.communityId, s });
              maxSeq = Math.max(maxSeq, s.seq);
            }
            for (const c of v.conns ?? []) {
              restoreConn(c);
              legacy.push(c);
            }
            break;
          }
          case 'conn': restoreConn(v); break;
          case 'weirds': waiting.push(v); maxSeq = Math.max(maxSeq, v.seq); break;
          case 'close': closes.push(v); maxSeq = Math.max(maxSeq, v.seq); break;
          case 'host': hostEntries.push({ host: v.key, seq: v.seq, samples: v.samples }); maxSeq = Math.max(maxSeq, v.seq); break;
          case 'stream':
            streamUs = v.streamUs ?? Number.NEGATIVE_INFINITY;
            for (const [observer, us] of v.byObserver) streamByObserver.set(observer, us);
            break;
          default: {
            const unknown: never = v;
            throw new Error(`unknown state entry ${JSON.stringify(unknown)}`);
          }
        }
      }
      const bySeq = <T extends { readonly seq: number }>(a: T, b: T): number => a.seq - b.seq;
      stored.sort((a, b) => a.s.seq - b.s.seq);
      // The restored headers are the objects the written conns refer to, so an update recomputes
      // them exactly as it would have before the restart.
      const restoredHeader = new Map<number, PacketHeader>();
      for (const { cid, s } of stored) {
        let list = headersByCid.get(cid);
        if (list === undefined) {
          list = [];
          headersByCid.set(cid, list);
        }
        list.push({ h: s.header, joined: s.joined, seq: s.seq });
        restoredHeader.set(s.seq, s.header);
        headerQueue.push(cid);
        headerCount++;
      }
      for (const { key, c } of pend.sort((a, b) => a.c.seq - b.c.seq)) {
        pending.set(key, { conn: c.conn, weirds: sharedIfEmpty(c.weirds, NO_WEIRDS), deadlineUs: t + settings.graceUs, seq: c.seq });
        indexConn(c.conn.communityId, key);
      }
      for (const { key, c } of emit.sort((a, b) => a.c.seq - b.c.seq)) {
        const hs = (c.headers ?? []).map((h) => (typeof h === 'number' ? restoredHeader.get(h) : h)).filter((h): h is PacketHeader => h !== undefined);
        setEmitted(key, { conn: c.conn, weirds: sharedIfEmpty(c.weirds, NO_WEIRDS), headers: sharedIfEmpty(hs, NO_HEADERS), previousClose: c.previousClose, seq: c.seq });
        indexConn(c.conn.communityId, key);
        if (c.dirty === true) dirty.set(key, t);
      }
      for (const w of waiting.sort(bySeq)) weirds.set(w.key, { observer: w.observer, list: [...w.list], latestTsUs: w.latestTsUs, seq: w.seq });
      for (const r of closes.sort(bySeq)) {
        recentCloses.set(r.key, r.close);
        closeSeqs.set(r.key, r.seq);
      }
      hosts.restore(hostEntries);
      seq = maxSeq + 1;
      // The restored correlator is what the changelog holds: nothing to write back, but legacy entries.
      touchedHeaders.clear();
      touchedConns.clear();
      for (const c of legacy) {
        touchConn(c.key, c.conn.communityId);
        touchHeaders(c.conn.communityId);
      }
    },

    unjoinedNow() {
      let unjoinedHeaders = 0;
      for (const list of headersByCid.values()) for (const stored of list) if (!stored.joined) unjoinedHeaders++;
      let unjoinedWeirds = 0;
      for (const w of weirds.values()) unjoinedWeirds += w.list.length;
      return { headers: unjoinedHeaders, weirds: unjoinedWeirds };
    },
  };
}

/** File mode has no wall clock: time is the latest record time seen (µs). */
export interface RecordClock extends Clock {
  observe(tsUs: number): void;
}

export function createRecordClock(): RecordClock {
  let latest = 0;
  return {
    now: () => latest,
    observe(tsUs) {
      if (tsUs > latest) latest = tsUs;
    },
  };
}
