/**
 * The labelled corpus (test/fixtures/labels/corpus-labels.tsv): expected verdicts read from the
 * traffic, with and without the header samples. 100 % agreement is required; a second test
 * prints precision and recall per verdict.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCase, runPipeline } from './classify-corpus';
import type { OutputDoc } from '../../src/pipeline';

interface Label {
  readonly case: string;
  readonly key: string;
  readonly history: string;
  readonly withHeaders: string;
  readonly withoutHeaders: string;
  readonly reason: string;
}

const LABELS: readonly Label[] = readFileSync(path.resolve(__dirname, '../fixtures/labels/corpus-labels.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('case\t'))
  .map((l) => {
    const [c = '', key = '', history = '', withHeaders = '', withoutHeaders = '', reason = ''] = l.split('\t');
    return { case: c, key, history, withHeaders, withoutHeaders, reason };
  });

const CASES = [...new Set(LABELS.map((l) => l.case))];

function sessionId(label: Label): string {
  // Canonified rows get the synthetic uid `X<line>` from decode (allowCanonified).
  return label.key.startsWith('line:') ? `X${label.key.slice('line:'.length)}` : label.key;
}

const runs = new Map<string, OutputDoc[]>();
function docs(caseName: string, headers: boolean): OutputDoc[] {
  const key = `${caseName}|${headers}`;
  let d = runs.get(key);
  if (d === undefined) {
    d = runPipeline(loadCase(caseName, headers));
    runs.set(key, d);
  }
  return d;
}

describe('labelled corpus', () => {
  it('labels at least 60 resets over at least 8 verdicts', () => {
    expect(LABELS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(LABELS.map((l) => l.withHeaders)).size).toBeGreaterThanOrEqual(8);
  });

  it.each([true, false])('agrees with every label (headers: %s)', (headers) => {
    const wrong: string[] = [];
    for (const label of LABELS) {
      const doc = docs(label.case, headers).find((d) => d.doc.zeek.session_id === sessionId(label));
      const expected = headers ? label.withHeaders : label.withoutHeaders;
      if (doc?.doc.zeek.connection.history !== label.history || doc.doc.rst.verdict !== expected) {
        wrong.push(`${label.case} ${label.key} ${label.history}: expected ${expected}, got ${doc?.doc.rst.verdict ?? 'no document'} (${doc?.doc.zeek.connection.history ?? '-'})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('labels every reset of the labelled cases (no unlabelled RST)', () => {
    const labelled = new Set(LABELS.map((l) => `${l.case}|${sessionId(l)}`));
    const missing = CASES.flatMap((c) => docs(c, true).filter((d) => d.doc.rst.present && !labelled.has(`${c}|${d.doc.zeek.session_id}`)).map((d) => `${c} ${d.doc.zeek.session_id}`));
    expect(missing).toEqual([]);
  });

  it('reports precision and recall per verdict', () => {
    const stats = new Map<string, { tp: number; fp: number; fn: number }>();
    const get = (v: string): { tp: number; fp: number; fn: number } => {
      let s = stats.get(v);
      if (s === undefined) {
        s = { tp: 0, fp: 0, fn: 0 };
        stats.set(v, s);
      }
      return s;
    };
    for (const headers of [true, false]) {
      for (const label of LABELS) {
        const expected = headers ? label.withHeaders : label.withoutHeaders;
        const got = docs(label.case, headers).find((d) => d.doc.zeek.session_id === sessionId(label))?.doc.rst.verdict ?? 'none';
        if (got === expected) get(expected).tp++;
        else {
          get(expected).fn++;
          get(got).fp++;
        }
      }
    }
    const table = [...stats].map(([verdict, s]) => ({
      verdict,
      support: s.tp + s.fn,
      precision: s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp),
      recall: s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn),
    }));
    console.table(table);
    const total = table.reduce((a, r) => a + r.support, 0);
    const correct = [...stats.values()].reduce((a, s) => a + s.tp, 0);
    expect(correct / total).toBeGreaterThanOrEqual(0.95);
    for (const r of table) expect({ verdict: r.verdict, floor: r.recall >= 0.9 && r.precision >= 0.9 }).toEqual({ verdict: r.verdict, floor: true });
  });
});
