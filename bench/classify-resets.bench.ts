/**
 * The conn path of `run` (classify.bench.ts) over reset conns only: the m57 rows whose history
 * has an R or r (a RST seen), each with its copies. These are the conns the rules, the evidence
 * and the `rst` part of the document are for; in m57 they are one conn in twenty, on a site under
 * a scan or behind a rejecting firewall most of them. Beside the bare JSON.parse of the same lines.
 */
import { connPath } from './classify.bench';
import { defineBench } from './index';
import { connLines } from './inputs';

const historyOf = (line: Buffer): string => {
  const h = (JSON.parse(line.toString('utf8')) as { history?: unknown }).history;
  return typeof h === 'string' ? h : '';
};
const resetLines = connLines.filter((l) => /[Rr]/.test(historyOf(l)));

export default defineBench({
  name: `classify, reset conns: conn path of run (the ${resetLines.length} m57 conns with a RST in their history, no headers)`,
  unit: 'conn records',
  baseline: 'JSON.parse (ceiling)',
  cases: [
    { name: 'JSON.parse (ceiling)', items: resetLines.length, run: () => resetLines.reduce((n, l) => n + (JSON.parse(l.toString('utf8')) === null ? 0 : 1), 0) },
    { name: 'decode+correlate+classify+ECS+bulk JSON', items: resetLines.length, run: () => connPath(resetLines), report: { rps: 'classify_resets_rps', ratio: 'classify_resets_ratio' } },
  ],
});
