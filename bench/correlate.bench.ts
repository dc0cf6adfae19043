/**
 * The correlator with headers at the generator's default profile (~10 header records per TCP
 * connection): each flow's headers, then its conn, as Zeek writes conn.log at the connection's
 * end; ticking every 1,000 records on record time. Beside its ceiling, a bare join (headers into
 * a Map by Community ID, looked up per conn), and the whole pipeline (correlate + classify + ECS)
 * on the same records. Input: bench/inputs.ts (the m57 TCP conns, distinct flows).
 */
import type * as Correlator from '../src/correlate/correlator';
import type * as CorrelateSettings from '../src/correlate/settings';
import type * as Pipeline from '../src/pipeline';
import type { PacketHeader } from '../src/domain';
import { fromDist } from './dist';
import { defineBench } from './index';
import { headerCount, tcpFlows } from './inputs';

const { createCorrelator, createRecordClock } = fromDist('correlate/correlator') as typeof Correlator;
const { DEFAULT_CORRELATE_SETTINGS } = fromDist('correlate/settings') as typeof CorrelateSettings;
const { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS } = fromDist('pipeline') as typeof Pipeline;

const records = headerCount + tcpFlows.length;
const TICK_EVERY = 1000;

function join(): number {
  const byCid = new Map<string, PacketHeader[]>();
  let joined = 0;
  for (const f of tcpFlows) {
    for (const h of f.headers) {
      const list = byCid.get(h.communityId);
      if (list === undefined) byCid.set(h.communityId, [h]);
      else list.push(h);
    }
    joined += byCid.get(f.conn.communityId)?.length ?? 0;
  }
  return joined;
}

/** What the correlator and the pipeline have in common: records in, results out (S: a step). */
interface Feed<S> {
  addHeader(h: PacketHeader): S;
  addConn(c: (typeof tcpFlows)[number]['conn']): S;
  tick(): S;
  flush(): S;
}

/** Each flow's headers, then its conn; a tick every TICK_EVERY records. Returns what `out` counts. */
function feed<S>(make: (clock: Correlator.Clock) => Feed<S>, out: (step: S) => number): number {
  const clock = createRecordClock();
  const f = make(clock);
  let count = 0;
  let n = 0;
  for (const flow of tcpFlows) {
    for (const h of flow.headers) f.addHeader(h);
    clock.observe(flow.conn.tsUs);
    count += out(f.addConn(flow.conn));
    n += flow.headers.length + 1;
    if (n >= TICK_EVERY) {
      n = 0;
      count += out(f.tick());
    }
  }
  return count + out(f.flush());
}

const correlate = (): number => feed((clock) => createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock), (step) => step.ready.length);
const pipeline = (): number => feed((clock) => createClassifyPipeline(DEFAULT_PIPELINE_SETTINGS, clock), (step) => step.docs.length);

export default defineBench({
  name: `correlate: ${tcpFlows.length} TCP conns with ${headerCount} headers (${(headerCount / tcpFlows.length).toFixed(1)} per conn)`,
  unit: 'records (headers + conns)',
  baseline: 'Map join by Community ID (ceiling)',
  cases: [
    { name: 'Map join by Community ID (ceiling)', items: records, run: join },
    { name: 'correlate', items: records, run: correlate, report: { rps: 'correlate_rps', ratio: 'correlate_ratio' } },
    { name: 'correlate + classify + ECS', items: records, run: pipeline, report: { rps: 'pipeline_headers_rps' } },
  ],
});
