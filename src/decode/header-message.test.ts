import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

import { streams, Type } from 'avsc';

import type { Decoded, PacketHeader, SourceRef } from '../domain';
import { deadLetterHeaders } from '../sink/dead-letter';
import { encodeHeaderContainer } from './avro-container';
import { decodeHeaderMessage } from './header-message';
import { createHeaderCodec, decodeHeaderJson } from './packet-header';
import { PACKET_HEADER_SCHEMA } from './packet-header-schema';

const SRC: SourceRef = { kind: 'kafka', topic: 'zeek-headers', partition: 1, offset: '41' };
const codec = createHeaderCodec({ registry: { 9: PACKET_HEADER_SCHEMA } });
const reader = Type.forSchema(PACKET_HEADER_SCHEMA);

// The first six sampled packets of the pop3 trace (SYN, RST-ACK, SYN retries ...), as the corpus writes them.
const JSONL = path.resolve(__dirname, '../../test/fixtures/decode/pop3.headers.head.jsonl');
const HEADERS: PacketHeader[] = readFileSync(JSONL, 'utf8').split('\n').filter((l) => l.trim() !== '').map((line, i) => {
  const d = decodeHeaderJson(Buffer.from(line), { kind: 'file', path: JSONL, line: i + 1 });
  if (!d.ok) throw new Error(`fixture line ${i + 1}: ${d.dead.reason}`);
  return d.value;
});

// A header does not keep its source; a dead letter is named by its record's position.
const outcome = (d: Decoded<PacketHeader>): string => (d.ok ? 'ok' : `${d.dead.reason}@${d.dead.source.kind === 'kafka' ? String(d.dead.source.index) : '-'}`);
const avroValue = (h: PacketHeader, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  ts: h.tsUs, sensor: h.sensor, src_ip: h.srcIp, dst_ip: h.dstIp, src_port: h.srcPort, dst_port: h.dstPort, ip_version: h.ipVersion,
  ip_ttl: h.ipTtl, ip_id: h.ipId, tcp_flags: h.tcpFlags, seq: h.seq, ack: h.ack, window: h.window, payload_len: h.payloadLen, community_id: h.communityId, ...over,
});
/** Single-object bytes of a value avsc writes as given: lets a test put a TTL of 300 on the wire. */
const rawSingleObject = (value: Record<string, unknown>): Buffer => {
  const good = codec.encodeSingleObject(HEADERS[0] as PacketHeader);
  return Buffer.concat([good.subarray(0, 10), reader.toBuffer(value)]);
};

async function avscContainer(headers: readonly PacketHeader[], over: (i: number) => Record<string, unknown> = () => ({})): Promise<Buffer> {
  const enc = new streams.BlockEncoder(reader);
  const parts: Buffer[] = [];
  enc.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve) => enc.on('end', () => { resolve(); }));
  headers.forEach((h, i) => enc.write(avroValue(h, over(i))));
  enc.end();
  await done;
  return Buffer.concat(parts);
}

describe('decodeHeaderMessage', () => {
  it('reads a one-record message as one header', () => {
    const h = HEADERS[1] as PacketHeader;
    const out = decodeHeaderMessage(codec.encodeSingleObject(h), SRC, codec);
    expect(out).toHaveLength(1);
    expect(out[0]?.ok === true && out[0].value).toEqual(h);
  });

  it('reads consecutive single-object and Confluent records, numbering them from 0', () => {
    for (const encode of [(h: PacketHeader) => codec.encodeSingleObject(h), (h: PacketHeader) => codec.encodeConfluent(h, 9)]) {
      const out = decodeHeaderMessage(Buffer.concat(HEADERS.map(encode)), SRC, codec);
      expect(out.map(outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
      expect(out.map((d) => (d.ok ? d.value : undefined))).toEqual(HEADERS);
    }
  });

  it('reads an object container written by avsc, and avsc reads the container produce writes', async () => {
    const fromAvsc = decodeHeaderMessage(await avscContainer(HEADERS), SRC, codec);
    expect(fromAvsc.map(outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(fromAvsc.map((d) => (d.ok ? d.value : undefined))).toEqual(HEADERS);

    const ours = encodeHeaderContainer(HEADERS, codec);
    expect(encodeHeaderContainer(HEADERS, codec).equals(ours)).toBe(true); // deterministic bytes
    const back: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      Readable.from([ours]).pipe(new streams.BlockDecoder()).on('data', (v: unknown) => back.push(v)).on('end', resolve).on('error', reject);
    });
    expect(back).toEqual(HEADERS.map((h) => avroValue(h)));
    expect(decodeHeaderMessage(ours, SRC, codec).map((d) => (d.ok ? d.value : undefined))).toEqual(HEADERS);
  });

  it('dead-letters a record with an impossible TTL on its own, with its index and its own bytes, in a sequence', () => {
    const parts = HEADERS.map((h, i) => (i === 2 ? rawSingleObject(avroValue(h, { ip_ttl: 300 })) : codec.encodeSingleObject(h)));
    const out = decodeHeaderMessage(Buffer.concat(parts), SRC, codec);
    expect(out.map(outcome)).toEqual(['ok', 'ok', 'invalid_ttl@2', 'ok', 'ok', 'ok']);
    const dead = out[2];
    expect(dead?.ok === false && Buffer.from(dead.dead.raw).equals(parts[2] as Buffer)).toBe(true);
    expect(dead?.ok === false && deadLetterHeaders(dead.dead)).toMatchObject({ reason: 'invalid_ttl', source_topic: 'zeek-headers', source_offset: '41', source_index: '2' });
  });

  it('dead-letters the same bad record inside a container, the others still decode', async () => {
    const out = decodeHeaderMessage(await avscContainer(HEADERS, (i) => (i === 4 ? { src_port: 70000 } : {})), SRC, codec);
    expect(out.map(outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'invalid_port@4', 'ok']);
  });

  it('resynchronises after a corrupt single-object body on the next record of the same schema', () => {
    const parts = HEADERS.map((h) => codec.encodeSingleObject(h));
    const corrupt = Buffer.from(parts[1] as Buffer);
    // Body byte 8 is the union index of `sensor` (after the 8-byte zig-zag ts): 0x0a = branch 5 of a 2-branch union.
    corrupt[10 + 8] = 0x0a;
    parts[1] = corrupt;
    const out = decodeHeaderMessage(Buffer.concat(parts), SRC, codec);
    expect(out.map(outcome)).toEqual(['ok', 'invalid_avro@1', 'ok', 'ok', 'ok', 'ok']);
    expect(out[1]?.ok === false && Buffer.from(out[1].dead.raw).equals(corrupt)).toBe(true);
  });

  it('calls bytes after the last record that are no record a dead letter of their own', () => {
    const out = decodeHeaderMessage(Buffer.concat([codec.encodeSingleObject(HEADERS[0] as PacketHeader), Buffer.from('xyz')]), SRC, codec);
    expect(out.map(outcome)).toEqual(['ok', 'invalid_avro@1']);
    expect(out[1]?.ok === false && Buffer.from(out[1].dead.raw).toString()).toBe('xyz');
  });

  it('keeps the whole message on a dead letter when nothing in it decodes', () => {
    const cut = codec.encodeSingleObject(HEADERS[0] as PacketHeader).subarray(0, 14);
    const out = decodeHeaderMessage(cut, SRC, codec);
    expect(out.map(outcome)).toEqual(['truncated_avro@undefined']);
    expect(out[0]?.ok === false && Buffer.from(out[0].dead.raw).equals(cut)).toBe(true);
    expect(decodeHeaderMessage(Buffer.alloc(0), SRC, codec).map(outcome)).toEqual(['empty_message@undefined']);
    expect(decodeHeaderMessage(Buffer.alloc(64), SRC, codec, { maxMessageBytes: 32 }).map(outcome)).toEqual(['oversized_message@undefined']);
  });
});
