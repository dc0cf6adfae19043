/**
 * The internal topics `run` creates (changelog, repartition): create, then wait until every
 * partition has a leader and answers a ListOffsets request. kafkajs's own `waitForLeaders` gives up
 * on the first "unknown topic" answer from a broker that has not heard of the new topic yet, and a
 * partition can have a leader in the metadata before that leader hosts it ("This server does not
 * host this topic-partition"), which kafkajs then retries for minutes. Give this an admin client
 * with few retries of its own: the loop here is the retry.
 */
import type { Admin, ITopicConfig } from 'kafkajs';

import { waitFor } from '../wait';

const WAIT_MS = 30_000;

export async function createTopicAndWait(admin: Admin, spec: ITopicConfig & { readonly numPartitions: number }): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics: [spec] });
  await waitFor(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [spec.topic] });
      const partitions = meta.topics[0]?.partitions ?? [];
      return partitions.length === spec.numPartitions && partitions.every((p) => p.leader >= 0) && (await admin.fetchTopicOffsets(spec.topic)).length === spec.numPartitions;
    },
    { timeoutMs: WAIT_MS, what: `the new topic ${spec.topic} to have a leader that answers for each of its ${spec.numPartitions} partitions` },
  );
}

/** The partition count of an existing topic. */
export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0]?.partitions.length ?? 0;
}

/**
 * The partitions' offsets of a topic, asked again until it answers: a topic another instance has
 * just created can answer "not the leader" for a while, which kafkajs would retry for minutes.
 * A timeout carries the last answer as its cause (what asKafkaError classifies).
 */
export function topicOffsets(admin: Admin, topic: string): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  return waitFor(() => admin.fetchTopicOffsets(topic), { timeoutMs: WAIT_MS, intervalMs: 200, what: `the offsets of topic ${topic}` });
}
