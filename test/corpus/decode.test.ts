/**
 * Decoding the whole corpus copy (test/fixtures/corpus, described in its INDEX.md): every conn,
 * weird and header line, in every form it comes in.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { ConnRecord, Decoded, PacketHeader, WeirdRecord } from '../../src/domain';
import { createHeaderCodec, decodeHeaderJson } from '../../src/decode/packet-header';
import { decodeZeekJson } from '../../src/decode/zeek-json';
import type { ZeekLogRecord, ZeekLogType } from '../../src/decode/zeek-record';
import { decodeZeekTsv, splitLines } from '../../src/decode/zeek-tsv';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
if (!existsSync(path.join(CORPUS, 'INDEX.md'))) throw new Error(`corpus not found at ${CORPUS}`);

const cases = readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
const filesOf = (c: string): string[] => readdirSync(path.join(CORPUS, c));
const logType = (file: string): ZeekLogType => (file.includes('weird') ? 'weird' : 'conn');

/** [case, tsv file, json file] for every log that comes in both forms. */
const PAIRS = cases.flatMap((c) => filesOf(c).filter((f) => f.endsWith('.log')).flatMap((log) => {
  const base = log.replace(/\.log$/, '');
  const json = [`${base}.json`, `${base}.redacted.json`].find((j) => filesOf(c).includes(j));
  return json === undefined ? [] : [[c, log, json] as const];
}));
const HEADER_FILES = cases.flatMap((c) => filesOf(c).filter((f) => f.endsWith('.headers.jsonl')).map((f) => path.join(c, f)));

function decodeJsonFile(rel: string, options = {}): Decoded<ZeekLogRecord>[] {
  const file = path.join(CORPUS, rel);
  return splitLines(readFileSync(file)).map((line, i) => decodeZeekJson(line, { kind: 'file', path: file, line: i + 1 }, options, logType(path.basename(rel))));
}
function decodeTsvFile(rel: string, options = {}): Decoded<ZeekLogRecord>[] {
  const file = path.join(CORPUS, rel);
  return decodeZeekTsv(readFileSync(file), file, options);
}
function ok<T>(ds: readonly Decoded<T>[]): T[] {
  const bad = ds.flatMap((d) => (d.ok ? [] : [`${d.dead.reason}: ${d.dead.detail}`]));
  expect(bad).toEqual([]);
  return ds.flatMap((d) => (d.ok ? [d.value] : []));
}
/** A record without what legitimately differs between the TSV and JSON forms. */
function comparable(r: ZeekLogRecord): Record<string, unknown> {
  const { tsUs: _t, source: _s, canonified, ...rest } = r.record;
  // Canonified logs have no uid in JSON and an X'd one in TSV: both become line-based synthetic uids.
  if (canonified === true && 'uid' in rest && typeof rest.uid === 'string' && rest.uid.startsWith('X')) {
    const { uid: _u, ...withoutUid } = rest;
    return withoutUid;
  }
  return rest;
}

describe('corpus conn and weird logs', () => {
  it('finds the logs INDEX.md lists', () => {
    expect(PAIRS.length).toBe(16);
    expect(HEADER_FILES.length).toBe(18);
  });

  it.each(PAIRS)('%s: every TSV and JSON line decodes, to the same records except ts', (c, log, json) => {
    const redacted = json.endsWith('.redacted.json');
    const fromTsv = ok(decodeTsvFile(path.join(c, log), { allowCanonified: true }));
    // The btest JSON carries restored ts and real uids: it must decode strictly. Only the redacted files need allowCanonified.
    const fromJson = ok(decodeJsonFile(path.join(c, json), redacted ? { allowCanonified: true } : {}));
    expect(fromTsv.length).toBe(fromJson.length);
    expect(fromTsv.length).toBeGreaterThan(0);
    expect(fromTsv.map(comparable)).toEqual(fromJson.map(comparable));
    expect(fromTsv.every((r) => r.log === logType(log) && r.record.canonified === true)).toBe(true);
    expect(fromJson.every((r) => (r.record.canonified === true) === redacted)).toBe(true);
  });

  it.each(PAIRS)('%s: strict decoding dead-letters every canonified TSV row as invalid_timestamp', (c, log) => {
    const strict = decodeTsvFile(path.join(c, log));
    expect(strict.length).toBeGreaterThan(0);
    expect(new Set(strict.map((d) => (d.ok ? 'ok' : d.dead.reason)))).toEqual(new Set(['invalid_timestamp']));
  });

  it('decodes the verbatim Zeek JSON from the manual strictly', () => {
    const [a, b] = ok(decodeJsonFile('zeek-docs-json-reference/conn.json'));
    // log-formats.rst: duration 0.06685185432434082 s and 0.25411510467529297 s; the DNS flow is UDP.
    expect(a?.record).toMatchObject({ uid: 'CMdzit1AMNsmfAIiQc', proto: 'udp', durationUs: 66852, service: 'dns' });
    expect(b?.record).toMatchObject({ uid: 'C5bLoe2Mvxqhawzqqd', proto: 'tcp', durationUs: 254115, history: 'ShADadFf' });
  });

  it('computes the same Community ID as Zeek wrote in the m57 conn.log, for every row', () => {
    const file = path.join(CORPUS, 'zeek-testing-m57-short/conn.redacted.json');
    const lines = splitLines(readFileSync(file));
    let compared = 0;
    lines.forEach((line, i) => {
      const parsed: unknown = JSON.parse(Buffer.from(line).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || !('community_id' in parsed)) return;
      const { community_id: zeeks, ...rest } = parsed;
      const d = decodeZeekJson(Buffer.from(JSON.stringify(rest)), { kind: 'file', path: file, line: i + 1 }, { allowCanonified: true }, 'conn');
      expect(d.ok && d.value.log === 'conn' && [i + 1, d.value.record.communityId]).toEqual([i + 1, zeeks]);
      compared++;
    });
    expect(compared).toBe(2164);
  });
});

describe('corpus header samples', () => {
  const codec = createHeaderCodec({ registry: { 1: JSON.parse(readFileSync(path.resolve(__dirname, '../../schemas/packet_header.avsc'), 'utf8')) as unknown } });
  const decodeHeaders = (rel: string): PacketHeader[] => {
    const file = path.join(CORPUS, rel);
    return ok(splitLines(readFileSync(file)).map((line, i) => decodeHeaderJson(line, { kind: 'file', path: file, line: i + 1 })));
  };

  it.each(HEADER_FILES)('%s: every line decodes and survives both Avro framings unchanged', (rel) => {
    const headers = decodeHeaders(rel);
    const tcpPackets = /(\d+) TCP packet/.exec(readFileSync(path.join(CORPUS, 'INDEX.md'), 'utf8').split('\n').find((l) => l.includes(`\`${rel}\``)) ?? '');
    expect(headers.length).toBe(Number(tcpPackets?.[1]));
    const src = { kind: 'kafka', topic: 'zeek-headers', partition: 0, offset: '0' } as const;
    for (const h of headers) {
      for (const buf of [codec.encodeSingleObject(h), codec.encodeConfluent(h, 1)]) {
        const back = codec.decode(buf, src);
        expect(back.ok && back.value).toEqual(h);
      }
    }
  });

  it('joins every TCP conn of a traced case to its first packet: same ts and same Community ID', () => {
    // INDEX.md: "Every restored conn ts equals, to the microsecond, the ts of the first packet of that connection".
    let joined = 0;
    for (const c of cases) {
      const headerFiles = filesOf(c).filter((f) => f.endsWith('.headers.jsonl'));
      if (!filesOf(c).includes('conn.json') || headerFiles.length === 0) continue;
      const headers = headerFiles.flatMap((f) => decodeHeaders(path.join(c, f)));
      const conns = ok(decodeJsonFile(path.join(c, 'conn.json'))).flatMap((r) => (r.log === 'conn' ? [r.record] : []));
      for (const conn of conns.filter((x: ConnRecord) => x.proto === 'tcp')) {
        const first = headers.find((h) => h.tsUs === conn.tsUs && h.communityId === conn.communityId);
        expect([c, conn.uid, first !== undefined]).toEqual([c, conn.uid, true]);
        joined++;
      }
    }
    expect(joined).toBeGreaterThan(40);
  });
});

describe('corpus weirds', () => {
  it('keeps the bad-checksums weird names of all ten header blocks', () => {
    const weirds = ok(decodeTsvFile('bad-checksums/weird.log', { allowCanonified: true })).flatMap((r) => (r.log === 'weird' ? [r.record] : []));
    const names = weirds.map((w: WeirdRecord) => w.name);
    expect(names.filter((n) => n === 'bad_TCP_checksum')).toHaveLength(3);
    expect(names).toContain('routing0_hdr');
  });
});
