/**
 * The conn path of `run` (classify.bench.ts) over reset conns only: the m57 rows whose history
 * has an R or r (a RST seen), each with its copies. These are the conns the rules, the evidence
 * and the `rst` part of the document are for; in m57 they are one conn in twenty, on a site under
 * a scan or behind a rejecting firewall most of them. Beside the bare JSON.parse of the same lines,
 * and the step that is theirs alone on its own: classify + ECS of the conns already decoded and
 * correlated, where a change to the rules, the facts or the document writer is a larger share
 * than on the whole path (`--against` resolves a few percent there).
 */
import type * as Correlator from '../src/correlate/correlator';
import type * as Engine from '../src/classify/engine';
import type * as Ecs from '../src/sink/ecs';
import type * as Pipeline from '../src/pipeline';
import type { Correlated } from '../src/domain';
import { connPath, parseAll } from './classify.bench';
import { fromDist } from './dist';
import { defineBench } from './index';
import { connLines, decodeConn } from './inputs';

const { createCorrelator, createRecordClock } = fromDist('correlate/correlator') as typeof Correlator;
const { classifyConnection } = fromDist('classify/engine') as typeof Engine;
const ecs = fromDist('sink/ecs') as Partial<typeof Ecs> & Pick<typeof Ecs, 'toEcsDocument'>;
const { DEFAULT_PIPELINE_SETTINGS: settings } = fromDist('pipeline') as typeof Pipeline;
// A build before 21816b1 had no ecsJson: its sink stringified the document object.
const ecsJson = ecs.ecsJson ?? ((c: Correlated, k: ReturnType<typeof classifyConnection>): string => JSON.stringify(ecs.toEcsDocument(c, k)));

const historyOf = (line: Buffer): string => {
  const h = (JSON.parse(line.toString('utf8')) as { history?: unknown }).history;
  return typeof h === 'string' ? h : '';
};
const resetLines = connLines.filter((l) => /[Rr]/.test(historyOf(l)));

/** The reset conns as the correlator emits them (no headers, so each as it came). */
const correlated: readonly Correlated[] = (() => {
  const clock = createRecordClock();
  const c = createCorrelator(settings.correlate, clock);
  const out: Correlated[] = [];
  for (const line of resetLines) {
    const conn = decodeConn(line);
    clock.observe(conn.tsUs);
    for (const e of c.addConn(conn).ready) out.push(e.correlated);
  }
  for (const e of c.flush().ready) out.push(e.correlated);
  return out;
})();

function classifyAndWrite(): number {
  let bytes = 0;
  for (const c of correlated) bytes += ecsJson(c, classifyConnection(c, settings.classify, settings.devices)).length;
  return bytes;
}

export default defineBench({
  name: `classify, reset conns: conn path of run (the ${resetLines.length} m57 conns with a RST in their history, no headers)`,
  unit: 'conn records',
  baseline: 'JSON.parse (ceiling)',
  cases: [
    { name: 'JSON.parse (ceiling)', items: resetLines.length, run: () => parseAll(resetLines) },
    { name: 'decode+correlate+classify+ECS+bulk JSON', items: resetLines.length, run: () => connPath(resetLines), report: { rps: 'classify_resets_rps', ratio: 'classify_resets_ratio' } },
    { name: 'classify + ECS of the correlated conns', items: correlated.length, run: classifyAndWrite },
  ],
});
