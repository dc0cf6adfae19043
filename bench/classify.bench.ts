/**
 * Conn records/s through decode + correlate + classify + ECS mapping on one core, beside the bare
 * JSON.parse ceiling of the same lines. Input: the 2,164 real conn rows of the zeek-testing m57
 * log (117 with a RST), given a ts and uid each (the redacted log has none) and repeated to
 * ROWS lines, so the correlator sees distinct connections in time order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineBench } from './index';
import { decodeConnJson } from '../src/decode/zeek-json';
import { createRecordClock } from '../src/correlate/correlator';
import { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS } from '../src/pipeline';

const ROWS = 20_000;
const FLUSH_EVERY = 1000;
const base = readFileSync(path.resolve(__dirname, '../test/fixtures/corpus/zeek-testing-m57-short/conn.redacted.json'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const lines: Buffer[] = [];
for (let i = 0; i < ROWS; i++) {
  const row: unknown = JSON.parse(base[i % base.length] ?? '{}');
  const obj = typeof row === 'object' && row !== null ? row : {};
  lines.push(Buffer.from(JSON.stringify({ ts: 1_258_560_000 + i * 0.01, uid: `Cbench${i}`, ...obj })));
}

function classifyAll(): number {
  const clock = createRecordClock();
  const p = createClassifyPipeline(DEFAULT_PIPELINE_SETTINGS, clock);
  let docs = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw === undefined) continue;
    const d = decodeConnJson(raw, { kind: 'file', path: 'bench', line: i + 1 });
    if (!d.ok) continue;
    clock.observe(d.value.tsUs);
    docs += p.addConn(d.value).docs.length;
    if (i % FLUSH_EVERY === FLUSH_EVERY - 1) docs += p.flush().docs.length;
  }
  return docs + p.flush().docs.length;
}

export default defineBench({
  name: 'classify',
  unit: 'conn records',
  baseline: 'JSON.parse',
  rounds: 5,
  cases: [
    { name: 'JSON.parse', items: ROWS, run: () => lines.reduce((n, l) => n + (JSON.parse(l.toString('utf8')) === null ? 0 : 1), 0) },
    { name: 'decode', items: ROWS, run: () => lines.reduce((n, l, i) => n + (decodeConnJson(l, { kind: 'file', path: 'bench', line: i + 1 }).ok ? 1 : 0), 0) },
    { name: 'decode+correlate+classify+ecs', items: ROWS, run: classifyAll },
  ],
});
