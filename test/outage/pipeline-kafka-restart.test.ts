/**
 * Kafka broker restart (docs/delivery.md): the real broker is stopped for 10 s under a running pipeline
 * and started again. The consumer must reconnect by itself and go on; nothing is lost or
 * doubled. Stopping the shared broker would break suites running beside it, so this file is in
 * the `outage` jest project, run alone (see jest.config.js).
 *
 * Known: after the broker restart, kafkajs keeps one consumer socket and its retry timers past
 * `consumer.disconnect()` (the lag admin client, which did the same, now retries briefly and is
 * awaited). The in-process pipeline of this test therefore cannot let jest exit by itself, so
 * `npm run test:outage` passes --forceExit; `zeek-rst run` exits explicitly after its graceful
 * stop for the same reason (src/cli/run.ts).
 */
import { ensureStackUp, stackStatus, stopStack } from '../../scripts/stack/stack';
import { startPipeline } from '../../src/cli/run';
import { waitFor } from '../helpers/wait';
import { connCount, kafkaClient, pipelineTestBed, produceValues, rejectedConn, testConfig } from '../integration/pipeline-harness';

const BROKER_DOWN_MS = 10_000;

const conn = (i: number): Buffer => rejectedConn(i, 'CKr', '10.3.0');

describe('pipeline: Kafka broker restart', () => {
  const bed = pipelineTestBed('kafka-restart', { conn: 2 }, {
    beforeStop: ensureStackUp, // whatever happened, leave the broker running for what comes next
  });
  const { n, kafka, es } = bed;

  it('reconnects after the broker comes back and indexes every record exactly once', async () => {
    bed.running = await startPipeline(testConfig(n));
    const p = bed.running;
    await produceValues(kafka, n.conn, Array.from({ length: 2000 }, (_, i) => conn(i)));
    await waitFor(async () => (await connCount(es, n)) === 2000, { timeoutMs: 30_000, what: 'the first 2,000 documents' });

    await stopStack({ only: ['kafka'] });
    expect((await stackStatus()).find((s) => s.service === 'kafka')?.state).toBe('stopped');
    // The outage is a duration, not a condition: keep the broker away that long, checking that
    // the pipeline stays alive (no fatal error) the whole time.
    const outageEnds = Date.now() + BROKER_DOWN_MS;
    await waitFor(() => {
      expect(p.status().fatal).toBeUndefined();
      return Date.now() >= outageEnds;
    }, { timeoutMs: BROKER_DOWN_MS + 2000, intervalMs: 500, what: 'the end of the broker outage' });
    await ensureStackUp();

    const producer = kafkaClient();
    await produceValues(producer, n.conn, Array.from({ length: 2000 }, (_, i) => conn(2000 + i)));
    await waitFor(async () => (await connCount(es, n)) === 4000, { timeoutMs: 90_000, what: 'all 4,000 documents after the restart' });
    expect(p.status().fatal).toBeUndefined();
    expect(await p.stop()).toBe(0);
    bed.running = undefined;
    expect(await connCount(es, n)).toBe(4000);
  });
});
