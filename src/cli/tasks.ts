/**
 * The correlation partitions that one `run` instance owns (docs/scale-out.md), the way Kafka
 * Streams runs a task per partition.
 *
 * A task is one correlation partition: its own driver (correlator, host baselines, caps), its
 * checkpoints and input marks, and its own transactional changelog writer. In repartition mode
 * there is a task per assigned partition of the repartition topic; its transactional id is the
 * partition's (`<group>-partition-<n>`), so the instance that takes a partition over fences the
 * one that had it, then restores that partition of the changelog, and only then does the task
 * take messages. A partition that leaves this instance drops its task: the new owner restores
 * the last checkpoint and re-reads what came after. In direct mode there is one task, `all`,
 * restored before consuming, with the instance's own transactional id.
 *
 * A checkpoint of a task (state/checkpoint.ts): cut, wait until the dead letters issued before
 * the cut are written, write the changed entries, the positions and the marks in one transaction,
 * then release the messages before the cut for the offset commit. It does not wait for
 * Elasticsearch: a conn whose document is unacknowledged at the cut is written dirty, so that a
 * restore writes it again (state/unacked.ts); only a document whose conn is no longer held is
 * waited for.
 */
import type { Kafka } from 'kafkajs';
import type { StageSettings } from '../config/stages';
import type { Clock } from '../correlate/correlator';
import type { StateChange } from '../correlate/state';
import type { HeaderCodec } from '../decode/packet-header';
import { createDriver, type Driver } from '../driver';
import type { Logger } from '../log';
import { isFenced } from '../source/kafka';
import type { MessageRef } from '../source/offset-tracker';
import { createChangelogWriter, restoreChangelog, type ChangelogSettings, type ChangelogWriter, type RestoredPart } from '../state/changelog';
import { createCheckpoints, mergeCuts, type Checkpoints, type Cut } from '../state/checkpoint';
import { createInputMarks, type InputMark, type InputMarks } from '../state/marks';
import { createUnackedDocuments, type UnackedDocuments } from '../state/unacked';
import type { OutputDoc } from '../pipeline';

export type TaskId = number | 'all';

export interface Task {
  readonly id: TaskId;
  readonly driver: Driver;
  readonly checkpoints: Checkpoints;
  readonly marks: InputMarks;
  /** Changelog entries it was restored from. */
  readonly restoredEntries: number;
}

interface TaskRuntime extends Task {
  readonly writer: ChangelogWriter;
  readonly unacked: UnackedDocuments;
  /** A checkpoint whose write failed: written again, before what changed since, with the next. */
  unwritten: { readonly cut: Cut; readonly changes: readonly StateChange[]; readonly marks: readonly InputMark[]; readonly barrier: number } | undefined;
  checkpointing: Promise<void> | undefined;
  /** A scheduled checkpoint found this one still writing: the next starts as soon as it ends. */
  again: boolean;
  dropped: boolean;
  /** Its writer was fenced: another instance owns the partition now, and this task waits to be dropped. */
  fenced: boolean;
}

export interface TaskSetOptions {
  readonly kafka: Kafka;
  readonly changelog: ChangelogSettings;
  readonly settings: StageSettings;
  readonly codec: HeaderCodec;
  readonly clock: Clock;
  /** Enqueues documents; returns their sequence numbers, in order. */
  readonly documents: { write(docs: readonly OutputDoc[]): readonly number[] };
  readonly log: Logger;
  readonly restoreTimeoutMs: number;
  /** Acknowledgement watermark: every document up to it was taken by Elasticsearch (or dead-lettered). */
  readonly sink: { completedThrough(): number };
  /** Dead-letter writes in flight now (a checkpoint waits for those issued before its cut). */
  readonly deadLettersInFlight: () => readonly Promise<unknown>[];
  /** True once the pipeline stopped or failed: a checkpoint then writes nothing. */
  readonly closed: () => boolean;
  readonly release: (ref: MessageRef) => void;
  /** A checkpoint's write failed (it is retried with the next one). */
  readonly onCheckpointError: (err: unknown, task: TaskId) => void;
  /** A checkpoint was written: ms waiting for its documents and dead letters, ms writing, what it wrote. */
  readonly onCheckpoint?: (c: { readonly waitMs: number; readonly writeMs: number; readonly messages: number; readonly bytes: number; readonly markedDirty: number }) => void;
  /** Partitions could not be restored: the instance cannot correlate them. */
  readonly onRestoreError: (err: unknown, partitions: readonly number[]) => void;
}

export interface TaskSet {
  /** Direct mode: the one task, restored before anything is consumed. */
  startDirect(transactionalId: string): Promise<Task>;
  /**
   * Repartition mode: the partitions now assigned; revoked ones are dropped, gained ones restored.
   * `lost`: the previous membership ended (the source's `onAssignment`), so every task is dropped
   * and every assigned partition restored again, its state and writer being stale.
   */
  assign(partitions: readonly number[], o?: { readonly lost?: boolean }): void;
  /** The ready task of a partition (`all` in direct mode); undefined while it restores or when not owned. */
  get(id: TaskId): Task | undefined;
  /** True while a partition assigned to this instance is still restoring. */
  restoring(id: TaskId): boolean;
  all(): readonly Task[];
  /** Checkpoints every task (one transaction each); a task still writing its last one returns that one. */
  checkpoint(): Promise<void>;
  /**
   * The timer's checkpoint: a task still writing its last one checkpoints again as soon as that
   * one ends, instead of at the next tick (a checkpoint that takes longer than the interval would
   * otherwise leave up to one interval idle before the next cut, and the commits that long behind).
   */
  scheduleCheckpoint(): void;
  /** Waits until no checkpoint is in flight (those started meanwhile included). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function createTaskSet(o: TaskSetOptions): TaskSet {
  const tasks = new Map<TaskId, TaskRuntime>();
  /** Partition -> the assignment generation that is restoring it. */
  const restoringNow = new Map<number, number>();
  let generation = 0;

  const build = (id: TaskId, writer: ChangelogWriter, part: RestoredPart): TaskRuntime => {
    const unacked = createUnackedDocuments();
    const sink = {
      write(docs: readonly OutputDoc[]): void {
        const seqs = o.documents.write(docs);
        docs.forEach((d, i) => { unacked.noted(d.stateKey, seqs[i] as number); });
      },
    };
    const driver = createDriver({ settings: o.settings, codec: o.codec, clock: o.clock, sink, trackState: true, partitions: 1 });
    driver.pipeline.restore(part.values);
    return { id, driver, writer, unacked, checkpoints: createCheckpoints(part.positions), marks: createInputMarks(part.marks), restoredEntries: part.values.length, unwritten: undefined, checkpointing: undefined, again: false, dropped: false, fenced: false };
  };

  const checkpointTask = (t: TaskRuntime): Promise<void> => {
    if (t.checkpointing !== undefined) return t.checkpointing;
    // Writing again cannot succeed; its messages stay uncommitted for the partition's new owner.
    if (t.fenced) return Promise.resolve();
    // Older changes first: the changelog keeps the last value of a key.
    const cut = t.unwritten === undefined ? t.checkpoints.cut() : mergeCuts(t.unwritten.cut, t.checkpoints.cut());
    const prepared = t.unacked.prepare(t.driver.pipeline.drainChanges(), o.sink.completedThrough());
    const changes = [...(t.unwritten?.changes ?? []), ...prepared.changes];
    const marks = [...(t.unwritten?.marks ?? []), ...t.marks.drain()];
    const barrier = Math.max(t.unwritten?.barrier ?? 0, prepared.barrier);
    t.unwritten = { cut, changes, marks, barrier };
    const deadLettersBefore = [...o.deadLettersInFlight()];
    const started = Date.now();
    t.checkpointing = (async (): Promise<void> => {
      // Documents of conns no longer held (state/unacked.ts). Stopped (or failed) meanwhile: the
      // documents will not be acknowledged by this process.
      while (o.sink.completedThrough() < barrier && !o.closed() && !t.dropped) await new Promise((r) => setTimeout(r, 20));
      await Promise.all(deadLettersBefore);
      if (o.closed() || t.dropped || o.sink.completedThrough() < barrier) return;
      const writing = Date.now();
      let written: { messages: number; bytes: number };
      try {
        written = await t.writer.write({ changes, positions: cut.positions, marks });
      } catch (err: unknown) {
        o.onCheckpointError(err, t.id);
        const error = err instanceof Error ? err.message : String(err);
        if (isFenced(err)) {
          // The partition's new owner fenced this writer. The rebalance that gave it the
          // partition drops this task here (cli/run.ts, onAssignment), unless it already has.
          t.fenced = true;
          o.log.warn({ task: t.id, error }, 'changelog write fenced: another instance owns this correlation partition now; its task stops checkpointing until the rebalance drops it');
          return;
        }
        // `unwritten` keeps the cut, its changes and marks for the next attempt.
        o.log.warn({ task: t.id, error }, 'changelog write failed; the next checkpoint writes it again');
        return;
      }
      t.unwritten = undefined;
      for (const ref of cut.refs) o.release(ref);
      o.onCheckpoint?.({ waitMs: writing - started, writeMs: Date.now() - writing, messages: written.messages, bytes: written.bytes, markedDirty: prepared.markedDirty });
      o.log.debug({ task: t.id, messages: written.messages, bytes: written.bytes, released: cut.refs.length, ms: Date.now() - started }, 'checkpoint');
    })().finally(() => {
      t.checkpointing = undefined;
      if (t.again) {
        t.again = false;
        if (!o.closed() && !t.dropped) void checkpointTask(t);
      }
    });
    return t.checkpointing;
  };

  const drop = (t: TaskRuntime): Promise<void> => {
    t.dropped = true;
    tasks.delete(t.id);
    return (t.checkpointing ?? Promise.resolve()).then(() => t.writer.disconnect()).catch(() => undefined);
  };

  const writerFor = (id: number): ChangelogWriter => createChangelogWriter(o.kafka, o.changelog, o.log, { transactionalId: `${o.changelog.group}-partition-${id}`, partition: id });

  /** Fences the previous owners, restores the partitions, builds their tasks (unless lost meanwhile). */
  const restore = async (partitions: readonly number[], gen: number): Promise<void> => {
    const writers = new Map(partitions.map((p) => [p, writerFor(p)]));
    try {
      const started = Date.now();
      await Promise.all([...writers.values()].map((w) => w.connect()));
      o.log.info({ partitions, ms: Date.now() - started }, 'previous owners of the partitions fenced');
      const restored = await restoreChangelog(o.kafka, o.changelog, o.log, { timeoutMs: o.restoreTimeoutMs, partitions });
      for (const [p, w] of writers) {
        if (restoringNow.get(p) !== gen) {
          await w.disconnect().catch(() => undefined);
          continue;
        }
        restoringNow.delete(p);
        tasks.set(p, build(p, w, restored.byPartition.get(p) ?? { values: [], positions: new Map(), marks: [] }));
      }
    } catch (err: unknown) {
      for (const w of writers.values()) await w.disconnect().catch(() => undefined);
      for (const p of partitions) if (restoringNow.get(p) === gen) restoringNow.delete(p);
      o.onRestoreError(err, partitions);
    }
  };

  return {
    async startDirect(transactionalId) {
      const writer = createChangelogWriter(o.kafka, o.changelog, o.log, { transactionalId });
      await writer.connect();
      try {
        const restored = await restoreChangelog(o.kafka, o.changelog, o.log, { timeoutMs: o.restoreTimeoutMs });
        const t = build('all', writer, restored);
        tasks.set('all', t);
        return t;
      } catch (err: unknown) {
        await writer.disconnect().catch(() => undefined);
        throw err;
      }
    },
    assign(partitions, a) {
      const keep = new Set(a?.lost === true ? [] : partitions);
      for (const t of [...tasks.values()]) if (typeof t.id === 'number' && !keep.has(t.id)) void drop(t);
      for (const p of [...restoringNow.keys()]) if (!keep.has(p)) restoringNow.delete(p);
      const gained = partitions.filter((p) => !tasks.has(p) && !restoringNow.has(p));
      if (gained.length === 0) return;
      const gen = ++generation;
      for (const p of gained) restoringNow.set(p, gen);
      o.log.info({ partitions: gained }, 'taking over correlation partitions: restoring their state');
      void restore(gained, gen);
    },
    get: (id) => tasks.get(id),
    restoring: (id) => typeof id === 'number' && restoringNow.has(id),
    all: () => [...tasks.values()],
    async checkpoint() {
      await Promise.all([...tasks.values()].map(checkpointTask));
    },
    scheduleCheckpoint() {
      for (const t of tasks.values()) {
        if (t.checkpointing === undefined) void checkpointTask(t);
        else t.again = true;
      }
    },
    async settle() {
      for (;;) {
        const inFlight = [...tasks.values()].flatMap((t) => (t.checkpointing === undefined ? [] : [t.checkpointing]));
        if (inFlight.length === 0) return;
        await Promise.all(inFlight);
      }
    },
    async close() {
      restoringNow.clear();
      await Promise.all([...tasks.values()].map(drop));
    },
  };
}
