/**
 * Sampled gaps are not silence (issue 16, point 7): idle_timeout is decided from a header gap only
 * when the gap cannot be a sampling artefact. The same traces, thinned as a 1-in-N sampler with
 * control packets always kept would thin them.
 */
import { TCP_FLAGS } from '../../src/domain';
import { IDLE_TRIGGER_MAX_S, idleGapBefore, samplingGapOdds } from '../../src/classify/facts/baselines';
import { loadCase, loadCrafted, runPipeline, thinHeaders, type CaseInput } from './classify-corpus';

function verdictOf(input: CaseInput, uid: string): string | undefined {
  return runPipeline(input).find((d) => d.doc.zeek.session_id === uid)?.doc.rst.verdict;
}

describe('idle gaps under sampling', () => {
  it('keeps the real idle timeout of ldap-idle-client-rst when its headers are thinned (181 s of real silence)', () => {
    const full = loadCase('ldap-idle-client-rst', true);
    expect(verdictOf(full, 'CHhAvVGS1DHFjwGM9')).toBe('idle_timeout');
    for (const n of [2, 3, 9]) expect({ n, verdict: verdictOf({ ...full, headers: thinHeaders(full.headers, n) }, 'CHhAvVGS1DHFjwGM9') }).toEqual({ n, verdict: 'idle_timeout' });
  });

  it('does not take a sampling gap of a busy flow for silence', () => {
    // The ldap conn made busy: 1000 packets over 600 s, sampled 1 in ~140 (7 data headers), the
    // last data sample 150 s before the client's RST (threshold 120 s).
    const real = loadCase('ldap-idle-client-rst', true);
    const conn = real.conns.find((c) => c.uid === 'CHhAvVGS1DHFjwGM9');
    if (conn === undefined) throw new Error('no ldap conn');
    const t0 = conn.tsUs;
    const [syn, synAck, ack] = real.headers;
    const data = real.headers.find((h) => h.payloadLen > 0 && h.srcIp === conn.origH);
    const rst = real.headers.find((h) => (h.tcpFlags & TCP_FLAGS.RST) !== 0);
    if (syn === undefined || synAck === undefined || ack === undefined || data === undefined || rst === undefined) throw new Error('ldap headers changed');
    const samples = [0, 1, 2, 3, 4, 5, 6].map((i) => ({ ...data, tsUs: t0 + 1e6 + i * 74e6 }));
    const busy: CaseInput = {
      conns: [{ ...conn, durationUs: 600e6, origPkts: 600, respPkts: 400 }],
      weirds: [],
      headers: [syn, synAck, ack, ...samples, { ...rst, tsUs: t0 + 600e6 }],
    };
    const doc = runPipeline(busy).find((d) => d.doc.zeek.session_id === conn.uid);
    expect(doc?.classification.facts.idleBeforeS).toBeGreaterThan(120);
    expect(doc?.classification.facts.idleGapArtefactOdds).toBeGreaterThan(0.01);
    expect(doc?.doc.rst.verdict).not.toBe('idle_timeout');
  });

  it('computes the odds from the flow\'s own rate and the sampling ratio', () => {
    const h = (tcpFlags: number): { tcpFlags: number } => ({ tcpFlags });
    // Complete headers: no artefact.
    expect(samplingGapOdds([h(2), h(18), h(16), h(4)], 4, 200, 150)).toBe(0);
    // No non-control packet sampled: the gap says nothing.
    expect(samplingGapOdds([h(2), h(18), h(4)], 100, 200, 150)).toBe(1);
    // 11 packets (3 control), 4 of the 8 others sampled (p = 1/2), one per 50/11 s outside a 150 s
    // gap: the gap would hold 33 packets, all unsampled with odds 2^-33.
    expect(samplingGapOdds([h(2), h(18), h(4), h(16), h(16), h(16), h(16)], 11, 200, 150)).toBeCloseTo(0.5 ** 33, 14);
  });

  describe('a RST that answers the first packet after the silence', () => {
    // idle-timeout-trigger-middlebox: 181 s of silence, a client data segment, 0.5 ms later a
    // middlebox RST in the server's name (the fixture's comment gives the edit).
    const crafted = loadCrafted('idle-timeout-trigger-middlebox');
    const uid = crafted.fixture.expect.uid;
    const headers = crafted.input.headers;
    const rst = headers.find((h) => (h.tcpFlags & TCP_FLAGS.RST) !== 0);
    const trigger = headers[headers.length - 2];
    if (rst === undefined || trigger === undefined || trigger.payloadLen !== 20) throw new Error('the trigger fixture changed');
    const docOf = (input: CaseInput): ReturnType<typeof runPipeline>[number] | undefined => runPipeline(input, crafted.settings).find((d) => d.doc.zeek.session_id === uid);

    it('measures the same silence whether the client\'s packet was sampled or not', () => {
      const sampled = docOf(crafted.input);
      const unsampled = docOf({ ...crafted.input, headers: headers.filter((h) => h !== trigger) });
      // 456.100630 (the client's last ACK) -> 637.560943 (its packet after the silence): 181.460 s.
      expect(sampled?.doc.rst.idle_before_s).toBeCloseTo(181.46, 2);
      expect(unsampled?.doc.rst.idle_before_s).toBeCloseTo(181.46, 2);
      expect(sampled?.doc.rst.verdict).toBe('idle_timeout');
      expect(unsampled?.doc.rst.verdict).toBe('idle_timeout');
      expect(sampled?.doc.rst.evidence?.find((e) => e.rule === 'RST-IDL-001')?.text).toContain("answering the originator's first packet after it (0.001 s before the RST)");
    });

    it('is no longer idle when the resetting side spoke after the silence', () => {
      // The server acknowledges the client's segment before the RST: the session was alive.
      const ack = { ...trigger, srcIp: rst.srcIp, dstIp: rst.dstIp, srcPort: rst.srcPort, dstPort: rst.dstPort, ipTtl: 124, ipId: 11895, tcpFlags: TCP_FLAGS.ACK, payloadLen: 0, tsUs: trigger.tsUs + 200 };
      const alive = docOf({ ...crafted.input, headers: [...headers.slice(0, -1), ack, rst] });
      expect(alive?.doc.rst.idle_before_s).toBeLessThan(1);
      expect(alive?.doc.rst.verdict).toBe('injected_reset');
    });

    it('takes the gap before the peer\'s packets only within the trigger span and from the threshold on', () => {
      const sided = headers.map((h) => ({ side: h.srcIp === rst.srcIp ? ('responder' as const) : ('originator' as const), h }));
      expect(idleGapBefore(headers, sided, rst, 'responder', 120)?.trigger?.packets).toBe(1);
      // A threshold above the silence: the gap stays the one right before the RST (0.5 ms).
      expect(idleGapBefore(headers, sided, rst, 'responder', 200)).toEqual({ gapS: 0.0005, trigger: undefined });
      // The RST more than IDLE_TRIGGER_MAX_S after the client's packet does not answer it.
      const late = { ...rst, tsUs: trigger.tsUs + (IDLE_TRIGGER_MAX_S + 1) * 1e6 };
      expect(idleGapBefore([...headers.slice(0, -1), late], sided.slice(0, -1), late, 'responder', 120)).toEqual({ gapS: IDLE_TRIGGER_MAX_S + 1, trigger: undefined });
      // Unknown sender: only the gap at the RST.
      expect(idleGapBefore(headers, sided, rst, undefined, 120)?.trigger).toBeUndefined();
    });
  });
});
