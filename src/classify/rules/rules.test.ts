/**
 * The rule table checks itself (docs/architecture.md, "Rules as data"): well-formed unique ids, every verdict
 * reachable, rationale/refs/fixtures on every row, templates that only quote declared facts, the
 * weights in docs/verdicts.md#decision-order, every fixture really firing its rule, and the README table
 * matching the code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VERDICTS } from '../../domain';
import { RULES } from '.';
import type { RuleFixture } from '../rule';
import { loadCase, loadCrafted, runPipeline } from '../../../test/corpus/classify-corpus';
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

  it('orders the weights as docs/verdicts.md#decision-order (first match wins)', () => {
    // Steps in order, by rule id; every rule of a step must outweigh every rule of a later step.
    const steps: readonly (readonly string[])[] = [
      ['RST-SYN-001', 'RST-SYN-002'],
      ['RST-TWR-001', 'RST-TWR-002', 'RST-TWR-003'],
      ['RST-REJ-002', 'RST-REJ-003', 'RST-REJ-004'],
      ['RST-REJ-005', 'RST-REJ-001'],
      ['RST-AQO-001'],
      ['RST-IDL-001'],
      ['RST-POL-001'],
      ['RST-INJ-001', 'RST-INJ-002', 'RST-INJ-003', 'RST-INJ-004', 'RST-INJ-005'],
      ['RST-BSC-001', 'RST-BSC-002'],
      ['RST-SCN-001'],
      ['RST-SCN-002'],
      ['RST-FIN-001'],
      ['RST-RTX-001', 'RST-RTX-002'],
      ['RST-IDL-002', 'RST-IDL-003'],
      ['RST-ABT-001', 'RST-ABT-002'],
      ['RST-UNC-001'],
      ['RST-HNT-001', 'RST-HNT-002'],
    ];
    const weight = (id: string): number => {
      const r = RULES.find((x) => x.id === id);
      if (r === undefined) throw new Error(`no rule ${id}`);
      return r.weight;
    };
    expect(steps.flat().sort()).toEqual(RULES.map((r) => r.id).sort());
    for (let i = 1; i < steps.length; i++) {
      const earlier = Math.min(...(steps[i - 1] ?? []).map(weight));
      const later = Math.max(...(steps[i] ?? []).map(weight));
      expect({ step: i, earlierBeatsLater: earlier > later }).toEqual({ step: i, earlierBeatsLater: true });
    }
  });

  describe.each(RULES.map((r) => [r.id, r] as const))('%s', (id, rule) => {
    it.each(rule.fixtures.map((f) => [f.kind === 'corpus' ? `${f.case}/${f.uid}${f.headers ? ' +headers' : ''}` : `crafted/${f.file}`, f] as const))(
      'fires on %s',
      (_name, fixture) => {
        const { docs, uid } = docsOf(fixture);
        const doc = docs.find((d) => d.doc.zeek.session_id === uid);
        expect(doc?.classification.rules).toContain(id);
        if (rule.needsHeaders) expect(doc?.classification.facts.headersSampled).toBeGreaterThan(0);
      },
    );
  });

  it('matches the README "## Rules" table (ids and verdicts)', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    const section = readme.split(/^## Rules$/m)[1]?.split(/^## /m)[0] ?? '';
    const rows = [...section.matchAll(/^\|\s*`(RST-[A-Z]{3}-\d{3})`\s*\|\s*`(\w+)`\s*\|/gm)].map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`);
    expect(rows.sort()).toEqual(RULES.map((r) => `${r.id} ${r.verdict}`).sort());
  });
});
