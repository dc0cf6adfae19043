import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnRecord, PacketHeader, SourceRef } from '../domain';
import type { StateValue } from '../correlate/state';
import { decodeHeaderJson } from '../decode/packet-header';
import { decodeConnJson } from '../decode/zeek-json';
import { decodeEntry, encodeEntry } from './entry-codec';

const CORPUS = path.resolve(__dirname, '../../test/fixtures/corpus');
const lines = (file: string): Buffer[] => readFileSync(path.join(CORPUS, file)).toString().split('\n').filter((l) => l.trim() !== '').map((l) => Buffer.from(l));

/** Every conn of the m57 trace, decoded as `run` decodes it, from a Kafka message and from a file. */
function conns(): ConnRecord[] {
  return lines('zeek-testing-m57-short/conn.redacted.json').flatMap((raw, i) => {
    const source: SourceRef = i % 2 === 0 ? { kind: 'kafka', topic: 'zeek-conn', partition: i % 3, offset: String(10_000_000_000 + i) } : { kind: 'file', path: 'conn.json', line: i + 1 };
    const d = decodeConnJson(raw, source, { allowCanonified: true });
    return d.ok ? [d.value] : [];
  });
}

function headers(): PacketHeader[] {
  return lines('pop3-fin-then-rst/bad-list-retr-crafted.headers.jsonl').flatMap((raw, i) => {
    const d = decodeHeaderJson(raw, { kind: 'kafka', topic: 'zeek-headers', partition: 0, offset: String(i), index: i });
    return d.ok ? [d.value] : [];
  });
}

const roundTrip = (v: StateValue): StateValue => decodeEntry(encodeEntry(v));

describe('changelog entry encoding', () => {
  it('gives back every conn of a real trace as it was decoded, fields in the decoder\'s order', () => {
    const all = conns();
    expect(all.length).toBeGreaterThan(1000);
    for (const [i, conn] of all.entries()) {
      const value: StateValue = { t: 'conn', key: `|${conn.uid}`, seq: i, stage: 'p', conn, weirds: [] };
      const back = roundTrip(value);
      expect(back).toEqual(value);
      expect(back.t === 'conn' && Object.keys(back.conn)).toEqual(Object.keys(conn));
    }
  });

  it('gives back a flow\'s headers, its Community ID written once, and a written conn\'s headers by seq or in full', () => {
    const hs = headers();
    expect(hs.length).toBeGreaterThan(10);
    const cid = hs[0]?.communityId ?? '';
    const flow: StateValue = { t: 'flow', headers: hs.map((header, seq) => ({ seq, header, joined: seq % 2 === 0 })) };
    const back = roundTrip(flow);
    expect(back).toEqual(flow);
    expect(back.t === 'flow' && Object.keys(back.headers[0]?.header ?? {})).toEqual(Object.keys(hs[0] ?? {}));
    expect(encodeEntry(flow).toString().split(cid).length - 1).toBe(1);

    const [conn] = conns();
    if (conn === undefined || hs[0] === undefined) throw new Error('no fixture');
    const written: StateValue = {
      t: 'conn', key: `sensor-1|${conn.uid}`, seq: 7, stage: 'e', conn, weirds: [{ tsUs: conn.tsUs, uid: conn.uid, name: 'data_after_reset', source: { kind: 'file', path: 'weird.log', line: 3 } }],
      headers: [3, hs[0], 5], previousClose: { uid: 'Cprev', observer: undefined, closedTsUs: conn.tsUs - 1, connState: 'SF', history: 'ShADadFf' }, dirty: true,
    };
    expect(roundTrip(written)).toEqual(written);
  });

  it('reads entries written before this encoding, with records as objects', () => {
    const [conn] = conns();
    const [header] = headers();
    if (conn === undefined || header === undefined) throw new Error('no fixture');
    const legacy: StateValue = {
      t: 'flow',
      conns: [{ key: `|${conn.uid}`, seq: 1, stage: 'e', conn, weirds: [], headers: [0, header] }],
      headers: [{ seq: 0, header, joined: true }],
    };
    expect(decodeEntry(JSON.stringify(legacy))).toEqual(legacy);
    const legacyConn = { t: 'conn', key: `|${conn.uid}`, seq: 1, stage: 'p', conn, weirds: [] } as const;
    expect(decodeEntry(JSON.stringify(legacyConn))).toEqual(legacyConn);
  });

  it('reads headers of entries written when a header still named its input message', () => {
    const hs = headers();
    const [conn] = conns();
    if (conn === undefined || hs[0] === undefined) throw new Error('no fixture');
    const oldSource = ['k', 'zeek-headers', 0, '17', 3];
    // Then a flow's header had its source after its 14 fields, and an inline header before its Community ID.
    const flow: StateValue = { t: 'flow', headers: hs.map((header, seq) => ({ seq, header, joined: false })) };
    const flowWire = JSON.parse(encodeEntry(flow).toString()) as { headers: unknown[][] };
    for (const h of flowWire.headers) h.push(oldSource);
    expect(decodeEntry(JSON.stringify(flowWire))).toEqual(flow);
    const written: StateValue = { t: 'conn', key: `|${conn.uid}`, seq: 2, stage: 'e', conn, weirds: [], headers: [hs[0]] };
    const connWire = JSON.parse(encodeEntry(written).toString()) as { headers: unknown[][] };
    for (const h of connWire.headers) h.splice(h.length - 1, 0, oldSource);
    expect(decodeEntry(JSON.stringify(connWire))).toEqual(written);
  });

  it('writes a conn and a header in well under the bytes of their JSON objects', () => {
    const conn = conns().find((c) => c.history !== undefined && c.service !== undefined);
    const [header] = headers();
    if (conn === undefined || header === undefined) throw new Error('no fixture');
    const connEntry: StateValue = { t: 'conn', key: `|${conn.uid}`, seq: 1, stage: 'p', conn, weirds: [] };
    const flow: StateValue = { t: 'flow', headers: [{ seq: 0, header, joined: false }] };
    expect(encodeEntry(connEntry).length).toBeLessThan(0.7 * JSON.stringify(connEntry).length);
    expect(encodeEntry(flow).length).toBeLessThan(0.6 * JSON.stringify(flow).length);
  });
});
