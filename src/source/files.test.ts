import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { streams, Type } from 'avsc';

import type { Decoded, PacketHeader } from '../domain';
import { PACKET_HEADER_SCHEMA } from '../decode/packet-header-schema';
import type { ZeekLogRecord } from '../decode/zeek-record';
import { readHeaderFile, readZeekLogFile } from './files';

const FIXTURES = path.resolve(__dirname, '../../test/fixtures/decode');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-files-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
function values<T>(ds: readonly Decoded<T>[]): T[] {
  return ds.flatMap((d) => (d.ok ? [d.value] : []));
}

describe('readZeekLogFile', () => {
  it('reads Zeek JSON lines with the caller-given type, plain and gzip-compressed alike', async () => {
    const plain = await collect(readZeekLogFile(path.join(FIXTURES, 'pop3-rej.conn.json'), 'conn'));
    const gz = path.join(dir, 'conn.json.whatever');
    writeFileSync(gz, gzipSync(readFileSync(path.join(FIXTURES, 'pop3-rej.conn.json'))));
    const zipped = await collect(readZeekLogFile(gz, 'conn'));
    expect(plain).toHaveLength(11);
    expect(values(zipped).map((r) => r.record.uid)).toEqual(values(plain).map((r) => r.record.uid));
    const first = values(plain)[0];
    // pop3-rej INDEX: CHhAvVGS1DHFjwGM9, 192.168.0.4:26242 -> 212.227.15.188:110, REJ Sr.
    expect(first?.log).toBe('conn');
    expect(first?.record).toMatchObject({ uid: 'CHhAvVGS1DHFjwGM9', origH: '192.168.0.4', origP: 26242, respP: 110, connState: 'REJ', history: 'Sr' });
    expect(first?.record.source).toEqual({ kind: 'file', path: path.join(FIXTURES, 'pop3-rej.conn.json'), line: 1 });
  });

  it('detects TSV by its header and takes the log type from #path', async () => {
    const got: Decoded<ZeekLogRecord>[] = await collect(readZeekLogFile(path.join(FIXTURES, 'bad-checksums.weird.log'), undefined, { decode: { allowCanonified: true } }));
    expect(got).toHaveLength(13);
    expect(values(got).every((r) => r.log === 'weird')).toBe(true);
    expect(values(got).map((r) => (r.log === 'weird' ? r.record.name : ''))).toContain('bad_TCP_checksum');
  });

  it('dead-letters every canonified TSV row when strict', async () => {
    const got = await collect(readZeekLogFile(path.join(FIXTURES, 'pop3-rej.conn.log'), 'conn'));
    expect(got.map((d) => (d.ok ? 'ok' : d.dead.reason))).toEqual(new Array<string>(11).fill('invalid_timestamp'));
  });

  it('turns an endless line into one bounded oversized_message dead letter', async () => {
    const file = path.join(dir, 'long.json');
    writeFileSync(file, `${'x'.repeat(5000)}\n{"broken":\n`);
    const got = await collect(readZeekLogFile(file, 'conn', { decode: { maxMessageBytes: 1000 } }));
    expect(got.map((d) => (d.ok ? 'ok' : d.dead.reason))).toEqual(['oversized_message', 'malformed_json']);
    expect(got[0]?.ok === false && got[0].dead.raw.length).toBe(4000);
  });
});

describe('readHeaderFile', () => {
  const jsonl = path.join(FIXTURES, 'pop3.headers.head.jsonl');

  it('reads header JSON lines, gzip or not', async () => {
    const gz = path.join(dir, 'h.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(jsonl)));
    const plain = values(await collect(readHeaderFile(jsonl)));
    const zipped = values(await collect(readHeaderFile(gz)));
    expect(plain).toHaveLength(6);
    expect(zipped.map((h) => h.tsUs)).toEqual(plain.map((h) => h.tsUs));
    // Line 2 is the RST-ACK (flags 20) from the POP3 server, TTL 57.
    expect(plain[1]).toMatchObject({ srcIp: '212.227.15.188', tcpFlags: 20, ipTtl: 57 });
  });

  async function writeContainer(file: string, headers: readonly PacketHeader[], gzip: boolean): Promise<void> {
    const type = Type.forSchema(PACKET_HEADER_SCHEMA);
    const enc = new streams.BlockEncoder(type);
    const parts: Buffer[] = [];
    enc.on('data', (b: Buffer) => parts.push(b));
    const done = new Promise<void>((resolve) => enc.on('end', () => { resolve(); }));
    for (const h of headers) {
      enc.write({
        ts: h.tsUs, sensor: h.sensor, src_ip: h.srcIp, dst_ip: h.dstIp, src_port: h.srcPort, dst_port: h.dstPort, ip_version: h.ipVersion,
        ip_ttl: h.ipTtl, ip_id: h.ipId, tcp_flags: h.tcpFlags, seq: h.seq, ack: h.ack, window: h.window, payload_len: h.payloadLen, community_id: h.communityId,
      });
    }
    enc.end();
    await done;
    const bytes = Buffer.concat(parts);
    writeFileSync(file, gzip ? gzipSync(bytes) : bytes);
  }

  it('reads Avro object container files (plain and gzip) losslessly, numbering records from 1', async () => {
    const headers = values(await collect(readHeaderFile(jsonl)));
    for (const gzip of [false, true]) {
      const file = path.join(dir, `h${gzip ? '.gz' : ''}.avro`);
      await writeContainer(file, headers, gzip);
      const back = await collect(readHeaderFile(file));
      expect(back.filter((d) => !d.ok)).toEqual([]);
      expect(values(back)).toEqual(headers);
    }
  });

  it('reports a cut-off container as a dead letter instead of throwing', async () => {
    const headers = values(await collect(readHeaderFile(jsonl)));
    const file = path.join(dir, 'cut.avro');
    await writeContainer(file, headers, false);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 40));
    const back = await collect(readHeaderFile(file));
    const last = back[back.length - 1];
    expect(last?.ok).toBe(false);
    expect(last?.ok === false && last.dead.reason).toBe('truncated_avro');
  });
});
