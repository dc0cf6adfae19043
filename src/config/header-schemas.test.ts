import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Decoded, PacketHeader, SourceRef } from '../domain';
import { isZeekRstError } from '../errors';
import { fingerprintBytes } from '../decode/avro-fingerprint';
import { loadHeaderCodec } from './header-schemas';
import { EVOLVED_HEADER_SCHEMA, evolvedHeaderType } from '../../test/helpers/evolved-header-schema';

const SRC: SourceRef = { kind: 'kafka', topic: 'zeek-headers', partition: 0, offset: '3' };
const READER = JSON.parse(readFileSync(path.resolve(__dirname, '../../schemas/packet_header.avsc'), 'utf8')) as { fields: unknown[] };

// A sensor upgraded before zeek-rst: EVOLVED_HEADER_SCHEMA has one more optional field than the reader's.
// pop3-rej/pop3.headers.jsonl line 2 (the RST+ACK answering the first SYN), as the upgraded sensor writes it.
const RECORD = {
  ts: 1377201633620883, sensor: null, src_ip: '212.227.15.188', dst_ip: '192.168.0.4', src_port: 110, dst_port: 26242,
  ip_version: 4, ip_ttl: 57, ip_id: 0, tcp_flags: 20, seq: 0, ack: 3145310915, window: 0, payload_len: 0, community_id: null, vlan: 12,
};
const singleObject = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintBytes(evolvedHeaderType), evolvedHeaderType.toBuffer(RECORD)]);
const confluent = (id: number): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), evolvedHeaderType.toBuffer(RECORD)]);

const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-schemas-'));
function schemaFile(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}
const evolvedFile = schemaFile('packet_header_v2.avsc', JSON.stringify(EVOLVED_HEADER_SCHEMA));

function outcome(d: Decoded<PacketHeader>): string {
  return d.ok ? `ttl ${d.value.ipTtl}, flags ${d.value.tcpFlags}, ack ${d.value.ack}` : d.dead.reason;
}

async function refusal(decode: { confluentSchemas: string[]; writerSchemas: string[] }): Promise<string> {
  try {
    await loadHeaderCodec(decode);
  } catch (err) {
    if (isZeekRstError(err, 'ZRST_SCHEMA_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected the schemas to be refused');
}

describe('loadHeaderCodec', () => {
  it('reads single-object records of a listed writer schema, resolved to the reader; unlisted, they are unknown_schema', async () => {
    const listed = await loadHeaderCodec({ confluentSchemas: [], writerSchemas: [evolvedFile] });
    expect(outcome(listed.decode(singleObject, SRC))).toBe('ttl 57, flags 20, ack 3145310915');
    const unlisted = await loadHeaderCodec({ confluentSchemas: [], writerSchemas: [] });
    expect(outcome(unlisted.decode(singleObject, SRC))).toBe('unknown_schema');
  });

  it('reads Confluent records by the id a file is listed under, and only by it', async () => {
    const codec = await loadHeaderCodec({ confluentSchemas: [`9=${evolvedFile}`], writerSchemas: [] });
    expect(outcome(codec.decode(confluent(9), SRC))).toBe('ttl 57, flags 20, ack 3145310915');
    expect(outcome(codec.decode(confluent(8), SRC))).toBe('unknown_schema');
  });

  it('refuses at start, naming the option and the file, a schema it cannot read, parse or resolve', async () => {
    const missing = path.join(dir, 'absent.avsc');
    expect(await refusal({ confluentSchemas: [], writerSchemas: [missing] })).toMatch(new RegExp(`: decode\\.writerSchemas: ${missing}: .*ENOENT`));
    const notJson = schemaFile('not-json.avsc', '{"type": "record",');
    expect(await refusal({ confluentSchemas: [`2=${notJson}`], writerSchemas: [] })).toMatch(new RegExp(`: decode\\.confluentSchemas: ${notJson}: `));
    // A writer without `seq`, which the reader needs and has no default for: no record of it could be read.
    const withoutSeq = schemaFile('without-seq.avsc', JSON.stringify({ ...READER, fields: READER.fields.filter((f) => (f as { name: string }).name !== 'seq') }));
    expect(await refusal({ confluentSchemas: [], writerSchemas: [evolvedFile, withoutSeq] })).toMatch(new RegExp(`writer schema ${withoutSeq} cannot be read as zeek_rst\\.PacketHeader`));
  });
});
