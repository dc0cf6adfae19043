/**
 * A kafkajs produce request (v3, the one `run`'s producers send) over two partitions of one
 * topic, for the tests that compare kafkajs as shipped with kafkajs with a fix installed
 * (test/unit/kafkajs-*.test.ts): each test loads the request module in a registry of its own.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS module */

export interface ProduceRequest {
  encode(): Promise<{ buffer: Buffer }>;
}
export type ProduceV3 = (args: Record<string, unknown>) => ProduceRequest;

/** The request `produce` builds for `messages(partition)` on partitions 0 and 1 of `changelog`, transactional. */
export function produceRequest(produce: ProduceV3, messages: (partition: number) => readonly unknown[]): ProduceRequest {
  const Long = require('kafkajs/src/utils/long') as { fromValue(v: string): unknown };
  return produce({
    acks: -1,
    timeout: 30_000,
    transactionalId: 'zeek-rst-test',
    producerId: Long.fromValue('4242'),
    producerEpoch: 3,
    topicData: [{ topic: 'changelog', partitions: [0, 1].map((partition) => ({ partition, firstSequence: 7 * partition, messages: messages(partition) })) }],
  });
}
