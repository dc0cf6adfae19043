/**
 * `zeek-rst classify`: offline classification of Zeek logs (docs/cli.md). The analyst's tool and
 * the test oracle: the same driver as `run` (src/driver.ts), over the file source and a stdout
 * sink, with the settings of the same configuration file (`--config`, as `run` takes it).
 *
 * File mode has no wall clock. The conns drive: before each conn, the evidence files (headers,
 * captures, weirds) are read up to its end plus the header window (source/due-inputs.ts), so a
 * conn's evidence is in when it comes, whatever the size of the files; the correlator is flushed
 * every FLUSH_EVERY conns and at the end. Evidence is kept up to the correlator caps
 * (maxHeaders ...): beyond them the oldest is evicted, which is then evidence whose conns have come
 * (a conn longer than the cap's span of record time loses its earliest headers, as in `run`).
 * Evictions are counted in the summary.
 *
 * Progress goes to stderr once a second while reading, when stderr is a TTY or with --progress.
 */
import { access, open, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import type { Decoded, DeadLetter, InputKind, InputMessage, Verdict } from '../domain';
import { VERDICTS } from '../domain';
import { ZeekRstError } from '../errors';
import { loadDevicesFile } from '../config/devices';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { stageSettingsOf } from '../config/stages';
import { createRecordClock, NO_DISCARDS, NO_EVICTIONS, type DiscardCounters, type EvictionCounters } from '../correlate/correlator';
import { loadHeaderCodec } from '../config/header-schemas';
import { createDriver, DISCARD_KINDS, type DocumentSink, type HandleResult } from '../driver';
import type { OutputDoc } from '../pipeline';
import type { InputRecord } from '../decode/dispatch';
import { createDueInputs, type DueInput, type DueItem } from '../source/due-inputs';
import { fileMessages } from '../source/files';
import { readPcapHeaders } from '../source/pcap';
import { parseCommandArgs } from './args';

const FLUSH_EVERY = 1000;

/** One message's decoded records (or one packet's header), due at their record time. */
interface DueRecords extends DueItem {
  readonly records: readonly Decoded<InputRecord>[];
  readonly message?: InputMessage;
}

/** Evidence is due at its earliest record time; -Infinity when nothing decoded (a dead letter goes at once). */
function evidenceDue(records: readonly Decoded<InputRecord>[]): number {
  let due = Number.POSITIVE_INFINITY;
  let any = false;
  for (const d of records) {
    if (!d.ok) continue;
    any = true;
    due = Math.min(due, d.value.record.tsUs);
  }
  return any ? due : Number.NEGATIVE_INFINITY;
}

/**
 * How far the evidence must be read before a message's conns enter: their latest end plus
 * `afterUs` (the header window after a conn). Infinity for a conn of a canonified log, which has
 * no time: all evidence goes before it.
 */
function evidenceNeededBy(records: readonly Decoded<InputRecord>[], afterUs: number): number {
  let until = Number.NEGATIVE_INFINITY;
  for (const d of records) {
    if (!d.ok || d.value.kind !== 'conn') continue;
    const c = d.value.record;
    until = Math.max(until, c.canonified === true ? Number.POSITIVE_INFINITY : c.tsUs + (c.durationUs ?? 0) + afterUs);
  }
  return until;
}

export const HELP = `Usage: zeek-rst classify --conn FILE [--weird FILE]... [--headers FILE]... [options]

Classify every TCP reset in Zeek logs offline. Prints one enriched ECS document per
connection (JSON lines) on stdout and a summary on stderr.

Options:
  --conn FILE           conn.log: Zeek JSON lines or TSV, optionally gzip (required)
  --weird FILE          weird.log, same formats (repeatable)
  --headers FILE        sampled packet headers: JSON lines or Avro container, optionally gzip (repeatable)
  --pcap FILE           a pcap/pcapng capture: every TCP packet's header, extracted in process as
                        zeek-rst headers --sample all does (repeatable; with or instead of --headers)
  --config FILE         the YAML configuration of \`zeek-rst run\` (thresholds, caps, classify.devicesFile,
                        decode and observer settings); ZEEK_RST_* environment variables apply as for run
  --devices FILE        devices YAML (firewalls, IPS, load balancers); overrides classify.devicesFile
  --dead-letter FILE    write undecodable records there (JSON lines: reason, stage, detail, source, raw base64)
  --observer NAME       observer.name for records without _system_name
  --allow-canonified    accept canonified test logs (ts/uid of X's or missing, e.g. zeek-testing baselines)
  --progress            report progress on stderr even when it is not a terminal
  -h, --help            show this help

Exit status: 0 on success (dead letters included), 2 on a usage error, 1 when a file cannot be read.`;

interface Options {
  readonly conn: string;
  readonly weird: readonly string[];
  readonly headers: readonly string[];
  readonly pcap: readonly string[];
  readonly config: string | undefined;
  readonly devices: string | undefined;
  readonly deadLetter: string | undefined;
  readonly observer: string | undefined;
  readonly allowCanonified: boolean;
  readonly progress: boolean;
}

function parse(argv: readonly string[]): Options | 'help' {
  const { values } = parseCommandArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        conn: { type: 'string' },
        weird: { type: 'string', multiple: true },
        headers: { type: 'string', multiple: true },
        pcap: { type: 'string', multiple: true },
        config: { type: 'string' },
        devices: { type: 'string' },
        'dead-letter': { type: 'string' },
        observer: { type: 'string' },
        'allow-canonified': { type: 'boolean' },
        progress: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (values.help === true) return 'help';
  if (values.conn === undefined) throw new ZeekRstError('ZRST_USAGE', '--conn FILE is required (see --help)');
  return {
    conn: values.conn,
    weird: values.weird ?? [],
    headers: values.headers ?? [],
    pcap: values.pcap ?? [],
    config: values.config,
    devices: values.devices,
    deadLetter: values['dead-letter'],
    observer: values.observer,
    allowCanonified: values['allow-canonified'] === true,
    progress: values.progress === true || process.stderr.isTTY,
  };
}

async function mustRead(file: string): Promise<void> {
  try {
    await access(file, fsConstants.R_OK);
  } catch (err) {
    throw new ZeekRstError('ZRST_FILE_UNREADABLE', `${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function deadLetterLine(d: DeadLetter): string {
  return `${JSON.stringify({ reason: d.reason, stage: d.stage, detail: d.detail, source: d.source, raw: Buffer.from(d.raw).toString('base64') })}\n`;
}

export interface Summary {
  connections: number;
  resets: number;
  updates: number;
  deadLetters: number;
  evictions: number;
  /** The evictions by store (the correlator's counters, summed over the partitions). */
  evictionsByKind: Readonly<EvictionCounters>;
  readonly verdicts: Map<Verdict, number>;
  discards: Readonly<DiscardCounters>;
}

/** How each discard kind reads in the summary. */
const DISCARD_LABELS: Readonly<Record<keyof DiscardCounters, string>> = {
  duplicateConns: 'replayed conns (identical, ignored)',
  weirdsWithoutUid: 'weirds without uid',
  weirdsOverCap: 'weirds over the per-uid cap',
  weirdsUnjoined: 'weirds that joined no conn',
  headersUnjoined: 'headers that joined no conn',
};

/** How each store's evictions read in the summary, under `evictions`. */
const EVICTION_LABELS: Readonly<Record<keyof EvictionCounters, string>> = {
  pendingConns: 'conns classified early (pending cap)',
  emittedConns: 'written conns no longer open to late evidence',
  weirdUids: 'weirds waiting for a conn',
  headers: 'headers',
  hosts: 'host baselines',
  recentCloses: 'remembered closes',
};

export function formatSummary(s: Summary): string {
  const rows: [string, number][] = [
    ['connections', s.connections],
    ['resets', s.resets],
    ...VERDICTS.filter((v) => (s.verdicts.get(v) ?? 0) > 0).map((v): [string, number] => [`  ${v}`, s.verdicts.get(v) ?? 0]),
    ['updates', s.updates],
    ['dead letters', s.deadLetters],
    ['evictions', s.evictions],
    ...(Object.keys(EVICTION_LABELS) as (keyof EvictionCounters)[]).filter((k) => s.evictionsByKind[k] > 0).map((k): [string, number] => [`  ${EVICTION_LABELS[k]}`, s.evictionsByKind[k]]),
    ...DISCARD_KINDS.map((k): [string, number] => [DISCARD_LABELS[k], s.discards[k]]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${String(v).padStart(8)}`).join('\n');
}

/** The configuration: `--config` (and ZEEK_RST_*) as `run` reads it, then the command line's overrides. */
function configOf(opts: Options): Config {
  const config = loadConfig(opts.config);
  const observer = opts.observer ?? config.observer.name;
  return {
    ...config,
    decode: { ...config.decode, allowCanonified: opts.allowCanonified || config.decode.allowCanonified },
    observer: { ...config.observer, ...(observer === undefined ? {} : { name: observer }) },
  };
}

/** stdout, one JSON document per line; the summary counts what it writes. */
function createStdoutSink(summary: Summary): DocumentSink & { pending(): number; drain(): Promise<void> } {
  const out: string[] = [];
  return {
    write(docs: readonly OutputDoc[]) {
      for (const d of docs) {
        if (d.kind === 'update') summary.updates++;
        else {
          summary.connections++;
          const v = d.classification.verdict;
          if (v !== undefined) {
            summary.resets++;
            summary.verdicts.set(v, (summary.verdicts.get(v) ?? 0) + 1);
          }
        }
        out.push(`${d.json}\n`);
      }
    },
    pending: () => out.length,
    async drain() {
      const chunk = out.splice(0, out.length).join('');
      if (chunk === '') return;
      if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    },
  };
}

export async function run(argv: readonly string[]): Promise<number> {
  const opts = parse(argv);
  if (opts === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  for (const f of [opts.conn, ...opts.weird, ...opts.headers, ...opts.pcap]) await mustRead(f);
  const config = configOf(opts);
  const devicesFile = opts.devices ?? config.classify.devicesFile;
  const devices = devicesFile === undefined ? [] : await loadDevicesFile(devicesFile);
  let dlq: FileHandle | undefined;
  if (opts.deadLetter !== undefined) {
    try {
      dlq = await open(opts.deadLetter, 'w');
    } catch (err) {
      throw new ZeekRstError('ZRST_FILE_UNREADABLE', `${opts.deadLetter}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  const settings = stageSettingsOf(config, devices);
  const summary: Summary = { connections: 0, resets: 0, updates: 0, deadLetters: 0, evictions: 0, evictionsByKind: NO_EVICTIONS, verdicts: new Map(), discards: NO_DISCARDS };
  const sink = createStdoutSink(summary);
  // File mode has no wall clock: the grace is measured in record time, and the driver is flushed
  // every FLUSH_EVERY conns and at the end.
  const clock = createRecordClock();
  const driver = createDriver({ settings, codec: await loadHeaderCodec(config.decode), clock, sink, onConn: (ts) => { clock.observe(ts); } });
  let records = 0;
  let lastProgress = Date.now();
  const progress = (what: string): void => {
    if (!opts.progress) return;
    const t = Date.now();
    if (t - lastProgress < 1000) return;
    lastProgress = t;
    process.stderr.write(`zeek-rst classify: ${records} records read (${what}), ${summary.connections} connections classified\n`);
  };
  const account = async (r: HandleResult): Promise<void> => {
    records += r.accepted + r.dead.length;
    for (const d of r.dead) {
      summary.deadLetters++;
      if (dlq !== undefined) await dlq.write(deadLetterLine(d));
    }
  };
  // Evidence enters as the conns' time reaches it (source/due-inputs.ts): before a conn, every
  // header and weird up to its end + the header window. A conn's evidence is then all in when it
  // comes, and what the caps evict is evidence whose conns have come already.
  const afterUs = settings.pipeline.correlate.headerAfterUs;
  const fileInput = (file: string, input: InputKind): DueInput<DueRecords> => ({ name: file, items: fileItems(file, input), onEnd: () => { driver.endOfFile(file); } });
  const evidence = createDueInputs<DueRecords>([
    ...opts.pcap.map((file) => ({ name: file, items: pcapItems(file) })),
    ...opts.headers.map((file) => fileInput(file, 'headers')),
    ...opts.weird.map((file) => fileInput(file, 'weird')),
  ]);
  async function* fileItems(file: string, input: InputKind): AsyncGenerator<DueRecords> {
    for await (const m of fileMessages(file, input, { decode: settings.decode })) {
      const records = driver.decode(m);
      yield { records, message: m, dueUs: evidenceDue(records), weight: records.length };
    }
  }
  async function* pcapItems(file: string): AsyncGenerator<DueRecords> {
    for await (const d of readPcapHeaders(file)) yield { records: [d], dueUs: evidenceDue([d]) };
  }
  /** After each message of any file: the stdout sink drained past FLUSH_EVERY documents, and progress. */
  const settle = async (file: string): Promise<void> => {
    if (sink.pending() >= FLUSH_EVERY) await sink.drain();
    progress(file);
  };
  const feed = async (item: DueRecords, file: string): Promise<void> => {
    await account(driver.handleDecoded(item.records, item.message));
    await settle(file);
  };
  try {
    let sinceFlush = 0;
    let evidenceUntilUs = Number.NEGATIVE_INFINITY;
    for await (const m of fileMessages(opts.conn, 'conn', { decode: settings.decode })) {
      const records = driver.decode(m);
      evidenceUntilUs = Math.max(evidenceUntilUs, evidenceNeededBy(records, afterUs));
      await evidence.takeDue(evidenceUntilUs, feed);
      const r = driver.handleDecoded(records, m);
      await account(r);
      if (r.accepted > 0 && (sinceFlush += r.accepted) >= FLUSH_EVERY) {
        sinceFlush = 0;
        driver.flush();
      }
      await settle(opts.conn);
    }
    driver.endOfFile(opts.conn);
    await evidence.takeDue(Number.POSITIVE_INFINITY, feed);
    driver.flush();
    await sink.drain();
  } finally {
    await dlq?.close();
  }
  const stats = driver.stats();
  summary.evictions = stats.evicted;
  summary.evictionsByKind = driver.pipeline.stats().evictions;
  // At the end of the files, evidence still waiting will never join: it counts as unjoined.
  const left = driver.pipeline.unjoinedNow();
  summary.discards = { ...stats.discards, headersUnjoined: stats.discards.headersUnjoined + left.headers, weirdsUnjoined: stats.discards.weirdsUnjoined + left.weirds };
  process.stderr.write(`${formatSummary(summary)}\n`);
  return 0;
}
