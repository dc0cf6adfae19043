/** One line per verdict for people: the opening of `rst.explanation` (docs/verdicts.md). */
import type { Verdict } from '../domain';

export const VERDICT_MEANING: Readonly<Record<Verdict, string>> = Object.freeze({
  closed_port: 'The responder refused the SYN because nothing listens on the port',
  policy_reject: 'A firewall or ACL refused the SYN on behalf of the responder',
  accept_queue_overflow: 'The server reset the connection right after the handshake, as a full listen backlog does',
  time_wait_reuse: 'A SYN on a 4-tuple that was still in TIME_WAIT (or otherwise still known to the responder) was reset',
  malformed_syn: 'A SYN with illegal extra flags was reset',
  half_open_scan: 'A SYN scan probe: the originator answered the SYN-ACK with RST instead of ACK',
  connect_scan: 'A connect scan probe: full handshake, then an immediate client RST without data',
  client_abort: 'The originator aborted an established session',
  server_abort: 'The responder aborted an established session',
  retransmission_failure: 'A side gave up with RST after repeated retransmissions or corrupted segments',
  idle_timeout: 'The session was reset after a long silence (idle timeout)',
  teardown_reset: 'The session was reset after a FIN instead of closing cleanly',
  policy_reset: 'A configured firewall or IPS reset the established session',
  injected_reset: 'A middlebox forged the RST in the name of an endpoint',
  backscatter: 'An unsolicited RST with no SYN seen (reply to spoofed traffic or asymmetric routing)',
  unclassified_reset: 'A RST that no rule explains',
});
