import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInputDecoder, type InputRecord } from './decode/dispatch';
import { createHeaderCodec } from './decode/packet-header';
import { createPartitioner, routingKeyOf } from './partition';

const CASE = path.resolve(__dirname, '../test/fixtures/corpus/pop3-fin-then-rst');

function decodeFile(file: string, input: 'conn' | 'weird' | 'headers'): InputRecord[] {
  const decoder = createInputDecoder({ allowCanonified: false, maxMessageBytes: 1 << 20 }, createHeaderCodec());
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l, i) => decoder.decode({ value: Buffer.from(l), input, source: { kind: 'file', path: file, line: i + 1 } }))
    .map((d) => {
      if (!d.ok) throw new Error(d.dead.detail);
      return d.value;
    });
}

describe('correlation partitions', () => {
  it("is Kafka's default partitioner: murmur2 as the Java client computes it, made positive, modulo the count", () => {
    // Test vectors of Kafka's own UtilsTest.testMurmur2 (org.apache.kafka.common.utils).
    const vectors: [string, number][] = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829], ['abc', 479470107]];
    for (const n of [7, 12, 1000]) {
      const p = createPartitioner(n);
      for (const [key, hash] of vectors) expect(p.of(key)).toBe((hash & 0x7fffffff) % n);
    }
    expect(createPartitioner(1).of('anything')).toBe(0);
    expect(() => createPartitioner(0)).toThrow(RangeError);
  });

  it('puts a connection, its weirds and its packet headers in one partition', () => {
    const [conn] = decodeFile(path.join(CASE, 'conn.json'), 'conn');
    const weirds = decodeFile(path.join(CASE, 'weird.json'), 'weird');
    const headers = decodeFile(path.join(CASE, 'bad-list-retr-crafted.headers.jsonl'), 'headers');
    if (conn === undefined) throw new Error('no conn');
    expect(weirds.length).toBeGreaterThan(0);
    expect(headers.length).toBeGreaterThan(0);
    const p = createPartitioner(12);
    const want = p.of(routingKeyOf(conn));
    // A weird has no proto: its key is the TCP Community ID of its 5-tuple, the conn's own.
    for (const r of [...weirds, ...headers]) expect({ kind: r.kind, partition: p.of(routingKeyOf(r)) }).toEqual({ kind: r.kind, partition: want });
    expect(routingKeyOf(conn)).toBe(conn.kind === 'conn' ? conn.record.communityId : '');
  });

  it('keys a weird without a 5-tuple by its observer and uid', () => {
    const r: InputRecord = { kind: 'weird', record: { tsUs: 1, uid: 'CAbc', observer: 's1', name: 'truncated_header', source: { kind: 'file', path: 'x', line: 1 } } };
    expect(routingKeyOf(r)).toBe('s1|CAbc');
  });
});
