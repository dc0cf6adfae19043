import type { InputRecord } from '../decode/dispatch';
import type { SourceRef } from '../domain';
import { decodeItems, encodeItem, sourceOfItem } from './repartition-lines';

const INPUT: SourceRef = { kind: 'kafka', topic: 'zeek-headers', partition: 3, offset: '41' };
const AT: SourceRef = { kind: 'kafka', topic: 'g-repartition', partition: 5, offset: '7' };

const header: InputRecord = {
  kind: 'header',
  record: { tsUs: 1_700_000_000_123_456, sensor: 's1', srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 40000, dstPort: 443, ipVersion: 4, ipTtl: 64, ipId: null, tcpFlags: 0x14, seq: 4294967295, ack: 0, window: 0, payloadLen: 0, communityId: '1:abc=' },
  source: { ...INPUT, index: 2 },
};
const conn: InputRecord = {
  kind: 'conn',
  record: { tsUs: 1_700_000_000_000_000, uid: 'C1', origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 443, proto: 'tcp', history: 'ShR', connState: 'RSTO', communityId: '1:abc=', source: { kind: 'kafka', topic: 'zeek-conn', partition: 0, offset: '5' } },
  source: { kind: 'kafka', topic: 'zeek-conn', partition: 0, offset: '5' },
};

describe('repartition records', () => {
  it('come back as the records that went in, with their ordinal and their input', () => {
    const value = Buffer.from([encodeItem({ n: 2, record: header }), encodeItem({ n: 0, record: conn })].join('\n'));
    const out = decodeItems(value, AT);
    expect(out.map((d) => (d.ok ? { n: d.value.n, record: d.value.record } : d.dead.reason))).toEqual([{ n: 2, record: header }, { n: 0, record: conn }]);
    const [first] = out;
    if (first === undefined || !first.ok) throw new Error('no item');
    expect(sourceOfItem(first.value.record)).toEqual({ ...INPUT, index: 2 });
    expect(JSON.parse(Buffer.from(first.value.raw).toString())).toEqual(JSON.parse(encodeItem({ n: 2, record: header })));
  });

  it('write conns and headers as arrays of their fields, well under their objects with field names', () => {
    const objectLine = (item: InputRecord): string => JSON.stringify(item.kind === 'header' ? { n: 0, k: 'h', s: item.source, r: item.record } : { n: 0, k: 'c', r: item.record });
    for (const item of [header, conn]) {
      const line = encodeItem({ n: 0, record: item });
      expect(Array.isArray((JSON.parse(line) as { a?: unknown }).a)).toBe(true);
      expect(line.length).toBeLessThan(0.7 * objectLine(item).length);
    }
  });

  it('read the lines written before records were arrays: records as objects, a header with its source beside it', () => {
    const lines = [JSON.stringify({ n: 2, k: 'h', s: header.source, r: header.record }), JSON.stringify({ n: 0, k: 'c', r: conn.record })];
    const out = decodeItems(Buffer.from(lines.join('\n')), AT);
    expect(out.map((d) => (d.ok ? { n: d.value.n, record: d.value.record } : d.dead.reason))).toEqual([{ n: 2, record: header }, { n: 0, record: conn }]);
  });

  it('dead-letter an array line that does not hold a record: too short, a header without its source, a source that is not a Kafka one, a time that is not a number', () => {
    const good = JSON.parse(encodeItem({ n: 0, record: header })) as { s: unknown[]; a: unknown[] };
    const lines = [
      JSON.stringify({ n: 0, k: 'c', a: [1, 'C1'] }),
      JSON.stringify({ n: 0, k: 'h', a: good.a }),
      JSON.stringify({ n: 0, k: 'h', s: ['f', 'a.log', 3], a: good.a }),
      JSON.stringify({ n: 0, k: 'h', s: ['k'], a: good.a }),
      JSON.stringify({ n: 0, k: 'c', a: (JSON.parse(encodeItem({ n: 0, record: conn })) as { a: unknown[] }).a.map((v, i) => (i === 0 ? 'not a time' : v)) }),
      JSON.stringify(good),
    ];
    const out = decodeItems(Buffer.from(lines.join('\n')), AT);
    expect(out.map((d) => (d.ok ? 'ok' : d.dead.reason))).toEqual([...Array<string>(5).fill('invalid_repartition_record'), 'ok']);
  });

  it('read a header line written when a header kept its source inside the record', () => {
    const old = JSON.stringify({ n: 2, k: 'h', r: { ...header.record, source: header.source } });
    const [item] = decodeItems(Buffer.from(old), AT);
    expect(item?.ok === true && item.value.record).toEqual(header);
    expect(item?.ok === true && sourceOfItem(item.value.record)).toEqual({ ...INPUT, index: 2 });
  });

  it('dead-letter a line that run did not write, alone, with its bytes and the repartition message as source', () => {
    const lines = ['not json', JSON.stringify({ n: 1, k: 'x', r: {} }), JSON.stringify({ n: 1, k: 'c', r: { tsUs: 1, source: { kind: 'file', path: 'a', line: 1 } } }), encodeItem({ n: 0, record: conn })];
    const out = decodeItems(Buffer.from(lines.join('\n')), AT);
    expect(out.map((d) => (d.ok ? 'ok' : d.dead.reason))).toEqual(['invalid_repartition_record', 'invalid_repartition_record', 'invalid_repartition_record', 'ok']);
    const [bad] = out;
    if (bad === undefined || bad.ok) throw new Error('expected a dead letter');
    expect(Buffer.from(bad.dead.raw).toString()).toBe('not json');
    expect(bad.dead.source).toEqual(AT);
  });

  it('give each line its exact bytes: multi-byte text, bytes that are not UTF-8, empty lines and no final newline', () => {
    const wide: InputRecord = { ...conn, record: { ...conn.record, uid: 'Cé€😀' } };
    const good = Buffer.from(encodeItem({ n: 0, record: wide }));
    const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const value = Buffer.concat([good, Buffer.from('\n\n'), notUtf8, Buffer.from('\n'), good]);
    const out = decodeItems(value, AT);
    expect(out.map((d) => (d.ok ? Buffer.from(d.value.raw).toString('hex') : `dead ${Buffer.from(d.dead.raw).toString('hex')}`))).toEqual([
      good.toString('hex'),
      `dead ${notUtf8.toString('hex')}`,
      good.toString('hex'),
    ]);
    expect(out[0]?.ok === true && out[0].value.record).toEqual(wide);
  });
});
