/**
 * The verdict table, in one place: per verdict its one line for people (the opening of
 * `rst.explanation`, docs/verdicts.md) and what it is: a scan probe (`rst.scan.probe`, the scan
 * summaries), a policy action (a firewall or IPS acting: the policy view of the index templates),
 * a denial (the connection attempt was refused, not a session ended). Adding a verdict is a row
 * here (and in domain.ts's closed set, which the type check ties to this table).
 */
import type { Verdict } from '../domain';

export interface VerdictRow {
  readonly meaning: string;
  readonly scanProbe: boolean;
  readonly policyAction: boolean;
  readonly denial: boolean;
}

const row = (meaning: string, flags: Partial<Omit<VerdictRow, 'meaning'>> = {}): VerdictRow =>
  Object.freeze({ meaning, scanProbe: flags.scanProbe ?? false, policyAction: flags.policyAction ?? false, denial: flags.denial ?? false });

export const VERDICT_TABLE: Readonly<Record<Verdict, VerdictRow>> = Object.freeze({
  closed_port: row('The responder refused the SYN because nothing listens on the port', { scanProbe: true, denial: true }),
  policy_reject: row('A firewall or ACL refused the SYN on behalf of the responder', { scanProbe: true, policyAction: true, denial: true }),
  accept_queue_overflow: row('The server reset the connection right after the handshake, as a full listen backlog does', { denial: true }),
  time_wait_reuse: row('A SYN on a 4-tuple that was still in TIME_WAIT (or otherwise still known to the responder) was reset', { denial: true }),
  malformed_syn: row('A SYN with illegal extra flags was reset', { denial: true }),
  half_open_scan: row('A SYN scan probe: the originator answered the SYN-ACK with RST instead of ACK', { scanProbe: true }),
  connect_scan: row('A connect scan probe: full handshake, then an immediate client RST without data', { scanProbe: true }),
  client_abort: row('The originator aborted an established session'),
  server_abort: row('The responder aborted an established session'),
  retransmission_failure: row('A side gave up with RST after repeated retransmissions or corrupted segments'),
  idle_timeout: row('The session was reset after a long silence (idle timeout)'),
  teardown_reset: row('The session was reset after a FIN instead of closing cleanly'),
  policy_reset: row('A configured firewall or IPS reset the established session', { policyAction: true }),
  injected_reset: row('A middlebox forged the RST in the name of an endpoint'),
  backscatter: row('An unsolicited RST with no SYN seen (reply to spoofed traffic or asymmetric routing)'),
  unclassified_reset: row('A RST that no rule explains'),
});

/** One line per verdict for people: the opening of `rst.explanation` (docs/verdicts.md). */
export const VERDICT_MEANING: Readonly<Record<Verdict, string>> = Object.freeze(
  Object.fromEntries(Object.entries(VERDICT_TABLE).map(([v, r]) => [v, r.meaning])) as Record<Verdict, string>,
);

/** The verdicts with one property set, in the table's order. */
export function verdictsWhere(property: 'scanProbe' | 'policyAction' | 'denial'): Verdict[] {
  return (Object.keys(VERDICT_TABLE) as Verdict[]).filter((v) => VERDICT_TABLE[v][property]);
}
