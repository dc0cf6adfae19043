/**
 * `zeek-rst classify`: offline classification of Zeek logs (docs/cli.md). The analyst's tool and
 * the test oracle: the same decode, correlate, classify and ECS mapping as `run`.
 *
 * File mode has no wall clock: all evidence (headers, then weirds) is read first, then the conns,
 * and the correlator is flushed every FLUSH_EVERY conns and at the end, so every conn is
 * classified with all the evidence the files hold whatever order the records are in. Evidence is
 * kept up to the correlator caps (maxHeaders ...); beyond them the oldest is evicted and counted
 * in the summary.
 *
 * Progress goes to stderr once a second while reading, when stderr is a TTY or with --progress.
 */
import { access, open, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { parseArgs } from 'node:util';
import type { DeadLetter, Verdict } from '../domain';
import { VERDICTS } from '../domain';
import { ZeekRstError } from '../errors';
import { createRecordClock } from '../correlate/correlator';
import { loadDevicesFile } from '../config/devices';
import { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS, type OutputDoc } from '../pipeline';
import { readHeaderFile, readZeekLogFile } from '../source/files';
import { readPcapHeaders } from '../source/pcap';

const FLUSH_EVERY = 1000;

export const HELP = `Usage: zeek-rst classify --conn FILE [--weird FILE]... [--headers FILE]... [options]

Classify every TCP reset in Zeek logs offline. Prints one enriched ECS document per
connection (JSON lines) on stdout and a summary on stderr.

Options:
  --conn FILE           conn.log: Zeek JSON lines or TSV, optionally gzip (required)
  --weird FILE          weird.log, same formats (repeatable)
  --headers FILE        sampled packet headers: JSON lines or Avro container, optionally gzip (repeatable)
  --pcap FILE           a pcap/pcapng capture: every TCP packet's header, extracted in process as
                        zeek-rst headers --sample all does (repeatable; with or instead of --headers)
  --config FILE         devices YAML (firewalls, IPS, load balancers) for attribution
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
  readonly deadLetter: string | undefined;
  readonly observer: string | undefined;
  readonly allowCanonified: boolean;
  readonly progress: boolean;
}

function parse(argv: readonly string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        conn: { type: 'string' },
        weird: { type: 'string', multiple: true },
        headers: { type: 'string', multiple: true },
        pcap: { type: 'string', multiple: true },
        config: { type: 'string' },
        'dead-letter': { type: 'string' },
        observer: { type: 'string' },
        'allow-canonified': { type: 'boolean' },
        progress: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ZeekRstError('ZRST_USAGE', `${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
  if (values.help === true) return 'help';
  if (values.conn === undefined) throw new ZeekRstError('ZRST_USAGE', '--conn FILE is required (see --help)');
  return {
    conn: values.conn,
    weird: values.weird ?? [],
    headers: values.headers ?? [],
    pcap: values.pcap ?? [],
    config: values.config,
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
  readonly verdicts: Map<Verdict, number>;
}

export function formatSummary(s: Summary): string {
  const rows: [string, number][] = [
    ['connections', s.connections],
    ['resets', s.resets],
    ...VERDICTS.filter((v) => (s.verdicts.get(v) ?? 0) > 0).map((v): [string, number] => [`  ${v}`, s.verdicts.get(v) ?? 0]),
    ['updates', s.updates],
    ['dead letters', s.deadLetters],
    ['evictions', s.evictions],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${String(v).padStart(8)}`).join('\n');
}

export async function run(argv: readonly string[]): Promise<number> {
  const opts = parse(argv);
  if (opts === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  for (const f of [opts.conn, ...opts.weird, ...opts.headers, ...opts.pcap]) await mustRead(f);
  const devices = opts.config === undefined ? [] : await loadDevicesFile(opts.config);
  let dlq: FileHandle | undefined;
  if (opts.deadLetter !== undefined) {
    try {
      dlq = await open(opts.deadLetter, 'w');
    } catch (err) {
      throw new ZeekRstError('ZRST_FILE_UNREADABLE', `${opts.deadLetter}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  const decode = { allowCanonified: opts.allowCanonified, ...(opts.observer === undefined ? {} : { observer: opts.observer }) };
  const clock = createRecordClock();
  const pipeline = createClassifyPipeline({ ...DEFAULT_PIPELINE_SETTINGS, devices }, clock);
  const summary: Summary = { connections: 0, resets: 0, updates: 0, deadLetters: 0, evictions: 0, verdicts: new Map() };
  let records = 0;
  let lastProgress = Date.now();
  const progress = (what: string): void => {
    if (!opts.progress) return;
    const t = Date.now();
    if (t - lastProgress < 1000) return;
    lastProgress = t;
    process.stderr.write(`zeek-rst classify: ${records} records read (${what}), ${summary.connections} connections classified\n`);
  };
  const out: string[] = [];
  const emit = async (docs: readonly OutputDoc[], evicted: number): Promise<void> => {
    summary.evictions += evicted;
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
      out.push(`${JSON.stringify(d.doc)}\n`);
    }
    if (out.length >= FLUSH_EVERY) await drain();
  };
  const drain = async (): Promise<void> => {
    const chunk = out.splice(0, out.length).join('');
    if (chunk === '') return;
    if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  };
  const dead = async (d: DeadLetter): Promise<void> => {
    summary.deadLetters++;
    if (dlq !== undefined) await dlq.write(deadLetterLine(d));
  };

  try {
    const headerSources = [
      ...opts.headers.map((file) => ({ file, records: readHeaderFile(file, { decode }) })),
      ...opts.pcap.map((file) => ({ file, records: readPcapHeaders(file) })),
    ];
    for (const { file, records: headerRecords } of headerSources) {
      for await (const d of headerRecords) {
        records++;
        if (d.ok) {
          const step = pipeline.addHeader(d.value);
          await emit(step.docs, step.evicted);
        } else await dead(d.dead);
        progress(file);
      }
    }
    for (const file of opts.weird) {
      for await (const d of readZeekLogFile(file, 'weird', { decode })) {
        records++;
        if (!d.ok) await dead(d.dead);
        else if (d.value.log === 'weird') {
          const step = pipeline.addWeird(d.value.record);
          await emit(step.docs, step.evicted);
        }
        progress(file);
      }
    }
    let sinceFlush = 0;
    for await (const d of readZeekLogFile(opts.conn, 'conn', { decode })) {
      records++;
      if (!d.ok) await dead(d.dead);
      else if (d.value.log === 'conn') {
        clock.observe(d.value.record.tsUs);
        const step = pipeline.addConn(d.value.record);
        await emit(step.docs, step.evicted);
        if (++sinceFlush >= FLUSH_EVERY) {
          sinceFlush = 0;
          const f = pipeline.flush();
          await emit(f.docs, f.evicted);
        }
      }
      progress(opts.conn);
    }
    const last = pipeline.flush();
    await emit(last.docs, last.evicted);
    await drain();
  } finally {
    await dlq?.close();
  }
  process.stderr.write(`${formatSummary(summary)}\n`);
  return 0;
}
