/**
 * Elasticsearch stopped for 20 s in the middle of a stream and started again: the pipeline stops
 * consuming (backpressure), retries with backoff, recovers by itself and loses nothing.
 *
 * The real node is stopped (`stopStack({ only: ['elasticsearch'] })`, the stack's own SIGTERM of
 * the process group it started) and started again (`ensureStackUp`). That would break suites
 * running beside it, so this file lives in the `outage` jest project, which `npm test` runs on
 * its own after the others (see jest.config.js).
 */
import { ensureStackUp, stackStatus, stopStack } from '../../scripts/stack/stack';
import { startPipeline } from '../../src/cli/run';
import { waitFor } from '../helpers/wait';
import { connCount, pipelineTestBed, produceValues, rejectedConn, testConfig } from '../integration/pipeline-harness';

const OUTAGE_MS = 20_000;

async function elasticsearchState(): Promise<string | undefined> {
  return (await stackStatus()).find((s) => s.service === 'elasticsearch')?.state;
}

const conn = (i: number): Buffer => rejectedConn(i, 'COut', '10.2.0');

describe('pipeline: Elasticsearch outage', () => {
  const bed = pipelineTestBed('outage', { conn: 2 }, {
    afterStop: ensureStackUp, // whatever happened, leave the node running for what comes next
  });
  const { n, kafka, es } = bed;

  it('pauses while Elasticsearch is away, then catches up and loses nothing', async () => {
    const maxPending = 1000;
    bed.running = await startPipeline(
      testConfig(n, {
        ZEEK_RST_SINK_MAX_PENDING_DOCS: String(maxPending),
        ZEEK_RST_CORRELATE_MAX_PENDING_CONNS: String(maxPending),
        ZEEK_RST_SINK_BULK_MAX_DOCS: '200',
        ZEEK_RST_SINK_RETRY_MAX_MS: '2000',
        ZEEK_RST_ES_REQUEST_TIMEOUT_MS: '2000',
        ZEEK_RST_METRICS_UNHEALTHY_AFTER_MS: '3000',
      }),
    );
    const p = bed.running;
    await produceValues(kafka, n.conn, Array.from({ length: 3000 }, (_, i) => conn(i)));
    await waitFor(async () => (await connCount(es, n)) === 3000, { timeoutMs: 30_000, what: 'the first 3,000 documents' });

    await stopStack({ only: ['elasticsearch'] });
    expect(await elasticsearchState()).toBe('stopped');
    const outageEnds = Date.now() + OUTAGE_MS;
    await produceValues(kafka, n.conn, Array.from({ length: 7000 }, (_, i) => conn(3000 + i)));
    // Backpressure: the sink and the grace hold at most maxPending documents and conns, plus the
    // allowance for what Elasticsearch took over the last grace (at most maxPendingConns), and
    // the consumer stops reading.
    const paused = await waitFor(() => {
      const s = p.status();
      return s.paused && s.lag > 0 && s.sinkPending > 0 ? s : undefined;
    }, { timeoutMs: 15_000, what: 'the consumer paused with documents waiting and messages left to read' });
    expect(paused.pendingConns).toBeLessThanOrEqual(maxPending);
    expect(paused.sinkPending + paused.pendingConns).toBeLessThanOrEqual(2 * maxPending);
    const port = p.metricsPort ?? 0;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 503, { timeoutMs: 10_000, what: '/healthz to report the outage' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/zeek_rst_bulk_retries_total\{scope="request"\} [1-9]/);
    // (The node is down: nothing can be counted in it until it is back.)
    await waitFor(() => Date.now() >= outageEnds, { timeoutMs: OUTAGE_MS + 1000, intervalMs: 250, what: 'the end of the outage' });
    expect(p.status().lag).toBeGreaterThan(0);
    expect(p.status().fatal).toBeUndefined();

    await ensureStackUp();
    expect(await elasticsearchState()).toBe('healthy');
    await waitFor(async () => (await connCount(es, n)) === 10_000, { timeoutMs: 60_000, what: 'all 10,000 documents after the outage' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await p.stop()).toBe(0);
    bed.running = undefined;
    expect(await connCount(es, n)).toBe(10_000);
  });
});
