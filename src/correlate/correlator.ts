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
 * Pure and deterministic: time comes from the injected clock (µs), never from the system. It is
 * a component fed by a source, so a repartition step (docs/correlation.md) can sit in front of it.
 */
import type { ConnRecord, ConnState, PacketHeader, WeirdRecord } from '../domain';
import { createHostBaselineStore, type Baseline } from './baseline';
import type { CorrelateSettings } from './settings';

export interface Clock {
  /** Current time, µs since the epoch (wall clock in `run`, record time in file mode). */
  now(): number;
}

/** The last connection seen on the same 4-tuple (for TIME_WAIT reuse). */
export interface PreviousClose {
  readonly uid: string;
  /** ts + duration of that connection, µs. */
  readonly closedTsUs: number;
  readonly connState: ConnState | undefined;
  readonly history: string | undefined;
}

/** One conn with all the evidence joined to it: what classification reads. */
export interface Correlated {
  readonly conn: ConnRecord;
  readonly weirds: readonly WeirdRecord[];
  /** Sampled headers of this flow, sorted by time. */
  readonly headers: readonly PacketHeader[];
  /** Host baselines (from other flows too) of the two endpoints, at emission time. */
  readonly hostBaselines: { readonly orig: Baseline | undefined; readonly resp: Baseline | undefined };
  readonly previousClose: PreviousClose | undefined;
}

export interface Emission {
  /** `new`: first classification; `update`: late evidence, re-write the same document. */
  readonly kind: 'new' | 'update';
  readonly correlated: Correlated;
}

export interface CorrelatorStep {
  readonly ready: readonly Emission[];
  /** Entries evicted by caps during this call (all maps together). */
  readonly evicted: number;
}

export interface EvictionCounters {
  pendingConns: number;
  emittedConns: number;
  weirdUids: number;
  headers: number;
  hosts: number;
  recentCloses: number;
}

export interface CorrelatorStats {
  readonly pendingConns: number;
  readonly emittedConns: number;
  readonly weirdUids: number;
  readonly headers: number;
  readonly hosts: number;
  readonly recentCloses: number;
  readonly evictions: Readonly<EvictionCounters>;
}

export interface Correlator {
  addConn(conn: ConnRecord): CorrelatorStep;
  addWeird(weird: WeirdRecord): CorrelatorStep;
  addHeader(header: PacketHeader): CorrelatorStep;
  /** Emits conns whose grace has passed and dirty updates; expires old state. */
  tick(): CorrelatorStep;
  /** Emits everything pending (end of a file, shutdown). */
  flush(): CorrelatorStep;
  stats(): CorrelatorStats;
}

interface PendingConn {
  readonly conn: ConnRecord;
  readonly weirds: WeirdRecord[];
  readonly deadlineUs: number;
}

interface EmittedConn {
  readonly conn: ConnRecord;
  readonly weirds: WeirdRecord[];
  headers: readonly PacketHeader[];
  readonly emittedAtUs: number;
  readonly previousClose: PreviousClose | undefined;
}

interface StoredHeader {
  readonly h: PacketHeader;
  readonly arrivalUs: number;
}

/** Tolerance when deciding whether a header lies inside a conn's own [ts, ts + duration]. */
const CORE_TOLERANCE_US = 1_000;

function connKey(observer: string | undefined, uid: string): string {
  return `${observer ?? ''}|${uid}`;
}

function tupleKey(c: ConnRecord): string {
  return `${c.observer ?? ''}|${c.origH}|${c.origP}|${c.respH}|${c.respP}`;
}

function observersCompatible(h: PacketHeader, c: ConnRecord): boolean {
  return h.sensor === null || c.observer === undefined || h.sensor === c.observer;
}

export function createCorrelator(settings: CorrelateSettings, clock: Clock): Correlator {
  const pending = new Map<string, PendingConn>();
  const emitted = new Map<string, EmittedConn>();
  const dirty = new Map<string, number>(); // key -> time it became dirty
  const weirds = new Map<string, { readonly list: WeirdRecord[]; readonly arrivalUs: number }>();
  const headersByCid = new Map<string, StoredHeader[]>();
  let headerQueue: string[] = [];
  let headerQueueHead = 0;
  let headerCount = 0;
  const connsByCid = new Map<string, Set<string>>();
  const recentCloses = new Map<string, PreviousClose>();
  const hosts = createHostBaselineStore(settings.maxHosts, settings.hostSamples);
  const evictions: EvictionCounters = { pendingConns: 0, emittedConns: 0, weirdUids: 0, headers: 0, hosts: 0, recentCloses: 0 };
  let lastNow = Number.NEGATIVE_INFINITY;

  const now = (): number => {
    lastNow = Math.max(lastNow, clock.now());
    return lastNow;
  };

  const indexConn = (cid: string, key: string): void => {
    let set = connsByCid.get(cid);
    if (set === undefined) {
      set = new Set();
      connsByCid.set(cid, set);
    }
    set.add(key);
  };
  const unindexConn = (cid: string, key: string): void => {
    const set = connsByCid.get(cid);
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) connsByCid.delete(cid);
  };

  const knownConn = (key: string): ConnRecord | undefined => pending.get(key)?.conn ?? emitted.get(key)?.conn;

  const looseWindowHolds = (c: ConnRecord, tsUs: number): boolean =>
    tsUs >= c.tsUs - settings.headerBeforeUs && tsUs <= c.tsUs + (c.durationUs ?? 0) + settings.headerAfterUs;
  const coreHolds = (c: ConnRecord, tsUs: number): boolean =>
    tsUs >= c.tsUs - CORE_TOLERANCE_US && tsUs <= c.tsUs + (c.durationUs ?? 0) + CORE_TOLERANCE_US;

  /**
   * Headers of the conn's flow in its window. Retried connections on one 4-tuple share a
   * Community ID and have overlapping windows (pop3-rej: three REJs 0.5 s apart), so a header
   * that lies inside another known conn's own [ts, ts + duration] and not inside this one's
   * belongs to that other conn.
   */
  const collectHeaders = (key: string, c: ConnRecord): PacketHeader[] => {
    const stored = headersByCid.get(c.communityId);
    if (stored === undefined) return [];
    const siblings: ConnRecord[] = [];
    for (const k of connsByCid.get(c.communityId) ?? []) {
      if (k === key) continue;
      const other = knownConn(k);
      if (other !== undefined && other.observer === c.observer) siblings.push(other);
    }
    const out: PacketHeader[] = [];
    for (const { h } of stored) {
      if (!observersCompatible(h, c) || !looseWindowHolds(c, h.tsUs)) continue;
      if (!coreHolds(c, h.tsUs) && siblings.some((o) => coreHolds(o, h.tsUs))) continue;
      out.push(h);
    }
    return out;
  };

  const connEndUs = (c: ConnRecord): number => c.tsUs + (c.durationUs ?? 0);

  const sortByTs = (hs: PacketHeader[]): PacketHeader[] => hs.sort((a, b) => a.tsUs - b.tsUs);

  const build = (c: ConnRecord, ws: readonly WeirdRecord[], hs: readonly PacketHeader[], prev: PreviousClose | undefined): Correlated => ({
    conn: c,
    weirds: [...ws],
    headers: hs,
    // As of the connection's last packet: its RST is judged against what the host sent before it.
    hostBaselines: { orig: hosts.get(c.origH, connEndUs(c)), resp: hosts.get(c.respH, connEndUs(c)) },
    previousClose: prev,
  });

  const rememberClose = (c: ConnRecord): number => {
    // Canonified logs have no real ts: a close time from them would be meaningless.
    if (c.canonified === true || c.proto !== 'tcp') return 0;
    const key = tupleKey(c);
    recentCloses.delete(key);
    let evicted = 0;
    if (recentCloses.size >= settings.maxRecentCloses) {
      const oldest = recentCloses.keys().next();
      if (oldest.done !== true) {
        recentCloses.delete(oldest.value);
        evictions.recentCloses++;
        evicted++;
      }
    }
    recentCloses.set(key, { uid: c.uid, closedTsUs: c.tsUs + (c.durationUs ?? 0), connState: c.connState, history: c.history });
    return evicted;
  };

  /** Moves a pending conn to the emitted map and returns its first emission. */
  const emitPending = (key: string, p: PendingConn, atUs: number, out: Emission[]): number => {
    pending.delete(key);
    let evicted = 0;
    const hs = sortByTs(collectHeaders(key, p.conn));
    let prev: PreviousClose | undefined;
    if (p.conn.canonified !== true) {
      const candidate = recentCloses.get(tupleKey(p.conn));
      if (candidate !== undefined && candidate.uid !== p.conn.uid && candidate.closedTsUs <= p.conn.tsUs + CORE_TOLERANCE_US) prev = candidate;
    }
    evicted += rememberClose(p.conn);
    if (emitted.size >= settings.maxEmittedConns) {
      const oldest = emitted.entries().next();
      if (oldest.done !== true) {
        const [k, e] = oldest.value;
        emitted.delete(k);
        dirty.delete(k);
        unindexConn(e.conn.communityId, k);
        evictions.emittedConns++;
        evicted++;
      }
    }
    emitted.set(key, { conn: p.conn, weirds: p.weirds, headers: hs, emittedAtUs: atUs, previousClose: prev });
    out.push({ kind: 'new', correlated: build(p.conn, p.weirds, hs, prev) });
    return evicted;
  };

  const emitUpdate = (key: string, e: EmittedConn, out: Emission[]): void => {
    dirty.delete(key);
    const seen = new Set(e.headers);
    const merged = [...e.headers];
    for (const h of collectHeaders(key, e.conn)) if (!seen.has(h)) merged.push(h);
    e.headers = sortByTs(merged);
    out.push({ kind: 'update', correlated: build(e.conn, e.weirds, e.headers, e.previousClose) });
  };

  const markDirty = (key: string, atUs: number): void => {
    if (!dirty.has(key)) dirty.set(key, atUs);
  };

  const dropOldestHeader = (): void => {
    const cid = headerQueue[headerQueueHead];
    if (cid === undefined) return;
    headerQueueHead++;
    const list = headersByCid.get(cid);
    if (list !== undefined) {
      list.shift();
      headerCount--;
      if (list.length === 0) headersByCid.delete(cid);
    }
    if (headerQueueHead > 4096 && headerQueueHead * 2 > headerQueue.length) {
      headerQueue = headerQueue.slice(headerQueueHead);
      headerQueueHead = 0;
    }
  };

  const expire = (t: number): void => {
    const evidenceRetention = settings.lateWindowUs + settings.graceUs;
    for (;;) {
      const cid = headerQueue[headerQueueHead];
      if (cid === undefined) break;
      const first = headersByCid.get(cid)?.[0];
      if (first !== undefined && first.arrivalUs + evidenceRetention > t) break;
      dropOldestHeader();
    }
    for (const [k, w] of weirds) {
      if (w.arrivalUs + evidenceRetention > t) break;
      weirds.delete(k);
    }
    for (const [k, e] of emitted) {
      if (e.emittedAtUs + settings.lateWindowUs > t) break;
      if (dirty.has(k)) continue; // emitted by the dirty pass first
      emitted.delete(k);
      unindexConn(e.conn.communityId, k);
    }
    for (const [k, c] of recentCloses) {
      if (c.closedTsUs + settings.lateWindowUs > t) break;
      recentCloses.delete(k);
    }
  };

  const step = (ready: Emission[], evicted: number): CorrelatorStep => ({ ready, evicted });

  return {
    addConn(conn) {
      const t = now();
      const key = connKey(conn.observer, conn.uid);
      const out: Emission[] = [];
      let evicted = 0;
      const already = emitted.get(key);
      if (already !== undefined || pending.has(key)) return step(out, 0); // replayed duplicate: same document
      const stored = weirds.get(key);
      weirds.delete(key);
      if (pending.size >= settings.maxPendingConns) {
        const oldest = pending.entries().next();
        if (oldest.done !== true) {
          evictions.pendingConns++;
          evicted += 1 + emitPending(oldest.value[0], oldest.value[1], t, out);
        }
      }
      pending.set(key, { conn, weirds: stored?.list ?? [], deadlineUs: t + settings.graceUs });
      indexConn(conn.communityId, key);
      return step(out, evicted);
    },

    addWeird(weird) {
      const t = now();
      if (weird.uid === undefined) return step([], 0); // not tied to a connection
      const key = connKey(weird.observer, weird.uid);
      const p = pending.get(key);
      if (p !== undefined) {
        if (p.weirds.length < settings.maxWeirdsPerUid) p.weirds.push(weird);
        return step([], 0);
      }
      const e = emitted.get(key);
      if (e !== undefined) {
        if (e.weirds.length < settings.maxWeirdsPerUid) {
          e.weirds.push(weird);
          markDirty(key, t);
        }
        return step([], 0);
      }
      const w = weirds.get(key);
      if (w !== undefined) {
        if (w.list.length < settings.maxWeirdsPerUid) w.list.push(weird);
        return step([], 0);
      }
      let evicted = 0;
      if (weirds.size >= settings.maxWeirdUids) {
        const oldest = weirds.keys().next();
        if (oldest.done !== true) {
          weirds.delete(oldest.value);
          evictions.weirdUids++;
          evicted++;
        }
      }
      weirds.set(key, { list: [weird], arrivalUs: t });
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
      list.push({ h: header, arrivalUs: t });
      headerQueue.push(header.communityId);
      headerCount++;
      for (const key of connsByCid.get(header.communityId) ?? []) {
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
      expire(t);
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
        weirdUids: weirds.size,
        headers: headerCount,
        hosts: hosts.size(),
        recentCloses: recentCloses.size,
        evictions: { ...evictions },
      };
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
