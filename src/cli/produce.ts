/**
 * `zeek-rst produce --topic T FILE...`: loads Zeek logs (JSON lines or TSV, gzip) or packet
 * header files (JSON lines or Avro container files) into Kafka, one record per message, with
 * no key by default (as zeek-kafka sends them). Header records are Avro-encoded in the
 * single-object (default) or the Confluent framing, one per message or, with `--batch N`, N per
 * message (consecutive framed records, or one Avro object container with `--batch-format
 * container`), the way sensors batch their samples. Progress on stderr; final count on stdout.
 */
import { Partitioners, type Message } from 'kafkajs';
import { loadConfig } from '../config/load';
import { HEADER_FRAMINGS, type HeaderFraming } from '../config/schema';
import { encodeHeaderContainer } from '../decode/avro-container';
import { createHeaderCodec, type HeaderCodec } from '../decode/packet-header';
import type { PacketHeader } from '../domain';
import { ZeekRstError } from '../errors';
import { createRootLogger, stageLogger } from '../log';
import { readHeaderFile } from '../source/files';
import { connectKafka } from '../source/kafka';
import { zeekMessages } from '../source/zeek-lines';
import { isFraming, parseCommandArgs, positiveInt } from './args';

export const HELP = `Usage: zeek-rst produce --topic T [options] FILE...

Loads Zeek logs or packet header files into a Kafka topic, one record per message.

Options:
  --topic T             destination topic (required)
  --headers             the files are packet headers (JSON lines or Avro container): send Avro;
                        default: guessed from the name (*.headers.jsonl, *.avro) or --topic = topics.headers
  --framing F           Avro framing of headers: single-object (default) or confluent
  --schema-id N         schema id written in the Confluent framing (default produce.confluentSchemaId)
  --batch N             header records per message (default 1); the last message of a file may hold fewer
  --batch-format F      how a batch is written: sequence (default: consecutive records in --framing)
                        or container (one Avro object container, codec null, the reader schema)
  --key K               none (default, as zeek-kafka) or community-id (headers only, --batch 1; Zeek records are sent as they are)
  --create-topic        create the topic first when it does not exist
  --partitions N        partitions of a created topic (default 1)
  --config FILE         YAML configuration (brokers, TLS, SASL)
  -h, --help            show this help

Bad records are sent as they are (decode dead-letters them in run); header records that cannot
be Avro-encoded are skipped and counted.`;

const BATCH = 500;



/** One Kafka message of header records: consecutive framed records, or one object container. */
export function encodeHeaderBatch(records: readonly PacketHeader[], codec: HeaderCodec, format: 'sequence' | 'container', framing: HeaderFraming, schemaId: number): Buffer {
  if (format === 'container') return encodeHeaderContainer(records, codec);
  return Buffer.concat(records.map((h) => (framing === 'confluent' ? codec.encodeConfluent(h, schemaId) : codec.encodeSingleObject(h))));
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals: files } = parseCommandArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        topic: { type: 'string' },
        headers: { type: 'boolean' },
        framing: { type: 'string' },
        'schema-id': { type: 'string' },
        key: { type: 'string' },
        batch: { type: 'string' },
        'batch-format': { type: 'string' },
        'create-topic': { type: 'boolean' },
        partitions: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const topic = values.topic;
  if (topic === undefined) throw new ZeekRstError('ZRST_USAGE', '--topic T is required (see --help)');
  if (files.length === 0) throw new ZeekRstError('ZRST_USAGE', 'give at least one FILE (see --help)');
  const key = values.key ?? 'none';
  if (key !== 'none' && key !== 'community-id') throw new ZeekRstError('ZRST_USAGE', `--key must be none or community-id, got '${key}'`);
  const config = loadConfig(values.config);
  const framing = values.framing ?? config.produce.headerFraming;
  if (!isFraming(framing)) throw new ZeekRstError('ZRST_USAGE', `--framing must be ${HEADER_FRAMINGS.join(' or ')}, got '${framing}'`);
  const schemaId = values['schema-id'] === undefined ? config.produce.confluentSchemaId : positiveInt(values['schema-id'], '--schema-id', 1);
  const partitions = positiveInt(values.partitions, '--partitions', 1);
  const perMessage = positiveInt(values.batch, '--batch', 1);
  const batchFormat = values['batch-format'] ?? 'sequence';
  if (batchFormat !== 'sequence' && batchFormat !== 'container') throw new ZeekRstError('ZRST_USAGE', `--batch-format must be sequence or container, got '${batchFormat}'`);
  if (perMessage > 1 && key !== 'none') throw new ZeekRstError('ZRST_USAGE', '--key community-id needs --batch 1: the records of one batch belong to different flows');
  const isHeaderFile = (f: string): boolean => values.headers === true || topic === config.topics.headers || /\.headers\.jsonl(\.gz)?$|\.avro$/.test(f);

  const log = stageLogger(createRootLogger({ level: config.log.level }), 'produce');
  const kafka = await connectKafka(config.kafka, log);
  if (values['create-topic'] === true) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      process.stderr.write(`produce: topic ${topic} ${created ? `created with ${partitions} partition(s)` : 'exists'}\n`);
    } finally {
      await admin.disconnect();
    }
  }
  // The Confluent id maps to the reader schema itself, so the codec can encode with it.
  const codec = createHeaderCodec(framing === 'confluent' ? { registry: { [schemaId]: createHeaderCodec().type.schema() } } : {});
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let sent = 0;
  let skipped = 0;
  let batch: Message[] = [];
  let lastReport = Date.now();
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await producer.send({ topic, acks: -1, messages: batch });
    sent += batch.length;
    batch = [];
    if (Date.now() - lastReport >= 1000) {
      process.stderr.write(`produce: ${sent} messages to ${topic}\n`);
      lastReport = Date.now();
    }
  };
  try {
    for (const file of files) {
      if (isHeaderFile(file)) {
        let records: PacketHeader[] = [];
        const pack = (): void => {
          if (records.length === 0) return;
          batch.push({ value: encodeHeaderBatch(records, codec, batchFormat, framing, schemaId) });
          records = [];
        };
        for await (const r of readHeaderFile(file, { codec })) {
          if (!r.ok) {
            skipped += 1;
            continue;
          }
          if (perMessage === 1) {
            const value = framing === 'confluent' ? codec.encodeConfluent(r.value, schemaId) : codec.encodeSingleObject(r.value);
            batch.push(key === 'community-id' ? { key: r.value.communityId, value } : { value });
          } else {
            records.push(r.value);
            if (records.length >= perMessage) pack();
          }
          if (batch.length >= BATCH) await flush();
        }
        pack();
      } else {
        for await (const value of zeekMessages(file)) {
          batch.push({ value });
          if (batch.length >= BATCH) await flush();
        }
      }
      await flush();
    }
  } catch (err: unknown) {
    if (err instanceof ZeekRstError) throw err;
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
    if (code.startsWith('E')) throw new ZeekRstError('ZRST_FILE_UNREADABLE', err instanceof Error ? err.message : String(err), { cause: err });
    throw new ZeekRstError('ZRST_KAFKA_UNAVAILABLE', err instanceof Error ? err.message : String(err), { cause: err });
  } finally {
    await producer.disconnect();
  }
  process.stderr.write(`produce: done, ${sent} messages to ${topic}${skipped > 0 ? `, ${skipped} header records skipped (not encodable)` : ''}\n`);
  process.stdout.write(`${sent}\n`);
  return 0;
}
