/**
 * kafkajs's lines through `run`'s logger (source/kafka.ts, kafkaLogCreator): what kafkajs itself
 * retries is a warning or a debug line, what it gives up on stays an error.
 */
import { logLevel, type LogEntry } from 'kafkajs';
import { captureLog } from '../../test/helpers/log-capture';
import { createRootLogger } from '../log';
import { kafkaLogCreator } from './kafka';

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

  it('other error responses are warnings, and what kafkajs gives up on an error', () => {
    expect(levelsOf([
      entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' }),
      entry(logLevel.ERROR, 'Producer', 'Failed to send messages: Connection error: connect ECONNREFUSED 127.0.0.1:19092', { retryCount: 12, retryTime: 30000 }),
    ])).toEqual([
      [40, 'kafkajs: Response Metadata(key: 3, version: 6)'],
      [50, 'kafkajs: Failed to send messages: Connection error: connect ECONNREFUSED 127.0.0.1:19092'],
    ]);
  });
});
