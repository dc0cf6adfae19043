/**
 * The hop between `run`'s two stages in repartition mode (docs/scale-out.md): decoded records
 * written as repartition lines (`encodeItem`), joined into one message's bytes, and read back
 * (`decodeItems`), beside a plain JSON round trip of the same records as objects, the form the
 * lines had before conns and headers became arrays (the reference). Input: the bench's conns
 * (bench/inputs.ts) and their headers (~10 per TCP conn), interleaved by time as a repartition
 * partition receives them, 100 records per message.
 */
import type { InputRecord } from '../src/decode/dispatch';
import type * as RepartitionLines from '../src/state/repartition-lines';
import { fromDist, inDist } from './dist';
import { defineBench } from './index';
import { connLines, decodeConn, tcpFlows } from './inputs';

// Up to 6d883e2 the lines were in state/repartition (for `--against` an older revision).
const { decodeItems, encodeItem } = fromDist(inDist('state/repartition-lines') ? 'state/repartition-lines' : 'state/repartition') as typeof RepartitionLines;

const PER_MESSAGE = 100;
const records: InputRecord[] = [
  ...connLines.map((l): InputRecord => {
    const record = decodeConn(l);
    return { kind: 'conn', record, source: record.source };
  }),
  ...tcpFlows.flatMap((f) => f.headers.map((record, index): InputRecord => ({ kind: 'header', record, source: { kind: 'kafka', topic: 'zeek-headers', partition: 0, offset: '0', index } }))),
].sort((a, b) => a.record.tsUs - b.record.tsUs);

const messages: InputRecord[][] = [];
for (let i = 0; i < records.length; i += PER_MESSAGE) messages.push(records.slice(i, i + PER_MESSAGE));

const NEWLINE = '\n';
const at = { kind: 'kafka', topic: 'bench-repartition', partition: 0, offset: '0' } as const;

function lines(): number {
  let n = 0;
  for (const m of messages) {
    const value = Buffer.from(m.map((record, i) => encodeItem({ n: i, record })).join(NEWLINE));
    for (const d of decodeItems(value, at)) {
      if (!d.ok) throw new Error(`bench repartition line does not decode: ${d.dead.detail}`);
      n++;
    }
  }
  return n;
}

function objects(): number {
  let n = 0;
  for (const m of messages) {
    const value = Buffer.from(m.map((r, i) => JSON.stringify({ n: i, k: r.kind, r: r.record })).join(NEWLINE));
    for (const line of value.toString('utf8').split(NEWLINE)) if (typeof JSON.parse(line) === 'object') n++;
  }
  return n;
}

const bytesPerRecord = (encode: (r: InputRecord, i: number) => string): number => Math.round(records.reduce((sum, r, i) => sum + Buffer.byteLength(encode(r, i)) + 1, 0) / records.length);

export default defineBench({
  name: `repartition: ${records.length} records (${connLines.length} conns, the rest headers), ${PER_MESSAGE} per message; lines of ${bytesPerRecord((record, n) => encodeItem({ n, record }))} bytes per record, objects ${bytesPerRecord((r, n) => JSON.stringify({ n, k: r.kind, r: r.record }))}`,
  unit: 'records',
  baseline: 'JSON round trip, records as objects (reference)',
  cases: [
    { name: 'JSON round trip, records as objects (reference)', items: records.length, run: objects },
    { name: 'encodeItem + decodeItems', items: records.length, run: lines, report: { rps: 'repartition_rps', ratio: 'repartition_ratio' } },
  ],
});
