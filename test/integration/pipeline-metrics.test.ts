/**
 * /metrics of a running pipeline against the real broker and node:
 * - the correlator's discard counters: a weird without a uid (not tied to any connection) and a
 *   weird whose conn never comes (it expires once the stream time passes its late window) are
 *   counted per kind, zeek_rst_correlator_discards_total{kind=...};
 * - consumer lag on committed offsets, per topic/partition, polled with the admin client: one
 *   series per partition of this member, 0 once every offset is committed, as the group's own
 *   committed offsets say;
 * - the delivery gauges (bulk requests in flight, what counts against the sink's bound).
 */
import { startPipeline } from '../../src/cli/run';
import { waitFor } from '../helpers/wait';
import { committedOffsets, connCount, endOffsets, pipelineTestBed, produceValues, rejectedConn, series, testConfig } from './pipeline-harness';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

describe('pipeline: /metrics', () => {
  const bed = pipelineTestBed('metrics', { conn: 2, weird: 1, headers: 1 });
  const { n, kafka, es } = bed;

  it('counts discarded weirds per kind and reports committed-offset lag per partition', async () => {
    bed.running = await startPipeline(testConfig(n, { ZEEK_RST_METRICS_LAG_INTERVAL_MS: '200' }));
    const base = `http://127.0.0.1:${bed.running.metricsPort ?? 0}`;
    const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
    const conns = 40;
    // ts of the conns: 1711036787.549335 + i/1000 (rejectedConn). The lost weird is a minute older:
    // once the conns move the stream time on, it is past the 1.5 s late window of testEnv.
    await produceValues(kafka, n.weird, [
      json({ ts: 1711036700.1, name: 'truncated_header', notice: false, peer: 'zeek', source: 'IP' }),
      json({ ts: 1711036727.5, uid: 'CnoSuchConn1', 'id.orig_h': '10.9.0.1', 'id.orig_p': 40000, 'id.resp_h': '10.9.0.2', 'id.resp_p': 80, name: 'data_after_reset', notice: false, peer: 'zeek', source: 'TCP' }),
    ]);
    await produceValues(kafka, n.conn, Array.from({ length: conns }, (_, i) => rejectedConn(i, 'CMet', '10.8.0')));

    const discards = await waitFor(async () => {
      const text = await scrape();
      const withoutUid = series(text, 'zeek_rst_correlator_discards_total', 'kind="weirdsWithoutUid"');
      const unjoined = series(text, 'zeek_rst_correlator_discards_total', 'kind="weirdsUnjoined"');
      return withoutUid !== undefined && unjoined !== undefined ? { withoutUid, unjoined } : undefined;
    }, { timeoutMs: 30_000, what: 'the discard counters on /metrics' });
    expect(discards).toEqual({ withoutUid: 1, unjoined: 1 });
    await waitFor(async () => (await connCount(es, n)) === conns, { timeoutMs: 30_000, what: `${conns} documents` });

    // Every offset committed (the group's own record of it), and the gauge says 0 for each partition.
    await waitFor(async () => {
      for (const topic of [n.conn, n.weird]) {
        const ends = await endOffsets(kafka, topic);
        const done = await committedOffsets(kafka, n.group, topic);
        for (const [p, high] of ends) if (done.get(p) !== high) return false;
      }
      return true;
    }, { timeoutMs: 30_000, what: 'every offset committed' });
    const lags = await waitFor(async () => {
      const text = await scrape();
      const figures = [
        series(text, 'zeek_rst_consumer_committed_lag', `topic="${n.conn}",partition="0"`),
        series(text, 'zeek_rst_consumer_committed_lag', `topic="${n.conn}",partition="1"`),
        series(text, 'zeek_rst_consumer_committed_lag', `topic="${n.weird}",partition="0"`),
        series(text, 'zeek_rst_consumer_committed_lag', `topic="${n.headers}",partition="0"`),
      ];
      return figures.every((f) => f === 0) ? figures : undefined;
    }, { timeoutMs: 10_000, what: 'committed lag 0 on every partition' });
    expect(lags).toEqual([0, 0, 0, 0]);

    // Late-evidence updates may still be on their way to Elasticsearch (they add no document to
    // the count above); once the sink holds nothing, the gauges read 0.
    const text = await waitFor(async () => {
      const t = await scrape();
      return series(t, 'zeek_rst_sink_pending_documents', '') === 0 ? t : undefined;
    }, { timeoutMs: 10_000, what: 'the sink empty' });
    expect(series(text, 'zeek_rst_bulk_requests_in_flight', '')).toBe(0);
    expect(series(text, 'zeek_rst_backpressure_pending', 'kind="update"')).toBe(0);
    expect(series(text, 'zeek_rst_sink_stalled_seconds', '')).toBe(0);
    // The repartition topic's offsets wait for checkpoints (state.checkpointIntervalMs, 5 s): each writes state to the changelog.
    const checkpointed = await waitFor(async () => {
      const t = await scrape();
      return (series(t, 'zeek_rst_checkpoint_duration_seconds_count', 'phase="write"') ?? 0) >= 1 ? t : undefined;
    }, { timeoutMs: 20_000, what: 'a checkpoint written' });
    expect(series(checkpointed, 'zeek_rst_checkpoint_duration_seconds_count', 'phase="wait"')).toBe(series(checkpointed, 'zeek_rst_checkpoint_duration_seconds_count', 'phase="write"'));
    expect(series(checkpointed, 'zeek_rst_changelog_bytes_total', '')).toBeGreaterThan(0);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await bed.running.stop()).toBe(0);
    bed.running = undefined;
  });
});
