/**
 * kafkajs 2.2.4 checksums every record batch it produces with a CRC-32C written in JavaScript, one
 * table lookup per byte: about 390 MB/s on the bench machine. `run` produces every changelog and
 * repartition byte through it, and a CPU profile of `npm run bench -- e2e` spent 6 % of its
 * samples there (bench/README.md).
 *
 * `installCrc32cFix` replaces that module (`recordBatch/crc32C`, before the record batch encoder
 * loads it) with `@node-rs/crc32`'s native CRC-32C (SSE 4.2 or ARM CRC instructions; 5.5 GB/s on
 * the same machine). The checksum is the same function: `test/unit/kafkajs-crc32c.test.ts`
 * compares both on the standard check value and on random buffers. Where the package has no
 * binary for the platform, kafkajs keeps its own.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS module, replaced in the module cache; an optional native binding */
import { assertKafkajsVersion, assertNotLoaded, replaceModule } from './kafkajs-internals';

const CRC32C = 'kafkajs/src/protocol/recordBatch/crc32C';
/** The module that takes the checksum when it loads. */
const RECORD_BATCH = 'kafkajs/src/protocol/recordBatch/v0';

type Checksum = (buffer: Buffer) => number;

let installed: 'native' | 'kafkajs' | undefined;

/** The native CRC-32C, or undefined where `@node-rs/crc32` has no binary for this platform. */
export function nativeCrc32c(): Checksum | undefined {
  try {
    const { crc32c } = require('@node-rs/crc32') as { crc32c: (input: Buffer, initial?: number) => number };
    return (buffer) => crc32c(buffer) >>> 0;
  } catch {
    return undefined;
  }
}

/** Installs the native checksum; idempotent. Returns which one kafkajs now uses. */
export function installCrc32cFix(): 'native' | 'kafkajs' {
  if (installed !== undefined) return installed;
  assertKafkajsVersion('src/source/kafkajs-crc32c.ts');
  assertNotLoaded([RECORD_BATCH], 'the CRC-32C fix', 'src/source/kafkajs-crc32c');
  const native = nativeCrc32c();
  if (native === undefined) {
    installed = 'kafkajs';
    return installed;
  }
  replaceModule(CRC32C, native);
  installed = 'native';
  return installed;
}
