/**
 * `zeek-rst run`: Kafka -> decode -> correlate -> classify -> ECS -> Elasticsearch (docs/delivery.md, docs/cli.md).
 *
 * Delivery (docs/delivery.md): the correlator's state lives in a compacted changelog topic
 * (state/changelog.ts). Every `state.checkpointIntervalMs` a checkpoint cuts the stream; once the
 * dead letters issued before the cut are written, the changed state (a conn whose document is not
 * yet acknowledged marked dirty, so that a restore writes it again: state/unacked.ts) and the
 * input positions go to the changelog in one transaction, and only then are the messages before
 * the cut released for the offset commit (state/checkpoint.ts). So offsets trail the consumer by
 * about one checkpoint, not by the late window. After a kill -9 a restart fences its predecessor,
 * restores the changelog, skips re-delivered messages the state already holds and rewrites the
 * same `_id`s: nothing lost, nothing doubled. SIGTERM/SIGINT stop fetching, flush the correlator,
 * drain the sink, checkpoint, commit, and exit 0.
 */
import { hostname } from 'node:os';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { loadDevicesFile } from '../config/devices';
import { loadHeaderCodec } from '../config/header-schemas';
import { loadConfig } from '../config/load';
import type { Config, PartitioningMode } from '../config/schema';
import { stageSettingsOf } from '../config/stages';
import { NO_DISCARDS, type CorrelatorStats, type DiscardCounters } from '../correlate/correlator';
import type { DeadLetter, InputKind, SourceRef } from '../domain';
import { DISCARD_KINDS } from '../driver';
import { sumStats, type OutputDoc } from '../pipeline';
import { ZeekRstError } from '../errors';
import { createInputDecoder } from '../decode/dispatch';
import { createPartitioner, routingKeyOf } from '../partition';
import { createRootLogger, stageLogger, type Logger } from '../log';
import { createMetrics, serveOps, type Metrics, type OpsServer } from '../metrics';
import { createDeadLetterWriter } from '../sink/dead-letter';
import { createElasticSink, createEsClient, installTemplates, type Rejection } from '../sink/elastic';
import { applyRetention } from '../sink/retention';
import { connIndexFor } from '../sink/templates';
import { asKafkaError, connectKafka, createKafkaSource, type SourceMessage } from '../source/kafka';
import { createOffsetTracker, type MessageRef } from '../source/offset-tracker';
import { ensureChangelogTopic, type ChangelogSettings } from '../state/changelog';
import { partitionCount } from '../state/topics';
import { createRepartitionWriter, ensureRepartitionTopic, type RepartitionSettings, type RepartitionWriter } from '../state/repartition';
import { decodeItems, encodeItem, sourceOfItem } from '../state/repartition-lines';
import { SEMI_SPACE_ARG, semiSpaceGiven } from './node-flags';
import { createTaskSet, type Task } from './tasks';
import { createDirtyRanges } from '../sink/dirty-ranges';
import { computeScanSummaries } from '../sink/scans-store';
import { scanSettingsOf } from './scans';
import { parseCommandArgs } from './args';
import { createDeliveryMonitor } from './delivery';
import { createCommittedLagPoller } from '../source/committed-lag';

export const HELP = `Usage: zeek-rst run [--config FILE]

The pipeline: consumes Zeek conn and weird records and sampled packet headers from Kafka,
classifies every TCP reset and writes ECS documents to Elasticsearch. Configuration: the YAML
file and ZEEK_RST_* environment variables (README, Configuration). Serves /metrics and /healthz
on metrics.host:metrics.port. SIGTERM or SIGINT: stop fetching, flush, commit, exit 0.

Options:
  --config FILE   YAML configuration
  -h, --help      show this help`;

const TICK_MS = 200;
const COMMIT_EVERY_MS = 1000;

/** What the demo and the tests watch. */
export interface RunStatus {
  /** Sum of the consumer lag over assigned partitions (from the last batch of each). */
  readonly lag: number;
  /** Partitions whose lag is known (refreshed every 2 s). */
  readonly partitionsSeen: number;
  /** Partitions assigned to this member. */
  readonly partitionsAssigned: number;
  readonly pendingConns: number;
  readonly sinkPending: number;
  /** True while the consumer waits for room (backpressure). */
  readonly paused: boolean;
  /** Messages read and not yet complete. */
  readonly incomplete: number;
  readonly documentsEnqueued: number;
  readonly fatal: string | undefined;
  /** Re-delivered messages (and re-produced records) skipped because the restored state holds them already. */
  readonly skippedRestored: number;
  /** Changelog entries loaded by the tasks owned now. */
  readonly restoredEntries: number;
  /** Repartition mode: correlation partitions owned and restored. */
  readonly partitionsOwned: number;
}

export interface RunningPipeline {
  status(): RunStatus;
  /** Graceful stop: stop fetching, flush, drain, commit, disconnect. Resolves to the exit code. */
  stop(): Promise<number>;
  /** Resolves with the exit code once the pipeline stopped (gracefully or after a fatal error). */
  readonly stopped: Promise<number>;
  readonly metricsPort: number | undefined;
}

export interface StartOptions {
  readonly log?: Logger;
  /** Wall clock in µs; injectable for tests. */
  readonly nowUs?: () => number;
}

export async function startPipeline(config: Config, options: StartOptions = {}): Promise<RunningPipeline> {
  const root = options.log ?? createRootLogger({ level: config.log.level });
  const log = { source: stageLogger(root, 'source'), decode: stageLogger(root, 'decode'), correlate: stageLogger(root, 'correlate'), sink: stageLogger(root, 'sink'), ops: stageLogger(root, 'ops') };
  const nowUs = options.nowUs ?? ((): number => Date.now() * 1000);
  const metrics: Metrics = createMetrics();
  const devices = config.classify.devicesFile === undefined ? [] : await loadDevicesFile(config.classify.devicesFile);
  const codec = await loadHeaderCodec(config.decode);
  const settings = stageSettingsOf(config, devices);
  const tracker = createOffsetTracker();
  const prefix = config.elasticsearch.indexPrefix;
  const topics = config.topics;
  const inputOf = (topic: string): InputKind => {
    if (topic === topics.headers) return 'headers';
    if (topics.conn === topics.weird) return 'zeek'; // one topic for both: the wrapper key or _path says which
    return topic === topics.conn ? 'conn' : 'weird';
  };

  let fatal: ZeekRstError | undefined;
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<number> | undefined;
  let stopPipeline: (code: number) => Promise<number> = () => Promise.resolve(1);
  const onFatal = (err: ZeekRstError): void => {
    if (fatal !== undefined) return;
    fatal = err;
    root.error({ code: err.code, error: err.message }, 'stopping: the pipeline cannot go on');
    void stopPipeline(1);
  };

  const es = createEsClient(config.elasticsearch);
  if (config.elasticsearch.installTemplates) {
    const report = await installTemplates(es, prefix, { onlyIfAbsent: true, refreshIntervalS: config.elasticsearch.refreshIntervalS });
    log.sink.info({ template: report.template, scansIndex: report.scansIndex }, 'index templates checked');
  }
  // Retention of the daily indices (sink/retention.ts): once now, then every intervalMs.
  let retentionTimer: NodeJS.Timeout | undefined;
  if (config.retention.maxAgeDays > 0) {
    const enforce = (): void => {
      applyRetention(es, prefix, config.retention.maxAgeDays, Date.now(), false).then(
        (r) => { if (r.deleted.length > 0) log.sink.info({ deleted: r.deleted, maxAgeDays: config.retention.maxAgeDays }, 'retention: deleted expired daily indices'); },
        (err: unknown) => { log.sink.warn({ error: err instanceof Error ? err.message : String(err) }, 'retention failed; the next run will try again'); },
      );
    };
    enforce();
    retentionTimer = setInterval(enforce, config.retention.intervalMs);
    retentionTimer.unref();
  }
  const kafka = await connectKafka(config.kafka, log.source).catch(async (err: unknown) => {
    await es.close().catch(() => undefined);
    throw err;
  });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect().catch(async (err: unknown) => {
    await es.close().catch(() => undefined);
    throw asKafkaError(err, 'connecting the producer');
  });
  const deadLetters = createDeadLetterWriter(producer, topics.deadLetter, metrics);
  const pendingWrites = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    pendingWrites.add(p);
    void p.finally(() => pendingWrites.delete(p));
  };

  const sink = createElasticSink({
    client: es,
    settings: config.sink,
    log: log.sink,
    metrics,
    onFatal,
    onRejected: (r: Rejection) =>
      // The value is the refused document (the conn's own bytes are not kept in memory); the
      // headers name the conn's message so the original can be found.
      deadLetters.write([
        { reason: 'mapping_rejected', stage: 'sink', detail: `${r.errorType} (HTTP ${r.status}): ${r.reason}`, raw: Buffer.from(r.doc.json), source: r.doc.source },
      ]),
  });

  const documents = {
    write(docs: readonly OutputDoc[]): number[] {
      return docs.map((out) => {
        const seq = sink.enqueue({ id: out.id, index: connIndexFor(prefix, out.timestampMs), json: out.json, source: out.source, verdict: out.classification.verdict });
        dirty.note(seq, out.timestampMs);
        return seq;
      });
    },
  };
  // Scan summaries: every window this instance wrote into is recomputed from Elasticsearch once
  // its documents are acknowledged (sink/scans-store.ts); the result does not depend on which
  // instance computes it, or how often.
  const dirty = createDirtyRanges();
  const scanSettings = scanSettingsOf(config);
  let scanPass: Promise<void> | undefined;
  const runScanPass = (): Promise<void> => {
    if (scanPass !== undefined) return scanPass;
    const range = dirty.take(sink.completedThrough());
    if (range === undefined) return Promise.resolve();
    scanPass = computeScanSummaries(es, { prefix, range, settings: scanSettings })
      .then((r) => {
        log.sink.debug({ buckets: r.buckets, summaries: r.summaries, deleted: r.deleted, marked: r.marked, unmarked: r.unmarked }, 'scan summaries');
      })
      .catch((err: unknown) => {
        dirty.putBack(range);
        metrics.errors.inc({ stage: 'sink', kind: 'scan_summaries' });
        log.sink.warn({ error: err instanceof Error ? err.message : String(err) }, 'scan summary pass failed; retried at the next interval');
      })
      .finally(() => {
        scanPass = undefined;
      });
    return scanPass;
  };
  const scanTimer = config.classify.scanSummaryIntervalMs > 0 ? setInterval(() => void runScanPass(), config.classify.scanSummaryIntervalMs) : undefined;

  // The same driver as `classify`, one per correlation partition this instance owns (cli/tasks.ts);
  // only the clock (wall time, for the grace) and the sink differ.
  const mode = config.partitioning.mode;
  const changelogSettings = changelogSettingsOf(config);
  const repartition = repartitionSettingsOf(config);
  let closed = false;
  const taskSet = createTaskSet({
    kafka,
    changelog: changelogSettings,
    settings,
    codec,
    clock: { now: nowUs },
    documents,
    log: log.correlate,
    restoreTimeoutMs: config.state.restoreTimeoutMs,
    sink,
    deadLettersInFlight: () => [...pendingWrites],
    closed: () => closed || fatal !== undefined,
    release: (ref) => {
      tracker.release(ref);
    },
    onCheckpointError: () => {
      metrics.errors.inc({ stage: 'correlate', kind: 'changelog_write' });
    },
    onCheckpoint: (c) => {
      metrics.checkpointDuration.observe({ phase: 'wait' }, c.waitMs / 1000);
      metrics.checkpointDuration.observe({ phase: 'write' }, c.writeMs / 1000);
      metrics.changelogBytes.inc(c.bytes);
      metrics.checkpointDirty.inc(c.markedDirty);
    },
    onRestoreError: (err, partitions) => {
      onFatal(asKafkaError(err, `restoring correlation partitions ${partitions.join(',')} from ${changelogSettings.topic}`));
    },
  });
  const repartitionWriter = mode === 'repartition' ? createRepartitionWriter(kafka, repartition, log.correlate, (err) => { onFatal(asKafkaError(err, `the repartition topic ${repartition.topic}`)); }) : undefined;
  const ingestDecoder = createInputDecoder(settings.decode, codec);
  const partitioner = createPartitioner(config.partitioning.partitions);

  // The topics this mode needs, then (direct mode) the state, before consuming anything: fence a
  // killed predecessor (same transactional id), then load what it checkpointed. In repartition
  // mode each partition is restored when it is assigned (cli/tasks.ts).
  const closeEarly = async (): Promise<void> => {
    await taskSet.close().catch(() => undefined);
    await repartitionWriter?.disconnect().catch(() => undefined);
    await sink.close().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await es.close().catch(() => undefined);
    if (scanTimer !== undefined) clearInterval(scanTimer);
    if (retentionTimer !== undefined) clearInterval(retentionTimer);
  };
  try {
    await ensureStateTopics(kafka, mode, changelogSettings, repartition, log.correlate);
    if (repartitionWriter !== undefined) await repartitionWriter.connect();
    if (mode === 'direct') await taskSet.startDirect(config.state.transactionalId ?? `${config.kafka.group}-${hostname()}`);
  } catch (err: unknown) {
    await closeEarly();
    throw err instanceof ZeekRstError ? err : asKafkaError(err, `restoring the correlator state from ${changelogSettings.topic}`);
  }

  const lastCounts = new WeakMap<Task, { evicted: number; discards: DiscardCounters }>();
  const countDiscards = (): void => {
    for (const t of taskSet.all()) {
      const s = t.driver.stats();
      const last = lastCounts.get(t) ?? { evicted: 0, discards: { ...NO_DISCARDS } };
      if (s.evicted > last.evicted) metrics.evictions.inc({ kind: 'correlator' }, s.evicted - last.evicted);
      for (const kind of DISCARD_KINDS) {
        const delta = s.discards[kind] - last.discards[kind];
        if (delta > 0) metrics.discards.inc({ kind }, delta);
      }
      lastCounts.set(t, { evicted: s.evicted, discards: { ...s.discards } });
    }
  };
  const stats = (): CorrelatorStats => sumStats(taskSet.all().map((t) => t.driver.pipeline.stats()));
  let skipped = 0;

  // Backpressure over every path and honest health (cli/delivery.ts).
  const delivery = createDeliveryMonitor({ sink, driver: { stats }, deadLetters, metrics, maxPendingDocs: config.sink.maxPendingDocs, maxPendingConns: config.correlate.maxPendingConns, graceMs: config.correlate.graceMs, maxQueueMs: config.sink.maxQueueMs, minPendingDocs: 2 * config.sink.bulkMaxDocs * config.sink.bulkConcurrency, unhealthyAfterMs: config.metrics.unhealthyAfterMs, fatal: () => fatal?.message });

  const release = (ref: MessageRef): void => {
    tracker.release(ref);
  };
  const deadLetter = (ref: MessageRef, deads: readonly DeadLetter[]): void => {
    if (deads.length === 0) return;
    tracker.acquire(ref);
    for (const d of deads) log.decode.debug({ topic: ref.topic, partition: ref.partition, offset: ref.offset, reason: d.reason }, 'dead letter');
    track(
      deadLetters.write(deads).then(
        () => {
          release(ref);
        },
        (err: unknown) => {
          metrics.errors.inc({ stage: 'decode', kind: 'dead_letter_write' });
          onFatal(asKafkaError(err, `dead-letter topic ${topics.deadLetter}`));
        },
      ),
    );
  };

  /** Repartition mode, input topics: decode, re-key, produce; complete once the repartition topic has every record. */
  const ingest = (m: SourceMessage, ref: MessageRef, writer: RepartitionWriter): void => {
    const decoded = ingestDecoder.decode({ value: m.value ?? Buffer.alloc(0), source: { kind: 'kafka', ...ref }, input: inputOf(m.topic) });
    const items: { partition: number; line: string }[] = [];
    const dead: DeadLetter[] = [];
    decoded.forEach((d, n) => {
      if (d.ok) items.push({ partition: partitioner.of(routingKeyOf(d.value)), line: encodeItem({ n, record: d.value }) });
      else dead.push(d.dead);
    });
    if (items.length > 0) {
      tracker.acquire(ref);
      writer.add(items, () => {
        release(ref);
      });
    }
    deadLetter(ref, dead);
  };

  /** A message for a task: the input itself (direct mode) or a batch of re-keyed records. */
  const correlate = (m: SourceMessage, ref: MessageRef, task: Task): void => {
    if (task.checkpoints.restored(ref)) {
      // Its records are in the restored state, its documents and dead letters were acknowledged.
      skipped++;
      return;
    }
    const source: SourceRef = { kind: 'kafka', ...ref };
    const value = m.value ?? Buffer.alloc(0);
    let accepted = 0;
    const dead: DeadLetter[] = [];
    if (task.id === 'all') {
      const r = task.driver.handle({ value, source, input: inputOf(m.topic) });
      accepted = r.accepted;
      dead.push(...r.dead);
    } else {
      for (const d of decodeItems(value, source)) {
        if (!d.ok) {
          dead.push(d.dead);
          continue;
        }
        const input = sourceOfItem(d.value.record);
        // A copy produced again after a crash of the decoding stage (state/marks.ts).
        if (!task.marks.take(input.topic, input.partition, input.offset, d.value.n)) {
          metrics.duplicatesSkipped.inc();
          continue;
        }
        const r = task.driver.handleDecoded([{ ok: true, value: d.value.record }], { value: d.value.raw, source: input, input: 'zeek' });
        accepted += r.accepted;
        dead.push(...r.dead);
      }
    }
    if (accepted > 0) tracker.acquire(ref);
    task.checkpoints.handled(ref, accepted > 0);
    deadLetter(ref, dead);
  };

  const onMessage = (m: SourceMessage): void => {
    const ref: MessageRef = { topic: m.topic, partition: m.partition, offset: m.offset };
    if (mode === 'direct') {
      const task = taskSet.get('all');
      if (task !== undefined) correlate(m, ref, task);
    } else if (m.topic === repartition.topic) {
      // Not ours any more (a rebalance took it while the batch was read): its new owner reads it.
      const task = taskSet.get(m.partition);
      if (task !== undefined) correlate(m, ref, task);
    } else if (repartitionWriter !== undefined) {
      ingest(m, ref, repartitionWriter);
    }
    release(ref); // the processing hold
  };

  const inputTopics = [...new Set([topics.conn, topics.weird, topics.headers])];
  const roomForUncommitted = (): boolean => tracker.trackedCount() < config.sink.maxUncommittedMessages;
  const source = createKafkaSource({
    kafka,
    config: config.kafka,
    topics: mode === 'direct' ? inputTopics : [...inputTopics, repartition.topic],
    tracker,
    log: log.source,
    metrics,
    onMessage,
    // Conns waiting in the correlator become documents one grace later: they count as pending
    // documents, or a fast source would fill the sink far beyond its bound after every grace.
    // The decoding stage of repartition mode waits for the repartition topic only: Kafka buffers
    // what the correlating stage has not read yet.
    hasCapacity: (topic, partition) => {
      if (!roomForUncommitted()) return false;
      if (mode === 'repartition' && topic !== repartition.topic) return (repartitionWriter?.inFlight() ?? 0) < config.partitioning.maxInFlightRecords;
      return !taskSet.restoring(mode === 'direct' ? 'all' : partition) && delivery.hasRoom();
    },
    onAssignment: (assigned, lost) => {
      if (mode === 'repartition') taskSet.assign(assigned.filter((p) => p.topic === repartition.topic).map((p) => p.partition), { lost });
    },
    commitEveryMs: COMMIT_EVERY_MS,
    alignedTopics: inputTopics,
    onFatal,
  });

  const committedLag = createCommittedLagPoller({ kafka, group: config.kafka.group, topics: source.topics, assigned: () => source.assigned(), metrics, intervalMs: config.metrics.lagIntervalMs, log: log.source });

  const updateGauges = (): void => {
    countDiscards();
    const s = stats();
    metrics.pending.set({ kind: 'conn' }, s.pendingConns);
    metrics.pending.set({ kind: 'emitted_conn' }, s.emittedConns);
    metrics.pending.set({ kind: 'weird_uid' }, s.weirdUids);
    metrics.pending.set({ kind: 'header' }, s.headers);
    metrics.pending.set({ kind: 'repartition' }, repartitionWriter?.inFlight() ?? 0);
    metrics.partitionsOwned.set(taskSet.all().filter((t) => t.id !== 'all').length);
    delivery.updateGauges();
  };

  const ticker = setInterval(() => {
    for (const t of taskSet.all()) t.driver.tick();
    updateGauges();
  }, TICK_MS);

  // Checkpoints of every task (cli/tasks.ts); a failed write is retried with the next.
  const checkpointTimer = setInterval(() => {
    taskSet.scheduleCheckpoint();
  }, config.state.checkpointIntervalMs);

  let ops: OpsServer | undefined;
  if (config.metrics.enabled) {
    ops = await serveOps({
      host: config.metrics.host,
      port: config.metrics.port,
      registry: metrics.registry,
      health: () => delivery.health({ incomplete: tracker.incompleteCount() }),
    });
    log.ops.info({ host: config.metrics.host, port: ops.port }, 'serving /metrics and /healthz');
  }

  stopPipeline = (code: number): Promise<number> => {
    stopping ??= (async (): Promise<number> => {
      let exit = code;
      try {
        await source.stopFetching();
        clearInterval(ticker);
        clearInterval(checkpointTimer);
        if (scanTimer !== undefined) clearInterval(scanTimer);
        if (fatal === undefined) {
          for (const t of taskSet.all()) t.driver.flush();
          countDiscards();
          const drained = await Promise.race([sink.drain().then(() => true), new Promise<boolean>((r) => {
            setTimeout(() => {
              r(false);
            }, config.sink.shutdownTimeoutMs).unref();
          })]);
          if (!drained) log.sink.warn({ pending: sink.pendingCount() }, 'Elasticsearch did not take every document before the shutdown timeout; their offsets stay uncommitted');
          if (scanTimer !== undefined) {
            await scanPass;
            await runScanPass(); // the windows of the last documents
          }
          // Records on their way to the repartition topic: their input offsets commit once it has them.
          await repartitionWriter?.drain();
          await Promise.all([...pendingWrites]);
          // Documents Elasticsearch did not take: no checkpoint may cover them (their messages stay uncommitted).
          if (!drained) closed = true;
          await taskSet.settle();
          if (drained) await taskSet.checkpoint();
          await source.commit();
        }
      } catch (err: unknown) {
        root.error({ error: err instanceof Error ? err.message : String(err) }, 'error while stopping');
        exit = 1;
      }
      if (retentionTimer !== undefined) clearInterval(retentionTimer);
      closed = true;
      await sink.close();
      await committedLag.stop();
      await source.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await repartitionWriter?.disconnect().catch(() => undefined);
      await taskSet.close().catch(() => undefined);
      await es.close().catch(() => undefined);
      if (ops !== undefined) await ops.close();
      root.info({ exitCode: fatal === undefined ? exit : 1 }, 'stopped');
      const final = fatal === undefined ? exit : 1;
      resolveStopped(final);
      return final;
    })();
    return stopping;
  };

  try {
    await source.start();
  } catch (err: unknown) {
    // Refused at start-up (credentials, ACLs, certificate): close what is open, exit non-zero.
    const e = asKafkaError(err, 'starting the consumer');
    onFatal(e);
    await stopped;
    throw e;
  }
  await committedLag.start().catch((err: unknown) => {
    log.source.warn({ error: err instanceof Error ? err.message : String(err) }, 'committed-lag admin client did not connect; zeek_rst_consumer_committed_lag stays empty');
  });
  root.info({ group: config.kafka.group, topics: [topics.conn, topics.weird, topics.headers], indexPrefix: prefix }, 'pipeline running');

  return {
    status: () => {
      let lag = 0;
      for (const v of source.lag().values()) lag += v;
      return {
        lag,
        partitionsSeen: source.lag().size,
        partitionsAssigned: source.assigned().length,
        pendingConns: stats().pendingConns,
        sinkPending: sink.pendingCount(),
        paused: source.paused(),
        incomplete: tracker.incompleteCount(),
        documentsEnqueued: sink.lastEnqueued(),
        fatal: fatal?.message,
        skippedRestored: skipped + taskSet.all().reduce((n, t) => n + t.marks.skipped(), 0),
        restoredEntries: taskSet.all().reduce((n, t) => n + t.restoredEntries, 0),
        partitionsOwned: taskSet.all().filter((t) => t.id !== 'all').length,
      };
    },
    stop: () => stopPipeline(0),
    stopped,
    metricsPort: ops?.port,
  };
}

/** The changelog's names from the configuration (defaults derived from the consumer group). */
export function changelogSettingsOf(config: Config): ChangelogSettings {
  const group = config.kafka.group;
  return {
    topic: config.state.changelogTopic ?? `${group}-correlator-changelog`,
    partitions: config.partitioning.partitions,
    replicationFactor: config.state.changelogReplicationFactor,
    group,
  };
}

export function repartitionSettingsOf(config: Config): RepartitionSettings {
  const p = config.partitioning;
  return { topic: p.repartitionTopic ?? `${config.kafka.group}-repartition`, partitions: p.partitions, replicationFactor: p.replicationFactor, retentionMs: p.retentionMs };
}

/**
 * Creates the changelog (and in repartition mode the repartition topic) when absent, and refuses
 * to start when their partition counts differ from `partitioning.partitions`: records are routed
 * by that count, and a partition's state lives in the same partition of the changelog.
 */
async function ensureStateTopics(kafka: Kafka, mode: PartitioningMode, changelog: ChangelogSettings, repartition: RepartitionSettings, log: Logger): Promise<void> {
  // Few retries per call: a topic just created is polled until it answers (state/topics.ts).
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } });
  await admin.connect();
  try {
    const createdChangelog = await ensureChangelogTopic(admin, changelog);
    if (createdChangelog) log.info({ topic: changelog.topic, partitions: changelog.partitions }, 'changelog topic created');
    if (mode === 'direct') return;
    const r = await ensureRepartitionTopic(admin, repartition);
    if (r.created) log.info({ topic: repartition.topic, partitions: r.partitions }, 'repartition topic created');
    const changelogPartitions = createdChangelog ? changelog.partitions : await partitionCount(admin, changelog.topic);
    if (r.partitions !== repartition.partitions || changelogPartitions !== repartition.partitions) {
      throw new ZeekRstError(
        'ZRST_CONFIG_INVALID',
        `partitioning.partitions is ${repartition.partitions}, but ${repartition.topic} has ${r.partitions} partitions and ${changelog.topic} ${changelogPartitions}: they must be equal (docs/scale-out.md, "Changing the partition count")`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

/** How long `run` lets the event loop drain after a graceful stop before it exits anyway. */
const EXIT_GRACE_MS = 2000;

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs({ args: [...argv], strict: true, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const config = loadConfig(values.config);
  const log = createRootLogger({ level: config.log.level });
  // The process is the pipeline's own (not the demo's or a test's): its node options matter.
  if (!semiSpaceGiven()) log.warn({ option: SEMI_SPACE_ARG }, 'node was started without a young generation size: bin/zeek-rst passes this option, without it documents/s is about a fifth lower (src/cli/node-flags.ts)');
  let running: RunningPipeline | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (running === undefined) {
      // Start-up can wait minutes for an unreachable broker. Nothing is committed before the
      // documents it depends on are acknowledged, so leaving now loses nothing.
      process.stderr.write(`zeek-rst run: ${signal} during start-up: exiting; nothing was committed, the next start reads from the last committed offsets\n`);
      process.exit(0);
    }
    process.stderr.write(`zeek-rst run: ${signal}: stopping (flush, commit)\n`);
    void running.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    running = await startPipeline(config, { log });
  } catch (err: unknown) {
    // main() prints the error; a client socket still closing must not keep the process alive.
    setTimeout(() => process.exit(1), EXIT_GRACE_MS).unref();
    throw err;
  }
  const code = await running.stopped;
  // Everything is flushed, committed and disconnected by now. After a broker restart, kafkajs
  // can keep one consumer socket and its retry timers alive past disconnect(), which would keep
  // the process from exiting: give the event loop a moment to drain, then exit regardless.
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}
