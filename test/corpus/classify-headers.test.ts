/**
 * The same corpus with and without its header samples: with headers, every reset whose RST packet
 * was sampled gets an origin (endpoint or middlebox); without, origin is unknown and no rule that
 * needs headers is claimed.
 */
import { RULES } from '../../src/classify/rules';
import { loadCase, runPipeline } from './classify-corpus';

const CASES = [
  'pop3-rej',
  'modbus-p502-scan-rst',
  'teredo-orphan-rst',
  'retransmit-then-rst',
  'pop3-fin-then-rst',
  'ldap-idle-client-rst',
  'ftp-auth-tls-server-rst',
  'http-to-ssh-server-rst',
  'irc-starttls-teardown-rst',
  'imap-starttls-teardown-rst',
  'ssh-server-rst',
];
const HEADER_RULES = new Set(RULES.filter((r) => r.needsHeaders).map((r) => r.id));

describe('classification with and without headers', () => {
  it.each(CASES)('%s: with headers, every sampled RST has an origin', (c) => {
    const resets = runPipeline(loadCase(c, true)).filter((d) => d.doc.rst.present);
    expect(resets.length).toBeGreaterThan(0);
    for (const d of resets) {
      // These traces are complete: every RST packet is in the header file.
      expect({ uid: d.doc.zeek.session_id, sampled: d.doc.rst.headers?.sampled }).toEqual({ uid: d.doc.zeek.session_id, sampled: true });
      expect(['endpoint', 'middlebox']).toContain(d.doc.rst.origin);
    }
  });

  it.each(CASES)('%s: without headers, origin is unknown and no header rule fires', (c) => {
    for (const d of runPipeline(loadCase(c, false)).filter((x) => x.doc.rst.present)) {
      expect(d.doc.rst.origin).toBe('unknown');
      expect(d.doc.rst.headers?.sampled).toBe(false);
      expect((d.doc.rst.rules ?? []).filter((id) => HEADER_RULES.has(id))).toEqual([]);
    }
  });

  it('finds middlebox resets only where the traffic shows them (teredo TTL 255, ldap TTL 251)', () => {
    const middlebox = CASES.flatMap((c) =>
      runPipeline(loadCase(c, true))
        .filter((d) => d.doc.rst.origin === 'middlebox')
        .map((d) => `${c}/${d.doc.zeek.session_id}`),
    ).sort();
    expect(middlebox).toEqual(
      ['ldap-idle-client-rst/CHhAvVGS1DHFjwGM9', 'teredo-orphan-rst/C1Xkzz2MaGtLrc1Tla', 'teredo-orphan-rst/C7fIlMZDuRiqjpYbb', 'teredo-orphan-rst/CykQaM33ztNt0csB9a'].sort(),
    );
  });
});
