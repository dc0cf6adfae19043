/**
 * The conn path of `run` on one core: decode + correlate + classify + ECS mapping + the bulk
 * serialization the Elasticsearch sink does (action line and document as JSON), beside the bare
 * JSON.parse of the same lines (the ceiling the ratio is taken against) and a minimal reference
 * path (parse, build a 40-field ECS object, stringify; no validation, no rules), the practical
 * ceiling of the whole path. Input: bench/inputs.ts (10,820 m57 lines, conns only, community_id
 * as Zeek wrote it). The correlator is flushed every 1,000 conns, as `zeek-rst classify` does.
 */
import type * as Correlator from '../src/correlate/correlator';
import type * as Pipeline from '../src/pipeline';
import type * as Templates from '../src/sink/templates';
import type * as Elastic from '../src/sink/elastic';
import type * as ZeekJson from '../src/decode/zeek-json';
import { fromDist } from './dist';
import { defineBench } from './index';
import { benchSource, connLines } from './inputs';

const { decodeConnJson } = fromDist('decode/zeek-json') as typeof ZeekJson;
const { createRecordClock } = fromDist('correlate/correlator') as typeof Correlator;
const { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS } = fromDist('pipeline') as typeof Pipeline;
const { connIndexFor } = fromDist('sink/templates') as typeof Templates;
// An older build (`--against REF`) may have neither bulkActionLine nor OutputDoc.timestampMs: its
// sink stringified the whole action line and parsed @timestamp back, and the bench then does that.
const elastic = fromDist('sink/elastic') as Partial<typeof Elastic>;
const bulkActionLine = elastic.bulkActionLine ?? ((index: string, id: string): string => JSON.stringify({ index: { _index: index, _id: id } }));
const timestampMsOf = (d: Pipeline.OutputDoc): number => (d as Partial<Pipeline.OutputDoc>).timestampMs ?? Date.parse(d.doc['@timestamp']);
// One before OutputDoc.json built the document as an object, which its sink stringified.
const jsonOf = (d: Pipeline.OutputDoc): string => (d as Partial<Pipeline.OutputDoc>).json ?? JSON.stringify(d.doc);

const FLUSH_EVERY = 1000;
const PREFIX = 'zeek-rst';

/** What the sink queues per document: the bulk action line and the document, as JSON (sink/elastic.ts, enqueue). */
function bulkBytes(docs: readonly Pipeline.OutputDoc[]): number {
  let bytes = 0;
  for (const d of docs) {
    const action = bulkActionLine(connIndexFor(PREFIX, timestampMsOf(d)), d.id);
    const source = jsonOf(d);
    bytes += action.length + source.length + 2;
  }
  return bytes;
}

/** The ceiling of a conn path: `JSON.parse` of each line. */
export function parseAll(lines: readonly Buffer[]): number {
  return lines.reduce((n, l) => n + (JSON.parse(l.toString('utf8')) === null ? 0 : 1), 0);
}

/** The conn path of `run` over `lines`: the bytes the sink would queue. */
export function connPath(lines: readonly Buffer[]): number {
  const clock = createRecordClock();
  const p = createClassifyPipeline(DEFAULT_PIPELINE_SETTINGS, clock);
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw === undefined) continue;
    const d = decodeConnJson(raw, benchSource);
    if (!d.ok) throw new Error(`bench input does not decode: ${d.dead.detail}`);
    clock.observe(d.value.tsUs);
    bytes += bulkBytes(p.addConn(d.value).docs);
    if (i % FLUSH_EVERY === FLUSH_EVERY - 1) bytes += bulkBytes(p.flush().docs);
  }
  return bytes + bulkBytes(p.flush().docs);
}

const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

/** Parse, copy into a 40-field ECS-shaped object, stringify: no validation, no correlation, no rules. */
function referencePath(): number {
  let bytes = 0;
  for (const line of connLines) {
    const r = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
    const ts = num(r.ts) ?? 0;
    const doc = {
      '@timestamp': new Date(Math.floor(ts * 1000)).toISOString(),
      event: { kind: 'event', category: ['network'], type: ['connection', 'end'], dataset: 'zeek_rst.connection', duration: (num(r.duration) ?? 0) * 1e9, outcome: 'unknown' },
      source: { ip: str(r['id.orig_h']), port: num(r['id.orig_p']), bytes: num(r.orig_bytes), packets: num(r.orig_pkts) },
      destination: { ip: str(r['id.resp_h']), port: num(r['id.resp_p']), bytes: num(r.resp_bytes), packets: num(r.resp_pkts) },
      network: { transport: str(r.proto), community_id: str(r.community_id), bytes: (num(r.orig_ip_bytes) ?? 0) + (num(r.resp_ip_bytes) ?? 0), packets: (num(r.orig_pkts) ?? 0) + (num(r.resp_pkts) ?? 0) },
      observer: { name: 'sensor' },
      zeek: { session_id: str(r.uid), connection: { state: str(r.conn_state), state_message: 'x', history: str(r.history), missed_bytes: num(r.missed_bytes) } },
      rst: {
        present: false, verdict: 'x', phase: 'x', sender: 'x', origin: 'x', confidence: 0.5, rules: ['x'], explanation: 'x', ack: false,
        ttl: { observed: 1, expected: 1, delta: 0 }, hops: { observed: 1, expected: 1 }, count: 0, retransmissions: 0, scan: { scanner: false }, headers: { sampled: false },
      },
    };
    bytes += JSON.stringify({ index: { _index: PREFIX, _id: doc.zeek.session_id } }).length + JSON.stringify(doc).length;
  }
  return bytes;
}

export default defineBench({
  name: `classify: conn path of run (m57, ${connLines.length} conns, no headers)`,
  unit: 'conn records',
  baseline: 'JSON.parse (ceiling)',
  cases: [
    { name: 'JSON.parse (ceiling)', items: connLines.length, run: () => parseAll(connLines) },
    { name: 'reference: parse + 40-field object + stringify', items: connLines.length, run: referencePath },
    { name: 'decode+correlate+classify+ECS+bulk JSON', items: connLines.length, run: () => connPath(connLines), report: { rps: 'classify_rps', ratio: 'classify_ratio' } },
  ],
});
