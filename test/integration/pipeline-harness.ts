/**
 * Shared plumbing of the pipeline integration tests: unique topics, group and index prefix per
 * test, a configuration pointing at them, producing raw values, reading Elasticsearch and the
 * dead-letter topic, and running `zeek-rst run` as a child process (for kill -9 and SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { resolveConfig } from '../../src/config/load';
import type { RunningPipeline } from '../../src/cli/run';
import type { Config } from '../../src/config/schema';
import { documentId } from '../../src/sink/ecs';
import { ensureChangelogTopic, type ChangelogSettings } from '../../src/state/changelog';
import { uniqueName } from '../helpers/names';
import { testStack } from '../helpers/stack-env';
import { waitFor } from '../helpers/wait';

export const REPO = path.resolve(__dirname, '../..');
export const CORPUS = path.resolve(REPO, 'test/fixtures/corpus');

export interface Names {
  readonly conn: string;
  readonly weird: string;
  readonly headers: string;
  readonly dlq: string;
  readonly group: string;
  readonly prefix: string;
}

export function testNames(label: string): Names {
  const base = uniqueName(label);
  return { conn: `${base}-conn`, weird: `${base}-weird`, headers: `${base}-headers`, dlq: `${base}-dlq`, group: `${base}-g`, prefix: base };
}

/** The endpoints a pipeline under test is pointed at: the plain stack's or the secure one's. */
export interface Endpoints {
  readonly kafkaBrokers: readonly string[];
  readonly esUrl: string;
}

/** ZEEK_RST_* variables for the names, the plain stack and fast correlator windows. */
export function testEnv(n: Names, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return endpointEnv(testStack(), n, extra);
}

/** testEnv for any endpoints: `extra` adds or overrides variables (the secure stack's CA, credentials). */
export function endpointEnv(endpoints: Endpoints, n: Names, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ZEEK_RST_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    ZEEK_RST_ES_NODE: endpoints.esUrl,
    ZEEK_RST_KAFKA_GROUP: n.group,
    ZEEK_RST_TOPIC_CONN: n.conn,
    ZEEK_RST_TOPIC_WEIRD: n.weird,
    ZEEK_RST_TOPIC_HEADERS: n.headers,
    ZEEK_RST_TOPIC_DEAD_LETTER: n.dlq,
    ZEEK_RST_ES_INDEX_PREFIX: n.prefix,
    ZEEK_RST_METRICS_PORT: '0',
    ZEEK_RST_LOG_LEVEL: 'error',
    ZEEK_RST_CORRELATE_GRACE_MS: '300',
    ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '1500',
    ZEEK_RST_SINK_FLUSH_INTERVAL_MS: '100',
    ...extra,
  };
}

export function testConfig(n: Names, extra: Readonly<Record<string, string>> = {}): Config {
  const r = resolveConfig({ env: testEnv(n, extra), readSecretFile: () => '' });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

export function kafkaClient(): Kafka {
  return new Kafka({ clientId: 'zeek-rst-it', brokers: testStack().kafkaBrokers, logLevel: logLevel.NOTHING });
}

export function esClient(): Client {
  return new Client({ node: testStack().esUrl });
}

export async function createTopics(kafka: Kafka, n: Names, partitions: { conn?: number; weird?: number; headers?: number } = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: n.conn, numPartitions: partitions.conn ?? 3 },
        { topic: n.weird, numPartitions: partitions.weird ?? 1 },
        { topic: n.headers, numPartitions: partitions.headers ?? 2 },
        { topic: n.dlq, numPartitions: 1 },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** What a suite that starts one pipeline at a time works with (see pipelineTestBed). */
export interface PipelineTestBed {
  readonly n: Names;
  readonly kafka: Kafka;
  readonly es: Client;
  /** The pipeline a test started and has not stopped: stopped after the suite. */
  running: RunningPipeline | undefined;
}

/** What a suite does around stopping its pipeline after its tests (bring a stopped service back, for one). */
export interface TestBedCleanUp {
  readonly beforeStop?: () => unknown;
  readonly afterStop?: () => unknown;
}

/**
 * Names and clients for a describe block, its topics created before its tests; after them, the
 * pipeline a test left running is stopped and the Elasticsearch client closed. Called in the
 * describe block itself (it registers beforeAll and afterAll); the clients connect only when used.
 */
export function pipelineTestBed(label: string, partitions: Parameters<typeof createTopics>[2], cleanUp: TestBedCleanUp = {}): PipelineTestBed {
  const bed: PipelineTestBed = { n: testNames(label), kafka: kafkaClient(), es: esClient(), running: undefined };
  beforeAll(async () => {
    await createTopics(bed.kafka, bed.n, partitions);
  });
  afterAll(async () => {
    await cleanUp.beforeStop?.();
    if (bed.running !== undefined) await bed.running.stop();
    await cleanUp.afterStop?.();
    await bed.es.close();
  });
  return bed;
}

/** The changelog topic of `s`, created as `run` creates it (compacted, `s.partitions` partitions). */
export async function createChangelogTopic(kafka: Kafka, s: ChangelogSettings): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureChangelogTopic(admin, s);
  } finally {
    await admin.disconnect();
  }
}

/** Value of one series in Prometheus text, or undefined when the series is absent. */
export function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Produces the values in order; `timestampMs` sets every message's CreateTime (default: now). */
export async function produceValues(kafka: Kafka, topic: string, values: readonly Buffer[], timestampMs?: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // At most 1,000 messages and about 512 kB per request (the broker refuses requests over 1 MB).
    let messages: Message[] = [];
    let bytes = 0;
    for (const value of values) {
      if (messages.length > 0 && (messages.length >= 1000 || bytes + value.length > 512 * 1024)) {
        await producer.send({ topic, acks: -1, messages });
        messages = [];
        bytes = 0;
      }
      messages.push(timestampMs === undefined ? { value } : { value, timestamp: String(timestampMs) });
      bytes += value.length;
    }
    if (messages.length > 0) await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Record `i` of a synthetic stream of refused connection attempts (REJ, history `Sr`), as Zeek
 * writes them: one uid per record (`<uidPrefix><i>`), between `<subnet>.1` and `<subnet>.2`.
 */
export function rejectedConn(i: number, uidPrefix: string, subnet: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      ts: 1711036787.549335 + i / 1000, uid: `${uidPrefix}${i}`, 'id.orig_h': `${subnet}.1`, 'id.orig_p': 20000 + (i % 40000), 'id.resp_h': `${subnet}.2`, 'id.resp_p': 443, proto: 'tcp',
      conn_state: 'REJ', missed_bytes: 0, history: 'Sr', orig_pkts: 1, orig_ip_bytes: 60, resp_pkts: 1, resp_ip_bytes: 40,
    }),
  );
}

/** Documents behind the conn alias (after a refresh). */
export async function connCount(es: Client, n: Names): Promise<number> {
  try {
    await es.indices.refresh({ index: `${n.prefix}-conn` });
    return (await es.count({ index: `${n.prefix}-conn` })).count;
  } catch {
    return 0; // no daily index yet
  }
}

export interface DeadLetterSeen {
  readonly headers: Readonly<Record<string, string>>;
  readonly value: Buffer;
}

/** Reads the dead-letter topic from the start until `expected` messages are there. */
export async function readDeadLetters(kafka: Kafka, n: Names, expected: number, timeoutMs = 60_000): Promise<DeadLetterSeen[]> {
  const seen: DeadLetterSeen[] = [];
  const consumer = kafka.consumer({ groupId: `${n.group}-dlq-reader`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: n.dlq, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        seen.push({ headers, value: message.value ?? Buffer.alloc(0) });
        return Promise.resolve();
      },
    });
    await waitFor(() => seen.length >= expected, { timeoutMs, what: `${expected} dead letters on ${n.dlq} (have ${seen.length})` });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/**
 * Records in the repartition topic of a group (docs/scale-out.md: one JSON line per record), per
 * partition, counting only those in messages before `below` (default: all). Read from the start
 * to the end offsets of the time of the call.
 */
export async function repartitionRecords(kafka: Kafka, group: string, below?: ReadonlyMap<number, number>): Promise<number> {
  const topic = `${group}-repartition`;
  const end = await endOffsets(kafka, topic);
  const remaining = new Set([...end].filter(([, high]) => high > 0).map(([p]) => p));
  let records = 0;
  if (remaining.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `${group}-repartition-reader-${Date.now()}`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        const limit = below?.get(partition) ?? end.get(partition) ?? 0;
        if (Number(message.offset) < limit) records += (message.value?.toString('utf8') ?? '').split('\n').filter((l) => l !== '').length;
        if (Number(message.offset) >= (end.get(partition) ?? 0) - 1) remaining.delete(partition);
        return Promise.resolve();
      },
    });
    await waitFor(() => remaining.size === 0, { timeoutMs: 60_000, what: `the end of ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Committed offsets of the group on a topic, per partition (-1 = none). */
export async function committedOffsets(kafka: Kafka, group: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Right after a group's members leave, the broker can answer NOT_COORDINATOR or
    // COORDINATOR_LOAD_IN_PROGRESS while the coordinator moves: retriable, so ask again.
    for (let attempt = 1; ; attempt++) {
      try {
        const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      } catch (err: unknown) {
        const retriable = typeof err === 'object' && err !== null && 'retriable' in err && err.retriable === true;
        if (!retriable || attempt >= 10) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** True when the group has committed every non-empty partition of the topic to its end. */
export async function committedToEnd(kafka: Kafka, group: string, topic: string): Promise<boolean> {
  const committed = await committedOffsets(kafka, group, topic);
  return [...(await endOffsets(kafka, topic))].every(([p, high]) => high === 0 || committed.get(p) === high);
}

export interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything written to stdout. */
  stdout(): string;
  /** The last 20 kB of stderr (logs). */
  stderr(): string;
}

/** A child's exit code, with the tail of its stderr when it did not exit 0 (for the failure message). */
export async function exitOf(c: Child): Promise<{ code: number | null; stderr: string }> {
  const { code } = await c.exited;
  return { code, stderr: code === 0 ? '' : c.stderr().slice(-4000) };
}

/** `zeek-rst <args>` as a child process, run from the TypeScript sources. */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', "require('./src/cli/main').main(process.argv.slice(1))", ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return { process: child, exited, stdout: () => out, stderr: () => err };
}

/** The corpus conn records (JSON lines with real timestamps) as message values, uid -> value. */
export function jsonLines(text: string): Buffer[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => Buffer.from(l, 'utf8'));
}

/** Each case as its own sensor: `_system_name` on Zeek records, `sensor` on headers (as a sensor writes them). */
export function withObserver(file: string, observer: string, key: '_system_name' | 'sensor' = '_system_name'): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const record: unknown = JSON.parse(l);
      if (typeof record !== 'object' || record === null) throw new Error(`${file}: not an object`);
      return JSON.stringify({ ...record, [key]: observer });
    });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function documentIdOf(doc: unknown): string {
  if (!isRecord(doc) || !isRecord(doc['zeek']) || !isRecord(doc['observer'])) throw new Error('document without zeek/observer');
  const uid = doc['zeek']['session_id'];
  const observer = doc['observer']['name'];
  if (typeof uid !== 'string' || typeof observer !== 'string') throw new Error('document without session_id/observer.name');
  return documentId(observer, uid);
}
