/**
 * kafkajs 2.2.4 stops for good at an empty record batch that ends a log segment.
 *
 * The log cleaner of a compacted topic keeps a batch whose records it removed as an empty batch
 * (its header: base offset, last offset delta, producer id), for example the last batch of each
 * cleaning round (KAFKA-17076, Kafka 3.9 and 4.x). The changelog is such a topic, written by
 * transactional producers. A fetch reads one segment at a time, so a fetch at the offset of an
 * empty batch that ends its segment returns that batch alone. kafkajs's fetch decoder keeps the
 * records of each batch and drops the batch header, so it sees nothing, does not move past the
 * batch, and fetches the same offset again forever (seen on CI: a restore stuck at the same
 * offsets of four changelog partitions through three fresh readers; `DumpLogSegments` showed
 * `count: 0` batches at the end of segment 0). The Java consumer moves on to the batch's last
 * offset + 1.
 *
 * `installEmptyBatchFix` replaces kafkajs's record-set decoder (its CommonJS module, before any
 * fetch response module loads it) with one that does the same and, for an empty batch, returns
 * one placeholder at the batch's last offset marked as a control record. kafkajs never hands
 * control records to the application; it treats a fetch of only those as "empty due to
 * filtering", resolves its last offset and moves on, as it does for a batch of aborted records.
 * kafkajs is pinned (package.json) and the module shapes are checked: a kafkajs whose internals
 * differ fails at start-up here, not silently at the first empty batch.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, replaced in the module cache (see above) */
import { assertKafkajsVersion, assertNotLoaded, replaceModule } from './kafkajs-internals';

const FETCH_DECODER = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages';
/** The fetch response modules (v4 to v11) that take the decoder when they load. */
const FETCH_RESPONSES = [4, 5, 6, 7, 8, 9, 10, 11].map((v) => `kafkajs/src/protocol/requests/fetch/v${v}/response`);

interface BatchContext {
  readonly firstOffset: string;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: string;
  readonly producerId: string;
  readonly inTransaction: boolean;
}
interface DecodedBatch extends BatchContext {
  readonly records: unknown[];
}
interface KafkaDecoder {
  readInt32(): number;
  canReadBytes(n: number): boolean;
  readBytes(n: number): Buffer;
}

/** The record that stands for an empty batch: at its last offset, no key, no value, a control record. */
function emptyBatchPlaceholder(batch: DecodedBatch): Record<string, unknown> {
  const { records: _none, ...batchContext } = batch;
  return {
    magicByte: 2,
    attributes: 0,
    timestamp: batch.maxTimestamp,
    offset: (BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)).toString(),
    key: null,
    value: null,
    headers: {},
    isControlRecord: true,
    batchContext,
  };
}

let installed = false;

/** Installs the fixed decoder; idempotent. Throws when kafkajs is not the version it was written for. */
export function installEmptyBatchFix(): void {
  if (installed) return;
  assertKafkajsVersion('src/source/kafkajs-empty-batches.ts');
  assertNotLoaded(FETCH_RESPONSES, 'the empty-batch fix', 'src/source/kafkajs-empty-batches');
  const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkaDecoder;
  const MessageSetDecoder = require('kafkajs/src/protocol/messageSet/decoder') as (d: KafkaDecoder, size: number) => unknown;
  const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: KafkaDecoder) => Promise<DecodedBatch>;
  const { MAGIC_BYTE } = require('kafkajs/src/protocol/recordBatch/v0') as { MAGIC_BYTE: number };
  if (typeof Decoder !== 'function' || typeof MessageSetDecoder !== 'function' || typeof RecordBatchDecoder !== 'function' || MAGIC_BYTE !== 2) {
    throw new Error('kafkajs: its fetch decoders are not the shape src/source/kafkajs-empty-batches.ts was written for');
  }
  // The magic byte sits at the same place in every message format; a batch header is 49 bytes at least.
  const MAGIC_OFFSET = 16;
  const RECORD_BATCH_OVERHEAD = 49;
  const decodeMessages = async (decoder: KafkaDecoder): Promise<unknown> => {
    const size = decoder.readInt32();
    if (size <= 0 || !decoder.canReadBytes(size)) return [];
    const bytes = decoder.readBytes(size);
    const messages = new Decoder(bytes);
    if (bytes.subarray(MAGIC_OFFSET).readInt8(0) !== MAGIC_BYTE) return MessageSetDecoder(messages, size);
    const records: unknown[] = [];
    while (messages.canReadBytes(RECORD_BATCH_OVERHEAD)) {
      let batch: DecodedBatch;
      try {
        batch = await RecordBatchDecoder(messages);
      } catch (err: unknown) {
        // The last batch of a fetch may be cut by the size limits: the next fetch starts there.
        if (err instanceof Error && err.name === 'KafkaJSPartialMessageError') break;
        throw err;
      }
      if (batch.records.length === 0) records.push(emptyBatchPlaceholder(batch));
      else for (const r of batch.records) records.push(r);
    }
    return records;
  };
  replaceModule(FETCH_DECODER, decodeMessages);
  installed = true;
}
