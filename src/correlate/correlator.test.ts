import type { ConnRecord, PacketHeader, WeirdRecord } from '../domain';
import { createCorrelator, createRecordClock, type Clock } from './correlator';
import { DEFAULT_CORRELATE_SETTINGS, type CorrelateSettings } from './settings';
import { connEntryKey, flowKey, partitionKeyOf, type StateChange, type StateValue } from './state';

const S = 1_000_000;
const T0 = 1_700_000_000 * S;

function conn(uid: string, tsUs: number, over: Partial<ConnRecord> = {}): ConnRecord {
  return {
    tsUs,
    uid,
    origH: '10.0.0.1',
    origP: 40000,
    respH: '10.0.0.2',
    respP: 80,
    proto: 'tcp',
    durationUs: S,
    history: 'ShADadR',
    connState: 'RSTO',
    communityId: `cid-${uid}`,
    source: { kind: 'file', path: 't', line: 1 },
    ...over,
  };
}

function header(cid: string, tsUs: number, over: Partial<PacketHeader> = {}): PacketHeader {
  return {
    tsUs,
    sensor: null,
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 40000,
    dstPort: 80,
    ipVersion: 4,
    ipTtl: 64,
    ipId: 1,
    tcpFlags: 0x10,
    seq: 1,
    ack: 1,
    window: 100,
    payloadLen: 0,
    communityId: cid,
    ...over,
  };
}

function weird(uid: string, tsUs: number): WeirdRecord {
  return { tsUs, uid, name: 'data_after_reset', source: { kind: 'file', path: 't', line: 1 } };
}

function manualClock(start: number): Clock & { set(t: number): void } {
  let t = start;
  return { now: () => t, set: (x) => (t = x) };
}

describe('correlator', () => {
  it('joins evidence that arrives before its conn, and waits the grace', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addWeird(weird('A', T0));
    c.addHeader(header('cid-A', T0 + S / 2));
    expect(c.addConn(conn('A', T0)).ready).toEqual([]);
    clock.set(T0 + 4 * S);
    expect(c.tick().ready).toEqual([]);
    clock.set(T0 + 5 * S);
    const ready = c.tick().ready;
    expect(ready.map((e) => [e.kind, e.correlated.conn.uid, e.correlated.weirds.length, e.correlated.headers.length])).toEqual([['new', 'A', 1, 1]]);
  });

  it('joins evidence that arrives after its conn within the grace', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addConn(conn('A', T0));
    clock.set(T0 + 2 * S);
    c.addWeird(weird('A', T0));
    c.addHeader(header('cid-A', T0));
    clock.set(T0 + 6 * S);
    const [e] = c.tick().ready;
    expect([e?.correlated.weirds.length, e?.correlated.headers.length]).toEqual([1, 1]);
  });

  it('re-emits a conn as one update after late evidence, and forgets it after the late window', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addConn(conn('A', T0));
    clock.set(T0 + 6 * S);
    expect(c.tick().ready.map((e) => e.kind)).toEqual(['new']);
    clock.set(T0 + 60 * S);
    c.addHeader(header('cid-A', T0 + S / 2));
    c.addHeader(header('cid-A', T0 + S / 3));
    c.addWeird(weird('A', T0));
    expect(c.tick().ready).toEqual([]); // waits one grace to batch the burst
    clock.set(T0 + 66 * S);
    const upd = c.tick().ready;
    expect(upd.map((e) => [e.kind, e.correlated.headers.length, e.correlated.weirds.length])).toEqual([['update', 2, 1]]);
    // The late window is record time: processing time alone never closes it ...
    clock.set(T0 + 7000 * S);
    c.tick();
    expect(c.stats().emittedConns).toBe(1);
    // ... a conn that ends more than the late window after A's end does.
    c.addConn(conn('B', T0 + 700 * S, { communityId: 'cid-B' }));
    c.tick();
    expect(c.stats().emittedConns).toBe(0);
    c.addWeird(weird('A', T0 + 700 * S));
    clock.set(T0 + 7010 * S);
    expect(c.tick().ready.map((e) => e.correlated.conn.uid)).toEqual(['B']);
    expect(c.stats().weirdUids).toBe(1); // kept waiting for a conn that may come
  });

  it('leaves the evidence of an emission as it was when later evidence joins the conn', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addWeird(weird('A', T0));
    c.addConn(conn('A', T0));
    c.addConn(conn('B', T0, { communityId: 'cid-B' }));
    clock.set(T0 + 6 * S);
    const first = c.tick().ready;
    const byUid = (uid: string) => first.find((e) => e.correlated.conn.uid === uid)?.correlated;
    expect([byUid('A')?.weirds.length, byUid('B')?.weirds.length]).toEqual([1, 0]);
    c.addWeird(weird('A', T0 + S));
    c.addWeird(weird('B', T0 + S));
    c.addHeader(header('cid-B', T0));
    clock.set(T0 + 12 * S);
    const updates = c.tick().ready.map((e) => [e.correlated.conn.uid, e.correlated.weirds.length, e.correlated.headers.length]);
    expect(updates.sort()).toEqual([['A', 2, 0], ['B', 1, 1]]);
    // The documents of the first emission were built from these: they must not have changed.
    expect([byUid('A')?.weirds.length, byUid('B')?.weirds.length, byUid('B')?.headers.length]).toEqual([1, 0, 0]);
  });

  it('measures TIME_WAIT in record time even when the wall clock is years later (run replaying old logs)', () => {
    const wall = manualClock(Date.UTC(2026, 11, 1) * 1000);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, wall);
    c.addConn(conn('OLD', T0, { history: 'ShADadFf', connState: 'SF' }));
    wall.set(wall.now() + 6 * S);
    c.tick();
    c.addConn(conn('NEW', T0 + 30 * S, { history: 'Sr', connState: 'REJ' }));
    wall.set(wall.now() + 6 * S);
    const [e] = c.tick().ready;
    expect(e?.correlated.previousClose?.uid).toBe('OLD');
  });

  it('re-opens a conn when the previous close on its 4-tuple arrives after it', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    // One 4-tuple, so one Community ID.
    c.addConn(conn('NEW', T0 + 30 * S, { history: 'Sr', connState: 'REJ', communityId: 'cid-T' }));
    clock.set(T0 + 6 * S);
    const [first] = c.tick().ready;
    expect([first?.kind, first?.correlated.previousClose]).toEqual(['new', undefined]);
    c.addConn(conn('OLD', T0, { history: 'ShADadFf', connState: 'SF', communityId: 'cid-T' }));
    clock.set(T0 + 12 * S);
    const second = c.tick().ready;
    expect(second.map((e) => [e.kind, e.correlated.conn.uid])).toEqual([['new', 'OLD']]);
    clock.set(T0 + 18 * S);
    const third = c.tick().ready;
    expect(third.map((e) => [e.kind, e.correlated.conn.uid, e.correlated.previousClose?.uid])).toEqual([['update', 'NEW', 'OLD']]);
  });

  it('refuses a conn whose uid is known with another 5-tuple or start time, and counts identical replays', () => {
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, manualClock(T0));
    expect(c.addConn(conn('A', T0)).refused).toBeUndefined();
    expect(c.addConn(conn('A', T0)).refused).toBeUndefined();
    expect(c.addConn(conn('A', T0, { respP: 443 })).refused?.reason).toBe('conflicting_duplicate');
    expect(c.addConn(conn('A', T0 + S)).refused?.detail).toMatch(/uid A .*already known as tcp 10\.0\.0\.1:40000 -> 10\.0\.0\.2:80/);
    expect(c.flush().ready).toHaveLength(1);
    expect(c.stats().discards.duplicateConns).toBe(1);
  });

  it('keeps the evidence of a conn that waits its grace, even when the stream time is far past it', () => {
    // Zeek logs a conn when it is removed, so a short REJ can be logged after a long session that
    // ended minutes later: in stream terms the REJ is late, its packets must still join it.
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addHeader(header('cid-R', T0, { tcpFlags: 0x14 }));
    c.addConn(conn('LONG', T0, { communityId: 'cid-L', durationUs: 3600 * S }));
    c.addConn(conn('R', T0, { communityId: 'cid-R', history: 'Sr', connState: 'REJ' }));
    c.tick();
    expect(c.stats().headers).toBe(1);
    clock.set(T0 + 6 * S);
    const r = c.tick().ready.find((e) => e.correlated.conn.uid === 'R');
    expect(r?.correlated.headers).toHaveLength(1);
  });

  it('counts every record that never becomes part of a document, by kind', () => {
    const settings: CorrelateSettings = { ...DEFAULT_CORRELATE_SETTINGS, maxWeirdsPerUid: 2 };
    const c = createCorrelator(settings, manualClock(T0));
    c.addWeird({ tsUs: T0, name: 'truncated_header', source: { kind: 'file', path: 't', line: 1 } });
    for (let i = 0; i < 4; i++) c.addWeird(weird('A', T0));
    c.addWeird(weird('NEVER', T0));
    c.addWeird(weird('NEVER', T0));
    c.addHeader(header('cid-A', T0));
    c.addHeader(header('cid-nobody', T0));
    c.addHeader(header('cid-nobody', T0 + S));
    c.addConn(conn('A', T0));
    c.flush();
    // A conn far later in record time moves the stream past everything above.
    c.addConn(conn('LATER', T0 + 3600 * S, { communityId: 'cid-L' }));
    c.tick();
    expect(c.stats().discards).toEqual({ duplicateConns: 0, weirdsWithoutUid: 1, weirdsOverCap: 2, weirdsUnjoined: 2, headersUnjoined: 2 });
  });

  it('ignores headers outside [ts - 1 s, ts + duration + 5 s] and from another sensor', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addHeader(header('cid-A', T0 - 2 * S));
    c.addHeader(header('cid-A', T0 - S));
    c.addHeader(header('cid-A', T0 + 6 * S));
    c.addHeader(header('cid-A', T0 + 7 * S));
    c.addHeader(header('cid-A', T0, { sensor: 'other' }));
    c.addConn(conn('A', T0, { observer: 'me' }));
    const [e] = c.flush().ready;
    expect(e?.correlated.headers.map((h) => (h.tsUs - T0) / S)).toEqual([-1, 6]);
  });

  it('gives each retried connection on one 4-tuple its own packets (pop3-rej pattern)', () => {
    const clock = manualClock(T0);
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    const same = { communityId: 'cid-X', durationUs: 50_000, history: 'Sr', connState: 'REJ' as const };
    for (const [i, t] of [T0, T0 + 550_000, T0 + 1_100_000].entries()) {
      c.addHeader(header('cid-X', t, { tcpFlags: 0x02, ipId: i }));
      c.addHeader(header('cid-X', t + 50_000, { tcpFlags: 0x14, srcIp: '10.0.0.2', srcPort: 80, dstIp: '10.0.0.1', dstPort: 40000 }));
    }
    c.addConn(conn('R1', T0, same));
    c.addConn(conn('R2', T0 + 550_000, same));
    c.addConn(conn('R3', T0 + 1_100_000, same));
    const out = c.flush().ready;
    expect(out.map((e) => [e.correlated.conn.uid, e.correlated.headers.length, e.correlated.headers[0]?.ipId])).toEqual([
      ['R1', 2, 0],
      ['R2', 2, 1],
      ['R3', 2, 2],
    ]);
  });

  it('remembers the previous connection on a 4-tuple for TIME_WAIT reuse', () => {
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, manualClock(T0));
    c.addConn(conn('OLD', T0, { history: 'ShADadFf', connState: 'SF' }));
    c.addConn(conn('NEW', T0 + 30 * S, { history: 'Sr', connState: 'REJ' }));
    const out = c.flush().ready;
    expect(out[1]?.correlated.previousClose).toEqual({ uid: 'OLD', closedTsUs: T0 + S, connState: 'SF', history: 'ShADadFf' });
    expect(out[0]?.correlated.previousClose).toBeUndefined();
  });

  it('emits a conn only once when it is replayed', () => {
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, manualClock(T0));
    c.addConn(conn('A', T0));
    c.addConn(conn('A', T0));
    expect(c.flush().ready).toHaveLength(1);
    c.addConn(conn('A', T0));
    expect(c.flush().ready).toHaveLength(0);
  });

  it('stays at its caps under 1,000,000 records and counts evictions', () => {
    const cap = 10_000;
    const settings: CorrelateSettings = {
      ...DEFAULT_CORRELATE_SETTINGS,
      maxPendingConns: cap,
      maxEmittedConns: cap,
      maxWeirdUids: cap,
      maxHeaders: cap,
      maxHosts: cap,
      maxRecentCloses: cap,
    };
    const clock = createRecordClock();
    const c = createCorrelator(settings, clock);
    const n = 250_000;
    let emitted = 0;
    let evictedReported = 0;
    const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < n; i++) {
      const t = T0 + i; // 1 µs apart: nothing reaches its grace, only caps bound the state
      clock.observe(t);
      const cid = `cid-${i}`;
      for (const step of [
        c.addHeader(header(`h-${i}`, t, { srcIp: ip(i) })),
        c.addHeader(header(cid, t, { srcIp: ip(i + n) })),
        c.addWeird(weird(`w-${i}`, t)),
        c.addConn(conn(`c-${i}`, t, { communityId: cid, origP: i % 65536, origH: ip(i) })),
      ]) {
        emitted += step.ready.length;
        evictedReported += step.evicted;
      }
    }
    const s = c.stats();
    expect([s.pendingConns, s.emittedConns, s.weirdUids, s.headers, s.hosts, s.recentCloses]).toEqual([cap, cap, cap, cap, cap, cap]);
    expect(s.evictions).toEqual({
      pendingConns: n - cap, // each early emission made room for a new conn
      emittedConns: n - 2 * cap,
      weirdUids: n - cap,
      headers: 2 * n - cap,
      hosts: 2 * n - cap,
      recentCloses: n - 2 * cap,
    });
    expect(emitted).toBe(n - cap);
    expect(evictedReported).toBe(Object.values(s.evictions).reduce((a, b) => a + b, 0));
  });
});

describe('correlator state as changelog entries', () => {
  /** A compacted changelog: the latest value per key, through JSON as Kafka carries it. */
  function changelog(): { take(changes: readonly StateChange[]): StateChange[]; values(): StateValue[] } {
    const entries = new Map<string, StateValue>();
    return {
      take(changes) {
        const copy = JSON.parse(JSON.stringify(changes)) as StateChange[];
        for (const ch of copy) {
          if (ch.value === null) entries.delete(ch.key);
          else entries.set(ch.key, ch.value);
        }
        return copy;
      },
      values: () => [...entries.values()],
    };
  }
  const tracked = (clock: Clock, over: Partial<CorrelateSettings> = {}) => createCorrelator({ ...DEFAULT_CORRELATE_SETTINGS, ...over }, clock, { trackChanges: true });

  it('rewrites only the conn that changed, not the other conns of its flow', () => {
    const clock = manualClock(T0);
    const c = tracked(clock);
    // Two conns on one flow (one Community ID), as a resolver's fixed port gives.
    c.addConn(conn('A', T0, { communityId: 'cid-X' }));
    c.addConn(conn('B', T0 + 10 * S, { communityId: 'cid-X', origP: 40001 }));
    const flowEntries = (changes: readonly StateChange[]): string[] => changes.map((ch) => ch.key).filter((k) => k.startsWith('c|') || k.startsWith('f|')).sort();
    expect(flowEntries(c.drainChanges())).toEqual([connEntryKey('cid-X', '|A'), connEntryKey('cid-X', '|B')].sort());
    c.addWeird(weird('B', T0 + 10 * S));
    expect(flowEntries(c.drainChanges())).toEqual([connEntryKey('cid-X', '|B')]);
  });

  it('writes a written conn\'s header in full once its flow no longer holds it, so a restore keeps it', () => {
    const run = (crash: boolean): readonly number[] => {
      const clock = manualClock(T0);
      const log = changelog();
      let c = tracked(clock, { maxHeaders: 1 });
      c.addConn(conn('A', T0, { communityId: 'cid-X' }));
      c.addHeader(header('cid-X', T0 + S / 2, { tcpFlags: 0x04 }));
      clock.set(T0 + DEFAULT_CORRELATE_SETTINGS.graceUs);
      expect(c.tick().ready.map((e) => e.correlated.headers.length)).toEqual([1]);
      log.take(c.drainChanges());
      // Another flow's header takes the only place: A's header is dropped from the store.
      c.addHeader(header('cid-Y', T0 + S, { srcPort: 40005 }));
      const changes = log.take(c.drainChanges());
      const entryOfA = changes.find((ch) => ch.key === connEntryKey('cid-X', '|A'))?.value;
      expect(entryOfA?.t === 'conn' && entryOfA.headers?.map((h) => typeof h)).toEqual(['object']);
      if (crash) {
        c = tracked(clock, { maxHeaders: 1 });
        c.restore(log.values());
      }
      // Late evidence for A: its update still has the dropped header, and the new one.
      c.addHeader(header('cid-X', T0 + S / 4, { tcpFlags: 0x10 }));
      clock.set(T0 + 3 * DEFAULT_CORRELATE_SETTINGS.graceUs);
      const [update] = c.tick().ready;
      return update?.correlated.headers.map((h) => h.tcpFlags) ?? [];
    };
    expect(run(false)).toEqual([0x10, 0x04]);
    expect(run(true)).toEqual([0x10, 0x04]);
  });

  it('restores a flow entry that still holds its conns (written before conns had their own), and moves them to their own entries', () => {
    const clock = manualClock(T0);
    const legacy: StateValue = {
      t: 'flow',
      conns: [{ key: '|A', seq: 0, stage: 'e', conn: conn('A', T0, { communityId: 'cid-X' }), weirds: [], headers: [1] }],
      headers: [{ seq: 1, header: header('cid-X', T0 + S / 2, { tcpFlags: 0x04 }), joined: true }],
    };
    const c = tracked(clock);
    c.restore([legacy]);
    expect(c.stats().emittedConns).toBe(1);
    const changes = c.drainChanges();
    expect(changes.map((ch) => ch.key).sort()).toEqual([connEntryKey('cid-X', '|A'), flowKey('cid-X')].sort());
    const flow = changes.find((ch) => ch.key === flowKey('cid-X'))?.value;
    expect(flow?.t === 'flow' && flow.conns).toBeUndefined();
    const moved = changes.find((ch) => ch.key === connEntryKey('cid-X', '|A'))?.value;
    expect(moved?.t === 'conn' && moved.headers).toEqual([1]);
  });

  it('partitions a conn\'s entry by its Community ID, whatever that holds', () => {
    expect(partitionKeyOf(connEntryKey('1:abc=', 'sensor|C1'))).toBe('1:abc=');
    expect(partitionKeyOf(connEntryKey('odd|id', 'a|b'))).toBe('odd|id');
    expect(partitionKeyOf(flowKey('1:abc='))).toBe('1:abc=');
    expect(partitionKeyOf('w|sensor|C1')).toBe('w|sensor|C1');
  });
});
