/**
 * The raw kafkajs consume ceiling: a consumer that only counts reads topics from their beginning
 * until it has seen `total` messages. What any reader of the same bytes on the same broker must
 * spend at least (bench/e2e.ts for the input topics, bench/restore.ts for the changelog).
 */
import type { ConsumerConfig, Kafka } from 'kafkajs';

export interface ConsumeCeiling {
  readonly seconds: number;
  readonly messages: number;
}

/** `config` overrides the consumer's settings (its group is `group`, a fresh one per call). */
export async function consumeCeiling(kafka: Kafka, group: string, topics: readonly string[], total: number, config: Partial<ConsumerConfig> = {}): Promise<ConsumeCeiling> {
  const consumer = kafka.consumer({ maxWaitTimeInMs: 250, ...config, groupId: group });
  await consumer.connect();
  let seen = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    const started = process.hrtime.bigint();
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= total) done();
        return Promise.resolve();
      },
    });
    await finished;
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, messages: seen };
  } finally {
    await consumer.disconnect();
  }
}
