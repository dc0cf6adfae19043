/**
 * Crafted cases (test/fixtures/classify/crafted/*.json): real corpus records edited to reach the
 * verdicts the corpus lacks. Each file's `comment` says what was changed and why the verdict
 * follows; its `expect` was written from that reasoning.
 */
import { readdirSync } from 'node:fs';
import { CRAFTED, loadCrafted, runPipeline } from '../../test/corpus/classify-corpus';

const files = readdirSync(CRAFTED).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));

describe('crafted cases', () => {
  it.each(files)('%s', (name) => {
    const { fixture, input, settings } = loadCrafted(name);
    for (const evidenceLast of [false, true]) {
      const doc = runPipeline(input, settings, evidenceLast).find((d) => d.doc.zeek.session_id === fixture.expect.uid);
      expect(doc?.doc.rst.verdict).toBe(fixture.expect.verdict);
      for (const rule of fixture.expect.rules ?? []) expect(doc?.doc.rst.rules).toContain(rule);
      if (fixture.expect.origin !== undefined) expect(doc?.doc.rst.origin).toBe(fixture.expect.origin);
      if (fixture.expect.device !== undefined) expect(doc?.doc.rst.device?.name).toBe(fixture.expect.device);
      if (fixture.expect.stage !== undefined) expect(doc?.doc.rst.stage).toBe(fixture.expect.stage);
      if (fixture.expect.tags !== undefined) expect(doc?.doc.rst.tags).toEqual(fixture.expect.tags);
    }
  });

  it('lowers confidence when RR is only a hint', () => {
    const plain = loadCrafted('checksum-rst');
    const hinted = loadCrafted('rr-hint');
    const base = runPipeline(plain.input, plain.settings).find((d) => d.doc.zeek.session_id === plain.fixture.expect.uid);
    const rr = runPipeline(hinted.input, hinted.settings).find((d) => d.doc.zeek.session_id === hinted.fixture.expect.uid);
    // Both are the same connection; client_abort's own confidence is 0.65, the hint takes 0.15 off.
    expect(rr?.doc.rst.confidence).toBeCloseTo(0.5, 5);
    expect(base?.doc.rst.verdict).toBe('retransmission_failure');
  });

  it('takes misorder weirds as corroboration of a retransmission verdict, never as a verdict of their own', () => {
    const misorder = loadCrafted('retransmission-failure-misorder');
    const doc = runPipeline(misorder.input, misorder.settings).find((d) => d.doc.zeek.session_id === misorder.fixture.expect.uid);
    // RST-RTX-001's own confidence is 0.7; one corroborating row of the same verdict adds 0.05.
    expect(doc?.doc.rst.confidence).toBeCloseTo(0.75, 5);
    // The same weird on a server abort (ShADar: one retransmission at most, no checksum signal) changes nothing.
    const abort = loadCrafted('server-abort');
    const weird = misorder.input.weirds[0];
    if (weird === undefined) throw new Error('the misorder fixture has no weird');
    const conn = abort.input.conns[0];
    if (conn === undefined) throw new Error('the server-abort fixture has no conn');
    const withWeird = { ...abort.input, weirds: [{ ...weird, uid: conn.uid, tsUs: conn.tsUs, origH: conn.origH, origP: conn.origP, respH: conn.respH, respP: conn.respP }] };
    const plain = runPipeline(abort.input, abort.settings).find((d) => d.doc.zeek.session_id === conn.uid);
    const weirded = runPipeline(withWeird, abort.settings).find((d) => d.doc.zeek.session_id === conn.uid);
    expect(weirded?.doc.zeek.weird?.names).toEqual(['TCP_seq_underflow_or_misorder']);
    expect(weirded?.doc.rst.verdict).toBe('server_abort');
    expect(weirded?.doc.rst.rules).toEqual(plain?.doc.rst.rules);
    expect(weirded?.doc.rst.confidence).toBe(plain?.doc.rst.confidence);
  });

  it('reads an illegal-SYN weird as the originator\'s only while the responder sent no SYN-ACK', () => {
    // The same weird on a SYN scan probe (ShR): the responder's SYN-ACK may be the packet that
    // carried URG, so the weird proves nothing about the originator's SYN.
    const malformed = loadCrafted('malformed-syn-weird');
    const weird = malformed.input.weirds[0];
    const scan = loadCrafted('zmap-half-open-scan');
    const conn = scan.input.conns.find((c) => c.uid === scan.fixture.expect.uid);
    if (weird === undefined || conn === undefined) throw new Error('the malformed-syn-weird or zmap fixture changed');
    const withWeird = { ...scan.input, weirds: [{ ...weird, uid: conn.uid, tsUs: conn.tsUs, origH: conn.origH, origP: conn.origP, respH: conn.respH, respP: conn.respP }] };
    const doc = runPipeline(withWeird, scan.settings).find((d) => d.doc.zeek.session_id === conn.uid);
    expect(doc?.doc.zeek.weird?.names).toEqual(['baroque_SYN']);
    expect(doc?.doc.rst.verdict).toBe('half_open_scan');
    expect(doc?.doc.rst.rules).not.toContain('RST-SYN-003');
  });

  it('reads D/d letters, not byte counts, for "data was exchanged" (a content gap inflates resp_bytes)', () => {
    const { fixture, input, settings } = loadCrafted('forged-synack-server-side-no-headers');
    const doc = runPipeline(input, settings).find((d) => d.doc.zeek.session_id === fixture.expect.uid);
    expect(doc?.classification.facts.respBytes).toBe(257271245);
    expect(doc?.classification.facts.respData).toBe(false);
    expect(doc?.classification.facts.origData).toBe(true);
  });
});
