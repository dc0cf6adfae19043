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

function correlate(): number {
  const clock = createRecordClock();
  const c = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
  let emitted = 0;
  let n = 0;
  for (const f of tcpFlows) {
    for (const h of f.headers) c.addHeader(h);
    clock.observe(f.conn.tsUs);
    emitted += c.addConn(f.conn).ready.length;
    n += f.headers.length + 1;
    if (n >= TICK_EVERY) {
      n = 0;
      emitted += c.tick().ready.length;
    }
  }
  return emitted + c.flush().ready.length;
}

function pipeline(): number {
  const clock = createRecordClock();
  const p = createClassifyPipeline(DEFAULT_PIPELINE_SETTINGS, clock);
  let docs = 0;
  let n = 0;
  for (const f of tcpFlows) {
    for (const h of f.headers) p.addHeader(h);
    clock.observe(f.conn.tsUs);
    docs += p.addConn(f.conn).docs.length;
    n += f.headers.length + 1;
    if (n >= TICK_EVERY) {
      n = 0;
      docs += p.tick().docs.length;
    }
  }
  return docs + p.flush().docs.length;
}

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
