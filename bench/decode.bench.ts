/**
 * Zeek JSON conn decoding against the ceiling of a bare JSON.parse of the same bytes.
 * Input: the m57 conn.log as Zeek JSON (bench/data, 2164 records) with a ts and a uid added to
 * each line, repeated 5 times (10,820 lines per call).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import type { SourceRef } from '../src/domain';
import { decodeConnJson } from '../src/decode/zeek-json';
import { defineBench } from './index';

const REPEAT = 5;
const text = gunzipSync(readFileSync(path.join(__dirname, 'data/m57-conn.redacted.json.gz'))).toString('utf8');
const base = text.split('\n').filter((l) => l.trim() !== '');
const withTsUid = (line: string, i: number): string => `{"ts":${(1258560000 + i * 0.0137).toFixed(6)},"uid":"C${i.toString(36).padStart(16, '0')}",${line.slice(1)}`;
const lines: Buffer[] = [];
const withoutCid: Buffer[] = [];
for (let r = 0; r < REPEAT; r++) {
  base.forEach((line, i) => {
    const full = withTsUid(line, r * base.length + i);
    lines.push(Buffer.from(full, 'utf8'));
    withoutCid.push(Buffer.from(full.replace(/,"community_id":"[^"]*"/, ''), 'utf8'));
  });
}
const source: SourceRef = { kind: 'kafka', topic: 'zeek-conn', partition: 0, offset: '0' };

function decodeAll(input: readonly Buffer[]): number {
  let ok = 0;
  for (const line of input) if (decodeConnJson(line, source).ok) ok++;
  if (ok !== input.length) throw new Error(`bench input failed to decode: ${input.length - ok} dead letters`);
  return ok;
}

export default defineBench({
  name: 'decode: Zeek JSON conn (m57, 10,820 lines)',
  unit: 'records',
  baseline: 'JSON.parse (ceiling)',
  cases: [
    {
      name: 'JSON.parse (ceiling)',
      items: lines.length,
      run: () => {
        let n = 0;
        for (const line of lines) if (JSON.parse(line.toString('utf8')) !== null) n++;
        return n;
      },
    },
    { name: 'decodeConnJson', items: lines.length, run: () => decodeAll(lines) },
    { name: 'decodeConnJson + Community ID', items: withoutCid.length, run: () => decodeAll(withoutCid) },
  ],
});
