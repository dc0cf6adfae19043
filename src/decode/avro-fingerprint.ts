/**
 * CRC-64-AVRO (Rabin) fingerprint of a schema's Parsing Canonical Form, as the Avro
 * specification defines it ("Schema Fingerprints"); the single-object encoding carries it
 * little-endian after `C3 01`. avsc computes MD5/SHA-256 fingerprints only, so this is ours.
 * avro-fingerprint.test.ts checks it against the values in Apache Avro's
 * share/test/data/schema-tests.txt.
 */
import type { Type } from 'avsc';

const EMPTY = 0xc15d213aa4d7a795n;
const MASK64 = 0xffffffffffffffffn;

function makeTable(): readonly bigint[] {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK64);
    table.push(fp);
  }
  return table;
}
const TABLE = Object.freeze(makeTable());

/** CRC-64-AVRO of bytes, as an unsigned 64-bit bigint. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(b)) & 0xffn)] ?? 0n);
  return fp;
}

/** Parsing Canonical Form: avsc's `schema()` keeps only the attributes the spec keeps. */
export function parsingCanonicalForm(type: Type): string {
  return JSON.stringify(type.schema());
}

/** The 8 fingerprint bytes as written in the single-object encoding (little-endian). */
export function fingerprintBytes(type: Type): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64Avro(Buffer.from(parsingCanonicalForm(type), 'utf8')));
  return out;
}
