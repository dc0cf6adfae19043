/**
 * `zeek-rst headers` on files, in process: the corpus equality through the command itself
 * (`--sample all --format jsonl`), the Avro container output read back by `classify`'s reader,
 * corrupt captures, and the default sampling policy.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { run } from '../../src/cli/headers';
import { createCaptureReader } from '../../src/decode/capture-file';
import { decodeFrame } from '../../src/decode/frame';
import { pcapFile } from '../helpers/pcap-writer';
import type { Decoded, PacketHeader } from '../../src/domain';
import { readHeaderFile } from '../../src/source/files';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-headers-'));

const CAPTURES = readdirSync(CORPUS)
  .filter((d) => statSync(path.join(CORPUS, d)).isDirectory())
  .flatMap((d) => readdirSync(path.join(CORPUS, d)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(d, f)));

function jsonl(file: string): unknown[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l.trim() !== '').map((l): unknown => JSON.parse(l));
}

let stderr = '';
beforeEach(() => {
  stderr = '';
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
});
afterEach(() => {
  jest.restoreAllMocks();
});

async function collect(it: AsyncIterable<Decoded<PacketHeader>>): Promise<Decoded<PacketHeader>[]> {
  const out: Decoded<PacketHeader>[] = [];
  for await (const d of it) out.push(d);
  return out;
}

const withoutSource = (d: Decoded<PacketHeader>): unknown => (d.ok ? { ...d.value, source: undefined } : d.dead.reason);

describe('zeek-rst headers --sample all --format jsonl', () => {
  it.each(CAPTURES)('%s gives exactly the records of its *.headers.jsonl', async (capture) => {
    const out = path.join(dir, `${capture.replace(/\W/g, '_')}.jsonl`);
    expect(await run(['--pcap', path.join(CORPUS, capture), '--sample', 'all', '--format', 'jsonl', '--out', out])).toBe(0);
    expect(jsonl(out)).toEqual(jsonl(path.join(CORPUS, capture.replace(/\.pcap(ng)?$/, '.headers.jsonl'))));
    expect(stderr).toMatch(/packets read\s+\d+/);
  });
});

describe('output formats', () => {
  const teredo = path.join(CORPUS, 'teredo-orphan-rst/Teredo.pcap');

  it('an Avro container file holds the same headers as the JSON lines, with Community ID and sensor', async () => {
    const avro = path.join(dir, 'teredo.avro');
    const lines = path.join(dir, 'teredo-full.jsonl');
    expect(await run(['--pcap', teredo, '--sample', 'all', '--format', 'avro', '--out', avro, '--sensor', 'tap0'])).toBe(0);
    expect(await run(['--pcap', teredo, '--sample', 'all', '--schema-fields', '--out', lines, '--sensor', 'tap0'])).toBe(0);
    const fromAvro = await collect(readHeaderFile(avro));
    const fromJson = await collect(readHeaderFile(lines));
    expect(fromAvro).toHaveLength(55);
    expect(fromAvro.map(withoutSource)).toEqual(fromJson.map(withoutSource));
    // The corpus file, read the same way, gives the same headers but for the sensor.
    const corpus = await collect(readHeaderFile(path.join(CORPUS, 'teredo-orphan-rst/Teredo.headers.jsonl')));
    expect(fromAvro.map((d) => (d.ok ? { ...d.value, source: undefined, sensor: null } : d))).toEqual(corpus.map(withoutSource));
    expect(fromAvro.every((d) => d.ok && d.value.sensor === 'tap0' && d.value.communityId.startsWith('1:'))).toBe(true);
    const first = jsonl(lines)[0];
    expect(first).toMatchObject({ sensor: 'tap0', ip_version: 4 });
    expect(Object.keys(first as object)).toContain('community_id');
  });

  it('a capture cut inside a record: exit 1, the error names byte offset and record, every record before it written', async () => {
    const full = readFileSync(teredo);
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, full.subarray(0, 5000));
    const out = path.join(dir, 'cut.jsonl');
    expect(await run(['--pcap', cut, '--sample', 'all', '--out', out])).toBe(1);
    const m = /cut\.pcap: truncated capture at byte (\d+), record (\d+): /.exec(stderr);
    expect(m).not.toBeNull();
    const [offset, record] = [Number(m?.[1]), Number(m?.[2])];
    expect(offset).toBeLessThan(5000);
    // Everything before the cut: the corpus's records up to the record before the broken one.
    const got = jsonl(out);
    const expected = jsonl(path.join(CORPUS, 'teredo-orphan-rst/Teredo.headers.jsonl'));
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(expected.slice(0, got.length));
    expect(stderr).toMatch(new RegExp(`packets read\\s+${record - 1}\\n`));
  });

  it('not a capture: exit 1 with the magic named', async () => {
    const out = path.join(dir, 'none.jsonl');
    expect(await run(['--pcap', path.join(CORPUS, 'teredo-orphan-rst/conn.json'), '--out', out])).toBe(1);
    expect(stderr).toMatch(/corrupt capture at byte 0, record 1: not a pcap or pcapng capture: magic 0x7b227473/);
  });

  it('usage errors', async () => {
    await expect(run([])).rejects.toMatchObject({ code: 'ZRST_USAGE' });
    await expect(run(['--pcap', teredo, '--sample', '0'])).rejects.toMatchObject({ code: 'ZRST_USAGE' });
    await expect(run(['--pcap', teredo, '--kafka', '--out', 'x'])).rejects.toMatchObject({ code: 'ZRST_USAGE' });
    await expect(run(['--pcap', path.join(dir, 'missing.pcap'), '--out', path.join(dir, 'm.jsonl')])).rejects.toMatchObject({ code: 'ZRST_FILE_UNREADABLE' });
  });
});

describe('default sampling (1 in 64 plus every SYN, SYN-ACK, FIN and RST)', () => {
  const ssh = path.join(CORPUS, 'ssh-server-rst/ssh.pcap');
  type Row = { src_ip: string; dst_ip: string; src_port: number; dst_port: number; tcp_flags: number; seq: number; ack: number; ts: number };
  const key = (r: Row): string => `${r.ts} ${r.src_ip}:${r.src_port} ${r.dst_ip}:${r.dst_port} ${r.seq} ${r.ack}`;

  it('keeps every control packet, about 1/64 of the rest, the same on every run and on another sensor', async () => {
    const all = jsonl(path.join(CORPUS, 'ssh-server-rst/ssh.headers.jsonl')) as Row[];
    const a = path.join(dir, 'ssh-a.jsonl');
    const b = path.join(dir, 'ssh-b.jsonl');
    expect(await run(['--pcap', ssh, '--out', a])).toBe(0);
    expect(await run(['--pcap', ssh, '--out', b])).toBe(0);
    const sampled = jsonl(a) as Row[];
    expect(jsonl(b)).toEqual(sampled);
    const control = all.filter((r) => (r.tcp_flags & 0x07) !== 0);
    const kept = new Set(sampled.map(key));
    expect(control.filter((r) => !kept.has(key(r)))).toEqual([]);
    // The trace's 1,795 TCP packets: control ones kept, the others at a rate near 1/64.
    const others = sampled.length - control.length;
    const otherTotal = all.length - control.length;
    expect(others).toBeGreaterThan(otherTotal / 64 / 3);
    expect(others).toBeLessThan((otherTotal / 64) * 3);
    expect(stderr).toMatch(new RegExp(`sampled\\s+${sampled.length}\\n`));

    // A second sensor that sees only some of the flows (here: those whose two ports add up to an odd number)
    // keeps exactly the same packets of those flows.
    const reader = createCaptureReader();
    const records = reader.push(readFileSync(ssh)).flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
    const oddFlow = (r: { src_port: number; dst_port: number }): boolean => (r.src_port + r.dst_port) % 2 === 1; // the same for both directions
    const partial = records.filter((p) => {
      const d = decodeFrame(p.linkType, p.data, p.originalLength, { teredo: true });
      return d.kind === 'tcp' && oddFlow({ src_port: d.tcp.srcPort, dst_port: d.tcp.dstPort });
    });
    const other = path.join(dir, 'ssh-odd.pcap');
    writeFileSync(other, pcapFile({ linkType: 1 }, partial.map((p) => ({ tsSec: p.tsSec, tsFrac: p.tsUsec, data: p.data, originalLength: p.originalLength }))));
    const c = path.join(dir, 'ssh-c.jsonl');
    expect(await run(['--pcap', other, '--out', c])).toBe(0);
    const onOther = jsonl(c) as Row[];
    expect(onOther.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(records.length);
    expect(onOther).toEqual(sampled.filter(oddFlow));
  });
});
