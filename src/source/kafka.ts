/**
 * The Kafka side of `run`: the client (TLS, SASL), one consumer group on the conn, weird and
 * header topics, backpressure and offset commits.
 *
 * - Messages are handed to `onMessage` one by one after `tracker.track`; offsets are never
 *   auto-committed. A commit loop sends the tracker's contiguous completed positions
 *   (sink-acknowledged, dead-lettered or released; see state/checkpoint.ts) every `commitEveryMs`.
 * - Backpressure: while `hasCapacity()` is false (sink queue or tracked messages full),
 *   eachBatch waits inside the batch, heartbeating so the group does not evict this member;
 *   kafkajs does not fetch for a partition whose batch has not returned, so fetching pauses.
 * - On a rebalance, partitions no longer assigned are forgotten: their uncommitted messages go
 *   to the new owner, and this process ignores late completions for them.
 * - The partitions of `alignedTopics` are read in the order of their message timestamps
 *   (source/alignment.ts): one that runs ahead is paused and its batch left unresolved, so Kafka
 *   fetches it again from there once it is resumed.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type Consumer, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/schema';
import { ZeekRstError } from '../errors';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { createAlignment, createIdleClock, type Alignment } from './alignment';
import { installKafkajsFixes } from './kafkajs-fixes';
import type { OffsetTracker } from './offset-tracker';

// When this module loads, before any fetch or produce (source/kafkajs-fixes.ts).
installKafkajsFixes();

/** One delivered message, as the pipeline sees it. */
export interface SourceMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Null for a tombstone. */
  readonly value: Buffer | null;
}

function readPem(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_CONFIG_INVALID', `${field}: cannot read ${file}`, { cause: err });
  }
}

function saslOf(c: Config['kafka']): SASLOptions | undefined {
  if (c.saslMechanism === undefined || c.saslUsername === undefined || c.saslPassword === undefined) return undefined;
  const { saslUsername: username, saslPassword: password } = c;
  switch (c.saslMechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
    default: {
      const never: never = c.saslMechanism;
      return never;
    }
  }
}

/** Node's TLS certificate verification errors (codes), as kafkajs passes them on. */
const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const AUTHORIZATION_TYPES = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED']);

/** The error and what it wraps (kafkajs retriers keep the last failure in `cause` or `originalError`). */
function errorChain(err: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && chain.length < 8) {
    const e = current as Record<string, unknown>;
    chain.push(e);
    // An aggregate (createTopics' "Topic creation errors") carries the broker's answers in `errors`.
    const inner = e['errors'];
    if (Array.isArray(inner)) for (const x of inner.slice(0, 4)) if (typeof x === 'object' && x !== null) chain.push(x as Record<string, unknown>);
    current = e['cause'] ?? e['originalError'] ?? e['retriableError'];
  }
  return chain;
}

/**
 * What a kafkajs call threw, as a ZeekRstError with a stable code: the SASL handshake refused,
 * an operation without its ACL, an untrusted certificate, or an unreachable broker.
 */
export function asKafkaError(err: unknown, what: string): ZeekRstError {
  if (err instanceof ZeekRstError) return err;
  const chain = errorChain(err);
  const message = err instanceof Error ? err.message : String(err);
  const detail = (e: Record<string, unknown>): string => `${what}: ${typeof e['message'] === 'string' ? e['message'] : message}`;
  for (const e of chain) {
    if (e['name'] === 'KafkaJSSASLAuthenticationError' || e['type'] === 'SASL_AUTHENTICATION_FAILED') return new ZeekRstError('ZRST_KAFKA_AUTH_FAILED', detail(e), { cause: err });
    if (typeof e['type'] === 'string' && AUTHORIZATION_TYPES.has(e['type'])) return new ZeekRstError('ZRST_KAFKA_NOT_AUTHORIZED', `${detail(e)} (${e['type']})`, { cause: err });
    if (typeof e['code'] === 'string' && TLS_TRUST_CODES.has(e['code'])) return new ZeekRstError('ZRST_TLS_UNTRUSTED', `${detail(e)} (${e['code']})`, { cause: err });
    // kafkajs drops the broker's answer to FindCoordinator when it is not "not available yet":
    // from a broker that answers, that is a group the client may not use.
    if (e['name'] === 'KafkaJSGroupCoordinatorNotFound') {
      return new ZeekRstError('ZRST_KAFKA_NOT_AUTHORIZED', `${detail(e)}: the broker named no coordinator for the consumer group; most often its ACL is missing (READ on the group)`, { cause: err });
    }
  }
  return new ZeekRstError('ZRST_KAFKA_UNAVAILABLE', `${what}: ${message}`, { cause: err });
}

/** A broker's refusal of a member's request because the group went on without it (kafkajs error types). */
const GROUP_MOVED_ON_TYPES = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID']);

/**
 * An offset commit refused because the group rebalanced, or evicted this member, since its last
 * join. Nothing is lost: the partitions' next owner resumes from the last committed offsets.
 */
export function isGroupMovedOn(err: unknown): boolean {
  return errorChain(err).some((e) => typeof e['type'] === 'string' && GROUP_MOVED_ON_TYPES.has(e['type']));
}

/**
 * A transactional write refused because another producer took the transactional id over (the new
 * owner of a correlation partition fenced this one). kafkajs 2 names the broker's answer
 * INVALID_PRODUCER_EPOCH; newer brokers may answer PRODUCER_FENCED (90), which it does not name.
 */
export function isFenced(err: unknown): boolean {
  return errorChain(err).some((e) => e['type'] === 'INVALID_PRODUCER_EPOCH' || e['type'] === 'PRODUCER_FENCED' || e['code'] === 90);
}

/**
 * A consumer crash that an outage explains: Kafka unreachable, or no group coordinator found,
 * with no refusal (authentication, ACL, certificate) anywhere in what it wraps.
 */
export function isOutage(err: unknown): boolean {
  const code = asKafkaError(err, 'the consumer').code;
  if (code === 'ZRST_KAFKA_UNAVAILABLE') return true;
  const chain = errorChain(err);
  return code === 'ZRST_KAFKA_NOT_AUTHORIZED' && chain.some((e) => e['name'] === 'KafkaJSGroupCoordinatorNotFound') && !chain.some((e) => typeof e['type'] === 'string' && AUTHORIZATION_TYPES.has(e['type']));
}

/**
 * kafkajs warns at the creation of every idempotent producer whose retries are bounded, one per
 * correlation partition at each start. They are bounded on purpose: a changelog write that
 * fails is written again at the next checkpoint, and a repartition send that fails stops the
 * process, whose input offsets stay uncommitted (docs/delivery.md). A debug line, not a warning.
 */
const LIMITED_RETRIES = 'Limiting retries for the idempotent producer';

/**
 * kafkajs's text for CONCURRENT_TRANSACTIONS: a transaction begun while the broker still writes
 * the last one's commit markers, which every checkpoint that follows another at once meets and
 * the producer retries (state/changelog.ts). Java's producer retries it without a word; here a
 * debug line, not an error per checkpoint.
 */
export const CONCURRENT_TRANSACTIONS = 'another concurrent operation on the same transaction was ongoing';

/**
 * kafkajs's texts (protocol/error.js) of the error responses that say where the cluster stands
 * while a leader or a coordinator moves: a new topic whose leader is not ready yet, the group and
 * transaction coordinators loading their topics on a fresh broker, a leader election. kafkajs
 * refreshes its metadata and retries them; the Java clients log them at debug too.
 * kafka-log.test.ts checks the texts against kafkajs's table.
 */
export const CLUSTER_MOVING_ERRORS: ReadonlyMap<string, string> = new Map([
  ['UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition'],
  ['LEADER_NOT_AVAILABLE', 'There is no leader for this topic-partition as we are in the middle of a leadership election'],
  ['NOT_LEADER_FOR_PARTITION', 'This server is not the leader for that topic-partition'],
  ['GROUP_LOAD_IN_PROGRESS', "The coordinator is loading and hence can't process requests for this group"],
  ['GROUP_COORDINATOR_NOT_AVAILABLE', 'The group coordinator is not available'],
  ['NOT_COORDINATOR_FOR_GROUP', 'This is not the correct coordinator for this group'],
]);
const CLUSTER_MOVING_TEXTS: ReadonlySet<string> = new Set(CLUSTER_MOVING_ERRORS.values());

/** kafkajs's lines that are expected and handled: debug, whatever level kafkajs gives them. */
function isRoutine(entry: LogEntry): boolean {
  const error: unknown = entry.log['error'];
  return (entry.namespace === 'Producer' && entry.log.message.startsWith(LIMITED_RETRIES))
    || entry.log.message.includes(CONCURRENT_TRANSACTIONS)
    || (typeof error === 'string' && (error.includes(CONCURRENT_TRANSACTIONS) || (isResponseError(entry) && CLUSTER_MOVING_TEXTS.has(error))));
}

/** A line of kafkajs's `Connection` namespace about an error response. */
const isResponseError = (entry: LogEntry): boolean => entry.namespace === 'Connection' && entry.log.message.startsWith('Response ');

/**
 * kafkajs logs through our pino logger (its own lines carry broker names, never credentials).
 * Its `Connection` namespace logs every error response at ERROR, including the ones its retrier
 * then handles. Those that only say a leader or coordinator is moving (CLUSTER_MOVING_ERRORS:
 * at every first start of a broker, they came 18 times in a row) are debug lines; the other
 * error responses are warnings. The consumer or producer logs an error itself if it gives up.
 */
export function kafkaLogCreator(log: Logger): () => (entry: LogEntry) => void {
  return () => (entry) => {
    const fields = { namespace: entry.namespace, error: typeof entry.log['error'] === 'string' ? entry.log['error'] : undefined };
    const message = `kafkajs: ${entry.log.message}`;
    if (isRoutine(entry)) log.debug(fields, message);
    else if (entry.level === logLevel.ERROR && !isResponseError(entry)) log.error(fields, message);
    else if (entry.level === logLevel.ERROR) log.warn(fields, message);
    else if (entry.level === logLevel.WARN) log.warn(fields, message);
    else log.debug(fields, message);
  };
}

/**
 * The Kafka client of a command (run, produce, headers), made once each broker's TLS certificate
 * passed `checkBrokerCertificates`; the PEM files are read once, for both.
 */
export async function connectKafka(c: Config['kafka'], log: Logger): Promise<Kafka> {
  const ssl = tlsOptionsOf(c);
  if (ssl !== undefined) await checkBrokerCertificates(c, ssl);
  return createKafka(c, log, ssl);
}

function createKafka(c: Config['kafka'], log: Logger, ssl: ConnectionOptions | undefined): Kafka {
  const options: KafkaConfig = {
    clientId: c.clientId,
    brokers: [...c.brokers],
    connectionTimeout: c.connectionTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
    // Broker restarts: keep reconnecting for a long while instead of failing the consumer.
    retry: { retries: 12, initialRetryTime: 300, maxRetryTime: 30_000 },
  };
  if (ssl !== undefined) options.ssl = ssl;
  const sasl = saslOf(c);
  if (sasl !== undefined) options.sasl = sasl;
  return new Kafka(options);
}

/** The TLS options of the Kafka client; undefined without TLS. */
function tlsOptionsOf(c: Config['kafka']): ConnectionOptions | undefined {
  if (!(c.ssl || c.caFile !== undefined || c.certFile !== undefined)) return undefined;
  return {
    rejectUnauthorized: c.rejectUnauthorized,
    ...(c.caFile === undefined ? {} : { ca: [readPem(c.caFile, 'kafka.caFile')] }),
    ...(c.certFile === undefined ? {} : { cert: readPem(c.certFile, 'kafka.certFile') }),
    ...(c.keyFile === undefined ? {} : { key: readPem(c.keyFile, 'kafka.keyFile') }),
  };
}

/**
 * A TLS handshake with each broker, as kafkajs makes it, before kafkajs connects: kafkajs retries
 * a certificate it does not trust as it retries a broker that is down (79 s with the retry
 * settings above, measured by the secure tests), so an untrusted certificate is reported here at
 * once (ZRST_TLS_UNTRUSTED). A broker that does not answer is left to kafkajs: an outage, retried.
 */
async function checkBrokerCertificates(c: Config['kafka'], ssl: ConnectionOptions): Promise<void> {
  for (const broker of c.brokers) {
    const colon = broker.lastIndexOf(':');
    const host = broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(broker.slice(colon + 1));
    const failure = await new Promise<{ code?: unknown; message: string } | undefined>((resolve) => {
      const socket = tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...ssl }, () => {
        socket.end();
        resolve(undefined);
      });
      socket.setTimeout(c.connectionTimeoutMs, () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        socket.destroy();
        resolve({ code: err.code, message: err.message });
      });
    });
    if (failure !== undefined && typeof failure.code === 'string' && TLS_TRUST_CODES.has(failure.code)) {
      throw new ZeekRstError('ZRST_TLS_UNTRUSTED', `checking the certificate of the Kafka broker ${broker}: ${failure.message} (${failure.code})`);
    }
  }
}

export interface KafkaSourceOptions {
  readonly kafka: Kafka;
  readonly config: Config['kafka'];
  readonly topics: readonly string[];
  readonly tracker: OffsetTracker;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Handles one tracked message synchronously (decode, correlate, enqueue). Never throws on bad input. */
  readonly onMessage: (message: SourceMessage) => void;
  /** False while the messages of this partition must wait (the sink or the tracker is full, its state restores). */
  readonly hasCapacity: (topic: string, partition: number) => boolean;
  /**
   * The partitions assigned, after every join (repartition mode owns tasks by them). `lost` is true when the join is a new
   * membership (another member id: kafkajs was evicted, crashed and restarted, or was run again
   * after an outage): every partition held before may have had another owner meanwhile, so what
   * was kept for them is stale even where the partition came back.
   */
  readonly onAssignment?: (assigned: readonly { readonly topic: string; readonly partition: number }[], lost: boolean) => void;
  readonly commitEveryMs: number;
  /** Topics whose partitions are read in message-timestamp order (the inputs a conn is joined from); none when absent. */
  readonly alignedTopics?: readonly string[];
  /** Called when the consumer crashes for good (kafkajs gave up); the pipeline stops without committing more. */
  readonly onFatal: (err: ZeekRstError) => void;
}

export interface KafkaSource {
  start(): Promise<void>;
  /** Stops taking new messages; resolves when no batch is being processed. */
  stopFetching(): Promise<void>;
  /** Commits what the tracker says is complete. */
  commit(): Promise<void>;
  /** Per `topic/partition`: the broker's high watermark minus the next offset to read (refreshed every 2 s). */
  lag(): ReadonlyMap<string, number>;
  /** Re-reads the high watermarks now. */
  refreshLag(): Promise<void>;
  /** True while a batch waits for capacity (backpressure). */
  paused(): boolean;
  /** Partitions assigned to this member (empty before the first join). */
  assigned(): readonly { topic: string; partition: number }[];
  /** The topics it consumes. */
  readonly topics: readonly string[];
  disconnect(): Promise<void>;
}

const CAPACITY_POLL_MS = 50;
/** How often partitions paused for alignment are looked at again. */
const ALIGN_POLL_MS = 100;
const HEARTBEAT_EVERY_MS = 1000;
/**
 * A consumer that kafkajs gave up on during a broker outage is run again this many times, with
 * the backoff below (about 3 minutes in all), before the source fails for good.
 */
const REJOIN_ATTEMPTS = 12;
const rejoinDelayMs = (attempt: number): number => Math.min(30_000, 300 * 2 ** attempt);

export function createKafkaSource(o: KafkaSourceOptions): KafkaSource {
  const consumer: Consumer = o.kafka.consumer({
    groupId: o.config.group,
    sessionTimeout: o.config.sessionTimeoutMs,
    maxBytesPerPartition: o.config.maxBytesPerPartition,
    // A short long-poll: lag of idle partitions stays fresh and a stop does not wait 5 s for a fetch.
    maxWaitTimeInMs: 1000,
    retry: { retries: 12, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
  const lags = new Map<string, number>();
  /** Next offset to read per `topic/partition`, from the messages handled. */
  const positions = new Map<string, bigint>();
  // Lag is a best-effort metric refreshed every 2 s: a failed refresh is simply the next one's
  // job, so the admin client does not retry for long. An admin call still retrying when
  // disconnect() runs would reconnect afterwards and keep the process alive.
  const admin = o.kafka.admin({ retry: { retries: 1, initialRetryTime: 300, maxRetryTime: 1000 } });
  let lagTimer: NodeJS.Timeout | undefined;
  let lagInFlight: Promise<void> | undefined;

  /** Lag from fresh high watermarks: a batch's own watermark is stale while it waits for capacity. */
  const refreshLag = async (): Promise<void> => {
    for (const topic of o.topics) {
      const highs = await admin.fetchTopicOffsets(topic);
      const unseen = assignment.filter((p) => p.topic === topic && !positions.has(`${topic}/${p.partition}`));
      const committed = new Map<number, bigint>();
      if (unseen.length > 0) {
        const [entry] = await admin.fetchOffsets({ groupId: o.config.group, topics: [topic] });
        for (const p of entry?.partitions ?? []) committed.set(p.partition, BigInt(p.offset));
      }
      for (const h of highs) {
        if (!assignment.some((p) => p.topic === topic && p.partition === h.partition)) continue;
        const key = `${topic}/${h.partition}`;
        const c = committed.get(h.partition);
        const position = positions.get(key) ?? (c !== undefined && c >= 0n ? c : BigInt(h.low));
        const lag = Number(BigInt(h.high) - position);
        lags.set(key, lag);
        o.metrics.consumerLag.set({ topic, partition: String(h.partition) }, lag);
        if (lag <= 0) alignment?.reached(key, true);
      }
    }
  };
  /** One refresh at a time, in the background; a failure is the next one's job. */
  const startLagRefresh = (): void => {
    lagInFlight ??= refreshLag()
      .catch((err: unknown) => {
        o.log.debug({ error: err instanceof Error ? err.message : String(err) }, 'lag refresh failed');
      })
      .finally(() => {
        lagInFlight = undefined;
      });
  };
  let assignment: { topic: string; partition: number }[] = [];
  let stopping = false;
  let waiting = false;
  let activeBatches = 0;
  let idleWaiters: (() => void)[] = [];
  let commitTimer: NodeJS.Timeout | undefined;
  let alignTimer: NodeJS.Timeout | undefined;
  const alignedTopics = new Set(o.config.alignInputs ? (o.alignedTopics ?? []) : []);
  const idleClock = createIdleClock();
  const alignment: Alignment | undefined = alignedTopics.size === 0 ? undefined : createAlignment({ maxSkewMs: o.config.alignSkewMs, idleMs: o.config.alignIdleMs, now: idleClock.now });
  // kafkajs sends one fetch at a time to a broker, for every assigned partition not paused, once
  // the batches of the last one are handled: a partition is idle only after one came back without it.
  consumer.on(consumer.events.FETCH_START, () => {
    alignment?.fetching();
  });
  consumer.on(consumer.events.FETCH, () => {
    alignment?.fetched();
  });
  /**
   * Every partition ever assigned, by its `topic/partition` key (alignment's keys): a partition
   * paused before a rebalance took it away is still resumed (kafkajs keeps its pause).
   */
  const byKey = new Map<string, { topic: string; partitions: number[] }>();
  /** Resumes what alignment paused, unless the source is stopping (stopFetching paused everything). */
  const resumeAligned = (keys: readonly string[]): void => {
    if (keys.length === 0 || stopping) return;
    consumer.resume(keys.flatMap((k) => byKey.get(k) ?? []));
    o.metrics.alignmentPaused.set(alignment?.pausedCount() ?? 0);
  };
  let committing: Promise<void> = Promise.resolve();

  let joined = false;
  /** The member id of the last join: a join under another one is a new membership. */
  let memberId: string | undefined;
  let rejoins = 0;
  let rejoinTimer: NodeJS.Timeout | undefined;
  let runOptions: Parameters<Consumer['run']>[0];
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joined = true;
    rejoins = 0;
    const next: { topic: string; partition: number }[] = [];
    for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) for (const partition of partitions) next.push({ topic, partition });
    // Within one membership the member takes part in every generation, so a partition it keeps
    // had no other owner. A new member id means the group went on without this member (evicted
    // after a rebalance timeout, or kafkajs restarted the consumer): all it held is revoked, even
    // where the same partition is assigned again.
    const lost = memberId !== undefined && event.payload.memberId !== memberId;
    memberId = event.payload.memberId;
    const keep = new Set(lost ? [] : next.map((p) => `${p.topic}/${p.partition}`));
    for (const p of assignment) if (!keep.has(`${p.topic}/${p.partition}`)) o.tracker.forget(p);
    assignment = next;
    // kafkajs fetches from the committed offsets after a join: positions are learnt again.
    positions.clear();
    for (const p of next) byKey.set(`${p.topic}/${p.partition}`, { topic: p.topic, partitions: [p.partition] });
    if (alignment !== undefined) {
      resumeAligned(alignment.reset(next.filter((p) => alignedTopics.has(p.topic)).map((p) => `${p.topic}/${p.partition}`)));
      // Which assigned partitions have nothing to read, so that they hold nothing back.
      startLagRefresh();
    }
    if (lost) o.metrics.errors.inc({ stage: 'source', kind: 'membership_lost' });
    o.log.info({ group: event.payload.groupId, memberId, lost, partitions: next.map((p) => `${p.topic}/${p.partition}`) }, lost ? 'joined the consumer group as a new member: what was held for the previous assignment is dropped' : 'joined the consumer group');
    o.onAssignment?.(next, lost);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (event.payload.restart) {
      o.log.warn({ error: event.payload.error.message }, 'consumer crashed; kafkajs restarts it');
      return;
    }
    // kafkajs does not restart a consumer that found no group coordinator: with every broker
    // unreachable it says so, as it does for a group the ACLs refuse. start() checked the group's
    // ACL, so once the group was joined this is an outage, and the source runs the consumer again.
    const outage = joined && isOutage(event.payload.error);
    const error = outage ? new ZeekRstError('ZRST_KAFKA_UNAVAILABLE', `the consumer: ${event.payload.error.message} (no broker answered)`, { cause: event.payload.error }) : asKafkaError(event.payload.error, 'the consumer');
    if (outage && !stopping && runOptions !== undefined && rejoins < REJOIN_ATTEMPTS) {
      const delayMs = rejoinDelayMs(rejoins++);
      o.metrics.errors.inc({ stage: 'source', kind: 'rejoin' });
      o.log.warn({ error: error.message, attempt: rejoins, delayMs }, 'consumer stopped during a broker outage; running it again');
      const options = runOptions;
      rejoinTimer = setTimeout(() => {
        if (stopping) return;
        consumer.run(options).catch((err: unknown) => {
          o.onFatal(asKafkaError(err, 'the consumer'));
        });
      }, delayMs);
      return;
    }
    o.metrics.errors.inc({ stage: 'source', kind: 'crash' });
    o.onFatal(error);
  });

  const commitNow = async (): Promise<void> => {
    const positions = o.tracker.committable();
    if (positions.length === 0) return;
    try {
      await consumer.commitOffsets(positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })));
    } catch (err: unknown) {
      if (!isGroupMovedOn(err)) throw err;
      // Not an error: the next owner of these partitions reads again from the last committed
      // offsets (whatever it finds in the changelog already is skipped, docs/delivery.md).
      o.metrics.errors.inc({ stage: 'source', kind: 'commit_refused_rebalance' });
      o.log.warn({ error: err instanceof Error ? err.message : String(err), positions: positions.length }, 'offset commit refused: the consumer group rebalanced; the partitions\' next owner resumes from the last committed offsets');
      return;
    }
    o.tracker.markCommitted(positions);
    o.metrics.commits.inc();
    o.log.debug({ positions: positions.map((p) => `${p.topic}/${p.partition}@${p.offset}`) }, 'committed offsets');
  };

  /** Serialises commits: the loop and the final commit never overlap. */
  const commit = (): Promise<void> => {
    committing = committing.then(commitNow, commitNow);
    return committing;
  };

  const batchDone = (): void => {
    activeBatches -= 1;
    if (activeBatches === 0) {
      idleClock.start();
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  return {
    async start() {
      try {
        await admin.connect();
        await consumer.connect();
        for (const topic of o.topics) await consumer.subscribe({ topic, fromBeginning: o.config.fromBeginning });
        // The group's offsets, once: a group the broker refuses fails here at once, where the
        // consumer's join would retry for minutes (kafkajs hides the refusal behind
        // "Failed to find group coordinator").
        const [first] = o.topics;
        if (first !== undefined) {
          await admin.fetchOffsets({ groupId: o.config.group, topics: [first] }).catch((err: unknown) => {
            const e = asKafkaError(err, `the consumer group ${o.config.group}`);
            // Anything else (a coordinator still loading) is the join's to retry.
            if (e.code !== 'ZRST_KAFKA_UNAVAILABLE') throw e;
          });
        }
      } catch (err: unknown) {
        await admin.disconnect().catch(() => undefined);
        await consumer.disconnect().catch(() => undefined);
        throw asKafkaError(err, 'joining the consumer group');
      }
      runOptions = {
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          const isRunning = (): boolean => payload.isRunning();
          const isStale = (): boolean => payload.isStale();
          const heartbeat = (): Promise<void> => payload.heartbeat();
          activeBatches += 1;
          idleClock.stop();
          const key = `${batch.topic}/${batch.partition}`;
          const aligned = alignment !== undefined && alignedTopics.has(batch.topic);
          let heldBack = false;
          try {
            let lastBeat = Date.now();
            for (const m of batch.messages) {
              while (!o.hasCapacity(batch.topic, batch.partition) && !stopping && isRunning() && !isStale()) {
                waiting = true;
                o.metrics.paused.set(1);
                await new Promise((r) => setTimeout(r, CAPACITY_POLL_MS));
                if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
                  await heartbeat();
                  lastBeat = Date.now();
                }
              }
              waiting = false;
              o.metrics.paused.set(0);
              if (stopping || !isRunning() || isStale()) break;
              if (aligned && !alignment.admit(key, Number(m.timestamp))) {
                // Ahead of the other inputs: this message and the rest of the batch stay
                // unresolved, so the next fetch after the resume starts at this message.
                payload.pause();
                o.metrics.alignmentPauses.inc({ topic: batch.topic });
                o.metrics.alignmentPaused.set(alignment.pausedCount());
                heldBack = true;
                break;
              }
              if (o.tracker.track({ topic: batch.topic, partition: batch.partition, offset: m.offset })) {
                o.metrics.recordsIn.inc({ topic: batch.topic });
                o.onMessage({ topic: batch.topic, partition: batch.partition, offset: m.offset, value: m.value });
              }
              payload.resolveOffset(m.offset);
              positions.set(key, BigInt(m.offset) + 1n);
              if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
                await heartbeat();
                lastBeat = Date.now();
              }
            }
            if (aligned) {
              if (!heldBack && !stopping && isRunning() && !isStale()) alignment.reached(key, BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark));
              // Before the next fetch is sent: a partition that waited on this one may go now. Left
              // to the timer, the fetch would ask only for partitions with nothing new and wait
              // out its long poll (maxWaitTimeInMs) first.
              resumeAligned(alignment.resumable());
            }
          } finally {
            batchDone();
          }
        },
      };
      await consumer.run(runOptions);
      commitTimer = setInterval(() => {
        commit().catch((err: unknown) => {
          o.metrics.errors.inc({ stage: 'source', kind: 'commit' });
          o.log.warn({ error: err instanceof Error ? err.message : String(err) }, 'offset commit failed; the next one will carry it');
        });
      }, o.commitEveryMs);
      commitTimer.unref();
      if (alignment !== undefined) {
        alignTimer = setInterval(() => {
          resumeAligned(alignment.resumable());
        }, ALIGN_POLL_MS);
        alignTimer.unref();
      }
      lagTimer = setInterval(startLagRefresh, 2000);
      lagTimer.unref();
    },

    async stopFetching() {
      stopping = true;
      try {
        consumer.pause(o.topics.map((topic) => ({ topic })));
      } catch {
        // start() failed before consumer.run: there is nothing to pause
      }
      if (activeBatches > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    commit,

    lag: () => lags,
    refreshLag,
    paused: () => waiting,
    assigned: () => assignment,
    topics: o.topics,

    async disconnect() {
      if (commitTimer !== undefined) clearInterval(commitTimer);
      if (alignTimer !== undefined) clearInterval(alignTimer);
      if (rejoinTimer !== undefined) clearTimeout(rejoinTimer);
      if (lagTimer !== undefined) clearInterval(lagTimer);
      await lagInFlight;
      await admin.disconnect().catch(() => undefined);
      await committing.catch(() => undefined);
      await consumer.disconnect();
    },
  };
}
