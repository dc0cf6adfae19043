/**
 * The local stack works end to end: a Kafka produce/consume round trip, an Elasticsearch
 * index + search, and nothing the stack started listens beyond 127.0.0.1.
 */
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { isLoopback } from '../../scripts/stack/listeners';
import { stackStatus } from '../../scripts/stack/stack';
import { uniqueGroup, uniqueIndex, uniqueTopic } from '../helpers/names';
import { testStack } from '../helpers/stack-env';
import { waitFor } from '../helpers/wait';

const stack = testStack();

describe('Kafka', () => {
  const kafka = new Kafka({ clientId: 'zeek-rst-smoke', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });

  it('delivers produced messages, keys and values intact, to a consumer of an explicitly created topic', async () => {
    const topic = uniqueTopic('smoke');
    const admin = kafka.admin();
    const producer = kafka.producer();
    let consumer: Consumer | undefined;
    try {
      await admin.connect();
      // auto.create.topics.enable=false on the stack: the topic must exist before anyone uses it.
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
      expect(await admin.listTopics()).toContain(topic);

      const sent = [
        { key: 'CHhAvVGS1DHFjwGM9', value: '{"uid":"CHhAvVGS1DHFjwGM9","conn_state":"REJ"}' },
        { key: 'C4J4Th3PJpwUYZZ6gc', value: '{"uid":"C4J4Th3PJpwUYZZ6gc","conn_state":"RSTO"}' },
        { key: 'ClEkJM2Vm5giqnMf4h', value: '{"uid":"ClEkJM2Vm5giqnMf4h","conn_state":"RSTR"}' },
      ];
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: sent });

      const received: { key: string; value: string; partition: number }[] = [];
      // A short long-poll: disconnect() waits for the fetch in flight (default up to 5 s).
      consumer = kafka.consumer({ groupId: uniqueGroup('smoke'), maxWaitTimeInMs: 250 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message, partition }) => {
          received.push({ key: message.key?.toString('utf8') ?? '', value: message.value?.toString('utf8') ?? '', partition });
          return Promise.resolve();
        },
      });
      await waitFor(() => received.length >= sent.length, { timeoutMs: 60_000, what: `${sent.length} messages on ${topic}` });

      const byKey = (a: { key: string }, b: { key: string }): number => a.key.localeCompare(b.key);
      expect(received.map(({ key, value }) => ({ key, value })).sort(byKey)).toEqual([...sent].sort(byKey));
      // Same key, same partition: the default partitioner hashes keys.
      for (const message of received) {
        expect(received.filter((m) => m.key === message.key).every((m) => m.partition === message.partition)).toBe(true);
      }
    } finally {
      await consumer?.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('does not create topics on demand', async () => {
    const topic = uniqueTopic('absent');
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('Elasticsearch', () => {
  const client = new Client({ node: stack.esUrl });
  afterAll(() => client.close());

  it('indexes documents and finds them again', async () => {
    const index = uniqueIndex('smoke');
    try {
      await client.indices.create({
        index,
        mappings: { properties: { 'zeek.uid': { type: 'keyword' }, 'rst.verdict': { type: 'keyword' }, 'destination.port': { type: 'integer' } } },
      });
      const docs = [
        { 'zeek.uid': 'CHhAvVGS1DHFjwGM9', 'rst.verdict': 'closed_port', 'destination.port': 23 },
        { 'zeek.uid': 'C4J4Th3PJpwUYZZ6gc', 'rst.verdict': 'client_abort', 'destination.port': 443 },
        { 'zeek.uid': 'ClEkJM2Vm5giqnMf4h', 'rst.verdict': 'closed_port', 'destination.port': 8080 },
      ];
      const bulk = await client.bulk({ refresh: true, operations: docs.flatMap((doc) => [{ index: { _index: index, _id: doc['zeek.uid'] } }, doc]) });
      expect(bulk.errors).toBe(false);

      const result = await client.search<Record<string, unknown>>({
        index,
        query: { term: { 'rst.verdict': 'closed_port' } },
        sort: [{ 'destination.port': 'asc' }],
      });
      expect(result.hits.hits.map((hit) => hit._id)).toEqual(['CHhAvVGS1DHFjwGM9', 'ClEkJM2Vm5giqnMf4h']);
      expect(result.hits.hits.map((hit) => hit._source)).toEqual([docs[0], docs[2]]);
      expect((await client.count({ index })).count).toBe(3);
    } finally {
      await client.indices.delete({ index, ignore_unavailable: true });
    }
    expect(await client.indices.exists({ index })).toBe(false);
  });
});

describe('the stack', () => {
  it('listens on loopback addresses only', async () => {
    const statuses = await stackStatus();
    const expectedPorts = [Number(new URL(stack.esUrl).port), ...stack.kafkaBrokers.map((b) => Number(b.split(':').pop()))];
    const listeners = statuses.flatMap((s) => s.listeners);
    expect(statuses.map((s) => s.state)).toEqual(['healthy', 'healthy']);
    expect(listeners.map((l) => l.port)).toEqual(expect.arrayContaining(expectedPorts));
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
  });
});
