/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's error table, an internal CommonJS module */
/**
 * kafkajs's lines through `run`'s logger (source/kafka.ts, kafkaLogCreator): what kafkajs itself
 * retries is a warning or a debug line, what it gives up on stays an error.
 */
import { logLevel, type LogEntry } from 'kafkajs';
import { captureLog } from '../../test/helpers/log-capture';
import { createRootLogger } from '../log';
import { CLUSTER_MOVING_ERRORS, kafkaLogCreator } from './kafka';

const CONCURRENT = 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

function levelsOf(entries: readonly Omit<LogEntry, 'label'>[]): unknown[] {
  const out = captureLog();
  const log = createRootLogger({ level: 'debug', destination: out.stream });
  const write = kafkaLogCreator(log)();
  for (const e of entries) write({ label: logLevel[e.level], ...e });
  return out.lines().map((l) => [l['level'], l['msg']]);
}

const entry = (level: logLevel, namespace: string, message: string, extra: Record<string, unknown> = {}): Omit<LogEntry, 'label'> => ({ level, namespace, log: { timestamp: '', logger: 'kafkajs', message, ...extra } });

describe('kafkajs log lines', () => {
  it('a send refused while the last transaction is still being committed is a debug line, from the producer and from the connection', () => {
    expect(levelsOf([
      entry(logLevel.ERROR, 'Producer', `Failed to send messages: ${CONCURRENT}`, { retryCount: 0, retryTime: 20 }),
      entry(logLevel.ERROR, 'Connection', 'Response AddPartitionsToTxn(key: 24, version: 1)', { error: CONCURRENT }),
    ])).toEqual([
      [20, `kafkajs: Failed to send messages: ${CONCURRENT}`],
      [20, 'kafkajs: Response AddPartitionsToTxn(key: 24, version: 1)'],
    ]);
  });

  it('a response that says a leader or a coordinator is moving is a debug line, as on a fresh broker', () => {
    // The lines `npm run demo` printed on a broker's first start, and a leader election.
    expect(levelsOf([
      entry(logLevel.ERROR, 'Connection', 'Response ListOffsets(key: 2, version: 3)', { error: 'This server is not the leader for that topic-partition' }),
      entry(logLevel.ERROR, 'Connection', 'Response InitProducerId(key: 22, version: 1)', { error: "The coordinator is loading and hence can't process requests for this group" }),
      entry(logLevel.ERROR, 'Connection', 'Response GroupCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available' }),
      entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' }),
    ]).map((line) => (line as readonly unknown[])[0])).toEqual([20, 20, 20, 20]);
  });

  it('names each of those errors by the text kafkajs gives it', () => {
    const { errorCodes } = require('kafkajs/src/protocol/error') as { errorCodes: readonly { type: string; message: string; retriable: boolean }[] };
    for (const [type, text] of CLUSTER_MOVING_ERRORS) {
      expect(errorCodes.find((e) => e.type === type)).toMatchObject({ message: text, retriable: true });
    }
  });

  it('other error responses are warnings, and what kafkajs gives up on an error', () => {
    expect(levelsOf([
      entry(logLevel.ERROR, 'Connection', 'Response Produce(key: 0, version: 7)', { error: 'Messages are written to the log, but to fewer in-sync replicas than required' }),
      entry(logLevel.ERROR, 'Connection', 'Response Fetch(key: 1, version: 11)', { error: 'The request timed out' }),
      entry(logLevel.ERROR, 'Producer', 'Failed to send messages: Connection error: connect ECONNREFUSED 127.0.0.1:19092', { retryCount: 12, retryTime: 30000 }),
      // The same text from the consumer, not from a response, is what kafkajs gave up on.
      entry(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded: The group coordinator is not available', { error: 'The group coordinator is not available' }),
    ])).toEqual([
      [40, 'kafkajs: Response Produce(key: 0, version: 7)'],
      [40, 'kafkajs: Response Fetch(key: 1, version: 11)'],
      [50, 'kafkajs: Failed to send messages: Connection error: connect ECONNREFUSED 127.0.0.1:19092'],
      [50, 'kafkajs: Crash: KafkaJSNumberOfRetriesExceeded: The group coordinator is not available'],
    ]);
  });
});
