/**
 * `zeek-rst headers --pcap FILE|-`: the packet-header producer. Reads pcap/pcapng files or a
 * tcpdump pipe (`tcpdump -i IFACE -w - -U | zeek-rst headers --pcap - --kafka`), extracts every
 * TCP header (src/source/pcap.ts), samples them (src/decode/header-sampler.ts: every SYN,
 * SYN-ACK, FIN and RST plus 1 in N others, `--sample all` for everything) and writes them:
 * - JSON lines (default, stdout or --out): the form of the corpus's `*.headers.jsonl` (ts in
 *   epoch seconds, exactly Zeek's tv_sec + tv_usec / 1e6), `--schema-fields` adds sensor,
 *   ip_version and community_id; `classify --headers` and `produce` read it back;
 * - an Avro object container file (`--format avro --out FILE`), the reader schema, deflate;
 * - Kafka (`--kafka`): batched Avro messages on topics.headers, N records per message (consecutive
 *   single-object records or one object container, as `produce --batch`), a partly filled message
 *   sent after --linger-ms so live capture is not held back.
 * Progress on stderr once a second (TTY or --progress); a summary at the end: packets read, TCP
 * packets, sampled, skipped by reason. A corrupt or cut-off capture: its error (byte offset and
 * record number) on stderr, everything before it written, exit status 1.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Partitioners, type Message, type Producer } from 'kafkajs';
import { streams } from 'avsc';
import { loadConfig } from '../config/load';
import { HEADER_FRAMINGS } from '../config/schema';
import type { CaptureError } from '../decode/capture-file';
import { packetTimeS } from '../decode/capture-file';
import { SKIP_REASONS } from '../decode/frame';
import { createHeaderSampler, DEFAULT_SAMPLE_ONE_IN } from '../decode/header-sampler';
import { createHeaderCodec, type HeaderCodec } from '../decode/packet-header';
import type { PacketHeader } from '../domain';
import { ZeekRstError } from '../errors';
import { createRootLogger, stageLogger } from '../log';
import { connectKafka } from '../source/kafka';
import { emptyCaptureCounts, readCapture, type CaptureCounts } from '../source/pcap';
import { encodeHeaderBatch } from './produce';
import { isFraming, parseCommandArgs, positiveInt } from './args';

export const HELP = `Usage: zeek-rst headers --pcap FILE|- [options]

Sampled packet headers (schemas/packet_header.avsc) from pcap or pcapng captures, or live from
tcpdump on standard input:

  tcpdump -i eth0 -w - -U 'tcp' | zeek-rst headers --pcap - --kafka --sensor eth0

Input:
  --pcap FILE           a pcap or pcapng capture; - reads standard input (repeatable)
  --teredo on|off       follow Teredo tunnels to the inner IPv6 header (default on, as Zeek)
  --sensor NAME         the sensor field of every record
Sampling:
  --sample all|N        keep every SYN, SYN-ACK, FIN and RST and 1 in N of the other packets,
                        chosen by a hash of the flow and the packet's index in it (default 64);
                        all (or 1) keeps every packet
Output (one of):
  --format jsonl|avro   JSON lines (default) or an Avro object container file
  --out FILE            write there (default: standard output; avro needs a file)
  --schema-fields       JSON lines with every schema field (sensor, ip_version, community_id),
                        not only those of the corpus's *.headers.jsonl
  --kafka               send batched Avro messages to Kafka instead
Kafka:
  --topic T             destination topic (default topics.headers)
  --batch N             header records per message (default 100)
  --batch-format F      sequence (default: consecutive framed records) or container
  --framing F           single-object (default produce.headerFraming) or confluent
  --schema-id N         schema id of the Confluent framing (default produce.confluentSchemaId)
  --linger-ms MS        longest a partly filled message waits before it is sent (default 500)
  --create-topic        create the topic first when it does not exist
  --partitions N        partitions of a created topic (default 1)
  --config FILE         YAML configuration (brokers, TLS, SASL, topics)
Other:
  --progress            report progress on stderr even when it is not a terminal
  -h, --help            show this help

Exit status: 0 when every capture was read to its end, 1 when one is corrupt or cut off (its
error names the byte offset and the record; everything before it is written) or unreadable, 2 on
a usage error.`;

const SEND_EVERY = 100;

interface HeaderWriter {
  write(h: PacketHeader): Promise<void>;
  close(): Promise<void>;
}



/**
 * µs -> Zeek's packet time, tv_sec + tv_usec / 1e6 in double arithmetic: the same double as the
 * corpus's ts and conn.log's ts (tsUs / 1e6 can differ from it in the last bit).
 */
function zeekTimeS(tsUs: number): number {
  const usec = tsUs % 1_000_000;
  return packetTimeS((tsUs - usec) / 1_000_000, usec);
}

/** The JSON-lines record: the corpus's fields in its order, optionally every schema field. */
export function headerJsonLine(h: PacketHeader, schemaFields: boolean): string {
  const base: Record<string, unknown> = {
    ts: zeekTimeS(h.tsUs), src_ip: h.srcIp, dst_ip: h.dstIp, src_port: h.srcPort, dst_port: h.dstPort, ip_ttl: h.ipTtl, ip_id: h.ipId,
    tcp_flags: h.tcpFlags, seq: h.seq, ack: h.ack, window: h.window, payload_len: h.payloadLen,
  };
  if (schemaFields) Object.assign(base, { sensor: h.sensor, ip_version: h.ipVersion, community_id: h.communityId === '' ? null : h.communityId });
  else if (h.sensor !== null) base['sensor'] = h.sensor;
  return `${JSON.stringify(base)}\n`;
}

async function writeOrWait(out: Writable, chunk: string | Buffer): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

function openOut(file: string | undefined): Writable {
  if (file === undefined || file === '-') return process.stdout;
  const out: WriteStream = createWriteStream(file);
  return out;
}

async function finish(out: Writable): Promise<void> {
  if (out === process.stdout) return;
  out.end();
  await once(out, 'finish');
}

function jsonlWriter(out: Writable, schemaFields: boolean): HeaderWriter {
  return {
    write: (h) => writeOrWait(out, headerJsonLine(h, schemaFields)),
    close: () => finish(out),
  };
}

function avroWriter(out: Writable, codec: HeaderCodec): HeaderWriter {
  const encoder = new streams.BlockEncoder(codec.type, { codec: 'deflate' });
  encoder.pipe(out);
  return {
    async write(h) {
      // avsc's encoder takes values: the codec's own Avro body, read back, is the record as the schema has it.
      if (!encoder.write(codec.type.fromBuffer(codec.encodeBody(h)))) await once(encoder, 'drain');
    },
    async close() {
      encoder.end();
      if (out === process.stdout) await once(encoder, 'end');
      else await once(out, 'finish');
    },
  };
}

interface KafkaOut {
  readonly producer: Producer;
  readonly topic: string;
  readonly perMessage: number;
  readonly lingerMs: number;
  readonly encode: (records: readonly PacketHeader[]) => Buffer;
  readonly onSent: (messages: number, records: number) => void;
}

/** Batches records into messages, sends SEND_EVERY messages per request, one request at a time. */
function kafkaWriter(k: KafkaOut): HeaderWriter {
  let records: PacketHeader[] = [];
  let messages: { message: Message; records: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const send = async (): Promise<void> => {
    const batch = messages;
    messages = [];
    if (batch.length === 0) return;
    await k.producer.send({ topic: k.topic, acks: -1, messages: batch.map((m) => m.message) });
    k.onSent(batch.length, batch.reduce((n, m) => n + m.records, 0));
  };
  const queueSend = (): void => {
    sending = sending.then(send).catch((err: unknown) => {
      failure ??= err instanceof Error ? err : new Error(String(err));
    });
  };
  const pack = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (records.length === 0) return;
    messages.push({ message: { value: k.encode(records) }, records: records.length });
    records = [];
  };
  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  return {
    async write(h) {
      check();
      records.push(h);
      if (records.length >= k.perMessage) pack();
      else {
        timer ??= setTimeout(() => {
          pack();
          queueSend();
        }, k.lingerMs);
      }
      if (messages.length >= SEND_EVERY) {
        queueSend();
        await sending; // backpressure: at most one request in flight and one being filled
        check();
      }
    },
    async close() {
      pack();
      queueSend();
      await sending;
      check();
    },
  };
}

interface Summary {
  readonly counts: CaptureCounts;
  sampled: number;
  messages: number;
  errors: { path: string; error: CaptureError }[];
  evictedFlows: number;
}

export function formatHeadersSummary(s: Summary): string {
  const rows: [string, number][] = [
    ['packets read', s.counts.packets],
    ['TCP packets', s.counts.tcp],
    ['sampled', s.sampled],
    ['skipped', [...s.counts.skipped.values()].reduce((a, b) => a + b, 0)],
    ...[...SKIP_REASONS, 'timestamp_out_of_range' as const]
      .filter((r) => (s.counts.skipped.get(r) ?? 0) > 0)
      .map((r): [string, number] => [`  ${r}`, s.counts.skipped.get(r) ?? 0]),
    ...(s.messages > 0 ? [['Kafka messages', s.messages] as [string, number]] : []),
    ...(s.evictedFlows > 0 ? [['flows evicted (sampler cap)', s.evictedFlows] as [string, number]] : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${String(v).padStart(10)}`).join('\n');
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        pcap: { type: 'string', multiple: true },
        teredo: { type: 'string' },
        sensor: { type: 'string' },
        sample: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        'schema-fields': { type: 'boolean' },
        kafka: { type: 'boolean' },
        topic: { type: 'string' },
        batch: { type: 'string' },
        'batch-format': { type: 'string' },
        framing: { type: 'string' },
        'schema-id': { type: 'string' },
        'linger-ms': { type: 'string' },
        'create-topic': { type: 'boolean' },
        partitions: { type: 'string' },
        config: { type: 'string' },
        progress: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const inputs = values.pcap ?? [];
  if (inputs.length === 0) throw new ZeekRstError('ZRST_USAGE', '--pcap FILE (or - for standard input) is required (see --help)');
  if (inputs.filter((p) => p === '-').length > 1) throw new ZeekRstError('ZRST_USAGE', 'standard input (--pcap -) can be read once');
  const teredo = values.teredo ?? 'on';
  if (teredo !== 'on' && teredo !== 'off') throw new ZeekRstError('ZRST_USAGE', `--teredo must be on or off, got '${teredo}'`);
  const sample = values.sample ?? String(DEFAULT_SAMPLE_ONE_IN);
  const oneIn = sample === 'all' ? 1 : positiveInt(sample, '--sample', DEFAULT_SAMPLE_ONE_IN);
  const toKafka = values.kafka === true;
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'avro') throw new ZeekRstError('ZRST_USAGE', `--format must be jsonl or avro, got '${format}'`);
  if (toKafka && (values.format !== undefined || values.out !== undefined)) throw new ZeekRstError('ZRST_USAGE', '--kafka writes to Kafka: leave out --format and --out');
  if (format === 'avro' && (values.out === undefined || values.out === '-') && process.stdout.isTTY) {
    throw new ZeekRstError('ZRST_USAGE', '--format avro writes binary: give --out FILE (or redirect standard output)');
  }
  const config = loadConfig(values.config);
  const sensor = values.sensor ?? null;
  const progress = values.progress === true || process.stderr.isTTY;

  const summary: Summary = { counts: emptyCaptureCounts(), sampled: 0, messages: 0, errors: [], evictedFlows: 0 };
  let writer: HeaderWriter;
  let producer: Producer | undefined;
  if (toKafka) {
    const framing = values.framing ?? config.produce.headerFraming;
    if (!isFraming(framing)) throw new ZeekRstError('ZRST_USAGE', `--framing must be ${HEADER_FRAMINGS.join(' or ')}, got '${framing}'`);
    const schemaId = values['schema-id'] === undefined ? config.produce.confluentSchemaId : positiveInt(values['schema-id'], '--schema-id', 1);
    const batchFormat = values['batch-format'] ?? 'sequence';
    if (batchFormat !== 'sequence' && batchFormat !== 'container') throw new ZeekRstError('ZRST_USAGE', `--batch-format must be sequence or container, got '${batchFormat}'`);
    const topic = values.topic ?? config.topics.headers;
    const codec = createHeaderCodec(framing === 'confluent' ? { registry: { [schemaId]: createHeaderCodec().type.schema() } } : {});
    const kafka = await connectKafka(config.kafka, stageLogger(createRootLogger({ level: config.log.level }), 'produce'));
    try {
      if (values['create-topic'] === true) {
        const partitions = positiveInt(values.partitions, '--partitions', 1);
        const admin = kafka.admin();
        await admin.connect();
        try {
          const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
          process.stderr.write(`headers: topic ${topic} ${created ? `created with ${partitions} partition(s)` : 'exists'}\n`);
        } finally {
          await admin.disconnect();
        }
      }
      producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
    } catch (err) {
      throw new ZeekRstError('ZRST_KAFKA_UNAVAILABLE', err instanceof Error ? err.message : String(err), { cause: err });
    }
    writer = kafkaWriter({
      producer,
      topic,
      perMessage: positiveInt(values.batch, '--batch', 100),
      lingerMs: positiveInt(values['linger-ms'], '--linger-ms', 500),
      encode: (records) => encodeHeaderBatch(records, codec, batchFormat, framing, schemaId),
      onSent: (messages) => {
        summary.messages += messages;
      },
    });
  } else {
    let out: Writable;
    try {
      out = openOut(values.out);
    } catch (err) {
      throw new ZeekRstError('ZRST_FILE_UNREADABLE', err instanceof Error ? err.message : String(err), { cause: err });
    }
    writer = format === 'avro' ? avroWriter(out, createHeaderCodec()) : jsonlWriter(out, values['schema-fields'] === true);
  }

  const sampler = createHeaderSampler({ oneIn });
  let lastProgress = Date.now();
  const report = (): void => {
    if (!progress) return;
    const now = Date.now();
    if (now - lastProgress < 1000) return;
    lastProgress = now;
    const c = summary.counts;
    process.stderr.write(`headers: ${c.packets} packets (${(c.bytes / 1e6).toFixed(1)} MB), ${c.tcp} TCP, ${summary.sampled} sampled\n`);
  };
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    for (const path of inputs) {
      if (stop.signal.aborted) break;
      try {
        for await (const item of readCapture(path, { teredo: teredo === 'on', sensor, counts: summary.counts, signal: stop.signal })) {
          if (item.kind === 'error') {
            summary.errors.push({ path, error: item.error });
            continue;
          }
          if (sampler.keep(item.header.communityId, item.header.tcpFlags)) {
            summary.sampled++;
            await writer.write(item.header);
          }
          report();
        }
      } catch (err) {
        if (err instanceof ZeekRstError) throw err;
        const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
        if (code.startsWith('E') && !code.startsWith('ERR_')) throw new ZeekRstError('ZRST_FILE_UNREADABLE', `${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        throw err;
      }
    }
    try {
      await writer.close();
    } catch (err) {
      throw toKafka ? new ZeekRstError('ZRST_KAFKA_UNAVAILABLE', err instanceof Error ? err.message : String(err), { cause: err }) : err;
    }
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await producer?.disconnect();
  }
  summary.evictedFlows = sampler.evictedFlows;
  for (const { path, error } of summary.errors) {
    process.stderr.write(`zeek-rst headers: ${path}: ${error.reason === 'truncated_capture' ? 'truncated capture' : 'corrupt capture'} at ${error.detail}; the ${error.record - 1} record(s) before it were read\n`);
  }
  process.stderr.write(`${formatHeadersSummary(summary)}\n`);
  return summary.errors.length > 0 ? 1 : 0;
}
