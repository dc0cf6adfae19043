/**
 * CorrelatorStats.pendingUpdates: the late-evidence updates the tick will write, which `run`
 * counts against sink.maxPendingDocs (cli/delivery.ts) so that a burst of late evidence pauses
 * the consumer instead of overfilling the sink.
 */
import type { ConnRecord, PacketHeader } from '../domain';
import { createCorrelator, type Clock } from './correlator';
import { DEFAULT_CORRELATE_SETTINGS } from './settings';

const S = 1_000_000;
const T0 = 1_700_000_000 * S;
const file = { kind: 'file', path: 't', line: 1 } as const;

const conn = (uid: string, port: number): ConnRecord => ({
  tsUs: T0, uid, origH: '10.0.0.1', origP: port, respH: '10.0.0.2', respP: 80, proto: 'tcp', durationUs: S, history: 'ShADadR', connState: 'RSTO', communityId: `cid-${uid}`, source: file,
});
const header = (cid: string, port: number, tsUs: number): PacketHeader => ({
  tsUs, sensor: null, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: port, dstPort: 80, ipVersion: 4, ipTtl: 64, ipId: 1, tcpFlags: 0x14, seq: 1, ack: 1, window: 0, payloadLen: 0, communityId: cid,
});

describe('correlator: pending late updates', () => {
  it('counts each emitted conn with late evidence once, until the tick writes its update', () => {
    let t = T0;
    const clock: Clock = { now: () => t };
    const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
    c.addConn(conn('A', 40000));
    c.addConn(conn('B', 40001));
    t += 6 * S;
    expect(c.tick().ready.map((e) => e.kind)).toEqual(['new', 'new']);
    expect(c.stats().pendingUpdates).toBe(0);
    // Two late headers for A (one update), one for B.
    c.addHeader(header('cid-A', 40000, T0 + S / 2));
    c.addHeader(header('cid-A', 40000, T0 + S / 3));
    c.addHeader(header('cid-B', 40001, T0 + S / 2));
    expect(c.stats().pendingUpdates).toBe(2);
    expect(c.tick().ready).toEqual([]);
    t += 6 * S;
    expect(c.tick().ready.map((e) => [e.kind, e.correlated.conn.uid])).toEqual([['update', 'A'], ['update', 'B']]);
    expect(c.stats().pendingUpdates).toBe(0);
  });
});
