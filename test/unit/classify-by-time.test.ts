/**
 * `classify` reads its evidence as the conns' time reaches it (src/source/due-inputs.ts), so a
 * header file larger than the correlator's header cap still joins every conn whose own headers
 * fit in the cap. The workload: the bench generator's conns (m57 rows, 1,000 per second of record
 * time, none longer than 1 s), written as Zeek would write them (conns in the order they end,
 * headers and weirds in capture order).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createConnGenerator } from '../../bench/generator';
import { headerJsonLine } from '../../src/cli/headers';
import { classifyCli } from '../helpers/classify-cli';
import type { PacketHeader } from '../../src/domain';

const CONNS = 20_000;

const summaryCount = (err: string, label: string): number => Number(new RegExp(`^${label} +(\\d+)$`, 'm').exec(err)?.[1] ?? NaN);

describe('classify reads evidence by time', () => {
  let dir: string;
  let headerCount = 0;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-by-time-'));
    const gen = createConnGenerator({ conns: CONNS, maxDurationS: 1 });
    const conns: { end: number; line: string }[] = [];
    const weirds: { ts: number; line: string }[] = [];
    const headers: PacketHeader[] = [];
    for (let i = 0; i < CONNS; i++) {
      const g = gen.conn(i);
      const ts = Number(g.conn['ts']);
      conns.push({ end: ts + Number(g.conn['duration'] ?? 0), line: JSON.stringify(g.conn) });
      if (g.weird !== undefined) weirds.push({ ts: Number(g.weird['ts']), line: JSON.stringify(g.weird) });
      headers.push(...g.headers);
    }
    headerCount = headers.length;
    conns.sort((a, b) => a.end - b.end);
    weirds.sort((a, b) => a.ts - b.ts);
    headers.sort((a, b) => a.tsUs - b.tsUs);
    writeFileSync(path.join(dir, 'conn.json'), conns.map((c) => `${c.line}\n`).join(''));
    writeFileSync(path.join(dir, 'weird.json'), weirds.map((w) => `${w.line}\n`).join(''));
    writeFileSync(path.join(dir, 'headers.jsonl'), headers.map((h) => headerJsonLine(h, true)).join(''));
    // One correlation partition, so the cap is one number. A conn's headers lie within 1 s before
    // its start and 5 s after its end (the header window), at most 7 s of record time: about 7,000
    // conns' worth, a third of the file. The small cap holds about half of the file's headers.
    writeFileSync(path.join(dir, 'small.yaml'), `partitioning:\n  partitions: 1\ncorrelate:\n  maxHeaders: ${Math.round(headerCount / 2)}\n`);
    writeFileSync(path.join(dir, 'large.yaml'), 'partitioning:\n  partitions: 1\n');
  }, 60_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('joins every header under a cap of half the file, with the documents of an uncapped run', async () => {
    const files = ['--conn', path.join(dir, 'conn.json'), '--weird', path.join(dir, 'weird.json'), '--headers', path.join(dir, 'headers.jsonl')];
    const capped = await classifyCli([...files, '--config', path.join(dir, 'small.yaml')]);
    const uncapped = await classifyCli([...files, '--config', path.join(dir, 'large.yaml')]);
    expect(headerCount).toBeGreaterThan(20_000);
    expect(summaryCount(uncapped.err, 'headers that joined no conn')).toBe(0);
    expect(summaryCount(capped.err, 'connections')).toBe(CONNS);
    // Headers were evicted (the cap is half the file), but only after their conns had come.
    expect(summaryCount(capped.err, 'evictions')).toBeGreaterThan(0);
    expect(summaryCount(capped.err, '  headers')).toBe(summaryCount(capped.err, 'evictions'));
    expect(summaryCount(capped.err, 'headers that joined no conn')).toBe(0);
    expect(summaryCount(capped.err, 'updates')).toBe(0);
    expect(capped.out).toEqual(uncapped.out);
    // Two classify runs of 20,000 conns: 3 s here, more beside the integration suites in CI. Past
    // jest's 5 s default the runs would go on printing into the next test's captured stdout.
  }, 60_000);
});
