/**
 * Which correlation partition a record belongs to (docs/scale-out.md). All the evidence of one
 * connection must meet in one correlator: its conn, its weirds and its packet headers. The key is
 * the connection's Community ID; the partition is Kafka's default partitioner (murmur2 of the key,
 * as the Java client and kafkajs compute it) over the partition count. `run` produces each decoded
 * record to that partition of the repartition topic, the changelog of that partition's state lives
 * in the same partition of the changelog topic, and `classify` routes records to its partitions
 * with this same function, so the offline output stays the oracle of the pipeline.
 *
 * A weird log has no `proto`: its Community ID is the TCP one of its 5-tuple (the resets that
 * zeek-rst judges are TCP). A weird without a 5-tuple is keyed by its observer and uid; it joins
 * its conn only when both land on one partition (docs/scale-out.md).
 */
import { communityId } from './decode/community-id';
import type { InputRecord } from './decode/dispatch';
import type { WeirdRecord } from './domain';

const TCP = 6;

/** The routing key of a weird (see the module comment). */
export function weirdRoutingKey(w: WeirdRecord): string {
  if (w.origH !== undefined && w.respH !== undefined && w.origP !== undefined && w.respP !== undefined) {
    const cid = communityId({ srcIp: w.origH, dstIp: w.respH, srcPort: w.origP, dstPort: w.respP, proto: TCP });
    if (cid !== undefined) return cid;
  }
  return `${w.observer ?? ''}|${w.uid ?? ''}`;
}

/** The routing key of any decoded record: the Community ID of its connection. */
export function routingKeyOf(r: InputRecord): string {
  return r.kind === 'weird' ? weirdRoutingKey(r.record) : r.record.communityId;
}

export interface Partitioner {
  readonly partitions: number;
  /** 0 .. partitions-1, the partition Kafka's default partitioner gives `key`. */
  of(key: string): number;
}

// Bound once: a lookup of the global `Math` in a vm context (jest's) goes through interceptors.
const { imul } = Math;
const M = 0x5bd1e995;
let scratch = Buffer.allocUnsafe(256);

/**
 * Kafka's murmur2 of a key's UTF-8 bytes, a signed 32-bit int: the Java client's
 * `Utils.murmur2`, which kafkajs's default partitioner also computes. Written here in 32-bit
 * arithmetic because kafkajs computes it with 64-bit Long objects, several per byte, and this
 * runs for every record; src/partition.test.ts checks both against each other and against
 * Kafka's own test vectors.
 */
export function murmur2(key: string): number {
  if (scratch.length < key.length * 3) scratch = Buffer.allocUnsafe(key.length * 3);
  const data = scratch;
  const length = data.write(key, 0, 'utf8');
  let h = 0x9747b28c ^ length;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data.readInt32LE(i);
    k = imul(k, M);
    k ^= k >>> 24;
    k = imul(k, M);
    h = imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= (data[blocks + 2] ?? 0) << 16;
    if (rest >= 2) h ^= (data[blocks + 1] ?? 0) << 8;
    h ^= data[blocks] ?? 0;
    h = imul(h, M);
  }
  h ^= h >>> 13;
  h = imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a key: murmur2 made positive, modulo the count. */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

export function createPartitioner(partitions: number): Partitioner {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  return { partitions, of: (key) => (partitions === 1 ? 0 : partitionOfKey(key, partitions)) };
}
