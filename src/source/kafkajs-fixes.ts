/**
 * The fixes `run` applies to kafkajs 2.2.4's internals, installed once before it fetches or
 * produces anything: every module that makes a kafkajs consumer or producer of the pipeline
 * calls `installKafkajsFixes` when it loads.
 */
import { installCrc32cFix } from './kafkajs-crc32c';
import { installEmptyBatchFix } from './kafkajs-empty-batches';
import { installEncoderBufferFix } from './kafkajs-encoder-buffers';

export function installKafkajsFixes(): void {
  // kafkajs checksums every produced batch in JavaScript, byte by byte. First: the empty-batch
  // fix loads the record batch module, which takes the checksum as it loads.
  installCrc32cFix();
  // Compaction leaves empty batches, which kafkajs alone cannot read past.
  installEmptyBatchFix();
  // kafkajs zero-fills a fresh buffer per produced record.
  installEncoderBufferFix();
  // Not here: the linear grouping of a send by partition (kafkajs-grouping.ts) must be installed
  // before kafkajs itself loads, which has happened by the time this runs; cli/main.ts does it.
}
