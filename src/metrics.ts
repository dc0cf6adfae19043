/**
 * Metrics of `zeek-rst run`: every name is declared once in METRIC_TABLE, registered on a
 * registry that belongs to one process instance (never prom-client's global default), and
 * served in Prometheus text format with a health endpoint on a local port (node:http).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The metric table: name, help and labels, following Vector's received/sent/errors contract. */
export const METRIC_TABLE = {
  recordsIn: { type: 'counter', name: 'zeek_rst_records_in_total', help: 'Kafka messages received, per topic.', labels: ['topic'] },
  documentsOut: { type: 'counter', name: 'zeek_rst_documents_out_total', help: 'Documents acknowledged by Elasticsearch (a re-classification counts again).', labels: [] },
  verdicts: { type: 'counter', name: 'zeek_rst_verdicts_total', help: 'Documents acknowledged, per RST verdict (none = no RST).', labels: ['verdict'] },
  deadLetters: { type: 'counter', name: 'zeek_rst_dead_letters_total', help: 'Inputs sent to the dead-letter topic, per reason and stage.', labels: ['reason', 'stage'] },
  errors: { type: 'counter', name: 'zeek_rst_errors_total', help: 'Errors that were retried or stopped the pipeline, per stage and kind.', labels: ['stage', 'kind'] },
  pending: { type: 'gauge', name: 'zeek_rst_correlator_pending', help: 'Records waiting in the correlator, per kind (conn, emitted_conn, weird_uid, header; repartition: records on their way to the repartition topic).', labels: ['kind'] },
  evictions: { type: 'counter', name: 'zeek_rst_correlator_evictions_total', help: 'Records evicted or expired from the correlator without their partner, per kind.', labels: ['kind'] },
  discards: { type: 'counter', name: 'zeek_rst_correlator_discards_total', help: 'Records that never became part of a document, per kind (duplicateConns, weirdsWithoutUid, weirdsOverCap, weirdsUnjoined, headersUnjoined).', labels: ['kind'] },
  sinkPending: { type: 'gauge', name: 'zeek_rst_sink_pending_documents', help: 'Documents buffered or in flight to Elasticsearch.', labels: [] },
  bulkDuration: { type: 'histogram', name: 'zeek_rst_bulk_duration_seconds', help: 'Duration of bulk requests, per outcome (ok, partial, retry, fail).', labels: ['outcome'] },
  checkpointDuration: { type: 'histogram', name: 'zeek_rst_checkpoint_duration_seconds', help: 'Checkpoints of the correlator state, per phase: wait (until the dead letters issued before the cut, and the documents of conns no longer held, are acknowledged) and write (the changelog transaction).', labels: ['phase'] },
  changelogBytes: { type: 'counter', name: 'zeek_rst_changelog_bytes_total', help: 'Bytes of state entries written to the changelog by checkpoints.', labels: [] },
  checkpointDirty: { type: 'counter', name: 'zeek_rst_checkpoint_unacked_conns_total', help: 'Conns a checkpoint wrote dirty because their document was not acknowledged yet (a restore writes them again).', labels: [] },
  bulkRetries: { type: 'counter', name: 'zeek_rst_bulk_retries_total', help: 'Bulk retries, per scope (request, item).', labels: ['scope'] },
  consumerLag: { type: 'gauge', name: 'zeek_rst_consumer_lag', help: 'High watermark minus the next offset to read, per topic and partition.', labels: ['topic', 'partition'] },
  committedLag: { type: 'gauge', name: 'zeek_rst_consumer_committed_lag', help: 'High watermark minus the offset the group has committed, per topic and partition of this member (polled every metrics.lagIntervalMs).', labels: ['topic', 'partition'] },
  bulkInFlight: { type: 'gauge', name: 'zeek_rst_bulk_requests_in_flight', help: 'Bulk requests sent to Elasticsearch and not answered yet (a batch waiting to be retried counts).', labels: [] },
  sinkStalled: { type: 'gauge', name: 'zeek_rst_sink_stalled_seconds', help: 'While documents are pending: seconds since Elasticsearch last acknowledged one (0 when none is pending).', labels: [] },
  boundUsed: { type: 'gauge', name: 'zeek_rst_backpressure_pending', help: 'What counts against zeek_rst_backpressure_bound, per kind (sink, conn, update, dead_letter).', labels: ['kind'] },
  bound: { type: 'gauge', name: 'zeek_rst_backpressure_bound', help: 'The consumer pauses while zeek_rst_backpressure_pending sums to this: sink.maxPendingDocs + 1.5 x the documents acknowledged over the last grace (at most correlate.maxPendingConns more), at most what that rate acknowledges in the grace plus sink.maxQueueMs while the sink holds two full bulk requests per lane.', labels: [] },
  paused: { type: 'gauge', name: 'zeek_rst_source_paused', help: '1 while fetching is paused for backpressure.', labels: [] },
  alignmentPauses: { type: 'counter', name: 'zeek_rst_source_alignment_pauses_total', help: 'Times an input partition was paused for running ahead of the others in message time (kafka.alignInputs), per topic.', labels: ['topic'] },
  alignmentPaused: { type: 'gauge', name: 'zeek_rst_source_alignment_paused', help: 'Input partitions paused now for running ahead of the others in message time.', labels: [] },
  commits: { type: 'counter', name: 'zeek_rst_offset_commits_total', help: 'Offset commits sent to Kafka.', labels: [] },
  partitionsOwned: { type: 'gauge', name: 'zeek_rst_correlation_partitions', help: 'Repartition mode: correlation partitions this instance owns and has restored (docs/scale-out.md).', labels: [] },
  duplicatesSkipped: { type: 'counter', name: 'zeek_rst_repartition_duplicates_total', help: 'Re-keyed records produced again after a crash of the decoding stage and skipped by the correlating one (state/marks.ts).', labels: [] },
} as const;

type Table = typeof METRIC_TABLE;
type LabelsOf<K extends keyof Table> = Table[K]['labels'][number];
type MetricOf<K extends keyof Table> = Table[K]['type'] extends 'counter' ? Counter<LabelsOf<K>> : Table[K]['type'] extends 'gauge' ? Gauge<LabelsOf<K>> : Histogram<LabelsOf<K>>;

export type Metrics = { readonly [K in keyof Table]: MetricOf<K> } & { readonly registry: Registry };

const BULK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export function createMetrics(): Metrics {
  const registry = new Registry();
  const counter = <L extends string>(d: { name: string; help: string; labels: readonly L[] }): Counter<L> => new Counter({ name: d.name, help: d.help, labelNames: d.labels, registers: [registry] });
  const gauge = <L extends string>(d: { name: string; help: string; labels: readonly L[] }): Gauge<L> => new Gauge({ name: d.name, help: d.help, labelNames: d.labels, registers: [registry] });
  const t = METRIC_TABLE;
  return {
    registry,
    recordsIn: counter(t.recordsIn),
    documentsOut: counter(t.documentsOut),
    verdicts: counter(t.verdicts),
    deadLetters: counter(t.deadLetters),
    errors: counter(t.errors),
    pending: gauge(t.pending),
    evictions: counter(t.evictions),
    discards: counter(t.discards),
    sinkPending: gauge(t.sinkPending),
    bulkDuration: new Histogram({ name: t.bulkDuration.name, help: t.bulkDuration.help, labelNames: t.bulkDuration.labels, buckets: [...BULK_BUCKETS], registers: [registry] }),
    checkpointDuration: new Histogram({ name: t.checkpointDuration.name, help: t.checkpointDuration.help, labelNames: t.checkpointDuration.labels, buckets: [...BULK_BUCKETS], registers: [registry] }),
    changelogBytes: counter(t.changelogBytes),
    checkpointDirty: counter(t.checkpointDirty),
    bulkRetries: counter(t.bulkRetries),
    consumerLag: gauge(t.consumerLag),
    committedLag: gauge(t.committedLag),
    bulkInFlight: gauge(t.bulkInFlight),
    sinkStalled: gauge(t.sinkStalled),
    boundUsed: gauge(t.boundUsed),
    bound: gauge(t.bound),
    paused: gauge(t.paused),
    alignmentPauses: counter(t.alignmentPauses),
    alignmentPaused: gauge(t.alignmentPaused),
    commits: counter(t.commits),
    partitionsOwned: gauge(t.partitionsOwned),
    duplicatesSkipped: counter(t.duplicatesSkipped),
  };
}

export interface Health {
  readonly ok: boolean;
  readonly detail: Readonly<Record<string, string | number | boolean>>;
}

/** What /healthz of `run` is made of (cli/run.ts fills it in). */
export interface DeliveryState {
  /** The error that stopped the pipeline, if one did. */
  readonly fatal: string | undefined;
  /** Documents queued or in flight to Elasticsearch. */
  readonly sinkPending: number;
  /** While documents are pending: ms since Elasticsearch last acknowledged one (ElasticSink.msSinceProgress). */
  readonly msSinceProgress: number;
  /** `metrics.unhealthyAfterMs`. */
  readonly unhealthyAfterMs: number;
  /** False while some bulk request is being retried: reported, but healthy until unhealthyAfterMs. */
  readonly sinkRetrying: boolean;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Honest health: unhealthy after a fatal error, or once documents have waited
 * `unhealthyAfterMs` without Elasticsearch acknowledging any. A bulk retry alone, or an idle
 * pipeline (nothing pending), is healthy.
 */
export function deliveryHealth(s: DeliveryState): Health {
  const stalled = s.sinkPending > 0 && s.msSinceProgress >= s.unhealthyAfterMs;
  const elasticsearch = stalled ? 'stalled' : s.sinkRetrying ? 'retrying' : 'ok';
  return {
    ok: s.fatal === undefined && !stalled,
    detail: {
      elasticsearch,
      sinkPending: s.sinkPending,
      msSinceProgress: s.msSinceProgress,
      unhealthyAfterMs: s.unhealthyAfterMs,
      ...(s.fatal === undefined ? {} : { fatal: s.fatal }),
      ...s.detail,
    },
  };
}

export interface OpsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (Prometheus text) and GET /healthz (200 or 503, JSON detail). */
export async function serveOps(options: { readonly host: string; readonly port: number; readonly registry: Registry; readonly health: () => Health }): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(err instanceof Error ? err.message : 'metrics failed');
        },
      );
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      const h = options.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...h.detail }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
