/**
 * The driver: the one loop body of `zeek-rst run` and `zeek-rst classify`. Each InputMessage, from
 * the Kafka source or the file source, goes source -> decode dispatch -> correlate -> classify ->
 * document sink (Elasticsearch or stdout); dead letters go back to the caller, which owns the
 * dead-letter destination (a topic, a file) and the delivery bookkeeping. Because both commands
 * run this same code with settings from one function (config/stages.ts), the offline output is
 * the oracle for the pipeline (docs/architecture.md).
 *
 * Pure: time comes from the injected clock, output goes to the injected sink.
 */
import type { Clock } from './correlate/correlator';
import { DISCARD_KINDS, type DiscardCounters } from './correlate/correlator';
import type { Decoded, DeadLetter, InputMessage } from './domain';
import { createInputDecoder, type InputRecord } from './decode/dispatch';
import type { HeaderCodec } from './decode/packet-header';
import type { StageSettings } from './config/stages';
import { createClassifyPipeline, createPartitionedPipeline, type ClassifyPipeline, type OutputDoc, type PipelineStep } from './pipeline';
import { createPartitioner } from './partition';

/** Where documents go: Elasticsearch (`run`) or stdout (`classify`). Updates of an _id follow its first write. */
export interface DocumentSink {
  write(docs: readonly OutputDoc[]): void;
}

export interface HandleResult {
  /** Records that entered the correlator (it may write documents from them later). */
  readonly accepted: number;
  /** Records refused by decode or by the correlator, with the message's original bytes. */
  readonly dead: readonly DeadLetter[];
}

export interface DriverStats {
  readonly pendingConns: number;
  readonly emittedConns: number;
  /** Late-evidence updates the next ticks will write (counted against the sink's bound). */
  readonly pendingUpdates: number;
  readonly weirdUids: number;
  readonly headers: number;
  readonly evicted: number;
  readonly discards: Readonly<DiscardCounters>;
}

export interface Driver {
  /** `decode` then `handleDecoded`. */
  handle(message: InputMessage): HandleResult;
  /** The records of one message, as `handle` decodes them (classify reads their times before handing them on). */
  decode(message: InputMessage): readonly Decoded<InputRecord>[];
  /** Records a source decoded itself (a packet capture): the same path after decode. */
  handleDecoded(records: readonly Decoded<InputRecord>[], message?: InputMessage): HandleResult;
  /** Emits what the grace released; expires state the stream time left behind. */
  tick(): void;
  /** Emits everything pending (end of input, graceful stop). */
  flush(): void;
  /** The TSV header of a file ends with it. */
  endOfFile(path: string): void;
  stats(): DriverStats;
  readonly pipeline: ClassifyPipeline;
}

export interface DriverOptions {
  readonly settings: StageSettings;
  readonly codec: HeaderCodec;
  readonly clock: Clock;
  readonly sink: DocumentSink;
  /** Called for every conn record that enters the correlator (classify's record clock). */
  readonly onConn?: (tsUs: number) => void;
  /** Track the correlator's state changes for a changelog (`run`; docs/delivery.md). */
  readonly trackState?: boolean;
  /**
   * Correlation partitions this driver holds (default `settings.partitions`, as `classify` does);
   * `run` gives each partition it owns a driver of its own, with 1.
   */
  readonly partitions?: number;
}

export { DISCARD_KINDS };

export function createDriver(options: DriverOptions): Driver {
  const decoder = createInputDecoder(options.settings.decode, options.codec);
  const partitioner = createPartitioner(options.partitions ?? options.settings.partitions);
  const pipeline = createPartitionedPipeline(
    Array.from({ length: partitioner.partitions }, () => createClassifyPipeline(options.settings.pipeline, options.clock, { trackChanges: options.trackState === true })),
    partitioner,
  );
  let evicted = 0;
  const emit = (step: PipelineStep): void => {
    evicted += step.evicted;
    if (step.docs.length > 0) options.sink.write(step.docs);
  };
  const handleDecoded = (records: readonly Decoded<InputRecord>[], m?: InputMessage): HandleResult => {
      let accepted = 0;
      const dead: DeadLetter[] = [];
      for (const d of records) {
        if (!d.ok) {
          dead.push(d.dead);
          continue;
        }
        const r = d.value;
        if (r.kind === 'header') {
          emit(pipeline.addHeader(r.record));
          accepted++;
        } else if (r.kind === 'weird') {
          emit(pipeline.addWeird(r.record));
          accepted++;
        } else {
          options.onConn?.(r.record.tsUs);
          const step = pipeline.addConn(r.record);
          emit(step);
          if (step.refused === undefined) accepted++;
          else dead.push({ reason: step.refused.reason, stage: 'correlate', detail: step.refused.detail, raw: m?.value ?? new Uint8Array(0), source: m?.source ?? r.record.source });
        }
      }
      return { accepted, dead };
  };
  return {
    pipeline,
    handle: (m) => handleDecoded(decoder.decode(m), m),
    decode: (m) => decoder.decode(m),
    handleDecoded,
    tick: () => { emit(pipeline.tick()); },
    flush: () => { emit(pipeline.flush()); },
    endOfFile: (path) => { decoder.endOfFile(path); },
    stats() {
      const s = pipeline.stats();
      return { pendingConns: s.pendingConns, emittedConns: s.emittedConns, pendingUpdates: s.pendingUpdates, weirdUids: s.weirdUids, headers: s.headers, evicted, discards: s.discards };
    },
  };
}
