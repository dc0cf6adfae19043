/**
 * What a real connection can have. A conn record that passes the type checks can still be
 * absurd (a history with letters Zeek never writes, a duration of centuries, more packets than
 * any link carries): such a record would mislead every rule, so it is bad input, dead-lettered
 * with its own reason (docs/inputs.md, "Bounds").
 */
import type { ConnRecord } from '../domain';
import { problem, type Problem } from './validate';

/**
 * Zeek's history alphabet (base/protocols/conn/main.zeek): s h a d f r c g t w i q, upper case for
 * the originator, lower case for the responder, and `^` when Zeek flipped the direction.
 */
const HISTORY_ALPHABET = /^[\^shadfrcgtwiqSHADFRCGTWIQ]*$/;

/**
 * Longest accepted history. `a d i q` appear once per direction and `c g t w` count
 * logarithmically (the 20th letter would mean 10^19 events); only `s h f r` repeat, once per new
 * sequence number. 1024 letters is far beyond any connection Zeek tracks.
 */
export const MAX_HISTORY_LENGTH = 1024;

/** Ten years: longer than any connection a sensor can have tracked. */
export const MAX_DURATION_US = 10 * 365 * 24 * 3600 * 1_000_000;

/** Per direction, above the line rate of 100 Gbit/s Ethernet with minimum frames (148.8 Mpps). */
export const MAX_PACKETS_PER_S = 200_000_000;

/**
 * Per direction, 400 Gbit/s. Byte counts Zeek infers from sequence numbers can exceed what was
 * sent (a seq jump counts up to 4 GiB at once), so the bound allows that on a zero-length conn.
 */
export const MAX_BYTES_PER_S = 50_000_000_000;

/** The first absurd value of a conn, or undefined when every value is plausible. */
export function connBoundsProblem(c: ConnRecord): Problem | undefined {
  if (c.history !== undefined) {
    if (c.history.length > MAX_HISTORY_LENGTH) return problem('invalid_history', `history has ${c.history.length} letters, more than ${MAX_HISTORY_LENGTH}`);
    if (!HISTORY_ALPHABET.test(c.history)) {
      const odd = c.history.replace(/[\^shadfrcgtwiqSHADFRCGTWIQ]/g, '').slice(0, 16);
      return problem('invalid_history', `history ${JSON.stringify(c.history.slice(0, 64))} has letters outside Zeek's alphabet: ${JSON.stringify(odd)}`);
    }
  }
  const durationUs = c.durationUs ?? 0;
  if (durationUs > MAX_DURATION_US) return problem('absurd_duration', `duration ${durationUs / 1e6} s is longer than ten years`);
  // A duration of 0 still spans one packet; count the conn as lasting at least a second.
  const seconds = Math.max(1, durationUs / 1e6);
  // One check per field, in this order: no arrays or closures per conn (every conn passes here).
  return packets('orig_pkts', c.origPkts, durationUs, seconds) ?? packets('resp_pkts', c.respPkts, durationUs, seconds)
    ?? bytes('orig_bytes', c.origBytes, durationUs, seconds) ?? bytes('resp_bytes', c.respBytes, durationUs, seconds)
    ?? bytes('orig_ip_bytes', c.origIpBytes, durationUs, seconds) ?? bytes('resp_ip_bytes', c.respIpBytes, durationUs, seconds)
    ?? bytes('missed_bytes', c.missedBytes, durationUs, seconds);
}

function packets(name: string, n: number | undefined, durationUs: number, seconds: number): Problem | undefined {
  if (n === undefined || n <= seconds * MAX_PACKETS_PER_S) return undefined;
  return problem('absurd_count', `${name} ${n} in ${durationUs / 1e6} s is more than ${MAX_PACKETS_PER_S} packets per second`);
}

function bytes(name: string, n: number | undefined, durationUs: number, seconds: number): Problem | undefined {
  if (n === undefined || n <= seconds * MAX_BYTES_PER_S) return undefined;
  return problem('absurd_count', `${name} ${n} in ${durationUs / 1e6} s is more than 400 Gbit/s`);
}
