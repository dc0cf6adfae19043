import { TCP_FLAGS, type ConnRecord, type PacketHeader } from '../domain';
import { parseCidr } from '../classify/ip';
import { classifyConnection } from '../classify/engine';
import { DEFAULT_CLASSIFY_SETTINGS } from '../classify/settings';
import type { Classification, Correlated, EnrichedDoc } from '../domain';
import fc from 'fast-check';

import { directionOf, documentId, ecsJson, isoMs, protocolOf, toEcsDocument } from './ecs';

function fail(): never {
  throw new Error('bad CIDR in test');
}

// pop3-rej CHhAvVGS1DHFjwGM9 as decode gives it (REJ Sr, 50.692 ms).
const conn: ConnRecord = {
  tsUs: 1_377_201_633_570_191,
  uid: 'CHhAvVGS1DHFjwGM9',
  origH: '192.168.0.4',
  origP: 26242,
  respH: '212.227.15.188',
  respP: 110,
  proto: 'tcp',
  durationUs: 50_692,
  origBytes: 0,
  respBytes: 0,
  connState: 'REJ',
  missedBytes: 0,
  history: 'Sr',
  origPkts: 1,
  origIpBytes: 52,
  respPkts: 1,
  respIpBytes: 40,
  communityId: '1:abc',
  observer: 'sensor-1',
  source: { kind: 'file', path: 'conn.json', line: 1 },
};
const corr: Correlated = { conn, weirds: [], headers: [], hostBaselines: { orig: undefined, resp: undefined }, previousClose: undefined };

describe('ECS document', () => {
  it('maps the conn and the verdict to docs/fields.md fields', () => {
    const doc = toEcsDocument(corr, classifyConnection(corr, DEFAULT_CLASSIFY_SETTINGS, []));
    expect(doc['@timestamp']).toBe('2013-08-22T20:00:33.570Z');
    expect(doc.event).toEqual({ kind: 'event', category: ['network'], type: ['connection', 'end', 'denied'], dataset: 'zeek_rst.connection', start: '2013-08-22T20:00:33.570Z', end: '2013-08-22T20:00:33.620Z', duration: 50_692_000, outcome: 'failure' });
    expect(doc.source).toEqual({ ip: '192.168.0.4', port: 26242, bytes: 0, packets: 1 });
    expect(doc.destination).toEqual({ ip: '212.227.15.188', port: 110, bytes: 0, packets: 1 });
    expect(doc.network).toEqual({ transport: 'tcp', direction: 'unknown', community_id: '1:abc', bytes: 92, packets: 2 });
    expect(doc.observer).toEqual({ name: 'sensor-1' });
    expect(doc.zeek).toEqual({ session_id: 'CHhAvVGS1DHFjwGM9', connection: { state: 'REJ', state_message: 'Connection attempt rejected.', history: 'Sr', missed_bytes: 0 } });
    expect(doc.rst).toMatchObject({ present: true, verdict: 'closed_port', phase: 'establishment', sender: 'responder', origin: 'unknown', count: 1, headers: { sampled: false }, scan: { scanner: false, probe: true } });
    expect(doc.rst.rules).toContain('RST-REJ-001');
    expect(doc.rst.evidence?.[0]).toEqual({ rule: 'RST-REJ-001', text: 'the SYN was answered by a responder RST: conn_state REJ, history Sr', values: { connState: 'REJ', history: 'Sr' } });
    expect(doc.rst.explanation?.split('. ').length).toBe(1); // one sentence
    // No RST header sampled: the RST is dated at the end of the connection, 33.570191 + 0.050692 s.
    expect(doc.rst.ts).toBe('2013-08-22T20:00:33.620Z');
  });

  it('dates the RST of a 3-hour session by its sampled header, not by the session start', () => {
    const long: ConnRecord = { ...conn, history: 'ShADadR', connState: 'RSTO', durationUs: 3 * 3600e6 + 1e6, origBytes: 10, respBytes: 10 };
    const rstAtUs = conn.tsUs + 3 * 3600e6; // the RST header, 1 s before the last packet Zeek counted
    const header: PacketHeader = {
      tsUs: rstAtUs, sensor: null, srcIp: conn.origH, dstIp: conn.respH, srcPort: conn.origP, dstPort: conn.respP, ipVersion: 4, ipTtl: 64, ipId: 1,
      tcpFlags: TCP_FLAGS.RST | TCP_FLAGS.ACK, seq: 1, ack: 1, window: 0, payloadLen: 0, communityId: '1:abc',
    };
    const withHeader: Correlated = { ...corr, conn: long, headers: [header] };
    const doc = toEcsDocument(withHeader, classifyConnection(withHeader, DEFAULT_CLASSIFY_SETTINGS, []));
    expect(doc['@timestamp']).toBe('2013-08-22T20:00:33.570Z');
    expect(doc.event.start).toBe('2013-08-22T20:00:33.570Z');
    expect(doc.event.end).toBe('2013-08-22T23:00:34.570Z');
    expect(doc.rst.ts).toBe('2013-08-22T23:00:33.570Z');
  });

  it('writes network.direction from local_orig/local_resp, else from the configured local networks', () => {
    const dir = (c: ConnRecord, nets: readonly string[] = []): string =>
      directionOf(c, nets.flatMap((n) => parseCidr(n) ?? []));
    expect(dir({ ...conn, localOrig: true, localResp: false })).toBe('outbound');
    expect(dir({ ...conn, localOrig: false, localResp: true })).toBe('inbound');
    expect(dir({ ...conn, localOrig: true, localResp: true })).toBe('internal');
    expect(dir({ ...conn, localOrig: false, localResp: false })).toBe('external');
    // Zeek's own flags win over the configuration: 192.168.0.4 is in 192.168.0.0/16 but Zeek said not local.
    expect(dir({ ...conn, localOrig: false, localResp: false }, ['192.168.0.0/16'])).toBe('external');
    expect(dir(conn, ['192.168.0.0/16'])).toBe('outbound'); // 192.168.0.4 -> 212.227.15.188
    expect(dir(conn, ['212.227.0.0/16'])).toBe('inbound');
    expect(dir(conn, ['0.0.0.0/0'])).toBe('internal');
    expect(dir(conn, ['2001:db8::/32'])).toBe('external');
    expect(dir(conn)).toBe('unknown');
    const doc = toEcsDocument(corr, classifyConnection(corr, DEFAULT_CLASSIFY_SETTINGS, []), { localNetworks: [parseCidr('192.168.0.0/16') ?? fail()] });
    expect(doc.network.direction).toBe('outbound');
  });

  it('writes network.protocol from the first analyzer in service', () => {
    expect(protocolOf(undefined)).toBeUndefined();
    expect(protocolOf('pop3')).toBe('pop3');
    expect(protocolOf('SSL,HTTP')).toBe('ssl');
    expect(protocolOf('-ssh,http')).toBe('http');
    const doc = toEcsDocument({ ...corr, conn: { ...conn, service: 'pop3' } }, classifyConnection(corr, DEFAULT_CLASSIFY_SETTINGS, []));
    expect(doc.network.protocol).toBe('pop3');
    expect(doc.zeek.connection).not.toHaveProperty('local_orig');
  });

  it('has no verdict for a connection without RST', () => {
    const sf = { ...corr, conn: { ...conn, history: 'ShADadFf', connState: 'SF' as const } };
    const doc = toEcsDocument(sf, classifyConnection(sf, DEFAULT_CLASSIFY_SETTINGS, []));
    expect(doc.rst).toEqual({ present: false, scan: { scanner: false, probe: false } });
    expect(doc.event.outcome).toBe('success');
  });

  it('writes its JSON as JSON.stringify writes the object it parses to, whatever the text and the optional fields hold', () => {
    // Any UTF-16 code unit: quotes, backslashes, control characters, non-ASCII, lone surrogates.
    const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 12 });
    const count = fc.option(fc.nat({ max: 2 ** 40 }), { nil: undefined });
    const flag = fc.option(fc.boolean(), { nil: undefined });
    fc.assert(fc.property(
      fc.record({ uid: text, origH: text, respH: text, history: fc.option(text, { nil: undefined }), service: fc.option(text, { nil: undefined }), observer: fc.option(text, { nil: undefined }), weird: fc.option(text, { nil: undefined }) }),
      fc.record({ durationUs: count, origBytes: count, respPkts: count, missedBytes: count, localOrig: flag, localResp: flag, connState: fc.constantFrom(undefined, 'SF', 'REJ', 'RSTO') }),
      (t, n) => {
        const { weird, ...strings } = t;
        const c: ConnRecord = { ...conn, ...strings, ...n };
        const withWeird: Correlated = weird === undefined ? { ...corr, conn: c } : { ...corr, conn: c, weirds: [{ tsUs: c.tsUs, uid: c.uid, name: weird, source: conn.source }] };
        const json = ecsJson(withWeird, classifyConnection(withWeird, DEFAULT_CLASSIFY_SETTINGS, []));
        expect(JSON.stringify(JSON.parse(json))).toBe(json);
        const doc = JSON.parse(json) as EnrichedDoc;
        expect([doc.zeek.session_id, doc.source.ip, doc.destination.ip, doc.zeek.connection.history, doc.observer?.name]).toEqual([t.uid, t.origH, t.respH, t.history, t.observer]);
        expect([doc.event.duration, doc.source.bytes, doc.destination.packets, doc.zeek.connection.missed_bytes]).toEqual([n.durationUs === undefined ? undefined : n.durationUs * 1000, n.origBytes, n.respPkts, n.missedBytes]);
        expect(doc.zeek.weird?.names).toEqual(weird === undefined ? undefined : [weird]);
      },
    ));
  });

  it('writes a reset\'s rst part as JSON.stringify writes the fields of docs/fields.md, whatever the classification holds', () => {
    const base = classifyConnection(corr, DEFAULT_CLASSIFY_SETTINGS, []);
    const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 8 });
    const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
    // Any double, -0, NaN and the infinities included (JSON writes 0 and null for them).
    const num = fc.double();
    const factValue = fc.oneof(text, num, fc.boolean(), fc.constant(null));
    const evidence = fc.record({ rule: text, text, values: fc.dictionary(text, factValue, { maxKeys: 3 }) });
    const reset = fc.record({ side: text, tsUs: fc.integer({ min: 0, max: 2 ** 52 }), tcpFlags: fc.nat({ max: 255 }), ttl: num, hops: num, hasAck: fc.boolean(), origin: text, signals: fc.array(text, { maxLength: 2 }) });
    // Strings where the types have closed sets (verdict, phase, ...): the writer escapes whatever it is given.
    const classification = fc.record({
      verdict: text, phase: opt(text), sender: opt(text), origin: opt(text), confidence: opt(num), rules: fc.array(text, { maxLength: 3 }),
      evidence: fc.array(evidence, { maxLength: 3 }), explanation: opt(text), device: opt(fc.record({ name: text, kind: text })), stage: opt(text),
      tags: fc.array(text, { maxLength: 3 }), resets: fc.array(reset, { maxLength: 3 }),
    });
    const facts = fc.record({
      rstHasAck: opt(fc.boolean()), rstTtl: opt(num), expectedTtl: opt(num), ttlDelta: opt(num), rstHops: opt(num), expectedHops: opt(num),
      ipIdDelta: opt(num), rstCount: num, idleBeforeS: opt(num), senderRetransmissionsAtLeast: num, rstSampled: fc.boolean(),
    });
    const asJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));
    fc.assert(fc.property(classification, facts, fc.boolean(), (k, f, scanner) => {
      const resets = k.resets.map((r) => ({
        side: r.side, header: { tsUs: r.tsUs, tcpFlags: r.tcpFlags }, ttl: r.ttl, hops: r.hops, hasAck: r.hasAck, origin: r.origin, signals: r.signals.map((kind) => ({ kind })),
      }));
      const c = { ...base, ...k, present: true, resets, facts: { ...base.facts, ...f } } as unknown as Classification;
      const json = ecsJson(corr, c, { scanner });
      expect(JSON.stringify(JSON.parse(json))).toBe(json);
      const rst = (JSON.parse(json) as EnrichedDoc).rst;
      const some = (o: Record<string, unknown>): Record<string, unknown> | undefined => (Object.values(o).some((v) => v !== undefined) ? o : undefined);
      expect(rst).toEqual(asJson({
        present: true, verdict: k.verdict, phase: k.phase, sender: k.sender, origin: k.origin, confidence: k.confidence, rules: k.rules, evidence: k.evidence,
        explanation: k.explanation, ack: f.rstHasAck, ttl: some({ observed: f.rstTtl, expected: f.expectedTtl, delta: f.ttlDelta }),
        hops: some({ observed: f.rstHops, expected: f.expectedHops }), ip_id_delta: f.ipIdDelta, count: f.rstCount,
        idle_before_s: f.idleBeforeS === undefined ? undefined : Math.round(f.idleBeforeS * 1e6) / 1e6, retransmissions: f.senderRetransmissionsAtLeast,
        device: k.device, scan: { scanner, probe: rst.scan?.probe }, headers: { sampled: f.rstSampled },
        ts: '2013-08-22T20:00:33.620Z', // no RST header: the conn's end
        stage: k.stage, tags: k.tags,
        resets: k.resets.map((r) => ({ sender: r.side, ts: isoMs(r.tsUs), ttl: r.ttl, hops: r.hops, tcp_flags: r.tcpFlags, ack: r.hasAck, origin: r.origin, signals: r.signals })),
      }));
    }));
  });

  it('derives a deterministic id from observer and uid', () => {
    expect(documentId('sensor-1', 'CHhAvVGS1DHFjwGM9')).toBe(documentId('sensor-1', 'CHhAvVGS1DHFjwGM9'));
    expect(documentId('sensor-1', 'CHhAvVGS1DHFjwGM9')).not.toBe(documentId('sensor-2', 'CHhAvVGS1DHFjwGM9'));
    expect(documentId(undefined, 'C1')).toMatch(/^[A-Za-z0-9_-]{27}$/);
  });
});

describe('isoMs', () => {
  it('writes what Date#toISOString writes, with the µs below the ms dropped', () => {
    // Leap days, the ends of centuries and of the fast range, before 1970 (through Date).
    expect(isoMs(Date.UTC(2000, 1, 29, 23, 59, 59, 999) * 1000 + 999)).toBe('2000-02-29T23:59:59.999Z');
    expect(isoMs(Date.UTC(2100, 2, 1) * 1000)).toBe('2100-03-01T00:00:00.000Z');
    expect(isoMs(Date.UTC(9999, 11, 31, 23, 59, 59, 999) * 1000)).toBe('9999-12-31T23:59:59.999Z');
    expect(isoMs(Date.UTC(10000, 0, 1) * 1000)).toBe('+010000-01-01T00:00:00.000Z');
    expect(isoMs(-1)).toBe('1969-12-31T23:59:59.999Z');
    expect(isoMs(0)).toBe('1970-01-01T00:00:00.000Z');
    // Seconds from 1900 to beyond 9999, plus µs.
    fc.assert(fc.property(fc.integer({ min: -2_208_988_800, max: 253_402_400_000 }), fc.integer({ min: 0, max: 999_999 }), (s, micro) => {
      const us = s * 1e6 + micro;
      expect(isoMs(us)).toBe(new Date(Math.floor(us / 1000)).toISOString());
    }), { numRuns: 20000 });
  });
});
