/**
 * Arrival order across topics is arbitrary (docs/correlation.md): a conn, its weirds and its
 * headers reach the correlator in any order within the late window, and the documents it finally
 * writes must not depend on that order. Every corpus, tampering and crafted case is fed in its
 * canonical order (evidence, then conns: `runPipeline`) and in seeded random orders in which each
 * record is moved by up to 400 s of record time (inside the 10 min late window), time moving with
 * the records as in `classify`; the last document of every connection must be the same (see
 * `comparable` for the one exception, the host baselines).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CORPUS, CRAFTED, TAMPERING, caseDirs, loadCase, loadCrafted, runPipeline, type CaseInput } from './classify-corpus';
import { createRecordClock } from '../../src/correlate/correlator';
import { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS, type OutputDoc, type PipelineSettings } from '../../src/pipeline';

const SPREAD_US = 400e6;
const ORDERS = 5;

/** A small seeded generator (LCG): the same orders on every run, a new seed per case and order. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** A seed per case name (a string hash over its UTF-16 code units). */
function seedOf(name: string): number {
  let h = 7;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) & 0x7fffffff;
  return h;
}

/** The records of `input` in one random order: each sorted by its time plus up to SPREAD_US. */
function shuffled(input: CaseInput, seed: number, settings: PipelineSettings): OutputDoc[] {
  const r = random(seed);
  const clock = createRecordClock();
  const p = createClassifyPipeline(settings, clock);
  const steps: { key: number; tsUs: number; feed: () => readonly OutputDoc[] }[] = [
    ...input.conns.map((c) => ({ key: c.tsUs + (c.durationUs ?? 0) + r() * SPREAD_US, tsUs: c.tsUs + (c.durationUs ?? 0), feed: () => p.addConn(c).docs })),
    ...input.weirds.map((w) => ({ key: w.tsUs + r() * SPREAD_US, tsUs: w.tsUs, feed: () => p.addWeird(w).docs })),
    ...input.headers.map((h) => ({ key: h.tsUs + r() * SPREAD_US, tsUs: h.tsUs, feed: () => p.addHeader(h).docs })),
  ].sort((a, b) => a.key - b.key);
  const out: OutputDoc[] = [];
  // Time moves with the records, as in `classify` and `run`: conns whose grace has passed are
  // written, and the evidence that comes after them is late evidence that rewrites them.
  for (const s of steps) {
    clock.observe(s.tsUs);
    out.push(...s.feed(), ...p.tick().docs);
  }
  out.push(...p.flush().docs);
  return out;
}

/** The last document of each connection, as the index holds it after every update. */
function finalDocs(docs: readonly OutputDoc[]): Map<string, OutputDoc> {
  const latest = new Map<string, OutputDoc>();
  for (const d of docs) latest.set(d.id, d);
  return latest;
}

/**
 * What must not depend on the order. The whole document, except where the RST was judged against
 * its sender's host baseline (no packet of the sender in its own flow): that baseline is the
 * host's packets of other flows that had arrived when the conn was classified, and a packet of
 * another flow that comes later does not rewrite the conn (docs/correlation.md, "Baselines").
 * Then the verdict and what it rests on must still agree.
 */
function comparable(d: OutputDoc, hostBaseline: boolean): string {
  if (!hostBaseline) return JSON.stringify(d.doc);
  const { verdict, rules, origin, sender, phase, stage, tags } = d.doc.rst;
  return JSON.stringify({ verdict, rules, origin, sender, phase, stage, tags });
}

const CASES: readonly [string, () => { input: CaseInput; settings: PipelineSettings }][] = [
  // The cases with a conn log of real times: the others hold only weirds or pcaps, or records
  // whose times were canonified (nothing to reorder by), or the JSON reference's sample records.
  ...caseDirs(CORPUS)
    .filter((c) => c !== 'zeek-docs-json-reference' && existsSync(path.join(CORPUS, c, 'conn.json')))
    .map((c): [string, () => { input: CaseInput; settings: PipelineSettings }] => [c, () => ({ input: loadCase(c, true), settings: DEFAULT_PIPELINE_SETTINGS })]),
  ...caseDirs(TAMPERING).map((c): [string, () => { input: CaseInput; settings: PipelineSettings }] => [`tampering/${c}`, () => ({ input: loadCase(c, true, TAMPERING), settings: DEFAULT_PIPELINE_SETTINGS })]),
  ...readdirSync(CRAFTED)
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, () => { input: CaseInput; settings: PipelineSettings }] => [`crafted/${f}`, () => loadCrafted(f.replace(/\.json$/, ''))]),
];

describe('arrival order', () => {
  it.each(CASES)('%s: the same final documents in any order within the late window', (name, load) => {
    const { input, settings } = load();
    const canonical = finalDocs(runPipeline(input, settings));
    expect(canonical.size).toBeGreaterThan(0);
    for (let k = 0; k < ORDERS; k++) {
      const seed = seedOf(name) + k;
      const got = finalDocs(shuffled(input, seed, settings));
      const differing = [...canonical]
        .filter(([id, doc]) => {
          const other = got.get(id);
          const host = doc.classification.facts.baselineSource === 'host';
          return other === undefined || comparable(other, host) !== comparable(doc, host);
        })
        .map(([id]) => id);
      expect({ seed, documents: got.size, differing }).toEqual({ seed, documents: canonical.size, differing: [] });
    }
  });
});
