/**
 * The configuration of `zeek-rst run`, `setup` and `produce`: one table of fields, each with its
 * unit, default, environment variable and a doc line. `load.ts` reads a YAML file, overlays the
 * `ZEEK_RST_*` environment, validates every field against this table (unknown keys rejected)
 * and freezes the result. `describeConfig()` prints the table (README "Configuration").
 *
 * Defaults point at the local stack (`npm run stack`), whose endpoints are declared once in
 * LOCAL_STACK below.
 */

/**
 * Endpoints of the local development stack, in one place. They mirror the defaults of
 * scripts/stack/config.ts (kept out of the build; a unit test checks they agree).
 */
export const LOCAL_STACK = Object.freeze({
  kafkaBroker: '127.0.0.1:19092',
  elasticsearchNode: 'http://127.0.0.1:19200',
  metricsPort: 9464,
});

/** The SASL mechanisms kafkajs supports without plugins and zeek-rst accepts. */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How `produce` frames Avro header records: Avro single-object encoding or Confluent's. */
export const PARTITIONING_MODES = ['repartition', 'direct'] as const;
export type PartitioningMode = (typeof PARTITIONING_MODES)[number];

export const HEADER_FRAMINGS = ['single-object', 'confluent'] as const;
export type HeaderFraming = (typeof HEADER_FRAMINGS)[number];

/** The value kinds a field can hold; each has one parser in load.ts. */
export type FieldKind =
  | { readonly type: 'string'; readonly nonEmpty?: true }
  | { readonly type: 'optionalString' }
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'bool' }
  | { readonly type: 'stringList'; readonly minItems: number }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'optionalEnum'; readonly values: readonly string[] }
  /** A map from TCP/UDP port to an integer in [min, max] (YAML mapping; env `22=900,23=600`). */
  | { readonly type: 'portIntMap'; readonly min: number; readonly max: number };

/** One configuration field. `T` is the value type the field resolves to. */
export interface Field<T> {
  readonly kind: FieldKind;
  readonly default: T;
  /** Environment variable that overrides the YAML value. */
  readonly env: string;
  /** Unit of the value, when it has one (ms, bytes, documents ...). */
  readonly unit?: string;
  /** One line: what it does. */
  readonly doc: string;
  /** True for secrets: the value is never logged or printed. */
  readonly secret?: true;
}

const str = (def: string, env: string, doc: string): Field<string> => ({ kind: { type: 'string', nonEmpty: true }, default: def, env, doc });
const optStr = (env: string, doc: string, secret?: true): Field<string | undefined> =>
  secret === undefined ? { kind: { type: 'optionalString' }, default: undefined, env, doc } : { kind: { type: 'optionalString' }, default: undefined, env, doc, secret };
const int = (def: number, min: number, max: number, unit: string, env: string, doc: string): Field<number> => ({ kind: { type: 'int', min, max }, default: def, env, unit, doc });
const bool = (def: boolean, env: string, doc: string): Field<boolean> => ({ kind: { type: 'bool' }, default: def, env, doc });
const list = (def: readonly string[], env: string, doc: string, minItems = 1): Field<readonly string[]> => ({ kind: { type: 'stringList', minItems }, default: Object.freeze([...def]), env, doc });
const oneOf = <const V extends readonly string[]>(values: V, def: V[number], env: string, doc: string): Field<V[number]> => ({ kind: { type: 'enum', values }, default: def, env, doc });
const maybeOneOf = <const V extends readonly string[]>(values: V, env: string, doc: string): Field<V[number] | undefined> => ({ kind: { type: 'optionalEnum', values }, default: undefined, env, doc });

const portIntMap = (min: number, max: number, unit: string, env: string, doc: string): Field<Readonly<Record<number, number>>> => ({ kind: { type: 'portIntMap', min, max }, default: Object.freeze({}), env, unit, doc });

const MAX_MS = 7 * 24 * 3600 * 1000;

/** The schema: nested groups of fields. The YAML file has the same shape (camelCase keys). */
export const CONFIG_SCHEMA = {
  kafka: {
    brokers: list([LOCAL_STACK.kafkaBroker], 'ZEEK_RST_KAFKA_BROKERS', 'Kafka bootstrap brokers, host:port (env: comma-separated).'),
    clientId: str('zeek-rst', 'ZEEK_RST_KAFKA_CLIENT_ID', 'Kafka client id, shown in broker logs and quotas.'),
    group: str('zeek-rst', 'ZEEK_RST_KAFKA_GROUP', 'Consumer group of `run`; every instance of one deployment shares it.'),
    fromBeginning: bool(true, 'ZEEK_RST_KAFKA_FROM_BEGINNING', 'Where a group without committed offsets starts: true = earliest, false = latest.'),
    sessionTimeoutMs: int(30000, 6000, 300000, 'ms', 'ZEEK_RST_KAFKA_SESSION_TIMEOUT_MS', 'Consumer session timeout; the pipeline heartbeats while it waits for Elasticsearch.'),
    connectionTimeoutMs: int(3000, 100, 60000, 'ms', 'ZEEK_RST_KAFKA_CONNECTION_TIMEOUT_MS', 'Time to open a broker connection.'),
    maxBytesPerPartition: int(1048576, 1024, 100 * 1048576, 'bytes', 'ZEEK_RST_KAFKA_MAX_BYTES_PER_PARTITION', 'Fetch size per partition and request.'),
    alignInputs: bool(true, 'ZEEK_RST_KAFKA_ALIGN_INPUTS', 'Read the conn, weird and header partitions in the order of their message timestamps, as Kafka Streams does: a partition more than alignSkewMs ahead of the others waits for them. Keeps a backlog\'s headers beside their conns (docs/delivery.md).'),
    alignSkewMs: int(1000, 0, MAX_MS, 'ms', 'ZEEK_RST_KAFKA_ALIGN_SKEW_MS', 'How far in message time an input partition may read ahead of the lowest other one that is not caught up.'),
    alignIdleMs: int(10000, 100, MAX_MS, 'ms', 'ZEEK_RST_KAFKA_ALIGN_IDLE_MS', 'An input partition that a fetch asked for and that has offered no message for this long since that fetch came back stops holding the others back.'),
    ssl: bool(false, 'ZEEK_RST_KAFKA_SSL', 'Connect to the brokers with TLS.'),
    caFile: optStr('ZEEK_RST_KAFKA_CA_FILE', 'PEM file of the CA that signed the brokers\' certificates (implies TLS).'),
    certFile: optStr('ZEEK_RST_KAFKA_CERT_FILE', 'PEM client certificate for mutual TLS (with keyFile).'),
    keyFile: optStr('ZEEK_RST_KAFKA_KEY_FILE', 'PEM client key for mutual TLS (with certFile).'),
    rejectUnauthorized: bool(true, 'ZEEK_RST_KAFKA_REJECT_UNAUTHORIZED', 'Verify the brokers\' certificates; false only for testing.'),
    saslMechanism: maybeOneOf(SASL_MECHANISMS, 'ZEEK_RST_KAFKA_SASL_MECHANISM', 'SASL mechanism: plain, scram-sha-256 or scram-sha-512; unset = no SASL.'),
    saslUsername: optStr('ZEEK_RST_KAFKA_SASL_USERNAME', 'SASL user name (with saslMechanism).'),
    saslPassword: optStr('ZEEK_RST_KAFKA_SASL_PASSWORD', 'SASL password; prefer saslPasswordFile or the environment over the YAML file.', true),
    saslPasswordFile: optStr('ZEEK_RST_KAFKA_SASL_PASSWORD_FILE', 'File whose content (trailing newline removed) is the SASL password.'),
  },
  topics: {
    conn: str('zeek-conn', 'ZEEK_RST_TOPIC_CONN', 'Topic of Zeek conn records (JSON, one record per message).'),
    weird: str('zeek-weird', 'ZEEK_RST_TOPIC_WEIRD', 'Topic of Zeek weird records.'),
    headers: str('zeek-headers', 'ZEEK_RST_TOPIC_HEADERS', 'Topic of sampled packet headers (Avro, single-object or Confluent framing).'),
    deadLetter: str('zeek-rst-dlq', 'ZEEK_RST_TOPIC_DEAD_LETTER', 'Dead-letter topic: original bytes plus reason/stage/source headers.'),
  },
  elasticsearch: {
    node: str(LOCAL_STACK.elasticsearchNode, 'ZEEK_RST_ES_NODE', 'Elasticsearch URL (http or https).'),
    indexPrefix: str('zeek-rst', 'ZEEK_RST_ES_INDEX_PREFIX', 'Prefix of every index, alias and template name (<prefix>-conn-YYYY.MM.DD, <prefix>-conn, <prefix>-scans, <prefix>-firewall).'),
    apiKey: optStr('ZEEK_RST_ES_API_KEY', 'API key (base64 id:key) for Elasticsearch; prefer apiKeyFile or the environment.', true),
    apiKeyFile: optStr('ZEEK_RST_ES_API_KEY_FILE', 'File whose content is the API key.'),
    username: optStr('ZEEK_RST_ES_USERNAME', 'Basic-auth user name (with password or passwordFile).'),
    password: optStr('ZEEK_RST_ES_PASSWORD', 'Basic-auth password; prefer passwordFile or the environment.', true),
    passwordFile: optStr('ZEEK_RST_ES_PASSWORD_FILE', 'File whose content is the basic-auth password.'),
    caFile: optStr('ZEEK_RST_ES_CA_FILE', 'PEM file of the CA that signed the node\'s certificate.'),
    requestTimeoutMs: int(30000, 100, 600000, 'ms', 'ZEEK_RST_ES_REQUEST_TIMEOUT_MS', 'Timeout of one request (a bulk call that times out is retried).'),
    refreshIntervalS: int(1, 1, 3600, 's', 'ZEEK_RST_ES_REFRESH_INTERVAL_S', '`index.refresh_interval` of the daily conn indices, in the template `setup` writes and `run` installs when absent: a document is searchable at most this long after Elasticsearch took it. Longer costs Elasticsearch less per document (bench/README.md); existing indices keep theirs.'),
    installTemplates: bool(true, 'ZEEK_RST_ES_INSTALL_TEMPLATES', '`run` installs the index templates and aliases when they are absent.'),
  },
  retention: {
    maxAgeDays: int(0, 0, 36500, 'days', 'ZEEK_RST_RETENTION_MAX_AGE_DAYS', 'Daily conn indices whose whole day is older than this are deleted by `run` (and `zeek-rst retention`); 0 = keep them all.'),
    intervalMs: int(3600000, 1000, MAX_MS, 'ms', 'ZEEK_RST_RETENTION_INTERVAL_MS', 'How often `run` applies the retention (also once at start).'),
  },
  sink: {
    bulkMaxDocs: int(1000, 1, 100000, 'documents', 'ZEEK_RST_SINK_BULK_MAX_DOCS', 'Documents per bulk request at most.'),
    bulkMaxBytes: int(5 * 1048576, 1024, 100 * 1048576, 'bytes', 'ZEEK_RST_SINK_BULK_MAX_BYTES', 'Bytes of bulk body per request at most (approximate, JSON length).'),
    flushIntervalMs: int(500, 1, 60000, 'ms', 'ZEEK_RST_SINK_FLUSH_INTERVAL_MS', 'A partial bulk request is sent after this long.'),
    bulkConcurrency: int(2, 1, 64, 'requests', 'ZEEK_RST_SINK_BULK_CONCURRENCY', 'Bulk requests in flight at most (lanes by _id hash: writes of one _id stay in order).'),
    maxPendingDocs: int(20000, 1, 10000000, 'documents', 'ZEEK_RST_SINK_MAX_PENDING_DOCS', 'Documents buffered, in flight or in their grace before the consumer pauses (backpressure), plus 1.5 x those Elasticsearch acknowledged over the last grace.'),
    maxQueueMs: int(2000, 0, MAX_MS, 'ms', 'ZEEK_RST_SINK_MAX_QUEUE_MS', 'Also holds the backpressure bound to this much work beyond the grace, at the rate Elasticsearch acknowledged over the last grace (never below two full bulk requests per lane; not while the sink holds fewer), so offsets commit promptly however slow Elasticsearch is; 0 = documents only.'),
    maxUncommittedMessages: int(500000, 1000, 100000000, 'messages', 'ZEEK_RST_SINK_MAX_UNCOMMITTED_MESSAGES', 'Messages read and not yet committed (they wait for the next checkpoint) before the consumer pauses; bounds memory.'),
    shutdownTimeoutMs: int(30000, 1000, 3600000, 'ms', 'ZEEK_RST_SINK_SHUTDOWN_TIMEOUT_MS', 'On SIGTERM, how long to wait for Elasticsearch to take the last documents before committing what is done.'),
    retryInitialMs: int(200, 1, 60000, 'ms', 'ZEEK_RST_SINK_RETRY_INITIAL_MS', 'First retry delay of a failed bulk request or item (doubles each time, full jitter).'),
    retryMaxMs: int(30000, 1, 600000, 'ms', 'ZEEK_RST_SINK_RETRY_MAX_MS', 'Ceiling of the retry delay; retries never stop (nothing is dropped).'),
  },
  correlate: {
    graceMs: int(5000, 0, MAX_MS, 'ms', 'ZEEK_RST_CORRELATE_GRACE_MS', 'How long a conn waits for its weirds and headers before it is classified and written.'),
    lateWindowMs: int(600000, 1, MAX_MS, 'ms', 'ZEEK_RST_CORRELATE_LATE_WINDOW_MS', 'How long after its first write late evidence still re-classifies a conn (same _id). The state survives restarts in the changelog (state.*).'),
    maxPendingConns: int(100000, 1, 100000000, 'conns', 'ZEEK_RST_CORRELATE_MAX_PENDING_CONNS', 'Conns waiting for evidence at most (`run` pauses the consumer there; also the most the backpressure bound grows above sink.maxPendingDocs); the oldest is classified early beyond it.'),
    maxEmittedConns: int(200000, 1, 100000000, 'conns', 'ZEEK_RST_CORRELATE_MAX_EMITTED_CONNS', 'Written conns kept for late evidence at most (oldest evicted).'),
    maxWeirdUids: int(100000, 1, 100000000, 'uids', 'ZEEK_RST_CORRELATE_MAX_WEIRD_UIDS', 'Distinct uids whose weirds wait for their conn at most.'),
    maxHeaders: int(1000000, 1, 100000000, 'headers', 'ZEEK_RST_CORRELATE_MAX_HEADERS', 'Packet headers kept at most (all flows).'),
    maxHosts: int(100000, 1, 100000000, 'hosts', 'ZEEK_RST_CORRELATE_MAX_HOSTS', 'Hosts with a TTL / IP ID baseline at most.'),
    headerBeforeMs: int(1000, 0, 3600000, 'ms', 'ZEEK_RST_CORRELATE_HEADER_BEFORE_MS', 'Headers join a conn from this long before its ts (record time).'),
    headerAfterMs: int(5000, 0, 3600000, 'ms', 'ZEEK_RST_CORRELATE_HEADER_AFTER_MS', 'Headers join a conn until this long after its ts + duration (record time).'),
    maxWeirdsPerUid: int(64, 1, 100000, 'weirds', 'ZEEK_RST_CORRELATE_MAX_WEIRDS_PER_UID', 'Weirds kept per connection; more are counted and dropped.'),
    hostSamples: int(32, 1, 10000, 'packets', 'ZEEK_RST_CORRELATE_HOST_SAMPLES', 'Recent non-RST packets kept per host for its TTL / IP ID baseline.'),
    maxRecentCloses: int(100000, 1, 100000000, '4-tuples', 'ZEEK_RST_CORRELATE_MAX_RECENT_CLOSES', 'Closed 4-tuples remembered for TIME_WAIT reuse at most.'),
  },
  state: {
    changelogTopic: optStr('ZEEK_RST_STATE_CHANGELOG_TOPIC', 'Compacted topic holding the correlator state (docs/delivery.md); default <kafka.group>-correlator-changelog. `run` creates it when absent.'),
    changelogReplicationFactor: int(-1, -1, 32, 'replicas', 'ZEEK_RST_STATE_CHANGELOG_REPLICATION_FACTOR', 'Replication factor of the changelog when `run` creates it; -1 = the broker default.'),
    transactionalId: optStr('ZEEK_RST_STATE_TRANSACTIONAL_ID', 'Direct mode: transactional id of this instance\'s changelog writer; default <kafka.group>-<hostname>. Unique per instance, stable across its restarts. (Repartition mode uses one id per partition, <kafka.group>-partition-<n>.)'),
    checkpointIntervalMs: int(5000, 100, 600000, 'ms', 'ZEEK_RST_STATE_CHECKPOINT_INTERVAL_MS', 'How often the changed state goes to the changelog; input offsets are committed after each checkpoint.'),
    restoreTimeoutMs: int(300000, 1000, 3600000, 'ms', 'ZEEK_RST_STATE_RESTORE_TIMEOUT_MS', 'Longest start-up restore of the changelog before `run` gives up.'),
  },
  partitioning: {
    mode: oneOf(PARTITIONING_MODES, 'repartition', 'ZEEK_RST_PARTITIONING_MODE', 'repartition: decoded records are re-keyed by Community ID through the repartition topic, so any number of instances in one group correlate correctly (docs/scale-out.md); direct: one instance correlates the input topics as they come, one hop less; wrong with more than one instance.'),
    partitions: int(12, 1, 10000, 'partitions', 'ZEEK_RST_PARTITIONING_PARTITIONS', 'Correlation partitions: of the repartition topic and the changelog (created with this many), and the routing of `classify`. The most instances that can share the work; fixed once the topics exist.'),
    repartitionTopic: optStr('ZEEK_RST_PARTITIONING_REPARTITION_TOPIC', 'Internal topic of the re-keyed records; default <kafka.group>-repartition. `run` creates it when absent.'),
    replicationFactor: int(-1, -1, 32, 'replicas', 'ZEEK_RST_PARTITIONING_REPLICATION_FACTOR', 'Replication factor of the repartition topic when `run` creates it; -1 = the broker default.'),
    maxInFlightRecords: int(100_000, 1000, 10_000_000, 'records', 'ZEEK_RST_PARTITIONING_MAX_IN_FLIGHT_RECORDS', 'Re-keyed records on their way to the repartition topic (produced, not acknowledged) before the decoding stage pauses: bounds their memory, and how far the input topics\' committed offsets trail what was read.'),
    retentionMs: int(86_400_000, 60_000, MAX_MS, 'ms', 'ZEEK_RST_PARTITIONING_RETENTION_MS', 'Retention of the repartition topic when `run` creates it: how long an instance may be down before re-keyed records it has not read are lost.'),
  },
  classify: {
    devicesFile: optStr('ZEEK_RST_CLASSIFY_DEVICES_FILE', 'YAML file naming the firewalls, IPS and load balancers (docs/verdicts.md#devices).'),
    idleThresholdS: int(120, 1, 86400, 's', 'ZEEK_RST_CLASSIFY_IDLE_THRESHOLD_S', 'Silence before a RST that makes it an idle timeout.'),
    idleThresholdByPortS: portIntMap(1, 86400, 's', 'ZEEK_RST_CLASSIFY_IDLE_THRESHOLD_BY_PORT_S', 'Per responder port overrides of idleThresholdS, e.g. {22: 900} (env: 22=900,23=600).'),
    idleMaxPacketsPerSide: int(10, 1, 1000000, 'packets', 'ZEEK_RST_CLASSIFY_IDLE_MAX_PACKETS_PER_SIDE', 'Without headers, idle_timeout needs at most this many packets per side.'),
    rstSeqSpread: int(2, 0, 2147483647, 'sequence numbers', 'ZEEK_RST_CLASSIFY_RST_SEQ_SPREAD', 'Two RSTs of one sender further apart than this in seq, within rstSpreadWindowS, are an injection signature.'),
    rstSpreadWindowS: int(2, 1, 3600, 's', 'ZEEK_RST_CLASSIFY_RST_SPREAD_WINDOW_S', 'Window of the spread-RST signature.'),
    connectScanMaxDurationS: int(5, 1, 3600, 's', 'ZEEK_RST_CLASSIFY_CONNECT_SCAN_MAX_DURATION_S', 'connect_scan needs a duration at most this long.'),
    ttlDeltaThreshold: int(2, 1, 255, 'hops', 'ZEEK_RST_CLASSIFY_TTL_DELTA_THRESHOLD', 'TTL or hop difference from the claimed sender that marks a middlebox.'),
    twoMslS: int(120, 1, 3600, 's', 'ZEEK_RST_CLASSIFY_TWO_MSL_S', 'TIME_WAIT length (2 MSL) for time_wait_reuse.'),
    scanWindowS: int(300, 1, 86400, 's', 'ZEEK_RST_CLASSIFY_SCAN_WINDOW_S', 'Scan detection window.'),
    scanPortThreshold: int(15, 2, 65536, 'ports', 'ZEEK_RST_CLASSIFY_SCAN_PORT_THRESHOLD', 'Distinct ports on one host that make a port scan.'),
    scanHostThreshold: int(25, 2, 100000000, 'hosts', 'ZEEK_RST_CLASSIFY_SCAN_HOST_THRESHOLD', 'Distinct hosts that make a sweep.'),
    scanSummaryIntervalMs: int(30000, 0, 86400000, 'ms', 'ZEEK_RST_CLASSIFY_SCAN_SUMMARY_INTERVAL_MS', 'How often run recomputes the scan summaries of the windows it wrote into (and once at a graceful stop); 0 = never (use zeek-rst scans).'),
  },
  decode: {
    allowCanonified: bool(false, 'ZEEK_RST_DECODE_ALLOW_CANONIFIED', 'Accept canonified test logs (ts/uid of X\'s); for test data only.'),
    maxMessageBytes: int(1048576, 64, 100 * 1048576, 'bytes', 'ZEEK_RST_DECODE_MAX_MESSAGE_BYTES', 'Larger messages are dead letters (oversized_message).'),
    confluentSchemas: list([], 'ZEEK_RST_DECODE_CONFLUENT_SCHEMAS', 'Confluent schema ids of header writer schemas, as id=path/to/schema.avsc (env: comma-separated).', 0),
    writerSchemas: list([], 'ZEEK_RST_DECODE_WRITER_SCHEMAS', 'Header writer schemas other than schemas/packet_header.avsc that sensors write in the single-object encoding, as paths to .avsc files; each is accepted by its fingerprint and resolved to the reader (env: comma-separated).', 0),
  },
  produce: {
    headerFraming: oneOf(HEADER_FRAMINGS, 'single-object', 'ZEEK_RST_PRODUCE_HEADER_FRAMING', 'Framing `produce` uses for Avro header records.'),
    confluentSchemaId: int(1, 0, 2147483647, 'id', 'ZEEK_RST_PRODUCE_CONFLUENT_SCHEMA_ID', 'Schema id `produce` writes in the Confluent framing.'),
  },
  metrics: {
    enabled: bool(true, 'ZEEK_RST_METRICS_ENABLED', 'Serve /metrics (Prometheus) and /healthz.'),
    host: str('127.0.0.1', 'ZEEK_RST_METRICS_HOST', 'Address the metrics server binds (keep it local unless you mean otherwise).'),
    port: int(LOCAL_STACK.metricsPort, 0, 65535, 'port', 'ZEEK_RST_METRICS_PORT', 'Port of the metrics server; 0 picks a free one.'),
    unhealthyAfterMs: int(60000, 100, MAX_MS, 'ms', 'ZEEK_RST_METRICS_UNHEALTHY_AFTER_MS', '/healthz answers 503 once documents have waited this long with no bulk request acknowledging any (Elasticsearch down, frozen or refusing).'),
    lagIntervalMs: int(5000, 100, 3600000, 'ms', 'ZEEK_RST_METRICS_LAG_INTERVAL_MS', 'How often the committed-offset lag (zeek_rst_consumer_committed_lag) is polled from Kafka.'),
  },
  log: {
    level: oneOf(LOG_LEVELS, 'info', 'ZEEK_RST_LOG_LEVEL', 'pino log level.'),
  },
  network: {
    localNetworks: list([], 'ZEEK_RST_NETWORK_LOCAL_NETWORKS', 'Your own networks as CIDRs (like Zeek\'s Site::local_nets), for network.direction when conn records carry no local_orig/local_resp (env: comma-separated).', 0),
  },
  observer: {
    name: optStr('ZEEK_RST_OBSERVER_NAME', 'Observer (sensor) name for records that carry no _system_name.'),
  },
} as const;

export type ConfigSchema = typeof CONFIG_SCHEMA;

/** The resolved value of a schema node: fields become their values, groups become readonly objects. */
export type ValueOf<S> = S extends Field<infer T> ? T : { readonly [K in keyof S]: ValueOf<S[K]> };

/** The parsed, validated, frozen configuration. */
export type Config = ValueOf<ConfigSchema>;

export function isField(node: unknown): node is Field<unknown> {
  return typeof node === 'object' && node !== null && 'kind' in node && 'env' in node && 'doc' in node;
}

export function isGroup(node: unknown): node is Readonly<Record<string, unknown>> {
  return typeof node === 'object' && node !== null && !Array.isArray(node) && !isField(node);
}

/** Every field with its dotted path, in schema order. */
export function listFields(schema: Readonly<Record<string, unknown>> = CONFIG_SCHEMA, prefix = ''): readonly { readonly path: string; readonly field: Field<unknown> }[] {
  const out: { path: string; field: Field<unknown> }[] = [];
  for (const [key, node] of Object.entries(schema)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isField(node)) out.push({ path, field: node });
    else if (isGroup(node)) out.push(...listFields(node, path));
  }
  return out;
}

/** One Markdown table row per field: path, default, unit, environment variable, doc. */
export function describeConfig(): string {
  const rows = listFields().map(({ path, field }) => {
    const def = field.secret === true || field.default === undefined ? '-' : JSON.stringify(field.default);
    return `| \`${path}\` | ${def} | ${field.unit ?? '-'} | \`${field.env}\` | ${field.doc} |`;
  });
  return ['| field | default | unit | env | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
