/**
 * `npm run bench -- state [--conns N] [--against REF] [--json]`: what the correlator's state
 * costs, in memory and in changelog bytes, without Kafka or Elasticsearch.
 *
 * The e2e bench's workload (bench/generator.ts: N conns, default 400,000, with their batched
 * header messages) is decoded and correlated in process as `run` does it: each header message
 * through `decodeHeaderMessage`, each conn line through `decodeConnJson`, the correlator ticking
 * once per generator chunk (1,000 conns), its changes drained every 20,000 records as a
 * checkpoint drains them and encoded as the changelog writes them (before compression). At the
 * end, after two full collections, the heap in use is the state the correlator holds (the
 * workload's own buffers are released chunk by chunk).
 *
 * Each tree runs in its own process (`node --expose-gc`), so that two heaps never mix; with
 * `--against REF` the same workload also goes through REF's dist/ (bench/ref-build.ts). The
 * byte counts are deterministic; the heap moves by a few MB from run to run.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import type * as Correlator from '../src/correlate/correlator';
import type * as CorrelateSettings from '../src/correlate/settings';
import type { StateChange } from '../src/correlate/state';
import type * as HeaderMessage from '../src/decode/header-message';
import type * as PacketHeaderModule from '../src/decode/packet-header';
import type * as ZeekJson from '../src/decode/zeek-json';
import type * as EntryCodec from '../src/state/entry-codec';
import { positiveInt, suiteArgs } from './args';
import { DIST, fromDist, ROOT, useDist } from './dist';
import { generateWorkload } from './generator';
import { buildRef } from './ref-build';

const DRAIN_EVERY = 20_000;
const DEFAULT_CONNS = 400_000;

interface StateFigures {
  readonly conns: number;
  readonly headers: number;
  readonly stored_headers: number;
  readonly emitted_conns: number;
  readonly changelog_bytes_per_conn: number;
  readonly heap_mb: number;
}

export interface FedWorkload {
  readonly correlator: Correlator.Correlator;
  readonly headers: number;
}

export interface FeedOptions {
  /** Tick the correlator once per generator chunk (1,000 conns), as `run` ticks; without, every conn stays pending. */
  readonly tick: boolean;
  /** The changes of every DRAIN_EVERY records, as a checkpoint drains them. */
  readonly onChanges: (changes: readonly StateChange[]) => void;
}

/**
 * The e2e workload of `conns` generated conns decoded and correlated in this process as `run`
 * does it, through the dist/ that `useDist` gave: each header message through
 * `decodeHeaderMessage`, each conn line through `decodeConnJson`, changes drained every
 * DRAIN_EVERY records and once at the end.
 */
export function feedWorkload(conns: number, options: FeedOptions): FedWorkload {
  const { createHeaderCodec } = fromDist('decode/packet-header') as typeof PacketHeaderModule;
  const { decodeHeaderMessage } = fromDist('decode/header-message') as typeof HeaderMessage;
  const { decodeConnJson } = fromDist('decode/zeek-json') as typeof ZeekJson;
  const { createCorrelator, createRecordClock } = fromDist('correlate/correlator') as typeof Correlator;
  const { DEFAULT_CORRELATE_SETTINGS } = fromDist('correlate/settings') as typeof CorrelateSettings;
  const codec = createHeaderCodec();
  const clock = createRecordClock();
  const correlator = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock, { trackChanges: true });
  let records = 0;
  let headers = 0;
  let offset = 0;
  const counted = (): void => {
    records++;
    if (records % DRAIN_EVERY === 0) options.onChanges(correlator.drainChanges());
  };
  for (const chunk of generateWorkload({ conns })) {
    for (const m of chunk.headerMessages) {
      for (const d of decodeHeaderMessage(m, { kind: 'kafka', topic: 'headers', partition: 0, offset: String(offset++) }, codec)) {
        if (!d.ok) throw new Error(`bench: a generated header does not decode: ${d.dead.detail}`);
        clock.observe(d.value.tsUs);
        correlator.addHeader(d.value);
        headers++;
        counted();
      }
    }
    for (const m of chunk.conns) {
      const d = decodeConnJson(m, { kind: 'kafka', topic: 'conn', partition: 0, offset: String(offset++) });
      if (!d.ok) throw new Error(`bench: a generated conn does not decode: ${d.dead.detail}`);
      clock.observe(d.value.tsUs);
      correlator.addConn(d.value);
      counted();
    }
    if (options.tick) correlator.tick();
  }
  options.onChanges(correlator.drainChanges());
  return { correlator, headers };
}

/** Runs the workload through the dist/ at `dist` in this process; needs `--expose-gc`. */
function measure(dist: string, conns: number): StateFigures {
  useDist(dist);
  const { encodeEntry } = fromDist('state/entry-codec') as typeof EntryCodec;
  let bytes = 0;
  const { correlator, headers } = feedWorkload(conns, {
    tick: true,
    onChanges: (changes) => {
      for (const change of changes) if (change.value !== null) bytes += encodeEntry(change.value).length;
    },
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('state bench: run with node --expose-gc');
  gc();
  gc();
  const s = correlator.stats();
  return {
    conns, headers, stored_headers: s.headers, emitted_conns: s.emittedConns,
    changelog_bytes_per_conn: Math.round(bytes / conns), heap_mb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
}

/** One tree's figures, from a child process of its own. */
function inChild(dist: string, conns: number): StateFigures {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', __filename, '--child', dist, String(conns)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as StateFigures;
}

const show = (name: string, f: StateFigures): string =>
  `  ${name.padEnd(22)} ${f.stored_headers.toLocaleString('en-US').padStart(9)} stored headers, ${f.emitted_conns.toLocaleString('en-US').padStart(7)} written conns kept; ` +
  `changelog ${f.changelog_bytes_per_conn.toLocaleString('en-US')} bytes per conn; heap ${f.heap_mb.toLocaleString('en-US')} MB`;

export function main(args: readonly string[]): Promise<void> {
  const conns = positiveInt(args, '--conns', DEFAULT_CONNS);
  const { against } = suiteArgs(args);
  const ref = against === undefined ? undefined : buildRef(ROOT, against);
  console.log(`state: ${conns.toLocaleString('en-US')} generated conns and their headers through decode and the correlator, changes drained every ${DRAIN_EVERY.toLocaleString('en-US')} records`);
  const mine = inChild(DIST, conns);
  console.log(`  ${mine.headers.toLocaleString('en-US')} header records`);
  console.log(show('this tree', mine));
  const theirs = ref === undefined ? undefined : inChild(path.join(ref.root, 'dist'), conns);
  if (ref !== undefined && theirs !== undefined) {
    console.log(show(`${against ?? ''} (${ref.sha.slice(0, 7)})`, theirs));
    const ratio = (a: number, b: number): string => (a / b).toFixed(3);
    console.log(`  this / ${against ?? ''}: changelog bytes ${ratio(mine.changelog_bytes_per_conn, theirs.changelog_bytes_per_conn)}, heap ${ratio(mine.heap_mb, theirs.heap_mb)}`);
  }
  if (args.includes('--json')) console.log(JSON.stringify({ ...mine, ...(theirs === undefined ? {} : { against: ref?.sha, ref: theirs }), date: new Date().toISOString() }));
  return Promise.resolve();
}

if (require.main === module) {
  const [flag, dist, n] = process.argv.slice(2);
  if (flag !== '--child' || dist === undefined || n === undefined) throw new Error('state bench: run through npm run bench -- state');
  console.log(JSON.stringify(measure(dist, Number(n))));
}
