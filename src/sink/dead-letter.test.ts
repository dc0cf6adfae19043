import type { DeadLetter } from '../domain';
import { deadLetterHeaders, toDeadLetterMessage } from './dead-letter';

const raw = Buffer.from('{"ts": "yesterday"}');

describe('dead-letter messages', () => {
  it('carry the original bytes and name reason, stage, detail and the Kafka origin', () => {
    const dead: DeadLetter = { reason: 'invalid_timestamp', stage: 'validate', detail: 'ts "yesterday" is not a time', raw, source: { kind: 'kafka', topic: 'zeek-conn', partition: 2, offset: '9007199254740993' } };
    const m = toDeadLetterMessage(dead);
    expect(Buffer.isBuffer(m.value) && m.value.equals(raw)).toBe(true);
    expect(m.headers).toEqual({ reason: 'invalid_timestamp', stage: 'validate', detail: 'ts "yesterday" is not a time', source_topic: 'zeek-conn', source_partition: '2', source_offset: '9007199254740993' });
  });

  it('name the file and line for file input, and cap the detail', () => {
    const h = deadLetterHeaders({ reason: 'malformed_json', stage: 'decode', detail: 'x'.repeat(5000), raw, source: { kind: 'file', path: 'conn.log', line: 7 } });
    expect(h['source_path']).toBe('conn.log');
    expect(h['source_line']).toBe('7');
    expect(h['detail']).toHaveLength(2000);
    expect(h['source_topic']).toBeUndefined();
  });

  it('keep a view on a larger buffer to its own bytes', () => {
    const big = Buffer.from('AAAA{"x":1}BBBB');
    const view = big.subarray(4, 11);
    const m = toDeadLetterMessage({ reason: 'not_an_object', stage: 'validate', detail: '', raw: view, source: { kind: 'file', path: 'f', line: 1 } });
    expect(Buffer.isBuffer(m.value) ? m.value.toString() : '').toBe('{"x":1}');
  });
});
