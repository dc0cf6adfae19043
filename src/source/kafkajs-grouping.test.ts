/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, loaded per registry */
import fc from 'fast-check';
import { groupMessagesPerPartition, installGroupingFix, type GroupingArgs } from './kafkajs-grouping';

type Message = { key: string; partition: number };
type Grouping = (a: GroupingArgs<Message>) => Record<number, Message[]>;

describe("kafkajs's grouping of a send by partition", () => {
  it('gives what kafkajs gives, for any messages, partitions and partitioner', () => {
    const shipped = require('kafkajs/src/producer/groupMessagesPerPartition') as Grouping;
    fc.assert(
      fc.property(fc.array(fc.nat(15)), fc.integer({ min: 0, max: 16 }), (parts, partitionCount) => {
        const args: GroupingArgs<Message> = {
          topic: 't',
          partitionMetadata: Array.from({ length: partitionCount }, (_, i) => ({ partitionId: i })),
          messages: parts.map((p, i) => ({ key: `k${i}`, partition: p })),
          partitioner: ({ message }) => message.partition,
        };
        const ours = groupMessagesPerPartition(args);
        expect(ours).toEqual(shipped(args));
        expect(Object.keys(ours)).toEqual(Object.keys(shipped(args)));
      }),
      { numRuns: 300 },
    );
  });

  it('is installed before kafkajs loads, and only then', () => {
    jest.isolateModules(() => {
      expect(installGroupingFix()).toBe(true);
      require('kafkajs');
      expect(require('kafkajs/src/producer/groupMessagesPerPartition')).toBe(groupMessagesPerPartition);
      expect(installGroupingFix()).toBe(true); // idempotent
    });
    jest.isolateModules(() => {
      require('kafkajs');
      expect(installGroupingFix()).toBe(false);
      expect(require('kafkajs/src/producer/groupMessagesPerPartition')).not.toBe(groupMessagesPerPartition);
    });
  });
});
