/**
 * `run` and `classify` are one pipeline (docs/architecture.md): the same records give the same
 * documents whether they come from files in classify's order (headers, weirds, then conns, no
 * wall clock) or from three Kafka topics in any interleaving, with a wall clock that moves on
 * between messages and the grace expiring in between. The final document of each _id must be
 * byte-identical (the conn topic has two partitions, so conns too arrive out of order). The records cover a previous close on the 4-tuple (time_wait_reuse), retries on
 * one 4-tuple that share a Community ID (pop3-rej), late headers and a weird.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { resolveConfig } from '../../src/config/load';
import { stageSettingsOf, type StageSettings } from '../../src/config/stages';
import { createRecordClock } from '../../src/correlate/correlator';
import { createHeaderCodec } from '../../src/decode/packet-header';
import type { StateValue } from '../../src/correlate/state';
import type { InputKind, InputMessage } from '../../src/domain';
import { createDriver } from '../../src/driver';
import { createInputDecoder } from '../../src/decode/dispatch';
import { createPartitioner, routingKeyOf } from '../../src/partition';
import { decodeEntry, encodeEntry } from '../../src/state/entry-codec';
import type { OutputDoc } from '../../src/pipeline';
import { createUnackedDocuments, type UnackedDocuments } from '../../src/state/unacked';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
const CRAFTED = path.resolve(__dirname, '../fixtures/classify/crafted');

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Zeek's tests reuse uids across traces: one observer per case keeps every _id distinct. The
 * traces were recorded years apart; one sensor's stream is coherent in time, so each case is moved
 * (every ts by the same offset, which keeps every interval) to start `slot` × 30 s after one base.
 */
const BASE_S = 1_700_000_000;
function asMessages(input: InputKind, observer: string, records: readonly Record<string, unknown>[], shiftS: number): InputMessage[] {
  return records.map((r, i) => {
    const ts = typeof r.ts === 'number' ? r.ts + shiftS : r.ts;
    const value = Buffer.from(JSON.stringify(input === 'headers' ? { ...r, ts, sensor: observer } : { ...r, ts, _system_name: observer }));
    return { value, input, source: { kind: 'kafka', topic: input, partition: 0, offset: String(i) } };
  });
}

interface Topics {
  readonly conn: InputMessage[];
  readonly weird: InputMessage[];
  readonly headers: InputMessage[];
}

function loadTopics(): Topics {
  const t: Topics = { conn: [], weird: [], headers: [] };
  const shiftOf = (conns: readonly Record<string, unknown>[], slot: number): number => {
    const first = Math.min(...conns.map((c) => (typeof c.ts === 'number' ? c.ts : Infinity)));
    return BASE_S + slot * 30 - Math.floor(first);
  };
  const corpusCase = (name: string, slot: number, headerFiles: readonly string[], withWeirds = false): void => {
    const conns = jsonLines(path.join(CORPUS, name, 'conn.json'));
    const shift = shiftOf(conns, slot);
    t.conn.push(...asMessages('conn', name, conns, shift));
    for (const h of headerFiles) t.headers.push(...asMessages('headers', name, jsonLines(path.join(CORPUS, name, h)), shift));
    if (withWeirds) t.weird.push(...asMessages('weird', name, jsonLines(path.join(CORPUS, name, 'weird.json')), shift));
  };
  corpusCase('pop3-rej', 0, ['pop3.headers.jsonl']);
  corpusCase('teredo-orphan-rst', 1, ['Teredo.headers.jsonl']);
  corpusCase('pop3-fin-then-rst', 2, ['bad-list-retr-crafted.headers.jsonl'], true);
  const reuse = JSON.parse(readFileSync(path.join(CRAFTED, 'time-wait-reuse-previous.json'), 'utf8')) as { conn: Record<string, unknown>[] };
  t.conn.push(...asMessages('conn', 'twr', reuse.conn, shiftOf(reuse.conn, 3)));
  return t;
}

const TOPICS = loadTopics();

function settings(): StageSettings {
  const r = resolveConfig({ env: {}, readSecretFile: () => '' });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return stageSettingsOf(r.config, []);
}

/** Last write per _id, as the bytes Elasticsearch would hold. */
function finalDocs(docs: readonly OutputDoc[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of docs) {
    // The daily index is chosen from timestampMs: it must be the document's own @timestamp.
    if (d.timestampMs !== Date.parse(d.doc['@timestamp'])) throw new Error(`${d.id}: timestampMs ${d.timestampMs}, @timestamp ${d.doc['@timestamp']}`);
    out.set(d.id, JSON.stringify(d.doc));
  }
  return out;
}

function classifyOrder(): Map<string, string> {
  const written: OutputDoc[] = [];
  const clock = createRecordClock();
  const driver = createDriver({ settings: settings(), codec: createHeaderCodec(), clock, sink: { write: (d) => written.push(...d) }, onConn: (ts) => { clock.observe(ts); } });
  for (const m of [...TOPICS.headers, ...TOPICS.weird, ...TOPICS.conn]) expect(driver.handle(m).dead).toEqual([]);
  driver.flush();
  return finalDocs(written);
}

const GRACE_US = 5_000_000;

/** The order the three topics deliver in: `picks[i]` chooses the topic of the i-th message. */
function interleave(picks: readonly number[]): InputMessage[] {
  // The conn topic has two partitions (zeek-kafka sends without a key): order holds within each only,
  // so a conn can arrive before the previous close on its 4-tuple.
  const queues = [TOPICS.conn.filter((_, i) => i % 2 === 0), TOPICS.conn.filter((_, i) => i % 2 === 1), [...TOPICS.weird], [...TOPICS.headers]];
  const order: InputMessage[] = [];
  for (;;) {
    const open = queues.filter((q) => q.length > 0);
    const m = open[(picks[order.length] ?? 0) % Math.max(1, open.length)]?.shift();
    if (m === undefined) return order;
    order.push(m);
  }
}

/**
 * `run` over that order, the wall clock moving `advancesUs[i]` before message i. As `run` in
 * repartition mode: each decoded record goes to the task of its correlation partition
 * (src/partition.ts; in Kafka, through the repartition topic), one driver per partition. With
 * `crashes`, each task's state goes to a simulated changelog partition every `checkpointEvery`
 * messages (in the changelog's own encoding, src/state/entry-codec.ts), and at each crash index the process dies:
 * new tasks restore their partitions and the messages since the last checkpoint are delivered
 * again (their offsets were not committed). Documents acknowledged before a crash stay written, as
 * in Elasticsearch; Elasticsearch acknowledges a document `ackLag` messages after it was enqueued,
 * and those still unacknowledged at a crash are lost with the process. A checkpoint does not wait
 * for them (src/state/unacked.ts), except where it must (its barrier): then it is written once
 * they are acknowledged.
 */
interface CrashRun {
  readonly crashes: readonly number[];
  readonly checkpointEvery: number;
  readonly ackLag?: number;
  /** Off: the guard tests below show that the crash test bites without it. */
  readonly restore?: boolean;
  readonly markUnacked?: boolean;
}

function runOrder(picks: readonly number[], advancesUs: readonly number[], run: CrashRun = { crashes: [], checkpointEvery: 0 }): Map<string, string> {
  const { crashes, checkpointEvery, ackLag = 0, restore = true, markUnacked = true } = run;
  const written: OutputDoc[] = [];
  // Enqueued, not yet acknowledged: in sequence order, with the message index it was enqueued at.
  let inflight: { readonly seq: number; readonly at: number; readonly doc: OutputDoc }[] = [];
  let lastSeq = 0;
  let completed = 0;
  let at = 0;
  const acknowledge = (through: (e: { seq: number; at: number }) => boolean): void => {
    while (inflight[0] !== undefined && through(inflight[0])) {
      const e = inflight.shift() as (typeof inflight)[number];
      written.push(e.doc);
      completed = e.seq;
    }
  };
  let wallUs = Date.UTC(2026, 11, 1) * 1000;
  const order = interleave(picks);
  const s = settings();
  const partitioner = createPartitioner(s.partitions);
  const decoder = createInputDecoder(s.decode, createHeaderCodec());
  let unacked: UnackedDocuments[] = [];
  const start = (): ReturnType<typeof createDriver>[] => {
    unacked = Array.from({ length: s.partitions }, () => createUnackedDocuments());
    return Array.from({ length: s.partitions }, (_, p) => createDriver({
      settings: s, partitions: 1, codec: createHeaderCodec(), clock: { now: () => wallUs }, trackState: crashes.length > 0,
      sink: {
        write: (docs) => {
          for (const doc of docs) {
            inflight.push({ seq: ++lastSeq, at, doc });
            unacked[p]?.noted(doc.stateKey, lastSeq);
          }
        },
      },
    }));
  };
  let tasks = start();
  const changelog = tasks.map(() => new Map<string, StateValue>());
  const checkpoint = (): void => {
    tasks.forEach((t, p) => {
      const drained = t.pipeline.drainChanges();
      const prepared = markUnacked ? (unacked[p] as UnackedDocuments).prepare(drained, completed) : { changes: drained, barrier: 0 };
      // The checkpoint waits for the documents it cannot mark.
      acknowledge((e) => e.seq <= prepared.barrier);
      for (const c of prepared.changes) {
        if (c.value === null) changelog[p]?.delete(c.key);
        else changelog[p]?.set(c.key, decodeEntry(encodeEntry(c.value)));
      }
    });
  };
  const pendingCrashes = [...crashes].sort((a, b) => a - b);
  let committed = 0;
  for (let i = 0; i < order.length; i++) {
    if (pendingCrashes[0] === i) {
      pendingCrashes.shift();
      inflight = []; // lost with the process
      completed = lastSeq;
      tasks = start();
      if (restore) tasks.forEach((t, p) => { t.pipeline.restore(changelog[p]?.values() ?? []); });
      i = committed - 1; // redelivered from the last committed offset
      continue;
    }
    const m = order[i];
    if (m === undefined) break;
    wallUs += advancesUs[i] ?? 0;
    at = i;
    acknowledge((e) => e.at <= i - ackLag);
    for (const t of tasks) t.tick();
    for (const d of decoder.decode(m)) {
      if (!d.ok) throw new Error(`${d.dead.reason}: ${d.dead.detail}`);
      expect(tasks[partitioner.of(routingKeyOf(d.value))]?.handleDecoded([d], m).dead).toEqual([]);
    }
    if (checkpointEvery > 0 && (i + 1) % checkpointEvery === 0) {
      checkpoint();
      committed = i + 1;
    }
  }
  // The stream ends: the wall clock moves past every grace, as in a running pipeline.
  for (let k = 0; k < 3; k++) {
    wallUs += GRACE_US + 1;
    for (const t of tasks) t.tick();
  }
  acknowledge(() => true);
  return finalDocs(written);
}

function expectSameDocuments(got: ReadonlyMap<string, string>, expected: ReadonlyMap<string, string>): void {
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, doc] of expected) {
    const other = got.get(id);
    if (other !== doc && process.env.DIFF === '1') {
      const a = JSON.parse(doc) as Record<string, Record<string, unknown>>;
      const b = JSON.parse(other ?? '{}') as Record<string, Record<string, unknown>>;
      for (const k of Object.keys(a.rst ?? {})) if (JSON.stringify(a.rst?.[k]) !== JSON.stringify(b.rst?.[k])) console.log(k, JSON.stringify(a.rst?.[k]), '\n  vs', JSON.stringify(b.rst?.[k]));
    }
    expect({ id, doc: other }).toEqual({ id, doc });
  }
}

const TOTAL = TOPICS.conn.length + TOPICS.weird.length + TOPICS.headers.length;
/** Which topic delivers each message. */
const PICKS = fc.array(fc.nat(5), { minLength: TOTAL, maxLength: TOTAL });
// Up to 8 s between messages: more than the grace, so conns are written before some of their
// evidence arrives (late headers and weirds, and a previous close arriving late).
const ADVANCES = fc.array(fc.oneof(fc.constant(0), fc.nat(100_000), fc.nat(8_000_000)), { minLength: TOTAL, maxLength: TOTAL });

describe('run and classify give the same documents', () => {
  const expected = classifyOrder();

  it('classify routes the records to the default 12 correlation partitions, over more than one of them', () => {
    const s = settings();
    expect(s.partitions).toBe(12);
    const partitioner = createPartitioner(s.partitions);
    const decoder = createInputDecoder(s.decode, createHeaderCodec());
    const used = new Set(TOPICS.conn.flatMap((m) => decoder.decode(m).flatMap((d) => (d.ok ? [partitioner.of(routingKeyOf(d.value))] : []))));
    expect(used.size).toBeGreaterThan(1);
  });

  it('classify finds the verdicts the fixtures were read for', () => {
    const verdicts = [...expected.values()].map((d) => JSON.parse(d) as { rst?: { verdict?: string }; zeek?: { session_id?: string } });
    const of = (uid: string): string | undefined => verdicts.find((d) => d.zeek?.session_id === uid)?.rst?.verdict;
    // Read from the fixtures: a REJ 30 s after an SF close on the same 4-tuple is TIME_WAIT reuse;
    // pop3-rej's six Sr are closed-port refusals answered by the server's own RST+ACK.
    expect(of('CtwReuse0000000001')).toBe('time_wait_reuse');
    expect(verdicts.filter((d) => d.rst?.verdict === 'closed_port')).toHaveLength(6);
  });

  it('for any interleaving of the three topics and any pace of the wall clock', () => {
    fc.assert(
      fc.property(
        PICKS,
        ADVANCES,
        (picks, advances) => {
          expectSameDocuments(runOrder(picks, advances), expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('when the process dies and restores its state from the changelog, any number of times', () => {
    fc.assert(
      fc.property(
        PICKS,
        ADVANCES,
        fc.uniqueArray(fc.nat(TOTAL - 1), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(30),
        (picks, advances, crashes, checkpointEvery, ackLag) => {
          expectSameDocuments(runOrder(picks, advances, { crashes, checkpointEvery, ackLag }), expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the crash test fails when the restore is skipped', () => {
    // Without the restore, a conn written before the crash loses the late evidence that arrives
    // after it (its state is gone and its message is not delivered again): the guard above bites.
    const picks = Array.from({ length: TOTAL }, (_, i) => (i < TOPICS.conn.length ? 0 : 3));
    const advances = Array.from({ length: TOTAL }, () => 8_000_000);
    const half = Math.floor(TOTAL / 2);
    expect(() => { expectSameDocuments(runOrder(picks, advances, { crashes: [half], checkpointEvery: 1, restore: false }), expected); }).toThrow();
    expectSameDocuments(runOrder(picks, advances, { crashes: [half], checkpointEvery: 1 }), expected);
  });

  it('the crash test fails when a checkpoint neither waits for nor marks an unacknowledged document', () => {
    // Elasticsearch acknowledges nothing before the crash, at the last message: without the dirty
    // mark, the conns written and checkpointed before it have their documents lost, their messages
    // are not delivered again, and nothing writes them again.
    const picks = Array.from({ length: TOTAL }, () => 0);
    const advances = Array.from({ length: TOTAL }, () => 8_000_000);
    const run = { crashes: [TOTAL - 1], checkpointEvery: 1, ackLag: TOTAL };
    expect(() => { expectSameDocuments(runOrder(picks, advances, { ...run, markUnacked: false }), expected); }).toThrow();
    expectSameDocuments(runOrder(picks, advances, run), expected);
  });
});
