import type { DeadLetter } from '../domain';
import { createMetrics } from '../metrics';
import { createDeadLetterWriter, deadLetterHeaders, toDeadLetterMessage, type DeadLetterProducer } from './dead-letter';

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

  it('count the dead letters being written until Kafka acknowledges or refuses them (backpressure)', async () => {
    const answers: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const producer: DeadLetterProducer = {
      send: () => new Promise((resolve, reject) => { answers.push({ resolve: () => { resolve([]); }, reject }); }),
    };
    const metrics = createMetrics();
    const writer = createDeadLetterWriter(producer, 'dlq', metrics);
    const dead = (i: number): DeadLetter => ({ reason: 'malformed_json', stage: 'decode', detail: '', raw, source: { kind: 'kafka', topic: 't', partition: 0, offset: String(i) } });
    const first = writer.write([dead(1), dead(2)]);
    const second = writer.write([dead(3)]);
    expect(writer.inFlight()).toBe(3);
    answers[0]?.resolve();
    await first;
    expect(writer.inFlight()).toBe(1);
    answers[1]?.reject(new Error('broker down'));
    await expect(second).rejects.toThrow('broker down');
    expect(writer.inFlight()).toBe(0);
    expect(await metrics.registry.metrics()).toContain('zeek_rst_dead_letters_total{reason="malformed_json",stage="decode"} 2');
  });
});
