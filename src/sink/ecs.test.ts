import type { ConnRecord } from '../domain';
import { classifyConnection } from '../classify/engine';
import { DEFAULT_CLASSIFY_SETTINGS } from '../classify/settings';
import type { Correlated } from '../correlate/correlator';
import { documentId, toEcsDocument } from './ecs';

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
    expect(doc.event).toEqual({ kind: 'event', category: ['network'], type: ['connection', 'end', 'denied'], dataset: 'zeek_rst.connection', duration: 50_692_000, outcome: 'failure' });
    expect(doc.source).toEqual({ ip: '192.168.0.4', port: 26242, bytes: 0, packets: 1 });
    expect(doc.destination).toEqual({ ip: '212.227.15.188', port: 110, bytes: 0, packets: 1 });
    expect(doc.network).toEqual({ transport: 'tcp', community_id: '1:abc', bytes: 92, packets: 2 });
    expect(doc.observer).toEqual({ name: 'sensor-1' });
    expect(doc.zeek).toEqual({ session_id: 'CHhAvVGS1DHFjwGM9', connection: { state: 'REJ', state_message: 'Connection attempt rejected.', history: 'Sr', missed_bytes: 0 } });
    expect(doc.rst).toMatchObject({ present: true, verdict: 'closed_port', phase: 'establishment', sender: 'responder', origin: 'unknown', count: 1, headers: { sampled: false }, scan: { scanner: false } });
    expect(doc.rst.rules).toContain('RST-REJ-001');
    expect(doc.rst.evidence?.[0]).toEqual({ rule: 'RST-REJ-001', text: 'the SYN was answered by a responder RST: conn_state REJ, history Sr', values: { connState: 'REJ', history: 'Sr' } });
    expect(doc.rst.explanation?.split('. ').length).toBe(1); // one sentence
  });

  it('has no verdict for a connection without RST', () => {
    const sf = { ...corr, conn: { ...conn, history: 'ShADadFf', connState: 'SF' as const } };
    const doc = toEcsDocument(sf, classifyConnection(sf, DEFAULT_CLASSIFY_SETTINGS, []));
    expect(doc.rst).toEqual({ present: false, scan: { scanner: false } });
    expect(doc.event.outcome).toBe('success');
  });

  it('derives a deterministic id from observer and uid', () => {
    expect(documentId('sensor-1', 'CHhAvVGS1DHFjwGM9')).toBe(documentId('sensor-1', 'CHhAvVGS1DHFjwGM9'));
    expect(documentId('sensor-1', 'CHhAvVGS1DHFjwGM9')).not.toBe(documentId('sensor-2', 'CHhAvVGS1DHFjwGM9'));
    expect(documentId(undefined, 'C1')).toMatch(/^[A-Za-z0-9_-]{27}$/);
  });
});
