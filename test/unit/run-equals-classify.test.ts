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
import type { InputKind, InputMessage } from '../../src/domain';
import { createDriver } from '../../src/driver';
import type { OutputDoc } from '../../src/pipeline';

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
  for (const d of docs) out.set(d.id, JSON.stringify(d.doc));
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

/** `steps[i]` picks the topic of the i-th message and how far the wall clock moves before it. */
function runOrder(picks: readonly number[], advancesUs: readonly number[]): Map<string, string> {
  const written: OutputDoc[] = [];
  let wallUs = Date.UTC(2026, 11, 1) * 1000;
  const driver = createDriver({ settings: settings(), codec: createHeaderCodec(), clock: { now: () => wallUs }, sink: { write: (d) => written.push(...d) } });
  // The conn topic has two partitions (zeek-kafka sends without a key): order holds within each only,
  // so a conn can arrive before the previous close on its 4-tuple.
  const queues = [TOPICS.conn.filter((_, i) => i % 2 === 0), TOPICS.conn.filter((_, i) => i % 2 === 1), [...TOPICS.weird], [...TOPICS.headers]];
  let i = 0;
  for (;;) {
    const open = queues.filter((q) => q.length > 0);
    if (open.length === 0) break;
    const q = open[(picks[i] ?? 0) % open.length];
    const m = q?.shift();
    if (m === undefined) break;
    wallUs += advancesUs[i] ?? 0;
    i++;
    driver.tick();
    expect(driver.handle(m).dead).toEqual([]);
  }
  // The stream ends: the wall clock moves past every grace, as in a running pipeline.
  for (let k = 0; k < 3; k++) {
    wallUs += GRACE_US + 1;
    driver.tick();
  }
  return finalDocs(written);
}

describe('run and classify give the same documents', () => {
  const expected = classifyOrder();

  it('classify finds the verdicts the fixtures were read for', () => {
    const verdicts = [...expected.values()].map((d) => JSON.parse(d) as { rst?: { verdict?: string }; zeek?: { session_id?: string } });
    const of = (uid: string): string | undefined => verdicts.find((d) => d.zeek?.session_id === uid)?.rst?.verdict;
    // Read from the fixtures: a REJ 30 s after an SF close on the same 4-tuple is TIME_WAIT reuse;
    // pop3-rej's six Sr are closed-port refusals answered by the server's own RST+ACK.
    expect(of('CtwReuse0000000001')).toBe('time_wait_reuse');
    expect(verdicts.filter((d) => d.rst?.verdict === 'closed_port')).toHaveLength(6);
  });

  it('for any interleaving of the three topics and any pace of the wall clock', () => {
    const total = TOPICS.conn.length + TOPICS.weird.length + TOPICS.headers.length;
    fc.assert(
      fc.property(
        fc.array(fc.nat(5), { minLength: total, maxLength: total }),
        // Up to 8 s between messages: more than the grace, so conns are written before some of
        // their evidence arrives (late headers and weirds, and a previous close arriving late).
        fc.array(fc.oneof(fc.constant(0), fc.nat(100_000), fc.nat(8_000_000)), { minLength: total, maxLength: total }),
        (picks, advances) => {
          const got = runOrder(picks, advances);
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
        },
      ),
      { numRuns: 25 },
    );
  });
});
