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
import { Partitioners, type PartitionerArgs } from 'kafkajs';
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

export function createPartitioner(partitions: number): Partitioner {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  // kafkajs's own partitioner, not a copy of murmur2: a keyed message lands where this says.
  const byKey = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  const args = (key: string): PartitionerArgs => ({ topic: 'zeek-rst', partitionMetadata, message: { key, value: null } });
  return { partitions, of: (key) => (partitions === 1 ? 0 : byKey(args(key))) };
}
