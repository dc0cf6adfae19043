import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { streams, Type } from 'avsc';

import type { Decoded, PacketHeader } from '../domain';
import { decodeHeaderContainer } from '../decode/avro-container';
import { createHeaderCodec } from '../decode/packet-header';
import { PACKET_HEADER_SCHEMA } from '../decode/packet-header-schema';
import type { ZeekLogRecord } from '../decode/zeek-record';
import { fileMessages, readHeaderFile, readZeekLogFile } from './files';

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

  async function writeContainer(file: string, headers: readonly PacketHeader[], gzip: boolean, blocks: { blockSize?: number; codec?: string } = {}): Promise<void> {
    const type = Type.forSchema(PACKET_HEADER_SCHEMA);
    const enc = new streams.BlockEncoder(type, blocks);
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

  it('streams a container of many blocks one block at a time, records numbered across the blocks', async () => {
    const six = values(await collect(readHeaderFile(jsonl)));
    const headers = Array.from({ length: 50 }, () => six).flat();
    const codec_ = createHeaderCodec();
    for (const codec of ['null', 'deflate']) {
      const file = path.join(dir, `blocks-${codec}.avro`);
      // A record is about 60 bytes: blocks of about 500 bytes hold a handful each.
      await writeContainer(file, headers, false, { blockSize: 500, codec });
      const messages = await collect(fileMessages(file, 'headers'));
      expect(messages.length).toBeGreaterThan(10);
      // Each message starts with the file's header (a container of its own) and names its first record.
      const lines = messages.map((m) => (m.source.kind === 'file' ? m.source.line : NaN));
      const counts = messages.map((m) => decodeHeaderContainer(Buffer.from(m.value), file, codec_).length);
      expect(lines[0]).toBe(1);
      expect(lines.slice(1)).toEqual(lines.slice(0, -1).map((l, i) => l + (counts[i] ?? NaN)));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(headers.length);
      expect(values(await collect(readHeaderFile(file)))).toEqual(headers);
    }
  });

  it('gives the records before a cut-off block, then the cut-off block as a dead letter named by its first record', async () => {
    const six = values(await collect(readHeaderFile(jsonl)));
    const headers = Array.from({ length: 50 }, () => six).flat();
    const file = path.join(dir, 'blocks-cut.avro');
    await writeContainer(file, headers, false, { blockSize: 500 });
    const full = await collect(fileMessages(file, 'headers'));
    const lastLine = full[full.length - 1]?.source;
    writeFileSync(file, readFileSync(file).subarray(0, readFileSync(file).length - 40));
    const back = await collect(readHeaderFile(file));
    const dead = back.filter((d) => !d.ok);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.ok === false && dead[0].dead.reason).toBe('truncated_avro');
    expect(dead[0]?.ok === false && dead[0].dead.source).toEqual(lastLine);
    // Every record of the blocks before it decodes.
    const ok = values(back);
    expect(lastLine?.kind === 'file' && ok.length).toBe(lastLine?.kind === 'file' ? lastLine.line - 1 : -1);
    expect(ok).toEqual(headers.slice(0, ok.length));
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
