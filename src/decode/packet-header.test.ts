import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Schema } from 'avsc';
import { Type } from 'avsc';

import type { Decoded, SourceRef } from '../domain';
import { isZeekRstError } from '../errors';
import { fingerprintBytes } from './avro-fingerprint';
import { createHeaderCodec, decodeHeaderJson, HEADER_FIELD_NAMES } from './packet-header';
import { PACKET_HEADER_SCHEMA } from './packet-header-schema';
import { EVOLVED_HEADER_SCHEMA, evolvedHeaderType } from '../../test/helpers/evolved-header-schema';

const SRC: SourceRef = { kind: 'kafka', topic: 'zeek-headers', partition: 0, offset: '7' };
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

// pop3-rej/pop3.headers.jsonl line 2: the RST-ACK answering the first SYN (flags 20 = RST|ACK, TTL 57, IP ID 0).
const RST_LINE = '{"ts":1377201633.620883,"src_ip":"212.227.15.188","dst_ip":"192.168.0.4","src_port":110,"dst_port":26242,"ip_ttl":57,"ip_id":0,"tcp_flags":20,"seq":0,"ack":3145310915,"window":0,"payload_len":0}';

function value<T>(d: Decoded<T>): T {
  if (!d.ok) throw new Error(`expected a record, got ${d.dead.reason}: ${d.dead.detail}`);
  return d.value;
}
function reason<T>(d: Decoded<T>): string {
  return d.ok ? 'ok' : d.dead.reason;
}

describe('schemas/packet_header.avsc', () => {
  it('is the schema the decoder reads with (fields, types, defaults, logical types)', () => {
    const text = readFileSync(path.resolve(__dirname, '../../schemas/packet_header.avsc'), 'utf8');
    const fromFile: unknown = JSON.parse(text);
    expect(typeof fromFile).toBe('object');
    const fileType = Type.forSchema(fromFile as Schema);
    const ours = Type.forSchema(PACKET_HEADER_SCHEMA);
    // Docs live in the .avsc only; everything else must match.
    const withoutDocs = (t: Type): unknown => JSON.parse(JSON.stringify(t.schema({ exportAttrs: true }), (k, v: unknown) => (k === 'doc' ? undefined : v)));
    expect(withoutDocs(fileType)).toEqual(withoutDocs(ours));
    expect(fileType.name).toBe('zeek_rst.PacketHeader');
  });
});

describe('decodeHeaderJson', () => {
  it('reads the corpus JSON-lines form, deriving ip_version, sensor and community_id', () => {
    const h = value(decodeHeaderJson(bytes(RST_LINE), SRC));
    expect(h).toMatchObject({
      tsUs: 1377201633620883, sensor: null, srcIp: '212.227.15.188', dstIp: '192.168.0.4', srcPort: 110, dstPort: 26242,
      ipVersion: 4, ipTtl: 57, ipId: 0, tcpFlags: 20, seq: 0, ack: 3145310915, window: 0, payloadLen: 0,
    });
    // Same 5-tuple as the REJ conn CHhAvVGS1DHFjwGM9 in the other direction: one Community ID for both.
    expect(h.communityId).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
  });

  it('checks every address, whatever the decoder has already seen (the pool of checked addresses)', () => {
    const ok = value(decodeHeaderJson(bytes(RST_LINE), SRC));
    expect(ok.srcIp).toBe('212.227.15.188');
    // After the valid address was pooled: near misses, the empty string and a non-string still fail.
    for (const bad of ['"212.227.15.188 "', '"212.227.15.1888"', '""', '212', 'null']) {
      expect(reason(decodeHeaderJson(bytes(RST_LINE.replace('"212.227.15.188"', bad)), SRC))).not.toBe('ok');
    }
    expect(reason(decodeHeaderJson(bytes(RST_LINE.replace('"212.227.15.188"', '"212.227.15.x"')), SRC))).toBe('invalid_ip');
    // More distinct addresses than the pool holds (it starts again empty): each still decodes to itself.
    for (let i = 0; i < 70_000; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const h = value(decodeHeaderJson(bytes(RST_LINE.replace('"192.168.0.4"', `"${ip}"`)), SRC));
      if (h.dstIp !== ip) throw new Error(`${ip} decoded as ${h.dstIp}`);
    }
    expect(value(decodeHeaderJson(bytes(RST_LINE), SRC))).toEqual(ok);
  });

  it('rejects an ip_version that contradicts the addresses', () => {
    const line = RST_LINE.replace('"ip_ttl"', '"ip_version":6,"ip_ttl"');
    expect(reason(decodeHeaderJson(bytes(line), SRC))).toBe('invalid_enum');
  });
});

describe('Avro framings', () => {
  const codec = createHeaderCodec({ registry: { 42: PACKET_HEADER_SCHEMA } });
  const header = value(decodeHeaderJson(bytes(RST_LINE), SRC));

  it('round-trips through the single-object encoding', () => {
    const buf = codec.encodeSingleObject(header);
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(value(codec.decode(buf, SRC))).toEqual(header);
  });

  it('round-trips through the Confluent framing', () => {
    const buf = codec.encodeConfluent(header, 42);
    expect(Array.from(buf.subarray(0, 5))).toEqual([0, 0, 0, 0, 42]);
    expect(value(codec.decode(buf, SRC))).toEqual(header);
  });

  it('keeps the original bytes and the source on every dead letter', () => {
    const buf = codec.encodeSingleObject(header).subarray(0, 20);
    const d = codec.decode(buf, SRC);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.dead.reason).toBe('truncated_avro');
      expect(Buffer.from(d.dead.raw)).toEqual(Buffer.from(buf));
      expect(d.dead.source).toEqual(SRC);
    }
  });

  it('calls every proper prefix of a message truncated (both framings)', () => {
    for (const full of [codec.encodeSingleObject(header), codec.encodeConfluent(header, 42)]) {
      for (let n = 1; n < full.length; n++) {
        expect([n, reason(codec.decode(full.subarray(0, n), SRC))]).toEqual([n, 'truncated_avro']);
      }
    }
  });

  it('dead-letters unknown fingerprints and ids, foreign framings and trailing bytes', () => {
    const soe = codec.encodeSingleObject(header);
    const otherFp = Buffer.from(soe);
    otherFp[2] = (otherFp[2] ?? 0) ^ 0xff;
    expect(reason(codec.decode(otherFp, SRC))).toBe('unknown_schema');
    const conf = codec.encodeConfluent(header, 42);
    const otherId = Buffer.from(conf);
    otherId[4] = 43;
    expect(reason(codec.decode(otherId, SRC))).toBe('unknown_schema');
    expect(reason(codec.decode(Buffer.from('{"ts":1}'), SRC))).toBe('invalid_avro');
    expect(reason(codec.decode(Buffer.concat([soe, Buffer.from([0])]), SRC))).toBe('invalid_avro');
    expect(reason(codec.decode(Buffer.alloc(0), SRC))).toBe('empty_message');
  });

  it('validates decoded values like any other input (negative port written by a sloppy producer)', () => {
    const bad = Type.forSchema(PACKET_HEADER_SCHEMA).toBuffer({
      ts: 1377201633620883, sensor: null, src_ip: '212.227.15.188', dst_ip: '192.168.0.4', src_port: -1, dst_port: 26242,
      ip_version: 4, ip_ttl: 57, ip_id: 0, tcp_flags: 20, seq: 0, ack: 3145310915, window: 0, payload_len: 0, community_id: null,
    });
    expect(reason(codec.decode(Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), bad]), SRC))).toBe('invalid_port');
  });
});

describe('schema evolution', () => {
  // A newer producer adds an optional field; zeek-rst's reader schema does not know it.
  const record = {
    ts: 1377201633620883, sensor: 'tap-1', src_ip: '212.227.15.188', dst_ip: '192.168.0.4', src_port: 110, dst_port: 26242,
    ip_version: 4, ip_ttl: 57, ip_id: 0, tcp_flags: 20, seq: 0, ack: 3145310915, window: 0, payload_len: 0, community_id: null, vlan: 12,
  };

  it('decodes a Confluent message written with the evolved schema', () => {
    const codec = createHeaderCodec({ registry: { 7: EVOLVED_HEADER_SCHEMA } });
    const buf = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), evolvedHeaderType.toBuffer(record)]);
    expect(value(codec.decode(buf, SRC))).toMatchObject({ sensor: 'tap-1', srcPort: 110, ipTtl: 57 });
    // Encoding with the evolved id fills its extra field from the default and still decodes.
    const header = value(codec.decode(buf, SRC));
    expect(value(codec.decode(codec.encodeConfluent(header, 7), SRC))).toEqual(header);
  });

  it('decodes a single-object message written with a configured evolved schema, and refuses it unconfigured', () => {
    const buf = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintBytes(evolvedHeaderType), evolvedHeaderType.toBuffer(record)]);
    expect(value(createHeaderCodec({ writerSchemas: { 'evolved.avsc': EVOLVED_HEADER_SCHEMA } }).decode(buf, SRC))).toMatchObject({ sensor: 'tap-1' });
    expect(reason(createHeaderCodec().decode(buf, SRC))).toBe('unknown_schema');
  });

  it('refuses, at construction, a configured schema that cannot be read as PacketHeader', () => {
    const incompatible: Schema = { type: 'record', name: 'PacketHeader', namespace: 'zeek_rst', fields: [{ name: 'ts', type: 'string' }] };
    let caught: unknown;
    try {
      createHeaderCodec({ registry: { 1: incompatible } });
    } catch (err) {
      caught = err;
    }
    expect(isZeekRstError(caught, 'ZRST_SCHEMA_INVALID')).toBe(true);
  });
});

describe('header fields read by property', () => {
  it('neither Object.prototype nor avsc\'s record prototype has a header field name, so a property read finds own fields only', () => {
    const codec = createHeaderCodec();
    const h = value(decodeHeaderJson(bytes(RST_LINE), SRC));
    const record: unknown = codec.type.fromBuffer(codec.encodeBody(h));
    expect(typeof record).toBe('object');
    const proto: unknown = Object.getPrototypeOf(record);
    for (const name of HEADER_FIELD_NAMES) {
      expect(name in Object.prototype).toBe(false);
      expect(Object.hasOwn(record as object, name)).toBe(true);
      expect(proto !== null && typeof proto === 'object' && name in proto).toBe(false);
    }
  });

  it('a JSON line with a prototype-named key (__proto__, toString) decodes as without it', () => {
    const h = value(decodeHeaderJson(bytes(RST_LINE), SRC));
    const noisy = `{"__proto__":{"src_port":1},"toString":1,${RST_LINE.slice(1)}`;
    expect(value(decodeHeaderJson(bytes(noisy), SRC))).toEqual(h);
  });
});
