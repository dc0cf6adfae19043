import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInputDecoder, type InputRecord } from './decode/dispatch';
import { createHeaderCodec } from './decode/packet-header';
import { Partitioners } from 'kafkajs';
import { createPartitioner, murmur2, routingKeyOf } from './partition';

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
    for (const [key, hash] of vectors) expect(murmur2(key)).toBe(hash);
    expect(createPartitioner(1).of('anything')).toBe(0);
    expect(() => createPartitioner(0)).toThrow(RangeError);
  });

  it("gives every key the partition kafkajs's own default partitioner gives it", () => {
    // Keys of every length mod 4, ASCII and not, bytes >= 0x80 in every position of a block.
    let seed = 7;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = ['a', 'Z', '0', '+', '/', '=', ':', '|', 'é', '€', '😀', '\u0000', '\u007f', '\u0080'];
    const keys = ['', ...Array.from({ length: 5000 }, () => Array.from({ length: rand(70) }, () => alphabet[rand(alphabet.length)]).join(''))];
    for (const n of [2, 3, 12, 64, 1000]) {
      const kafkajs = Partitioners.DefaultPartitioner();
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
      const ours = createPartitioner(n);
      const differ = keys.filter((key) => ours.of(key) !== kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }));
      expect(differ).toEqual([]);
    }
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
    const r: InputRecord = { kind: 'weird', record: { tsUs: 1, uid: 'CAbc', observer: 's1', name: 'truncated_header', source: { kind: 'file', path: 'x', line: 1 } }, source: { kind: 'file', path: 'x', line: 1 } };
    expect(routingKeyOf(r)).toBe('s1|CAbc');
  });
});
