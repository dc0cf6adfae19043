/**
 * kafkajs 2.2.4 zero-fills a fresh ArrayBuffer for every record it produces, and again each time
 * an encoder grows.
 *
 * Its `Encoder` starts at `Buffer.alloc(512)` and doubles through `Buffer.alloc` + copy, and its
 * record encoder (`recordBatch/record/v0`) makes one such encoder per record. `run` produces a
 * changelog record per changed flow (about 5 kB each, 1.3 per document) and 256 kB repartition
 * messages, so a CPU profile of `npm run bench -- e2e` spent 13 % of its samples constructing
 * those buffers, as much again in the collector, and more copying them (bench/README.md).
 *
 * Its varint writers also build an array and a `Buffer.from` of it per varint, and do 64-bit
 * varints in BigInt-backed Longs: 7.5 % of what `run` allocated in an e2e run (bench/README.md).
 *
 * `installEncoderBufferFix` changes three things, none of which changes a byte on the wire:
 * - `Encoder.prototype.ensureAvailable` grows into `Buffer.allocUnsafe`: every byte of an
 *   encoder is written before it is read (`buffer` is the written prefix), so the zeros were
 *   never seen;
 * - the record encoder (its CommonJS module, replaced before the produce request module loads it)
 *   computes the record's size first, as kafkajs already does for its length prefix, and writes
 *   it into a view of exactly that size on a 1 MB slab (larger records get a buffer of their own);
 * - `writeUVarInt` (under `writeVarInt`), `writeVarLong` and `sizeOfVarLong` write and count the
 *   same LEB128 bytes in place, with number arithmetic for a number whose zigzag form is a safe
 *   integer (every offset and timestamp delta); other values go to kafkajs's own code.
 *
 * kafkajs is pinned (package.json) and the shapes are checked here, so a kafkajs whose internals
 * differ fails at start-up, not on the wire. `test/unit/kafkajs-encoder-buffers.test.ts` compares
 * produce requests encoded with and without it, byte for byte.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internal CommonJS modules, replaced in the module cache (see above) */
import { assertKafkajsVersion, assertNotLoaded, replaceModule } from './kafkajs-internals';

const RECORD_ENCODER = 'kafkajs/src/protocol/recordBatch/record/v0';
/** The module that takes the record encoder when it loads. */
const PRODUCE_REQUEST = 'kafkajs/src/protocol/requests/produce/v3/request';

interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  writeUVarInt(v: number): KafkaEncoder;
  writeVarInt(v: number): KafkaEncoder;
  writeInt8(v: number): KafkaEncoder;
  writeVarLong: (this: KafkaEncoder, v: number | string) => KafkaEncoder;
  writeVarIntBytes(v: Buffer | string | null): KafkaEncoder;
  writeVarIntArray(v: readonly KafkaEncoder[]): KafkaEncoder;
  ensureAvailable(length: number): void;
}
interface EncoderClass {
  readonly prototype: KafkaEncoder;
  new (initialSize?: number): KafkaEncoder;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong: (v: number | string) => number;
  sizeOfVarIntBytes(v: Buffer | string | null): number;
  nextPowerOfTwo(v: number): number;
}
interface RecordArgs {
  readonly offsetDelta?: number;
  readonly timestampDelta?: number | string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, Buffer | string | readonly (Buffer | string)[]>>;
}
type HeaderEncoder = (h: { key: string; value: Buffer | string }) => KafkaEncoder;

/** Bytes of one slab of record buffers. */
const SLAB_BYTES = 1024 * 1024;

let installed = false;

/** Installs both changes; idempotent. Throws when kafkajs is not the version it was written for. */
export function installEncoderBufferFix(): void {
  if (installed) return;
  assertKafkajsVersion('src/source/kafkajs-encoder-buffers.ts');
  assertNotLoaded([PRODUCE_REQUEST], 'the encoder buffer fix', 'src/source/kafkajs-encoder-buffers');
  const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
  const Header = require('kafkajs/src/protocol/recordBatch/header/v0') as HeaderEncoder;
  const original = require(RECORD_ENCODER) as (a: RecordArgs) => KafkaEncoder;
  const probe = new Encoder();
  if (typeof original !== 'function' || typeof Header !== 'function' || !Buffer.isBuffer(probe.buf) || probe.offset !== 0 || typeof Encoder.prototype.ensureAvailable !== 'function' || typeof Encoder.sizeOfVarIntBytes !== 'function' || typeof Encoder.nextPowerOfTwo !== 'function') {
    throw new Error('kafkajs: its Encoder or record encoder is not the shape src/source/kafkajs-encoder-buffers.ts was written for');
  }

  Encoder.prototype.ensureAvailable = function ensureAvailable(this: KafkaEncoder, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    // The size kafkajs grows to, without its zero fill.
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };

  // Records are cut from a slab of their own, in order and never reused: a view costs no
  // ArrayBuffer (Node's pool is 8 kB, a fresh ArrayBuffer every few changelog records, and each
  // one is external memory that brings the collector sooner). A record lives until its batch is
  // encoded, so a slab is garbage soon after it is full.
  let slab = Buffer.allocUnsafe(0);
  let slabUsed = 0;
  const fromSlab = (size: number): Buffer => {
    if (size > SLAB_BYTES / 16) return Buffer.allocUnsafe(size);
    if (slabUsed + size > slab.length) {
      slab = Buffer.allocUnsafe(SLAB_BYTES);
      slabUsed = 0;
    }
    const view = slab.subarray(slabUsed, slabUsed + size);
    slabUsed += size;
    return view;
  };
  /** An encoder over a buffer of exactly `size` bytes, not zero-filled (kafkajs's constructor would zero-fill 512). */
  const sized = (size: number): KafkaEncoder => {
    const e = Object.create(Encoder.prototype) as KafkaEncoder;
    e.buf = fromSlab(size);
    e.offset = 0;
    return e;
  };

  const encodeRecord = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordArgs): KafkaEncoder => {
    const headerList = Object.keys(headers).flatMap((k) => {
      const v = headers[k];
      return v === undefined ? [] : Array.isArray(v) ? v.map((x: Buffer | string) => Header({ key: k, value: x })) : [Header({ key: k, value: v as Buffer | string })];
    });
    let headerBytes = Encoder.sizeOfVarInt(headerList.length);
    for (const h of headerList) headerBytes += h.offset;
    const body = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headerBytes;
    return sized(Encoder.sizeOfVarInt(body) + body)
      .writeVarInt(body)
      .writeInt8(0) // no record attributes
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value)
      .writeVarIntArray(headerList);
  };
  replaceModule(RECORD_ENCODER, encodeRecord);
  installVarints(Encoder);
  installed = true;
}

/** Zigzag form of a 64-bit varint's value when it is a number that stays a safe integer; undefined otherwise. */
function zigzagOfNumber(v: number | string): number | undefined {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || Math.abs(v) > MAX_ZIGZAG_INPUT) return undefined;
  return v >= 0 ? 2 * v : -2 * v - 1;
}

/** |v| up to 2^52: its zigzag form, at most 2^53 - 1, is exact in a double. */
const MAX_ZIGZAG_INPUT = 2 ** 52 - 1;

/** LEB128 byte count of a non-negative safe integer. */
function lebBytes(u: number): number {
  let n = 1;
  for (let x = u; x >= 0x80; x = Math.floor(x / 0x80)) n++;
  return n;
}

function installVarints(Encoder: EncoderClass): void {
  const shippedWriteVarLong = Encoder.prototype.writeVarLong;
  const shippedSizeOfVarLong = Encoder.sizeOfVarLong;
  if (typeof shippedWriteVarLong !== 'function' || typeof shippedSizeOfVarLong !== 'function' || typeof Encoder.prototype.writeUVarInt !== 'function') {
    throw new Error('kafkajs: its Encoder varints are not the shape src/source/kafkajs-encoder-buffers.ts was written for');
  }
  // kafkajs's loop, on an int32 as its bitwise operators see it: 7 bits at a time while any bit above the low 7 is set.
  Encoder.prototype.writeUVarInt = function writeUVarInt(this: KafkaEncoder, value: number): KafkaEncoder {
    let n = 1;
    for (let x = value; (x & 0xffffff80) !== 0; x >>>= 7) n++;
    this.ensureAvailable(n);
    const buf = this.buf;
    let x = value;
    while ((x & 0xffffff80) !== 0) {
      buf[this.offset++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    buf[this.offset++] = x & 0x7f;
    return this;
  };
  Encoder.prototype.writeVarLong = function writeVarLong(this: KafkaEncoder, value: number | string): KafkaEncoder {
    const zz = zigzagOfNumber(value);
    if (zz === undefined) return shippedWriteVarLong.call(this, value);
    this.ensureAvailable(lebBytes(zz));
    const buf = this.buf;
    let x = zz;
    while (x >= 0x80) {
      buf[this.offset++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    buf[this.offset++] = x;
    return this;
  };
  Encoder.sizeOfVarLong = (value: number | string): number => {
    const zz = zigzagOfNumber(value);
    return zz === undefined ? shippedSizeOfVarLong(value) : lebBytes(zz);
  };
}
