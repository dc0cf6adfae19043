/**
 * Every kind of bad input becomes a dead letter with its own reason, the original bytes and the
 * source; nothing throws. Table-driven, plus property tests over arbitrary bytes and JSON.
 */
import fc from 'fast-check';

import type { Decoded, DeadLetterReason, SourceRef } from '../domain';
import { createHeaderCodec, decodeHeaderJson } from './packet-header';
import { PACKET_HEADER_SCHEMA } from './packet-header-schema';
import type { DecodeOptions } from './validate';
import { decodeConnJson, decodeWeirdJson, decodeZeekJson, decodeZeekMessage } from './zeek-json';
import { decodeZeekTsv } from './zeek-tsv';
import { Type } from 'avsc';
import { isUtf8 } from 'node:buffer';

const SRC: SourceRef = { kind: 'kafka', topic: 'zeek-conn', partition: 3, offset: '1234' };

// pop3-rej/conn.json line 1 (REJ Sr) and pop3-fin-then-rst/weird.json: real records to mutate.
const CONN: Record<string, unknown> = JSON.parse('{"ts":1377201633.570191,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"192.168.0.4","id.orig_p":26242,"id.resp_h":"212.227.15.188","id.resp_p":110,"proto":"tcp","duration":0.050692081451416016,"orig_bytes":0,"resp_bytes":0,"conn_state":"REJ","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"Sr","orig_pkts":1,"orig_ip_bytes":52,"resp_pkts":1,"resp_ip_bytes":40,"ip_proto":6}') as Record<string, unknown>;
const WEIRD: Record<string, unknown> = JSON.parse('{"ts":1727538626.71778,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"127.0.0.1","id.orig_p":58854,"id.resp_h":"127.0.0.1","id.resp_p":110,"name":"pop3_server_command_unknown","addl":"GARBAGE","notice":false,"peer":"zeek","source":"POP3"}') as Record<string, unknown>;
// pop3-rej/pop3.headers.jsonl line 2 (RST-ACK from the server).
const HEADER: Record<string, unknown> = JSON.parse('{"ts":1377201633.620883,"src_ip":"212.227.15.188","dst_ip":"192.168.0.4","src_port":110,"dst_port":26242,"ip_ttl":57,"ip_id":0,"tcp_flags":20,"seq":0,"ack":3145310915,"window":0,"payload_len":0}') as Record<string, unknown>;

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8');
const conn = (patch: Record<string, unknown>, drop: readonly string[] = []): Buffer => {
  const o: Record<string, unknown> = { ...CONN, ...patch };
  for (const k of drop) o[k] = undefined;
  return json(o);
};
const weird = (patch: Record<string, unknown>, drop: readonly string[] = []): Buffer => {
  const o: Record<string, unknown> = { ...WEIRD, ...patch };
  for (const k of drop) o[k] = undefined;
  return json(o);
};
const header = (patch: Record<string, unknown>, drop: readonly string[] = []): Buffer => {
  const o: Record<string, unknown> = { ...HEADER, ...patch };
  for (const k of drop) o[k] = undefined;
  return json(o);
};

const codec = createHeaderCodec({ registry: { 1: PACKET_HEADER_SCHEMA } });
const avroBody = Type.forSchema(PACKET_HEADER_SCHEMA).toBuffer({
  ts: 1377201633620883, sensor: null, src_ip: '212.227.15.188', dst_ip: '192.168.0.4', src_port: 110, dst_port: 26242,
  ip_version: 4, ip_ttl: 57, ip_id: 0, tcp_flags: 20, seq: 0, ack: 3145310915, window: 0, payload_len: 0, community_id: null,
});
const confluent = (id: number, body: Buffer): Buffer => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(id, 1);
  return Buffer.concat([h, body]);
};
const TSV_HEAD = '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\n';
const tsv = (row: string, head = TSV_HEAD): Buffer => Buffer.from(`${head}${row}\n`, 'utf8');

type Decoder = 'conn' | 'weird' | 'zeek' | 'header' | 'avro' | 'tsv';
type Case = readonly [name: string, decoder: Decoder, raw: Buffer, reason: DeadLetterReason, options?: DecodeOptions];

const CASES: readonly Case[] = [
  ['empty message', 'conn', Buffer.alloc(0), 'empty_message'],
  ['whitespace only', 'conn', Buffer.from(' \t\r\n'), 'empty_message'],
  ['oversized message', 'conn', conn({ history: 'S'.repeat(2000) }), 'oversized_message', { maxMessageBytes: 1024 }],
  ['invalid UTF-8', 'conn', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'invalid_utf8'],
  ['truncated JSON', 'conn', conn({}).subarray(0, 40), 'malformed_json'],
  ['not JSON at all', 'conn', Buffer.from('hello zeek'), 'malformed_json'],
  ['JSON array', 'conn', Buffer.from('[1,2,3]'), 'not_an_object'],
  ['JSON string', 'conn', Buffer.from('"conn"'), 'not_an_object'],
  ['JSON null', 'conn', Buffer.from('null'), 'not_an_object'],
  ['unwrapped record without _path on the generic entry', 'zeek', conn({}), 'unknown_log_type'],
  ['_path of another log', 'zeek', conn({ _path: 'dns' }), 'unknown_log_type'],
  ['wrapper of another log', 'zeek', json({ dns: CONN }), 'unknown_log_type'],
  ['weird wrapper on a conn topic', 'conn', json({ weird: WEIRD }), 'unknown_log_type'],
  ['_path weird on a conn topic', 'conn', weird({ _path: 'weird' }), 'unknown_log_type'],
  ['missing ts', 'conn', conn({}, ['ts']), 'missing_field'],
  ['missing uid', 'conn', conn({}, ['uid']), 'missing_field'],
  ['missing id.orig_h', 'conn', conn({}, ['id.orig_h']), 'missing_field'],
  ['missing id.resp_p', 'conn', conn({}, ['id.resp_p']), 'missing_field'],
  ['missing proto', 'conn', conn({}, ['proto']), 'missing_field'],
  ['uid as a number', 'conn', conn({ uid: 12 }), 'wrong_type'],
  ['port as a string', 'conn', conn({ 'id.orig_p': '26242' }), 'wrong_type'],
  ['orig_bytes as a string', 'conn', conn({ orig_bytes: '0' }), 'wrong_type'],
  ['local_orig as "T"', 'conn', conn({ local_orig: 'T' }), 'wrong_type'],
  ['ts as a boolean', 'conn', conn({ ts: true }), 'wrong_type'],
  ['orig_h not an address', 'conn', conn({ 'id.orig_h': 'pop.example.com' }), 'invalid_ip'],
  ['resp_h with an octet > 255', 'conn', conn({ 'id.resp_h': '212.227.15.288' }), 'invalid_ip'],
  ['mixed address families', 'conn', conn({ 'id.resp_h': '2001:db8::1' }), 'invalid_ip'],
  ['negative port', 'conn', conn({ 'id.orig_p': -1 }), 'invalid_port'],
  ['port 65536', 'conn', conn({ 'id.resp_p': 65536 }), 'invalid_port'],
  ['fractional port', 'conn', conn({ 'id.resp_p': 110.5 }), 'invalid_port'],
  ['unknown proto', 'conn', conn({ proto: 'sctp' }), 'invalid_enum'],
  ['unknown conn_state', 'conn', conn({ conn_state: 'RST' }), 'invalid_enum'],
  ['negative orig_pkts', 'conn', conn({ orig_pkts: -3 }), 'negative_count'],
  ['negative resp_ip_bytes', 'conn', conn({ resp_ip_bytes: -40 }), 'negative_count'],
  ['negative duration', 'conn', conn({ duration: -0.5 }), 'negative_duration'],
  // Absurd values (decode/conn-bounds.ts): Zeek writes none of these.
  ['history letter Zeek never writes (x)', 'conn', conn({ history: 'ShAxR' }), 'invalid_history'],
  ['history with a digit', 'conn', conn({ history: 'Sr1' }), 'invalid_history'],
  ['history of 2000 letters', 'conn', conn({ history: `S${'r'.repeat(1999)}` }), 'invalid_history'],
  ['duration of a century', 'conn', conn({ duration: 100 * 365 * 86400 }), 'absurd_duration'],
  ['a billion packets in a second', 'conn', conn({ duration: 1, orig_pkts: 1e9 }), 'absurd_count'],
  ['a petabyte in 10 seconds', 'conn', conn({ duration: 10, resp_ip_bytes: 1e15 }), 'absurd_count'],
  ['ISO ts that is not a date', 'conn', conn({ ts: '2013-02-30T12:00:00Z' }), 'invalid_timestamp'],
  ['ts text that is not a time', 'conn', conn({ ts: 'yesterday' }), 'invalid_timestamp'],
  ['canonified ts, strict', 'conn', conn({ ts: 'XXXXXXXXXX.XXXXXX' }), 'invalid_timestamp'],
  ['canonified uid, strict', 'conn', conn({ uid: 'XXXXXXXXXXX' }), 'missing_field'],
  ['ts before 1990', 'conn', conn({ ts: 86400 }), 'timestamp_out_of_range'],
  ['ts after 2100', 'conn', conn({ ts: 4200000000 }), 'timestamp_out_of_range'],
  ['ts past a configured maxTsUs', 'conn', conn({}), 'timestamp_out_of_range', { maxTsUs: 1377201633000000 }],
  ['weird without name', 'weird', weird({}, ['name']), 'missing_field'],
  ['weird with an empty name', 'weird', weird({ name: '' }), 'missing_field'],
  ['weird with a bad address', 'weird', weird({ 'id.orig_h': '127.0.0.256' }), 'invalid_ip'],
  ['weird notice as a number', 'weird', weird({ notice: 0 }), 'wrong_type'],
  ['TSV NaN duration', 'tsv', tsv('1377201633.570191\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\tnan\t0'), 'non_finite_number'],
  ['TSV infinite ts', 'tsv', tsv('inf\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\t0.1\t0'), 'non_finite_number'],
  ['TSV row with a missing column', 'tsv', tsv('1377201633.570191\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\t0.1'), 'invalid_tsv'],
  ['TSV data before any header', 'tsv', tsv('1377201633.570191\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\t0.1\t0', ''), 'invalid_tsv'],
  ['TSV count that is not a number', 'tsv', tsv('1377201633.570191\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\t0.1\tmany'), 'wrong_type'],
  ['TSV of another log', 'tsv', tsv('1377201633.570191\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\t0.1\t0', TSV_HEAD.replace('#path\tconn', '#path\tdns')), 'unknown_log_type'],
  ['header TTL 256', 'header', header({ ip_ttl: 256 }), 'invalid_ttl'],
  ['header negative TTL', 'header', header({ ip_ttl: -1 }), 'invalid_ttl'],
  ['header IP ID 65536', 'header', header({ ip_id: 65536 }), 'invalid_ip_id'],
  ['header flags 4096 (beyond the 12-bit field)', 'header', header({ tcp_flags: 4096 }), 'invalid_flags'],
  ['header seq 2^32', 'header', header({ seq: 4294967296 }), 'invalid_sequence'],
  ['header negative ack', 'header', header({ ack: -1 }), 'invalid_sequence'],
  ['header window 65536', 'header', header({ window: 65536 }), 'invalid_window'],
  ['header negative payload_len', 'header', header({ payload_len: -1 }), 'negative_count'],
  ['header missing payload_len', 'header', header({}, ['payload_len']), 'missing_field'],
  ['header missing dst_ip', 'header', header({}, ['dst_ip']), 'missing_field'],
  ['header src_ip not an address', 'header', header({ src_ip: '212.227.15' }), 'invalid_ip'],
  ['header port 70000', 'header', header({ dst_port: 70000 }), 'invalid_port'],
  ['header ip_version 5', 'header', header({ ip_version: 5 }), 'invalid_enum'],
  ['header ts as a string of digits', 'header', header({ ts: '1377201633' }), 'invalid_timestamp'],
  ['Avro: empty', 'avro', Buffer.alloc(0), 'empty_message'],
  ['Avro: unknown framing', 'avro', Buffer.from([0x7b, 0x7d]), 'invalid_avro'],
  ['Avro: single-object header cut short', 'avro', Buffer.from([0xc3, 0x01, 0x01, 0x02]), 'truncated_avro'],
  ['Avro: unknown fingerprint', 'avro', Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 0xab), avroBody]), 'unknown_schema'],
  ['Avro: Confluent header cut short', 'avro', Buffer.from([0x00, 0x00, 0x01]), 'truncated_avro'],
  ['Avro: unknown Confluent id', 'avro', confluent(99, avroBody), 'unknown_schema'],
  ['Avro: body cut short', 'avro', confluent(1, avroBody.subarray(0, 12)), 'truncated_avro'],
  ['Avro: trailing bytes', 'avro', confluent(1, Buffer.concat([avroBody, Buffer.from([1, 2, 3])])), 'invalid_avro'],
  ['Avro: oversized', 'avro', confluent(1, avroBody), 'oversized_message', { maxMessageBytes: 16 }],
];

function decode(decoder: Decoder, raw: Buffer, options: DecodeOptions): Decoded<unknown>[] {
  switch (decoder) {
    case 'conn':
      return [decodeConnJson(raw, SRC, options)];
    case 'weird':
      return [decodeWeirdJson(raw, SRC, options)];
    case 'zeek':
      return [decodeZeekJson(raw, SRC, options)];
    case 'header':
      return [decodeHeaderJson(raw, SRC, options)];
    case 'avro':
      return [codec.decode(raw, SRC, options)];
    case 'tsv':
      return decodeZeekTsv(raw, 'bad.log', options);
    default: {
      const never: never = decoder;
      return never;
    }
  }
}

describe('bad input -> specific dead letter', () => {
  it('has at least 40 distinct cases', () => {
    expect(new Set(CASES.map((c) => c[0])).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  const rows = CASES.map(([name, decoder, raw, reason, options]) => ({ name, decoder, raw, reason, options: options ?? {} }));
  it.each(rows)('$name ($decoder) -> $reason', ({ decoder, raw, reason, options }) => {
    const results = decode(decoder, raw, options);
    expect(results).toHaveLength(1);
    const d = results[0];
    expect(d?.ok).toBe(false);
    if (d === undefined || d.ok) return;
    expect(d.dead.reason).toBe(reason);
    expect(d.dead.detail.length).toBeGreaterThan(0);
    if (decoder === 'tsv') {
      // The row's own bytes (the last line of the file), not the header.
      const lines = raw.toString('utf8').split('\n');
      expect(Buffer.from(d.dead.raw).toString('utf8')).toBe(lines[lines.length - 2]);
      expect(d.dead.source).toEqual({ kind: 'file', path: 'bad.log', line: lines.length - 1 });
    } else {
      expect(Buffer.from(d.dead.raw)).toEqual(raw);
      expect(d.dead.source).toEqual(SRC);
    }
  });

  it('names the field and the value in the detail', () => {
    const d = decodeConnJson(conn({ 'id.resp_p': 65536 }), SRC);
    expect(!d.ok && d.dead.detail).toContain('id.resp_p 65536');
    expect(!d.ok && d.dead.stage).toBe('validate');
  });
});

describe('shapes zeek-rst accepts', () => {
  it('reads flat, nested-id and zeek-kafka-wrapped records alike', () => {
    const flat = decodeConnJson(conn({}), SRC);
    const { 'id.orig_h': oh, 'id.orig_p': op, 'id.resp_h': rh, 'id.resp_p': rp, ...rest } = CONN;
    const nested = decodeConnJson(json({ ...rest, id: { orig_h: oh, orig_p: op, resp_h: rh, resp_p: rp } }), SRC);
    const wrapped = decodeZeekJson(json({ conn: CONN }), SRC);
    expect(flat.ok && nested.ok && wrapped.ok).toBe(true);
    if (flat.ok && nested.ok && wrapped.ok) {
      expect(nested.value).toEqual(flat.value);
      expect(wrapped.value).toEqual({ log: 'conn', record: flat.value });
    }
  });

  it('takes a record with fields named reason, stage and detail for a record, not for a decode failure', () => {
    const d = decodeZeekJson(weird({ _path: 'weird', reason: 'x', stage: 'y', detail: 'z' }), SRC);
    expect(d.ok && d.value.log).toBe('weird');
  });

  it('takes the log type from _path and the observer from _system_name, ignoring _write_ts and unknown fields', () => {
    const d = decodeZeekJson(weird({ _path: 'weird', _system_name: 'sensor-7', _write_ts: '2024-10-01T00:00:00Z', brand_new_field: [1] }), SRC);
    expect(d.ok && d.value.log === 'weird' && d.value.record.observer).toBe('sensor-7');
  });

  it('reads ts as epoch seconds, epoch milliseconds or ISO 8601, to the microsecond', () => {
    const us = 1377201633570191;
    for (const ts of [1377201633.570191, 1377201633570.191, '2013-08-22T20:00:33.570191Z', '2013-08-22T22:00:33.570191+02:00']) {
      const d = decodeConnJson(conn({ ts }), SRC);
      expect([ts, d.ok && d.value.tsUs]).toEqual([ts, us]);
    }
    const ms = decodeConnJson(conn({ ts: 1377201633570 }), SRC);
    expect(ms.ok && ms.value.tsUs).toBe(1377201633570000);
  });

  it('computes the Community ID when the record lacks community_id, and keeps it when present', () => {
    const computed = decodeConnJson(conn({}), SRC);
    const given = decodeConnJson(conn({ community_id: '1:given' }), SRC);
    expect(computed.ok && computed.value.communityId).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
    expect(given.ok && given.value.communityId).toBe('1:given');
  });

  it('accepts canonified rows with allowCanonified, marking them', () => {
    const d = decodeConnJson(conn({ ts: 'XXXXXXXXXX.XXXXXX', uid: 'XXXXXXXXXXX' }), SRC, { allowCanonified: true });
    expect(d.ok && d.value).toMatchObject({ tsUs: 0, uid: 'X3-1234', canonified: true });
    const w = decodeWeirdJson(weird({}, ['ts', 'uid']), SRC, { allowCanonified: true });
    expect(w.ok && w.value.uid).toBeUndefined();
    expect(w.ok && w.value.canonified).toBe(true);
  });

  it('splits a Kafka message into its newline-separated records, each with its own bytes', () => {
    const msg = Buffer.concat([conn({}), Buffer.from('\r\n\n'), Buffer.from('{oops}\n'), weird({ _path: 'weird' }), Buffer.from('\n')]);
    const out = decodeZeekMessage(msg, SRC, {}, undefined);
    expect(out.map((d) => (d.ok ? d.value.log : d.dead.reason))).toEqual(['unknown_log_type', 'malformed_json', 'weird']);
    expect(out[1]?.ok === false && Buffer.from(out[1].dead.raw).toString()).toBe('{oops}');
    expect(decodeZeekMessage(msg, SRC, {}, 'conn').map((d) => (d.ok ? d.value.log : d.dead.reason))).toEqual(['conn', 'malformed_json', 'unknown_log_type']);
    expect(decodeZeekMessage(Buffer.from('\n\n'), SRC).map((d) => (d.ok ? 'ok' : d.dead.reason))).toEqual(['empty_message']);
  });
});

describe('decoding never throws', () => {
  const outcome = (d: Decoded<unknown>): boolean => (d.ok ? d.value !== undefined : d.dead.reason.length > 0 && d.dead.raw instanceof Uint8Array);

  it('on arbitrary bytes, through every decoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const raw = Buffer.from(bytes);
      for (const decoder of ['conn', 'weird', 'zeek', 'header', 'avro', 'tsv'] as const) {
        for (const d of decode(decoder, raw, {})) expect(outcome(d)).toBeTruthy();
      }
      for (const d of decodeZeekMessage(raw, SRC)) expect(outcome(d)).toBeTruthy();
    }), { numRuns: 500 });
  });

  it('on arbitrary JSON values and arbitrary objects', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), fc.anything().map((v) => { try { return JSON.stringify({ v }); } catch { return '{'; } })), (text) => {
      const raw = Buffer.from(text, 'utf8');
      for (const decoder of ['conn', 'weird', 'zeek', 'header'] as const) {
        for (const d of decode(decoder, raw, {})) expect(outcome(d)).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('on corpus records with fields replaced by arbitrary values', () => {
    const keys = [...Object.keys(CONN), ...Object.keys(HEADER), 'id', 'conn', '_path'];
    fc.assert(fc.property(fc.constantFrom(CONN, WEIRD, HEADER), fc.dictionary(fc.constantFrom(...keys), fc.anything()), (base, patch) => {
      let text: string;
      try {
        text = JSON.stringify({ ...base, ...patch });
      } catch {
        return;
      }
      const raw = Buffer.from(text, 'utf8');
      for (const decoder of ['conn', 'weird', 'zeek', 'header'] as const) {
        for (const d of decode(decoder, raw, {})) expect(outcome(d)).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('on corpus lines with bytes flipped, cut or inserted (JSON, TSV and Avro)', () => {
    const lines = [conn({}), weird({}), header({}), tsv('1377201633.570191\tC1\t192.168.0.4\t26242\t212.227.15.188\t110\ttcp\t0.1\t0'), confluent(1, avroBody), codec.encodeSingleObject((() => {
      const h = decodeHeaderJson(header({}), SRC);
      if (!h.ok) throw new Error('fixture');
      return h.value;
    })())];
    fc.assert(fc.property(fc.constantFrom(...lines), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert'), (line, at, byte, how) => {
      const i = at % line.length;
      const raw = how === 'cut' ? line.subarray(0, i)
        : how === 'insert' ? Buffer.concat([line.subarray(0, i), Buffer.from([byte]), line.subarray(i)])
        : Buffer.from(line.map((b, j) => (j === i ? byte : b)));
      for (const decoder of ['conn', 'weird', 'zeek', 'header', 'avro', 'tsv'] as const) {
        for (const d of decode(decoder, raw, {})) expect(outcome(d)).toBe(true);
      }
    }), { numRuns: 1000 });
  });
});

describe('invalid UTF-8 is told from valid UTF-8 exactly as isUtf8 tells it', () => {
  // Pieces a message can hold: ASCII, well-formed 2-4 byte sequences (U+FFFD among them), and
  // the ill-formed kinds: stray continuation bytes, overlongs, surrogates, code points past
  // U+10FFFF, bytes never used (F5-FF), and sequences cut short.
  const PIECES: readonly number[][] = [
    [0x7b], [0x22], [0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xef, 0xbf, 0xbd], [0xf0, 0x9f, 0x98, 0x80],
    [0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf],
    [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xfe], [0xff],
    [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
  ];
  const message = fc.oneof(
    fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 }).map((ps) => Buffer.from(ps.flat())),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
  );

  it('on messages built of well- and ill-formed pieces', () => {
    fc.assert(fc.property(message, (raw) => {
      const d = decodeConnJson(raw, SRC);
      const invalid = !d.ok && d.dead.reason === 'invalid_utf8';
      expect(invalid).toBe(!isUtf8(raw));
    }), { numRuns: 3000 });
  });

  it('accepts a well-formed U+FFFD and refuses an ill-formed byte beside it', () => {
    const cid = Buffer.from('{"uid":"\uFFFD"}', 'utf8');
    const d = decodeConnJson(cid, SRC);
    expect(!d.ok && d.dead.reason).not.toBe('invalid_utf8');
    const bad = Buffer.concat([Buffer.from('{"uid":"\uFFFD', 'utf8'), Buffer.from([0xff]), Buffer.from('"}')]);
    const e = decodeConnJson(bad, SRC);
    expect(!e.ok && e.dead.reason).toBe('invalid_utf8');
  });
});
