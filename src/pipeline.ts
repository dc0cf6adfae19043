/**
 * The one place that composes the stages after decode: correlate -> classify -> ECS mapping.
 * Both `zeek-rst classify` (files) and `zeek-rst run` (Kafka -> Elasticsearch) feed decoded
 * records in and take documents out; this module holds no rules and does no I/O.
 */
import type { Classification, ConnRecord, EnrichedDoc, PacketHeader, SourceRef, WeirdRecord } from './domain';
import { createCorrelator, NO_DISCARDS, NO_EVICTIONS, type Clock, type CorrelatorOptions, type CorrelatorStats, type CorrelatorStep, type Refusal } from './correlate/correlator';
import { connEntryKey, type StateChange, type StateValue } from './correlate/state';
import { DEFAULT_CORRELATE_SETTINGS, type CorrelateSettings } from './correlate/settings';
import type { Device } from './classify/devices';
import type { Cidr } from './classify/ip';
import { classifyConnection } from './classify/engine';
import { DEFAULT_CLASSIFY_SETTINGS, type ClassifySettings } from './classify/settings';
import { documentId, ecsJson } from './sink/ecs';
import { weirdRoutingKey, type Partitioner } from './partition';

export interface PipelineSettings {
  readonly correlate: CorrelateSettings;
  readonly classify: ClassifySettings;
  readonly devices: readonly Device[];
  /** `network.localNetworks`, parsed: network.direction when Zeek logs no local_orig/local_resp. */
  readonly localNetworks: readonly Cidr[];
}

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = Object.freeze({
  correlate: DEFAULT_CORRELATE_SETTINGS,
  classify: DEFAULT_CLASSIFY_SETTINGS,
  devices: Object.freeze([]),
  localNetworks: Object.freeze([]),
});

export interface OutputDoc {
  /** Elasticsearch `_id`: the same for a conn's first write and its updates. */
  readonly id: string;
  /** `update` re-writes a document after late evidence. */
  readonly kind: 'new' | 'update';
  /** The document as JSON (sink/ecs.ts, ecsJson): what the sink sends and `classify` prints. */
  readonly json: string;
  /** The document as an object: `json` parsed, when first read (tests, field checks). */
  readonly doc: EnrichedDoc;
  readonly classification: Classification;
  /** Where the conn came from: named in the headers of a dead letter if Elasticsearch refuses the document. */
  readonly source: SourceRef;
  /** The changelog key of the conn's entry (correlate/state.ts): a checkpoint marks it dirty while this document is unacknowledged. */
  readonly stateKey: string;
  /** The document's `@timestamp` in ms since epoch, which picks its daily index (the conn's ts, as sink/ecs.ts writes it). */
  readonly timestampMs: number;
}

export interface PipelineStep {
  readonly docs: readonly OutputDoc[];
  readonly evicted: number;
  /** Set when the conn given to addConn was refused (e.g. conflicting_duplicate). */
  readonly refused?: Refusal;
}

export interface ClassifyPipeline {
  addConn(conn: ConnRecord): PipelineStep;
  addWeird(weird: WeirdRecord): PipelineStep;
  addHeader(header: PacketHeader): PipelineStep;
  tick(): PipelineStep;
  flush(): PipelineStep;
  stats(): CorrelatorStats;
  unjoinedNow(): { readonly headers: number; readonly weirds: number };
  /** The correlator's changed state entries since the last call (with `trackChanges`). */
  drainChanges(): readonly StateChange[];
  /** Loads changelog entries into the (empty) correlator. */
  restore(values: Iterable<StateValue>): void;
}

/** An OutputDoc whose object form is parsed from its JSON only when something reads it. */
class Output implements OutputDoc {
  #doc: EnrichedDoc | undefined;

  constructor(
    readonly id: string,
    readonly kind: 'new' | 'update',
    readonly json: string,
    readonly classification: Classification,
    readonly source: SourceRef,
    readonly stateKey: string,
    readonly timestampMs: number,
  ) {}

  get doc(): EnrichedDoc {
    this.#doc ??= JSON.parse(this.json) as EnrichedDoc;
    return this.#doc;
  }
}

const NO_DOCS: readonly OutputDoc[] = Object.freeze([]);
const NOTHING: PipelineStep = Object.freeze({ evicted: 0, docs: NO_DOCS });

/** A step without documents: most addConn, addHeader and addWeird calls; the usual one (nothing evicted) is shared. */
function emptyStep(evicted: number): PipelineStep {
  return evicted === 0 ? NOTHING : { evicted, docs: NO_DOCS };
}

export function createClassifyPipeline(settings: PipelineSettings, clock: Clock, options: CorrelatorOptions = {}): ClassifyPipeline {
  const correlator = createCorrelator(settings.correlate, clock, options);
  const ecsOptions = { localNetworks: settings.localNetworks };
  const finish = (step: CorrelatorStep): PipelineStep => (step.ready.length === 0 && step.refused === undefined ? emptyStep(step.evicted) : {
    evicted: step.evicted,
    ...(step.refused === undefined ? {} : { refused: step.refused }),
    docs: step.ready.map((e) => {
      const c = e.correlated;
      const classification = classifyConnection(c, settings.classify, settings.devices);
      return new Output(
        documentId(c.conn.observer, c.conn.uid),
        e.kind,
        ecsJson(c, classification, ecsOptions),
        classification,
        c.conn.source,
        connEntryKey(c.conn.communityId, e.key),
        Math.floor(c.conn.tsUs / 1000),
      );
    }),
  });
  return {
    addConn: (conn) => finish(correlator.addConn(conn)),
    addWeird: (weird) => finish(correlator.addWeird(weird)),
    addHeader: (header) => finish(correlator.addHeader(header)),
    tick: () => finish(correlator.tick()),
    flush: () => finish(correlator.flush()),
    stats: () => correlator.stats(),
    unjoinedNow: () => correlator.unjoinedNow(),
    drainChanges: () => correlator.drainChanges(),
    restore: (values) => { correlator.restore(values); },
  };
}

const concatSteps = (steps: readonly PipelineStep[]): PipelineStep => {
  if (steps.length === 1 && steps[0] !== undefined) return steps[0];
  const docs: OutputDoc[] = [];
  let evicted = 0;
  for (const st of steps) {
    for (const d of st.docs) docs.push(d);
    evicted += st.evicted;
  }
  return { docs, evicted };
};

/** Stats of no partition: the identity of `sumStats`. */
const NO_STATS: CorrelatorStats = Object.freeze({
  pendingConns: 0, emittedConns: 0, pendingUpdates: 0, weirdUids: 0, headers: 0, hosts: 0, recentCloses: 0,
  streamUs: Number.NEGATIVE_INFINITY, evictions: NO_EVICTIONS, discards: NO_DISCARDS,
});

/** The stats of several correlators (partitions, tasks) as one: sums, and the latest stream time. */
export function sumStats(all: readonly CorrelatorStats[]): CorrelatorStats {
  const add = <T extends object>(a: T, b: T): T => {
    const out = { ...a } as Record<string, number>;
    for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + (v as number);
    return out as T;
  };
  return all.reduce(
    (acc, s) => ({
      pendingConns: acc.pendingConns + s.pendingConns,
      emittedConns: acc.emittedConns + s.emittedConns,
      pendingUpdates: acc.pendingUpdates + s.pendingUpdates,
      weirdUids: acc.weirdUids + s.weirdUids,
      headers: acc.headers + s.headers,
      hosts: acc.hosts + s.hosts,
      recentCloses: acc.recentCloses + s.recentCloses,
      streamUs: Math.max(acc.streamUs, s.streamUs),
      evictions: add(acc.evictions, s.evictions),
      discards: add(acc.discards, s.discards),
    }),
    NO_STATS,
  );
}

/**
 * Correlation partitions in one process (`classify`): each record goes to the pipeline of its
 * connection's partition (src/partition.ts), as `run` routes it through the repartition topic.
 * Each partition is a pipeline of its own (its state, its host baselines, its caps), so the
 * documents are those of `run` with the same partition count. The changelog is per partition:
 * `run` restores each partition's pipeline itself, never this composite.
 */
export function createPartitionedPipeline(parts: readonly ClassifyPipeline[], partitioner: Partitioner): ClassifyPipeline {
  const [only] = parts;
  if (only === undefined || parts.length !== partitioner.partitions) throw new RangeError(`${parts.length} pipelines for ${partitioner.partitions} partitions`);
  if (parts.length === 1) return only;
  const at = (key: string): ClassifyPipeline => parts[partitioner.of(key)] ?? only;
  return {
    addConn: (conn) => at(conn.communityId).addConn(conn),
    addWeird: (weird) => at(weirdRoutingKey(weird)).addWeird(weird),
    addHeader: (header) => at(header.communityId).addHeader(header),
    tick: () => concatSteps(parts.map((p) => p.tick())),
    flush: () => concatSteps(parts.map((p) => p.flush())),
    stats: () => sumStats(parts.map((p) => p.stats())),
    unjoinedNow: () => parts.map((p) => p.unjoinedNow()).reduce((a, b) => ({ headers: a.headers + b.headers, weirds: a.weirds + b.weirds })),
    drainChanges: () => parts.flatMap((p) => p.drainChanges()),
    restore: () => {
      throw new Error('a partitioned pipeline is restored partition by partition (run: one pipeline per partition)');
    },
  };
}
