import type { ConnRecord } from '../domain';
import { DEFAULT_SCAN_SETTINGS, PROBE_VERDICTS, SCAN_RULES, alignToWindows, isScanProbe, judgeScan, windowStartMs, type ScanCounts } from './scans';
import { verdictsWhere } from './verdicts';

const none: ScanCounts = { probes: 0, distinctHosts: 0, distinctPorts: 0, portsOnOneHost: 0, backscatter: 0, backscatterPeers: 0, sourcePorts: 0 };
const s = DEFAULT_SCAN_SETTINGS;

describe('scan rules', () => {
  it('are data with ids, rationale and references', () => {
    const ids = SCAN_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of SCAN_RULES) {
      expect(r.id).toMatch(/^SCAN-[A-Z]{3}-\d{3}$/);
      expect(r.rationale.length).toBeGreaterThan(40);
      expect(r.refs.length).toBeGreaterThan(0);
    }
  });

  it('a port scan: 15 distinct ports on one host; 14 is not', () => {
    expect(judgeScan({ ...none, probes: 15, distinctHosts: 1, distinctPorts: 15, portsOnOneHost: 15, sourcePorts: 1 }, s)).toMatchObject({ kind: 'port_scan', scanner: true, rules: ['SCAN-PRT-001'] });
    // 14 ports on each of two hosts: 28 distinct ports overall, but no host reached 15.
    expect(judgeScan({ ...none, probes: 28, distinctHosts: 2, distinctPorts: 28, portsOnOneHost: 14, sourcePorts: 28 }, s)).toMatchObject({ kind: undefined, scanner: false, rules: [] });
  });

  it('a sweep: 25 distinct hosts; both when both hold', () => {
    expect(judgeScan({ ...none, probes: 25, distinctHosts: 25, distinctPorts: 1, portsOnOneHost: 1, sourcePorts: 1 }, s)).toMatchObject({ kind: 'sweep', scanner: true });
    expect(judgeScan({ ...none, probes: 24, distinctHosts: 24, distinctPorts: 1, portsOnOneHost: 1, sourcePorts: 24 }, s).kind).toBeUndefined();
    expect(judgeScan({ ...none, probes: 39, distinctHosts: 25, distinctPorts: 16, portsOnOneHost: 15, sourcePorts: 39 }, s)).toMatchObject({ kind: 'both', scanner: true, rules: ['SCAN-PRT-001', 'SCAN-SWP-001'] });
  });

  it('backscatter is never a scanner, even when its forged-in-its-name probes make a sweep', () => {
    // A flood victim answering from port 80: 30 unsolicited RSTs to 30 peers, and 26 ShR that look like a sweep.
    const victim: ScanCounts = { probes: 26, distinctHosts: 26, distinctPorts: 1, portsOnOneHost: 1, backscatter: 30, backscatterPeers: 30, sourcePorts: 1 };
    const j = judgeScan(victim, s);
    expect(j).toMatchObject({ kind: 'backscatter', scanner: false, rules: ['SCAN-SWP-001', 'SCAN-BSC-001'] });
    expect(j.explanation).toContain('never a scanner');
    // The same probes without the backscatter would be a sweep: the rule is what spares it.
    expect(judgeScan({ ...victim, backscatter: 0, backscatterPeers: 0 }, s)).toMatchObject({ kind: 'sweep', scanner: true });
    // Two source ports (80 and 443) still are a service answering; three are not.
    expect(judgeScan({ ...none, backscatter: 40, backscatterPeers: 40, sourcePorts: 2 }, s)).toMatchObject({ kind: 'backscatter', scanner: false });
    expect(judgeScan({ ...victim, sourcePorts: 3 }, s)).toMatchObject({ kind: 'sweep', scanner: true });
    // Few peers: not the many-peers signature, so a scanner stays a scanner.
    expect(judgeScan({ ...victim, backscatter: 24, backscatterPeers: 24 }, s)).toMatchObject({ kind: 'sweep', scanner: true });
  });
});

describe('scan probes', () => {
  const base: ConnRecord = { tsUs: 0, uid: 'C1', origH: '10.0.0.1', origP: 1, respH: '10.0.0.2', respP: 2, proto: 'tcp', communityId: '1:x', source: { kind: 'file', path: 'x', line: 1 } };
  it('are the probe verdicts and unanswered SYNs', () => {
    expect(isScanProbe(base, 'half_open_scan')).toBe(true);
    expect(isScanProbe(base, 'connect_scan')).toBe(true);
    expect(isScanProbe(base, 'closed_port')).toBe(true);
    expect(isScanProbe(base, 'policy_reject')).toBe(true);
    expect(isScanProbe(base, 'backscatter')).toBe(false);
    expect(isScanProbe(base, 'client_abort')).toBe(false);
    expect(isScanProbe({ ...base, connState: 'S0', history: 'S' }, undefined)).toBe(true);
    expect(isScanProbe({ ...base, connState: 'S0', history: 'SS' }, undefined)).toBe(false); // docs/scans.md: history exactly S
    expect(isScanProbe({ ...base, proto: 'udp', connState: 'S0', history: 'S' }, undefined)).toBe(false);
    expect(isScanProbe({ ...base, connState: 'SF', history: 'ShADadFf' }, undefined)).toBe(false);
  });
});

describe('windows', () => {
  it('are aligned to the epoch', () => {
    expect(windowStartMs(Date.parse('2024-03-21T15:04:59.999Z'), 300)).toBe(Date.parse('2024-03-21T15:00:00Z'));
    expect(alignToWindows(Date.parse('2024-03-21T15:01:00Z'), Date.parse('2024-03-21T15:05:00.001Z'), 300)).toEqual({
      fromMs: Date.parse('2024-03-21T15:00:00Z'),
      toMs: Date.parse('2024-03-21T15:10:00Z'),
    });
    const t = Date.parse('2024-03-21T15:00:00Z');
    expect(alignToWindows(t, t, 300)).toEqual({ fromMs: t, toMs: t + 300_000 });
  });
});

describe('probe verdicts', () => {
  it('are the scan probes of the verdict table (one place for what a verdict is)', () => {
    expect([...PROBE_VERDICTS].sort()).toEqual(verdictsWhere('scanProbe').sort());
  });
});
