/**
 * The tampering corpus (test/fixtures/corpus-tampering): real captures of censorship middleboxes,
 * ISP filters and packet injection, with conn records modelled from the pcaps and labels read from
 * the packets (`labels.jsonl`: the verdicts the decision order accepts and the origin of the RST
 * that decides). Every label must hold with the header samples, and with those samples thinned as
 * the project's sampler thins them; precision and recall per verdict are printed for these cases
 * alone.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { caseDirs, loadCase, runPipeline, TAMPERING, TAMPERING_SYNTHETIC, thinHeaders } from './classify-corpus';
import type { OutputDoc } from '../../src/pipeline';

interface TamperLabel {
  /** Folder root: the real captures or the hand-written cases. */
  readonly root: string;
  readonly case: string;
  readonly uid: string;
  readonly accept: readonly string[];
  readonly origin: string | null;
  readonly why: string;
}

function isLabel(x: unknown): x is Omit<TamperLabel, 'case'> {
  return typeof x === 'object' && x !== null && 'uid' in x && 'accept' in x && Array.isArray(x.accept) && 'why' in x;
}

const CASES = caseDirs(TAMPERING);

function labelsOf(root: string): TamperLabel[] {
  return caseDirs(root).flatMap((c) =>
    readFileSync(path.join(root, c, 'labels.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const parsed: unknown = JSON.parse(l);
        if (!isLabel(parsed)) throw new Error(`${c}/labels.jsonl: not a label: ${l}`);
        return { root, case: c, uid: parsed.uid, accept: parsed.accept, origin: parsed.origin, why: parsed.why };
      }),
  );
}

const LABELS: readonly TamperLabel[] = labelsOf(TAMPERING);
const SYNTHETIC: readonly TamperLabel[] = labelsOf(TAMPERING_SYNTHETIC);

const runs = new Map<string, OutputDoc[]>();
function docs(caseName: string, headers: boolean, root: string = TAMPERING): OutputDoc[] {
  const key = `${root}|${caseName}|${headers}`;
  let d = runs.get(key);
  if (d === undefined) {
    d = runPipeline(loadCase(caseName, headers, root));
    runs.set(key, d);
  }
  return d;
}

function docOf(label: TamperLabel, headers: boolean): OutputDoc | undefined {
  return docs(label.case, headers, label.root).find((d) => d.doc.zeek.session_id === label.uid);
}

/** The labels `docOf` breaks: no document, a verdict the label does not accept, another origin. */
function wrongOf(labels: readonly TamperLabel[], docOf: (label: TamperLabel) => OutputDoc | undefined): string[] {
  const wrong: string[] = [];
  for (const label of labels) {
    const doc = docOf(label);
    if (doc === undefined) {
      wrong.push(`${label.case} ${label.uid}: no document`);
      continue;
    }
    const rst = doc.doc.rst;
    if (label.accept.length === 0) {
      if (rst.present) wrong.push(`${label.case} ${label.uid}: no RST expected, got ${rst.verdict ?? '-'}`);
      continue;
    }
    if (rst.verdict === undefined || !label.accept.includes(rst.verdict)) {
      wrong.push(`${label.case} ${label.uid} ${doc.doc.zeek.connection.history ?? ''}: expected one of ${label.accept.join('|')}, got ${rst.verdict ?? '-'}`);
    }
    if (label.origin !== null && rst.origin !== label.origin) {
      wrong.push(`${label.case} ${label.uid} ${doc.doc.zeek.connection.history ?? ''}: origin ${label.origin} expected, got ${rst.origin ?? '-'}`);
    }
  }
  return wrong;
}

describe('tampering corpus', () => {
  it('covers every case folder and labels at least 30 resets', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(4);
    expect(LABELS.filter((l) => l.accept.length > 0).length).toBeGreaterThanOrEqual(30);
  });

  it.each([
    ['real captures', LABELS],
    ['hand-written cases', SYNTHETIC],
  ] as const)('gives every labelled connection an accepted verdict and the labelled origin (with headers): %s', (_name, labels) => {
    expect(labels.length).toBeGreaterThan(0);
    expect(wrongOf(labels, (label) => docOf(label, true))).toEqual([]);
  });

  it.each([4, 16, 64])('keeps every label with the headers thinned to every SYN, FIN and RST and 1 in %i of the others', (n) => {
    // Control packets are all kept, so every forged RST is still seen; what thins is the senders'
    // own packets, i.e. the baselines the forged ones are judged against. Three sampling phases.
    for (const phase of [0, 1, 2]) {
      const byCase = new Map<string, OutputDoc[]>();
      const sampledDocOf = (label: TamperLabel): OutputDoc | undefined => {
        let d = byCase.get(label.case);
        if (d === undefined) {
          const input = loadCase(label.case, true, TAMPERING);
          d = runPipeline({ ...input, headers: thinHeaders(input.headers, n, phase) });
          byCase.set(label.case, d);
        }
        return d.find((x) => x.doc.zeek.session_id === label.uid);
      };
      expect({ phase, wrong: wrongOf(LABELS, sampledDocOf) }).toEqual({ phase, wrong: [] });
    }
  });

  it('places and tags the resets as read from the packets (stage vocabulary)', () => {
    const rstOf = (c: string, uid: string): OutputDoc['doc']['rst'] | undefined => docOf({ root: TAMPERING, case: c, uid, accept: [], origin: null, why: '' }, true)?.doc.rst;
    // Three forged RST+ACKs (one ACK number) right after the ClientHello, later the server's own bare RSTs (ACK 0).
    const tls = rstOf('gfw-tls-rst-centrace', 'CS5j2Yr4DaZfSrned6');
    expect(tls?.stage).toBe('post_psh');
    // rst.phase from where the RST sits, not from the deciding rule (RST-INJ-001 is written for any phase).
    expect(tls?.phase).toBe('data_transfer');
    expect(rstOf('ttl-copy-rst-after-fin-centrace', 'CSQX0owAGpYLCA8RG3')?.phase).toBe('teardown');
    expect(tls?.tags).toEqual(['multiple_rst', 'rst_and_rst_ack', 'ack_zero', 'ack_same']);
    expect(tls?.resets?.map((r) => `${r.sender} ${r.ack ? 'RST+ACK' : 'RST'} ${r.origin}`)).toEqual([
      'responder RST+ACK middlebox',
      'responder RST+ACK middlebox',
      'responder RST+ACK middlebox',
      'responder RST endpoint',
      'responder RST endpoint',
    ]);
    // One bare forged RST with tcp_flags 3844 right after the request.
    const odd = rstOf('isp-blockpage-rst-centrace', 'CSFRVdfxYHLrVMjVW5');
    expect(odd?.stage).toBe('post_psh');
    expect(odd?.tags).toEqual(['single_rst', 'rst_only']);
    expect(odd?.resets?.[0]?.signals).toEqual(['ttl', 'reserved_bits']);
  });

  it('dead-letters no header of the tampering traces', () => {
    // loadCase throws on a header decode would dead-letter (e.g. the forged RST with tcp_flags 3844).
    for (const c of CASES) expect(() => loadCase(c, true, TAMPERING)).not.toThrow();
  });

  function report(labels: readonly TamperLabel[]): { correctWithHeaders: number; total: number } {
    const stats = new Map<string, { tp: number; fp: number; fn: number }>();
    const get = (v: string): { tp: number; fp: number; fn: number } => {
      let st = stats.get(v);
      if (st === undefined) {
        st = { tp: 0, fp: 0, fn: 0 };
        stats.set(v, st);
      }
      return st;
    };
    for (const headers of [true, false]) {
      for (const label of labels.filter((l) => l.accept.length > 0)) {
        const got = docOf(label, headers)?.doc.rst.verdict ?? 'none';
        // An accepted verdict counts for itself; a miss counts against the first accepted one.
        if (label.accept.includes(got)) get(`${got} (headers: ${headers})`).tp++;
        else {
          get(`${label.accept[0] ?? 'none'} (headers: ${headers})`).fn++;
          get(`${got} (headers: ${headers})`).fp++;
        }
      }
    }
    console.table(
      [...stats].map(([verdict, st]) => ({
        verdict,
        support: st.tp + st.fn,
        precision: st.tp + st.fp === 0 ? 1 : st.tp / (st.tp + st.fp),
        recall: st.tp + st.fn === 0 ? 1 : st.tp / (st.tp + st.fn),
      })),
    );
    const correctWithHeaders = [...stats].filter(([k]) => k.endsWith('(headers: true)')).reduce((acc, [, st]) => acc + st.tp, 0);
    return { correctWithHeaders, total: labels.filter((l) => l.accept.length > 0).length };
  }

  it('reports precision and recall per verdict for the real tampering captures', () => {
    const r = report(LABELS);
    expect(r.correctWithHeaders).toBe(r.total);
  });

  it('reports precision and recall per verdict for the hand-written tampering cases', () => {
    const r = report(SYNTHETIC);
    expect(r.correctWithHeaders).toBe(r.total);
  });
});
