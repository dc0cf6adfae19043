/**
 * kafkajs 2.2.4 groups a send's messages by partition (`producer/groupMessagesPerPartition.js`) by
 * copying the partition's array once per message: quadratic in the messages of one partition, and
 * each copy is garbage at once. `run` sends up to 2,000 changelog entries per call, all to one
 * partition in repartition mode; a CPU profile of `npm run bench -- e2e` (150,000 conns) had 3.7 %
 * of `run`'s samples in that function alone, with the garbage collector at 14.6 %.
 *
 * `installGroupingFix` replaces the module with a linear one that returns the same object (each
 * partition the partitioner chose -> its messages, in order). kafkajs's index loads its producer,
 * and with it this module, as soon as `kafkajs` is required, so the fix must come first:
 * `zeek-rst`'s entry point (cli/main.ts) installs it before any command loads. Where kafkajs has
 * loaded already (a test that imports it first) it leaves kafkajs as shipped and returns false;
 * nothing but the time differs. `kafkajs-grouping.test.ts` compares both over random sends.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, replaced in the module cache (see above) */
import { assertKafkajsVersion, replaceModule } from './kafkajs-internals';

const GROUPING = 'kafkajs/src/producer/groupMessagesPerPartition';
/** The module that takes the grouping function when it loads (kafkajs's index loads it). */
const SEND_MESSAGES = 'kafkajs/src/producer/sendMessages';

export interface GroupingArgs<M> {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly M[];
  readonly partitioner: (a: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** What kafkajs's function returns, built by pushing instead of copying. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupingArgs<M>): Record<number, M[]> {
  if (partitionMetadata.length === 0) return {};
  const out: Record<number, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = out[partition];
    if (list === undefined) out[partition] = [message];
    else list.push(message);
  }
  return out;
}

/** Installs the linear grouping unless kafkajs's producer has loaded already; true when installed (or it was). */
export function installGroupingFix(): boolean {
  if (require.cache[require.resolve(GROUPING)]?.exports === groupMessagesPerPartition) return true;
  if (require.cache[require.resolve(SEND_MESSAGES)] !== undefined) return false;
  assertKafkajsVersion('src/source/kafkajs-grouping.ts');
  if (typeof require(GROUPING) !== 'function') throw new Error('kafkajs: groupMessagesPerPartition is not the function src/source/kafkajs-grouping.ts was written for');
  replaceModule(GROUPING, groupMessagesPerPartition);
  return true;
}
