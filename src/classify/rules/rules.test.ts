/**
 * The rule table checks itself (docs/architecture.md, "Rules as data"): well-formed unique ids, every verdict
 * reachable, rationale/refs/fixtures on every row, templates that only quote declared facts, the
 * weights in docs/verdicts.md#decision-order, every fixture really firing its rule, and the README table
 * matching the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { VERDICTS, type Facts } from '../../domain';
import { RULES } from '.';
import { byRank, renderEvidence } from '../engine';
import { withRulesTable } from './table';
import type { RuleFixture } from '../rule';
import { CORPUS, loadCase, loadCrafted, runPipeline } from '../../../test/corpus/classify-corpus';
import type { OutputDoc } from '../../pipeline';

function docsOf(fixture: RuleFixture): { docs: OutputDoc[]; uid: string } {
  if (fixture.kind === 'corpus') return { docs: runPipeline(loadCase(fixture.case, fixture.headers)), uid: fixture.uid };
  const { fixture: f, input, settings } = loadCrafted(fixture.file);
  return { docs: runPipeline(input, settings), uid: f.expect.uid };
}

describe('rule table', () => {
  it('has unique, well-formed ids', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^RST-[A-Z]{3}-\d{3}$/);
  });

  it('can reach every verdict (a rule with a deciding weight for each)', () => {
    const decidable = new Set(RULES.filter((r) => r.weight >= 0).map((r) => r.verdict));
    expect([...VERDICTS].filter((v) => !decidable.has(v))).toEqual([]);
  });

  it('gives every rule a rationale, references, a fixture, a confidence in 0..1', () => {
    for (const r of RULES) {
      expect({ id: r.id, rationale: r.rationale.length > 20 }).toEqual({ id: r.id, rationale: true });
      expect({ id: r.id, refs: r.refs.length > 0 }).toEqual({ id: r.id, refs: true });
      expect({ id: r.id, fixtures: r.fixtures.length > 0 }).toEqual({ id: r.id, fixtures: true });
      expect(r.confidence).toBeGreaterThan(0);
      expect(r.confidence).toBeLessThanOrEqual(1);
    }
  });

  it('has evidence templates that quote only facts listed in their values', () => {
    for (const r of RULES) {
      const named = [...r.evidence.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared: readonly string[] = r.evidence.values;
      expect({ id: r.id, undeclared: named.filter((n) => n === undefined || !declared.includes(n)) }).toEqual({ id: r.id, undeclared: [] });
    }
  });

  it('renders evidence templates: placeholders anywhere, side by side, repeated; unknown names and non-names left as written', () => {
    const rule = RULES[0];
    if (rule === undefined) throw new Error('no rules');
    const facts = { rstTtl: 64, expectedTtl: 128, durationS: 1.23456, rstHops: undefined, origin: 'middlebox' } as unknown as Facts;
    const render = (template: string): string => renderEvidence({ ...rule, evidence: { template, values: [] } }, facts).text;
    expect(render('no placeholder at all')).toBe('no placeholder at all');
    expect(render('')).toBe('');
    expect(render('{rstTtl}')).toBe('64');
    expect(render('{rstTtl}{expectedTtl} TTL {rstTtl} vs {expectedTtl}.')).toBe('64128 TTL 64 vs 128.');
    expect(render('lasted {durationS} s, hops {rstHops}, from the {origin}')).toBe('lasted 1.235 s, hops -, from the middlebox');
    expect(render('{noSuchFact} and {not-a-name} and {} and {rstTtl')).toBe('{noSuchFact} and {not-a-name} and {} and {rstTtl');
  });

  it('lists the rows in decision order (step, then weight): the table is the order', () => {
    expect([...RULES].sort(byRank).map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    // Steps as docs/verdicts.md#decision-order numbers them; hints last and negative.
    const steps = RULES.flatMap((r) => (r.step === 'hint' ? [] : [r.step]));
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    for (const r of RULES) expect({ id: r.id, hint: r.role === 'hint' }).toEqual({ id: r.id, hint: r.step === 'hint' && r.weight < 0 });
  });

  it('names known false positives on every row', () => {
    for (const r of RULES) expect({ id: r.id, fps: r.knownFalsePositives.length > 0 && r.summary !== '' && r.signals !== '' }).toEqual({ id: r.id, fps: true });
  });

  describe.each(RULES.map((r) => [r.id, r] as const))('%s', (id, rule) => {
    it.each(rule.fixtures.map((f) => [f.kind === 'corpus' ? `${f.case}/${f.uid}${f.headers ? ' +headers' : ''}` : `crafted/${f.file}`, f] as const))(
      'fires on %s',
      (_name, fixture) => {
        const { docs, uid } = docsOf(fixture);
        const doc = docs.find((d) => d.doc.zeek.session_id === uid);
        expect(doc?.classification.rules).toContain(id);
        if (rule.needsHeaders) expect(doc?.classification.facts.headersSampled).toBeGreaterThan(0);
        // Its evidence is the text read from the fixture's traffic (the row's `evidence`), every placeholder filled.
        const ev = doc?.classification.evidence.find((e) => e.rule === id);
        expect(ev?.text).toBe(fixture.evidence);
        expect(ev?.text).toBe(doc === undefined ? undefined : renderEvidence(rule, doc.classification.facts).text);
        // A corroborating row never fires without a deciding (or fallback) row of its verdict.
        if (rule.role === 'corroborates') {
          const deciding = RULES.filter((r) => (r.role === 'decides' || r.role === 'fallback') && r.verdict === rule.verdict).map((r) => r.id);
          expect(doc?.classification.rules.some((r) => deciding.includes(r))).toBe(true);
        }
      },
    );
  });

  it('matches the README rule table, generated from the rows (npm run rules-table)', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    expect(withRulesTable(readme, RULES)).toBe(readme);
  });

  it('keeps the fallback row only where no deciding row matched, across the corpus', () => {
    const fallbacks = new Set(RULES.filter((r) => r.role === 'fallback').map((r) => r.id));
    const deciding = new Set(RULES.filter((r) => r.role === 'decides').map((r) => r.id));
    let decided = 0;
    let fellBack = 0;
    const cases = readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const name of cases) {
      for (const withHeaders of [false, true]) {
        for (const { doc } of runPipeline(loadCase(name, withHeaders))) {
          if (!doc.rst.present) continue;
          const rules = doc.rst.rules ?? [];
          const byDecider = rules.some((r) => deciding.has(r));
          const byFallback = rules.some((r) => fallbacks.has(r));
          // One or the other: never the fallback's "no rule explains this RST" beside a verdict a rule explained.
          expect({ uid: doc.zeek.session_id, byDecider, byFallback }).toEqual({ uid: doc.zeek.session_id, byDecider: !byFallback, byFallback: !byDecider });
          if (byFallback) expect(doc.rst.verdict).toBe('unclassified_reset');
          if (byDecider) decided++;
          else fellBack++;
        }
      }
    }
    // The corpus has RSTs of both kinds, so the check above ran on each.
    expect(decided).toBeGreaterThan(0);
    expect(fellBack).toBeGreaterThan(0);
  });

  it('decides each deciding row\'s verdict on at least one of its fixtures', () => {
    for (const r of RULES.filter((x) => x.role === 'decides' || x.role === 'fallback')) {
      const verdicts = r.fixtures.map((f) => {
        const { docs, uid } = docsOf(f);
        return docs.find((d) => d.doc.zeek.session_id === uid)?.doc.rst.verdict;
      });
      expect({ id: r.id, decides: verdicts.includes(r.verdict) }).toEqual({ id: r.id, decides: true });
    }
  });
});
