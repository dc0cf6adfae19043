/**
 * `npm run bench -- e2e [--conns N] [--json] [--keep] [--ceiling-docs N] [--concurrency 1,2,4,8]
 * [--instances 1,2,3] [--cpu-prof DIR] [--run-log FILE]`:
 * the whole pipeline against the local stack (real Kafka and Elasticsearch, started by the
 * project's stack scripts or reused when they run), at the default configuration:
 *
 * 1. the workload of bench/generator.ts (N conns, default 200,000, with their weirds and batched
 *    headers) is produced into fresh topics (conn: 6 partitions, weird and headers: 1);
 * 2. the raw kafkajs consume ceiling: a consumer that only counts reads the three topics;
 * 3. `zeek-rst run` (dist/, bin/zeek-rst, a child process, default configuration) consumes them;
 *    every second the bench reads the document count, /metrics, the group's committed offsets
 *    (high watermark minus committed, summed over every partition) and the child's RSS. With
 *    `--instances 1,2,3` this step runs once per count: that many processes in one fresh consumer
 *    group (own transactional id and metrics port each), from the beginning of the same topics,
 *    into their own index prefix; figures are summed over the processes. `--cpu-prof DIR` runs
 *    each child under `node --cpu-prof` (the profile is written when it exits after SIGTERM);
 *    `--run-log FILE` writes each child's whole log to FILE.<k> (k from 0);
 * 4. once every conn is a document: RSS, lag, SIGTERM, exit code;
 * 5. the raw Elasticsearch bulk ceiling for the same documents (read back from the index, at most
 *    --ceiling-docs of them) at each concurrency, into a fresh index with the conn template's
 *    settings and mapping: the best is the ceiling.
 *
 * documents/s is given over the whole run (from the child's start to the last conn document) and
 * in steady state (from 10 % to 90 % of the documents). `--json` prints one JSON object on the
 * last line. Topics (the changelog `run` creates too) and indices are deleted afterwards unless --keep.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel, Partitioners, type Admin, type Message, type Producer } from 'kafkajs';

import type * as NodeFlags from '../src/cli/node-flags';
import type * as CommittedLag from '../src/source/committed-lag';
import type * as Templates from '../src/sink/templates';
import { ensureStackUp } from '../scripts/stack/stack';
import { createStackConfig } from '../scripts/stack/config';
import { readPidFile } from '../scripts/stack/processes';
import { option, positiveInt, positiveInts } from './args';
import { best, rawBulk, type BulkDoc, type BulkFigure } from './bulk';
import { consumeCeiling } from './consume-ceiling';
import { createCommitDelay, type CommitDelay, type PartitionSample } from './commit-delay';
import { fromDist, ROOT } from './dist';
import { GENERATOR_DEFAULTS, generateWorkload } from './generator';
import { median } from './median';
import { cpuSeconds, parentPids, treeCpuSeconds } from './proc';

const { SEMI_SPACE_ARG } = fromDist('cli/node-flags') as typeof NodeFlags;
const { fetchCommittedLag } = fromDist('source/committed-lag') as typeof CommittedLag;
const { connTemplateBody } = fromDist('sink/templates') as typeof Templates;

const CONN_PARTITIONS = 6;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Math.round(Number(m[1]) / 1024);
  } catch {
    return 0;
  }
}

/** The local stack's services, each with the CPU seconds its process tree has used so far. */
export type ServiceCpu = { readonly elasticsearch: number; readonly kafka: number };

/**
 * CPU seconds of the stack's Elasticsearch and Kafka, each its recorded process and every
 * descendant (the Elasticsearch launcher runs the node as its child), from the pid files of the
 * stack scripts (scripts/stack/config.ts); 0 for a service this bench did not find there (a
 * stack started otherwise, `ZEEK_RST_ES_NODE` elsewhere).
 */
function serviceCpuSeconds(): ServiceCpu {
  const config = createStackConfig(ROOT);
  const parents = parentPids();
  const treeCpu = (root: number | undefined): number => (root === undefined ? 0 : treeCpuSeconds(root, parents));
  return { elasticsearch: treeCpu(readPidFile(config.elasticsearch.pidFile)?.pid), kafka: treeCpu(readPidFile(config.kafka.pidFile)?.pid) };
}

/**
 * CPU seconds the whole machine has been busy, every core summed (/proc/stat: user, nice, system,
 * irq, softirq, steal). Beside `run`'s own CPU it shows what Elasticsearch and Kafka took on the
 * same cores; 0 where /proc/stat cannot be read.
 */
function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, _idle = 0, _iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return 0;
  }
}

/** Busy cores of the machine (every core summed) over the time `f` takes. */
async function machineCores<T>(f: () => Promise<T>): Promise<{ readonly value: T; readonly cores: number; readonly busySeconds: number; readonly esCores: number }> {
  const t0 = Date.now();
  const b0 = machineBusySeconds();
  const es0 = serviceCpuSeconds().elasticsearch;
  const value = await f();
  const busySeconds = machineBusySeconds() - b0;
  const wall = Math.max(0.001, (Date.now() - t0) / 1000);
  return { value, cores: busySeconds / wall, busySeconds, esCores: (serviceCpuSeconds().elasticsearch - es0) / wall };
}

/** Sum of every series of a metric in Prometheus text, per label set when `by` is given. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function metricSeries(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(name.length + 1, line.indexOf('}'));
    out[labels.replace(/^kind="(.*)"$/, '$1')] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

interface Produced {
  conns: number;
  tcpConns: number;
  weirds: number;
  headerRecords: number;
  headerMessages: number;
  seconds: number;
}

async function produceWorkload(producer: Producer, topics: { conn: string; weird: string; headers: string }, conns: number, print: (l: string) => void): Promise<Produced> {
  const out: Produced = { conns: 0, tcpConns: 0, weirds: 0, headerRecords: 0, headerMessages: 0, seconds: 0 };
  const started = process.hrtime.bigint();
  const inFlight = new Set<Promise<unknown>>();
  const send = async (topic: string, values: readonly Buffer[]): Promise<void> => {
    for (let i = 0; i < values.length; i += 2000) {
      const messages: Message[] = values.slice(i, i + 2000).map((value) => ({ value }));
      while (inFlight.size >= 4) await Promise.race(inFlight);
      const p = producer.send({ topic, acks: 1, messages });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    }
  };
  let nextReport = 0;
  for (const chunk of generateWorkload({ conns, chunk: 5000 })) {
    await send(topics.headers, chunk.headerMessages);
    await send(topics.weird, chunk.weirds);
    await send(topics.conn, chunk.conns);
    out.conns += chunk.conns.length;
    out.tcpConns += chunk.tcpConns;
    out.weirds += chunk.weirds.length;
    out.headerRecords += chunk.headerRecords;
    out.headerMessages += chunk.headerMessages.length;
    if (out.conns >= nextReport) {
      print(`  produced ${fmt(out.conns)} conns`);
      nextReport += Math.max(100_000, Math.floor(conns / 10));
    }
  }
  await Promise.all(inFlight);
  out.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return out;
}

/** Up to `max` documents of the index, as they are stored. */
async function readBack(es: Client, index: string, max: number): Promise<BulkDoc[]> {
  const docs: BulkDoc[] = [];
  let page = await es.search({ index, scroll: '2m', size: 5000, sort: ['_doc'] });
  while (page.hits.hits.length > 0 && docs.length < max) {
    for (const h of page.hits.hits) if (docs.length < max && h._id !== undefined) docs.push({ id: h._id, body: h._source });
    if (page._scroll_id === undefined) break;
    page = await es.scroll({ scroll_id: page._scroll_id, scroll: '2m' });
  }
  if (page._scroll_id !== undefined) await es.clearScroll({ scroll_id: page._scroll_id }).catch(() => undefined);
  return docs;
}

/** What one run of `zeek-rst run` (n processes in one group) measured. */
interface RunFigure {
  readonly instances: number;
  readonly conns: number;
  /** ES_INDEX_PREFIX of the run (its documents are in `${prefix}-conn`). */
  readonly prefix: string;
  readonly runSeconds: number;
  readonly settleSeconds: number;
  readonly docsPerS: number;
  readonly steady: number;
  readonly recordsIn: number;
  readonly docsOut: number;
  /** Bulk requests answered (every outcome, retries included). */
  readonly bulkRequests: number;
  readonly lagMax: number;
  readonly lagEnd: number;
  /** Seconds the committed offsets trailed the consumed positions (bench/commit-delay.ts): steady-state median and max, whole-run max. */
  readonly commitDelaySteady: number;
  readonly commitDelaySteadyMax: number;
  readonly commitDelayMax: number;
  /** The same for the repartition topic (undefined in direct mode). */
  readonly repartitionDelaySteady: number | undefined;
  readonly repartitionDelaySteadyMax: number | undefined;
  readonly repartitionDelayMax: number | undefined;
  /** When the steady state's worst repartition delay was seen, seconds after `run` started. */
  readonly repartitionDelaySteadyMaxAtS: number | undefined;
  /** The steady state (10 % -> 90 % of the documents), seconds after `run` started. */
  readonly steadyFromS: number | undefined;
  readonly steadyToS: number | undefined;
  /** MB, summed over the instances. */
  readonly rssHalf: number;
  readonly rssEnd: number;
  readonly rssMax: number;
  readonly cpu: number;
  /** CPU seconds the whole machine was busy (run, Elasticsearch, Kafka, this bench), over `machineWallSeconds` from the start of the processes. */
  readonly machineBusySeconds: number;
  /** CPU seconds of the stack's Elasticsearch and Kafka over the same span (serviceCpuSeconds). */
  readonly serviceCpu: ServiceCpu;
  readonly machineWallSeconds: number;
  readonly pausedMax: number;
  readonly evictions: number;
  /** Checkpoints written (summed over the instances), their mean wait and write, the changelog bytes. */
  readonly checkpoints: { readonly count: number; readonly waitMeanS: number; readonly writeMeanS: number; readonly changelogMb: number; readonly unackedConns: number };
  readonly discards: Record<string, number>;
  readonly exitCodes: readonly (number | null)[];
  readonly stopSeconds: number;
}

interface RunOptions {
  readonly n: number;
  readonly label: string;
  /** Index prefix and consumer group stem of this run. */
  readonly base: string;
  readonly endpoints: { readonly kafkaBrokers: readonly string[]; readonly esUrl: string };
  readonly topics: { readonly conn: string; readonly weird: string; readonly headers: string; readonly dlq: string };
  readonly admin: Admin;
  readonly es: Client;
  readonly conns: number;
  readonly messages: number;
  readonly print: (l: string) => void;
  /** node --cpu-prof into this directory (one profile per process, written at its exit). */
  readonly cpuProfDir: string | undefined;
  /** Where each instance's log (its stderr) is written in full: `<runLog>.<k>`. */
  readonly runLog: string | undefined;
}

interface Child {
  readonly pid: number;
  stderr: string;
  port: number | undefined;
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;
  kill(): void;
  metricsText: string;
}

/**
 * `n` `zeek-rst run` processes (bin/zeek-rst, dist/, default configuration) in one fresh
 * consumer group, from the beginning of the workload's topics, each with its own transactional
 * id and metrics port; sampled every second until every conn is a document and nothing is left
 * to read or write; then SIGTERM.
 */
async function runInstances(o: RunOptions): Promise<RunFigure> {
  const { es, admin, conns, messages, print, topics } = o;
  const group = `${o.base}-g`;
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    ZEEK_RST_KAFKA_BROKERS: o.endpoints.kafkaBrokers.join(','),
    ZEEK_RST_ES_NODE: o.endpoints.esUrl,
    ZEEK_RST_KAFKA_GROUP: group,
    ZEEK_RST_TOPIC_CONN: topics.conn,
    ZEEK_RST_TOPIC_WEIRD: topics.weird,
    ZEEK_RST_TOPIC_HEADERS: topics.headers,
    ZEEK_RST_TOPIC_DEAD_LETTER: topics.dlq,
    ZEEK_RST_ES_INDEX_PREFIX: o.base,
    ZEEK_RST_METRICS_PORT: '0',
  };
  // This bench's node, with the option bin/zeek-rst's shebang gives it (src/cli/node-flags.ts,
  // whose test keeps the two equal; node refuses --cpu-prof in NODE_OPTIONS), then profiling.
  const nodeArgs = [SEMI_SPACE_ARG, ...(o.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`])];
  const spawnedAt = Date.now();
  const busyAtSpawn = machineBusySeconds();
  const servicesAtSpawn = serviceCpuSeconds();
  const children: Child[] = [];
  for (let k = 0; k < o.n; k++) {
    const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin/zeek-rst'), 'run'], {
      cwd: ROOT,
      env: { ...env, ZEEK_RST_STATE_TRANSACTIONAL_ID: `${group}-${k}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const c: Child = {
      pid: child.pid ?? 0,
      stderr: '',
      port: undefined,
      exitCode: undefined,
      exited: new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); })),
      kill: () => { child.kill('SIGTERM'); },
      metricsText: '',
    };
    if (o.runLog !== undefined) child.stderr.pipe(createWriteStream(`${o.runLog}.${k}`));
    child.stderr.on('data', (d: Buffer) => {
      c.stderr = (c.stderr + d.toString('utf8')).slice(-20_000);
      if (c.port === undefined) {
        const m = /"port":(\d+)[^\n]*serving \/metrics/.exec(c.stderr);
        if (m !== null) c.port = Number(m[1]);
      }
    });
    void c.exited.then((code) => { c.exitCode = code; });
    children.push(c);
  }
  const sum = (name: string): number => children.reduce((n, c) => n + metricSum(c.metricsText, name), 0);
  const countDocs = async (): Promise<number> => {
    try {
      return (await es.count({ index: `${o.base}-conn` })).count;
    } catch {
      return 0;
    }
  };
  const inputTopics = [topics.conn, topics.weird, topics.headers];
  // Repartition mode (the default): the input offsets commit once the repartition topic holds the
  // records; what waits for the changelog and Elasticsearch is the repartition topic's offsets.
  const repartitionTopic = `${group}-repartition`;
  const commitDelay = createCommitDelay();
  const repartitionDelay = createCommitDelay();
  /** Per `topic/partition`: the children's consumer lag (each reports its own partitions). */
  const consumerLagNow = (): Map<string, number> => {
    const consumerLag = new Map<string, number>();
    for (const c of children) {
      for (const [labels, v] of Object.entries(metricSeries(c.metricsText, 'zeek_rst_consumer_lag'))) {
        const m = /partition="(\d+)",topic="([^"]+)"|topic="([^"]+)",partition="(\d+)"/.exec(labels);
        if (m !== null) consumerLag.set(`${m[2] ?? m[3] ?? ''}/${m[1] ?? m[4] ?? ''}`, v);
      }
    }
    return consumerLag;
  };
  /** The worst partition's commit delay (bench/commit-delay.ts) over `topics`, and their committed lag in messages. */
  const delayOf = async (now: number, topicList: readonly string[], delay: CommitDelay, consumerLag: ReadonlyMap<string, number>): Promise<{ messages: number; seconds: number }> => {
    const parts = await fetchCommittedLag(admin, group, topicList);
    // Consumed position = high watermark - the consumer lag.
    const samples: PartitionSample[] = parts.flatMap((p) => {
      const lag = consumerLag.get(`${p.topic}/${p.partition}`);
      return lag === undefined ? [] : [{ key: `${p.topic}/${p.partition}`, consumed: p.high - BigInt(Math.max(0, Math.round(lag))), committed: p.committed }];
    });
    return { messages: parts.reduce((n, p) => n + p.lag, 0), seconds: delay.observe(now, samples) };
  };
  // `run` creates the repartition topic at start; never in direct mode.
  let repartitionExists = false;
  const hasRepartitionTopic = async (): Promise<boolean> => (repartitionExists ||= (await admin.listTopics()).includes(repartitionTopic));
  /** Committed lag of the inputs in messages (summed) and seconds; the repartition topic's in seconds (NaN in direct mode). */
  const lagNow = async (now: number): Promise<{ messages: number; seconds: number; repartitionSeconds: number }> => {
    try {
      const consumerLag = consumerLagNow();
      const inputs = await delayOf(now, inputTopics, commitDelay, consumerLag);
      const repartitionSeconds = (await hasRepartitionTopic()) ? (await delayOf(now, [repartitionTopic], repartitionDelay, consumerLag)).seconds : Number.NaN;
      return { ...inputs, repartitionSeconds };
    } catch {
      return { messages: Number.NaN, seconds: Number.NaN, repartitionSeconds: Number.NaN };
    }
  };
  /** Commit delays of the samples between 10 % and 90 % of the documents (steady state). */
  const steadyDelays: number[] = [];
  const steadyRepartitionDelays: number[] = [];
  let delayMax = 0;
  let repartitionDelayMax = 0;
  /** The steady state's worst repartition delay, and when (seconds since spawn). */
  let repartitionSteadyWorst: { seconds: number; atS: number } | undefined;
  const rssAll = (): number => children.reduce((n, c) => n + rssMb(c.pid), 0);
  let lagMax = 0;
  let rssHalf: number | undefined;
  let rssMax = 0;
  let t10: number | undefined;
  let t90: number | undefined;
  let tDone: number | undefined;
  let tDocs: number | undefined;
  let pausedSince: number | undefined;
  let pausedMax = 0;
  let lastCount = 0;
  let lastMoved = 0;
  let lastProgress = Date.now();
  let nextReport = Date.now() + 10_000;
  try {
    for (;;) {
      await sleep(1000);
      const dead = children.find((c) => c.exitCode !== undefined);
      if (dead !== undefined) throw new Error(`zeek-rst run exited with ${String(dead.exitCode)} before the end:\n${dead.stderr}`);
      const count = await countDocs();
      const now = Date.now();
      const lagged = await lagNow(now);
      const lag = lagged.messages;
      if (Number.isFinite(lag)) lagMax = Math.max(lagMax, lag);
      if (Number.isFinite(lagged.seconds)) {
        delayMax = Math.max(delayMax, lagged.seconds);
        if (t10 !== undefined && t90 === undefined) steadyDelays.push(lagged.seconds);
      }
      if (Number.isFinite(lagged.repartitionSeconds)) {
        repartitionDelayMax = Math.max(repartitionDelayMax, lagged.repartitionSeconds);
        if (t10 !== undefined && t90 === undefined) {
          steadyRepartitionDelays.push(lagged.repartitionSeconds);
          if (lagged.repartitionSeconds >= (repartitionSteadyWorst?.seconds ?? 0)) repartitionSteadyWorst = { seconds: lagged.repartitionSeconds, atS: (now - spawnedAt) / 1000 };
        }
      }
      const rss = rssAll();
      rssMax = Math.max(rssMax, rss);
      await Promise.all(children.map(async (c) => {
        if (c.port === undefined) return;
        try {
          c.metricsText = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
        } catch {
          // the next second
        }
      }));
      // Paused: every instance waits for room (one paused member alone does not stop the group).
      const paused = children.every((c) => metricSum(c.metricsText, 'zeek_rst_source_paused') > 0);
      if (paused) pausedSince ??= now;
      else pausedSince = undefined;
      if (pausedSince !== undefined) pausedMax = Math.max(pausedMax, (now - pausedSince) / 1000);
      if (t10 === undefined && count >= conns * 0.1) t10 = now;
      if (t90 === undefined && count >= conns * 0.9) t90 = now;
      if (rssHalf === undefined && count >= conns / 2) rssHalf = rss;
      // Progress: documents acknowledged (updates too) or messages read.
      const moved = sum('zeek_rst_documents_out_total') + sum('zeek_rst_records_in_total');
      if (count > lastCount || moved > lastMoved) {
        lastCount = count;
        lastMoved = moved;
        lastProgress = now;
      }
      if (now >= nextReport) {
        const parts = ['sink', 'conn', 'update'].map((k) => `${k} ${fmt(children.reduce((n, c) => n + metricSum(c.metricsText, `zeek_rst_backpressure_pending{kind="${k}"}`), 0))}`).join(', ');
        print(`  ${((now - spawnedAt) / 1000).toFixed(0)} s: ${fmt(count)} documents, committed lag ${fmt(lag)} messages (${lagged.seconds.toFixed(0)} s behind consumed${Number.isFinite(lagged.repartitionSeconds) ? `; repartition topic ${lagged.repartitionSeconds.toFixed(0)} s` : ''}), RSS ${rss} MB, pending ${parts} (bound ${fmt(sum('zeek_rst_backpressure_bound'))})${paused ? ', paused' : ''}`);
        nextReport = now + 10_000;
      }
      // Done: every conn is a document, every message was read, and nothing waits to be written
      // (late evidence read after its conn's first write has been written as an update too).
      const settled = sum('zeek_rst_records_in_total') >= messages && sum('zeek_rst_backpressure_pending') === 0;
      if (count >= conns && tDocs === undefined) tDocs = now;
      if (count >= conns && settled) {
        tDone = now;
        break;
      }
      if (now - lastProgress > 180_000) throw new Error(`no document for 180 s (have ${fmt(count)} of ${fmt(conns)}):\n${children.map((c) => c.stderr.slice(-3000)).join('\n')}`);
    }
  } catch (err: unknown) {
    for (const c of children) c.kill();
    throw err;
  }
  const rssEnd = rssAll();
  const cpu = children.reduce((n, c) => n + cpuSeconds(c.pid), 0);
  const machineBusy = machineBusySeconds() - busyAtSpawn;
  const servicesNow = serviceCpuSeconds();
  const services: ServiceCpu = { elasticsearch: servicesNow.elasticsearch - servicesAtSpawn.elasticsearch, kafka: servicesNow.kafka - servicesAtSpawn.kafka };
  const machineWall = (Date.now() - spawnedAt) / 1000;
  const lagEnd = (await lagNow(Date.now())).messages;
  const discards: Record<string, number> = {};
  for (const c of children) for (const [k, v] of Object.entries(metricSeries(c.metricsText, 'zeek_rst_correlator_discards_total'))) discards[k] = (discards[k] ?? 0) + v;
  const evictions = sum('zeek_rst_correlator_evictions_total');
  const checkpointSeries = (suffix: 'sum' | 'count', phase: 'wait' | 'write'): number => children.reduce((n, c) => n + (metricSeries(c.metricsText, `zeek_rst_checkpoint_duration_seconds_${suffix}`)[`phase="${phase}"`] ?? 0), 0);
  const checkpointCount = checkpointSeries('count', 'write');
  const checkpoints = {
    count: checkpointCount,
    waitMeanS: checkpointCount === 0 ? 0 : checkpointSeries('sum', 'wait') / checkpointCount,
    writeMeanS: checkpointCount === 0 ? 0 : checkpointSeries('sum', 'write') / checkpointCount,
    changelogMb: sum('zeek_rst_changelog_bytes_total') / 1e6,
    unackedConns: sum('zeek_rst_checkpoint_unacked_conns_total'),
  };
  const docsOut = sum('zeek_rst_documents_out_total');
  const bulkRequests = sum('zeek_rst_bulk_duration_seconds_count');
  const recordsIn = sum('zeek_rst_records_in_total');
  for (const c of children) c.kill();
  const stopStarted = Date.now();
  const exitCodes = await Promise.all(children.map((c) => c.exited));
  const stopSeconds = (Date.now() - stopStarted) / 1000;
  const runSeconds = ((tDocs ?? tDone) - spawnedAt) / 1000;
  const settleSeconds = (tDone - (tDocs ?? tDone)) / 1000;
  const docsPerS = conns / runSeconds;
  const steady = t10 !== undefined && t90 !== undefined && t90 > t10 ? (conns * 0.8) / ((t90 - t10) / 1000) : docsPerS;
  return { instances: o.n, conns, prefix: o.base, runSeconds, settleSeconds, docsPerS, steady, recordsIn, docsOut, bulkRequests, lagMax, lagEnd, commitDelaySteady: median(steadyDelays), commitDelaySteadyMax: Math.max(0, ...steadyDelays), commitDelayMax: delayMax, repartitionDelaySteady: steadyRepartitionDelays.length === 0 ? undefined : median(steadyRepartitionDelays), repartitionDelaySteadyMax: steadyRepartitionDelays.length === 0 ? undefined : Math.max(...steadyRepartitionDelays), repartitionDelayMax: steadyRepartitionDelays.length === 0 ? undefined : repartitionDelayMax, repartitionDelaySteadyMaxAtS: repartitionSteadyWorst?.atS, steadyFromS: t10 === undefined ? undefined : (t10 - spawnedAt) / 1000, steadyToS: t90 === undefined ? undefined : (t90 - spawnedAt) / 1000, rssHalf: rssHalf ?? 0, rssEnd, rssMax, cpu, machineBusySeconds: machineBusy, serviceCpu: services, machineWallSeconds: machineWall, pausedMax, evictions, checkpoints, discards, exitCodes, stopSeconds };
}

/** Busy cores of the machine on average while `run` worked. */
/** Cores that `cpuSeconds` kept busy on average over the run's wall time. */
function coresOf(f: RunFigure, cpuSeconds: number): number {
  return cpuSeconds / Math.max(0.001, f.machineWallSeconds);
}

/** µs of `cpuSeconds` per document the run had acknowledged. */
function usPerDocOf(f: RunFigure, cpuSeconds: number): number {
  return (cpuSeconds * 1e6) / Math.max(1, f.docsOut);
}

function machineCoresOf(f: RunFigure): number {
  return coresOf(f, f.machineBusySeconds);
}

function printFigure(f: RunFigure, print: (l: string) => void): void {
  const label = f.instances > 1 ? `run x${f.instances}` : 'run';
  const each = f.instances > 1 ? ` (summed over ${f.instances} processes)` : '';
  print(`  ${label}: ${fmt(f.conns)} conn documents in ${f.runSeconds.toFixed(1)} s from start: ${fmt(f.docsPerS)} documents/s; steady state (10 % -> 90 %): ${fmt(f.steady)} documents/s`);
  print(`  ${label}: every message read and every update written ${f.settleSeconds.toFixed(0)} s after the last conn document; ${fmt(f.recordsIn)} messages read, ${fmt(f.docsOut)} documents acknowledged (updates included), longest pause ${f.pausedMax.toFixed(0)} s, evictions ${fmt(f.evictions)}, discards ${JSON.stringify(f.discards)}`);
  print(`  ${label}: ${fmt(f.bulkRequests)} bulk requests, ${fmt(f.docsOut / Math.max(1, f.bulkRequests))} documents each on average`);
  print(`  committed-offset lag: max ${fmt(f.lagMax)} messages, at the end ${fmt(f.lagEnd)}; committed offsets behind the consumed positions: inputs median ${f.commitDelaySteady.toFixed(0)} s, max ${f.commitDelaySteadyMax.toFixed(0)} s in steady state (target <= 30 s), max ${f.commitDelayMax.toFixed(0)} s over the run`);
  if (f.repartitionDelaySteady !== undefined) print(`  committed offsets behind the consumed positions, repartition topic: median ${f.repartitionDelaySteady.toFixed(0)} s, max ${(f.repartitionDelaySteadyMax ?? 0).toFixed(0)} s in steady state (at ${(f.repartitionDelaySteadyMaxAtS ?? 0).toFixed(0)} s; steady ${(f.steadyFromS ?? 0).toFixed(0)}-${(f.steadyToS ?? 0).toFixed(0)} s), max ${(f.repartitionDelayMax ?? 0).toFixed(0)} s over the run`);
  print(`  checkpoints${each}: ${fmt(f.checkpoints.count)} written (one per correlation partition each time); mean ${f.checkpoints.waitMeanS.toFixed(2)} s waiting (dead letters, documents of conns no longer held), ${f.checkpoints.writeMeanS.toFixed(2)} s writing the changelog; ${fmt(f.checkpoints.unackedConns)} conns written dirty, their document unacknowledged; ${fmt(f.checkpoints.changelogMb)} MB of changelog, ${((f.checkpoints.changelogMb * 1000) / Math.max(1, f.docsOut)).toFixed(1)} kB per document`);
  print(`  CPU of ${label}: ${f.cpu.toFixed(0)} s over ${f.runSeconds.toFixed(0)} s (${(f.cpu / f.runSeconds).toFixed(2)} cores on average${each}; machine load average ${os.loadavg()[0]?.toFixed(1) ?? '?'} on ${os.cpus().length} cores)`);
  const cores = os.cpus().length;
  const busy = machineCoresOf(f);
  const own = coresOf(f, f.cpu);
  const es = coresOf(f, f.serviceCpu.elasticsearch);
  const kafka = coresOf(f, f.serviceCpu.kafka);
  const perDoc = (seconds: number): string => fmt(usPerDocOf(f, seconds));
  print(`  CPU of the machine meanwhile: ${busy.toFixed(2)} of ${cores} cores busy (${label} ${own.toFixed(2)}, Elasticsearch ${es.toFixed(2)}, Kafka ${kafka.toFixed(2)}, the rest ${Math.max(0, busy - own - es - kafka).toFixed(2)}: this bench and the system); ${perDoc(f.machineBusySeconds)} µs of machine CPU per document (${label} ${perDoc(f.cpu)}, Elasticsearch ${perDoc(f.serviceCpu.elasticsearch)}, Kafka ${perDoc(f.serviceCpu.kafka)})`);
  print(`  RSS${each}: ${f.rssHalf} MB at half, ${f.rssEnd} MB at the end (max ${f.rssMax} MB); SIGTERM -> exit ${f.exitCodes.map(String).join(',')} in ${f.stopSeconds.toFixed(1)} s`);
}

export async function main(args: readonly string[]): Promise<void> {
  const conns = positiveInt(args, '--conns', 200_000);
  const ceilingDocs = positiveInt(args, '--ceiling-docs', Math.min(conns, 200_000));
  const concurrencies = positiveInts(args, '--concurrency', [1, 2, 4, 8]);
  const json = args.includes('--json');
  const keep = args.includes('--keep');
  const instanceCounts = positiveInts(args, '--instances', [1]);
  const cpuProfDir = option(args, '--cpu-prof');
  const runLog = option(args, '--run-log');
  const print = (l: string): void => { console.log(l); };

  const { endpoints } = await ensureStackUp({ root: ROOT, log: (l) => { process.stderr.write(`stack: ${l}\n`); } });
  const base = `bench-e2e-${Date.now().toString(36)}`;
  const topics = { conn: `${base}-conn`, weird: `${base}-weird`, headers: `${base}-headers`, dlq: `${base}-dlq` };
  const kafka = new Kafka({ clientId: 'zeek-rst-bench', brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const es = new Client({ node: endpoints.esUrl, maxRetries: 0, requestTimeout: 120_000 });
  const admin = kafka.admin();
  await admin.connect();
  const started = new Date();
  print(`e2e: ${fmt(conns)} conns (bench/generator.ts: m57 corpus scaled, headers 1 in ${GENERATOR_DEFAULTS.sampleOneIn} + every SYN/SYN-ACK/FIN/RST, ${GENERATOR_DEFAULTS.headersPerMessage} per message) into ${endpoints.kafkaBrokers.join(',')} and ${endpoints.esUrl}`);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.conn, numPartitions: CONN_PARTITIONS },
        { topic: topics.weird, numPartitions: 1 },
        { topic: topics.headers, numPartitions: 1 },
        { topic: topics.dlq, numPartitions: 1 },
      ],
    });

    // 1. The workload.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const produced = await produceWorkload(producer, topics, conns, print).finally(() => producer.disconnect());
    const messages = produced.conns + produced.weirds + produced.headerMessages;
    const records = produced.conns + produced.weirds + produced.headerRecords;
    print(`  workload: ${fmt(produced.conns)} conns (${fmt(produced.tcpConns)} TCP), ${fmt(produced.weirds)} weirds, ${fmt(produced.headerRecords)} headers (${(produced.headerRecords / Math.max(1, produced.tcpConns)).toFixed(1)} per TCP conn) in ${fmt(produced.headerMessages)} messages; produced in ${produced.seconds.toFixed(1)} s`);

    // 2. The raw consume ceiling.
    const ceiling = await consumeCeiling(kafka, `${base}-ceiling`, [topics.conn, topics.weird, topics.headers], messages);
    const consumeMsgs = messages / ceiling.seconds;
    const consumeRecords = records / ceiling.seconds;
    print(`  raw kafkajs consume: ${fmt(consumeMsgs)} messages/s (${fmt(consumeRecords)} records/s, ${fmt(produced.conns / ceiling.seconds)} conns/s with their evidence)`);

    // 3. zeek-rst run at the default configuration, once per instance count.
    const figures: RunFigure[] = [];
    for (const n of instanceCounts) {
      const label = instanceCounts.length > 1 || n > 1 ? `${n} instance${n > 1 ? 's' : ''}` : 'run';
      if (instanceCounts.length > 1 || n > 1) print(`  ${label}: ${n} zeek-rst run processes in one consumer group, from the beginning of the same topics`);
      const f = await runInstances({ n, label, base: `${base}-n${n}`, endpoints, topics, admin, es, conns, messages, print, cpuProfDir, runLog });
      figures.push(f);
      printFigure(f, print);
    }
    const first = figures[0];
    if (first === undefined) throw new Error('no instance count');

    // 5. The raw bulk ceiling for the same documents.
    await es.indices.refresh({ index: `${first.prefix}-conn` });
    const docs = await readBack(es, `${first.prefix}-conn`, ceilingDocs);
    const tpl = connTemplateBody('bench') as { template: { settings: Record<string, unknown>; mappings: Record<string, unknown> } };
    const raw: BulkFigure[] = [];
    const bulkCpu: { concurrency: number; cores: number; usPerDoc: number; esUsPerDoc: number }[] = [];
    for (const c of concurrencies) {
      const m = await machineCores(() => rawBulk(es, docs, c, undefined, { settings: tpl.template.settings, mappings: tpl.template.mappings }));
      const r = m.value;
      raw.push({ concurrency: c, docsPerS: Math.round(r) });
      const usPerDoc = (m.busySeconds * 1e6) / Math.max(1, docs.length);
      // Elasticsearch's own share, µs per document: beside its share in the run above.
      const esUsPerDoc = (m.esCores * 1e6) / Math.max(1, r);
      bulkCpu.push({ concurrency: c, cores: m.cores, usPerDoc, esUsPerDoc });
      print(`  raw bulk of ${fmt(docs.length)} of those documents, concurrency ${c}: ${fmt(r)} docs/s (machine ${m.cores.toFixed(2)} of ${os.cpus().length} cores busy, Elasticsearch ${m.esCores.toFixed(2)}; ${fmt(usPerDoc)} µs of machine CPU per document, Elasticsearch ${fmt(esUsPerDoc)})`);
    }
    const top = best(raw);
    const ratio = first.steady / top.docsPerS;
    for (const f of figures) {
      if (figures.length > 1 || f.instances > 1) print(`  => ${f.instances} instance${f.instances > 1 ? 's' : ''}: ${fmt(f.steady)} documents/s steady, ${fmt(f.docsPerS)} from start = ${(f.steady / top.docsPerS).toFixed(2)} x the raw bulk ceiling`);
    }
    print(`  => ${fmt(first.steady)} documents/s = ${ratio.toFixed(2)} x the raw bulk ceiling (${fmt(top.docsPerS)} docs/s at concurrency ${top.concurrency}); raw consume ${fmt(consumeRecords)} records/s`);
    const topCpu = bulkCpu.find((b) => b.concurrency === top.concurrency);
    const runUsPerDoc = (first.machineBusySeconds * 1e6) / Math.max(1, first.docsOut);
    if (topCpu !== undefined && runUsPerDoc > 0) {
      // What the cores allow: at the run's machine CPU per document, every core busy.
      const byCpu = (os.cpus().length * 1e6) / runUsPerDoc;
      print(`  => machine CPU per document: ${fmt(runUsPerDoc)} µs end to end, ${fmt(topCpu.usPerDoc)} µs for the raw bulk alone (Elasticsearch); all ${os.cpus().length} cores busy at the end-to-end cost give at most ${fmt(byCpu)} documents/s = ${(byCpu / top.docsPerS).toFixed(2)} x the raw bulk ceiling`);
    }
    if (json) {
      const figureJson = (f: RunFigure): Record<string, unknown> => ({
        instances: f.instances,
        docs_per_s: Math.round(f.docsPerS), docs_per_s_steady: Math.round(f.steady), run_s: Math.round(f.runSeconds * 10) / 10, settle_s: Math.round(f.settleSeconds * 10) / 10,
        ratio_to_ceiling: Math.round((f.steady / top.docsPerS) * 1000) / 1000,
        committed_lag_max: f.lagMax, committed_lag_end: f.lagEnd, commit_delay_steady_s: f.commitDelaySteady, commit_delay_steady_max_s: f.commitDelaySteadyMax, commit_delay_max_s: f.commitDelayMax, commit_delay_repartition_steady_s: f.repartitionDelaySteady ?? null, commit_delay_repartition_steady_max_s: f.repartitionDelaySteadyMax ?? null, commit_delay_repartition_max_s: f.repartitionDelayMax ?? null, rss_half_mb: f.rssHalf, rss_end_mb: f.rssEnd, rss_max_mb: f.rssMax, run_cpu_s: Math.round(f.cpu),
        machine_cores_busy: Math.round(machineCoresOf(f) * 100) / 100, machine_us_per_doc: Math.round(usPerDocOf(f, f.machineBusySeconds)),
        es_cores_busy: Math.round(coresOf(f, f.serviceCpu.elasticsearch) * 100) / 100, kafka_cores_busy: Math.round(coresOf(f, f.serviceCpu.kafka) * 100) / 100,
        es_us_per_doc: Math.round(usPerDocOf(f, f.serviceCpu.elasticsearch)), kafka_us_per_doc: Math.round(usPerDocOf(f, f.serviceCpu.kafka)),
        paused_max_s: Math.round(f.pausedMax), evictions: f.evictions, bulk_requests: f.bulkRequests,
        checkpoints: f.checkpoints.count, checkpoint_wait_mean_s: Math.round(f.checkpoints.waitMeanS * 100) / 100, checkpoint_write_mean_s: Math.round(f.checkpoints.writeMeanS * 100) / 100, changelog_mb: Math.round(f.checkpoints.changelogMb), checkpoint_unacked_conns: f.checkpoints.unackedConns, discards: f.discards, exit_code: f.exitCodes.length === 1 ? f.exitCodes[0] : f.exitCodes, stop_s: Math.round(f.stopSeconds * 10) / 10,
      });
      print(JSON.stringify({
        conns, tcp_conns: produced.tcpConns, weirds: produced.weirds, header_records: produced.headerRecords, header_messages: produced.headerMessages, messages,
        produce_s: Math.round(produced.seconds * 10) / 10,
        ...figureJson(first),
        bulk_ceiling_docs_per_s: top.docsPerS, bulk_ceiling_concurrency: top.concurrency, bulk_raw: raw,
        bulk_machine_us_per_doc: Math.round(topCpu?.usPerDoc ?? 0), bulk_es_us_per_doc: Math.round(topCpu?.esUsPerDoc ?? 0),
        consume_ceiling_msgs_per_s: Math.round(consumeMsgs), consume_ceiling_records_per_s: Math.round(consumeRecords),
        load_average: Math.round((os.loadavg()[0] ?? 0) * 10) / 10,
        ...(figures.length > 1 ? { by_instances: figures.map(figureJson) } : {}),
        date: started.toISOString(),
      }));
    }
  } finally {
    if (!keep) {
      // Its own topics and those run made for it (the correlator's changelog).
      const mine = await admin.listTopics().then((all) => all.filter((t) => t.startsWith(base)), () => Object.values(topics));
      await admin.deleteTopics({ topics: mine }).catch(() => undefined);
      await es.indices.delete({ index: `${base}-*` }).catch(() => undefined);
      await es.indices.deleteIndexTemplate({ name: `${base}-*` }).catch(() => undefined);
    }
    await admin.disconnect();
    await es.close();
  }
}
