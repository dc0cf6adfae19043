/**
 * ReuseFacts: the 4-tuple's previous connection and Zeek's reuse weirds (time_wait_reuse), and
 * whether the responder answered as for a connection it does not know (mid-stream `Dr`).
 */
import { TCP_FLAGS, type ConnState, type ReuseFacts } from '../../domain';
import { isRst } from '../../correlate/baseline';
import { countLetter, hasLetter, parseHistory } from '../history';
import type { ClassifySettings } from '../settings';
import type { FactInput } from './input';

/** Weirds Zeek raises when a SYN reuses a 4-tuple it still tracks (docs/verdicts.md, time_wait_reuse). */
export const REUSE_WEIRDS: ReadonlySet<string> = new Set(['active_connection_reuse', 'SYN_after_close', 'SYN_after_reset', 'SYN_seq_jump']);
/** Raised for a SYN after a RST, but also for the responder's SYN-ACK retransmitted after its own RST. */
export const SYN_AFTER_RESET_WEIRD = 'SYN_after_reset';

/** conn_states that mean "established, then closed or reset" for a previous connection. */
const CLOSED_STATES: ReadonlySet<ConnState> = new Set(['SF', 'S2', 'S3', 'RSTO', 'RSTR']);

function previousEstablishedClosed(state: ConnState | undefined, history: string | undefined): boolean {
  if (state === undefined || !CLOSED_STATES.has(state)) return false;
  const h = parseHistory(history);
  return hasLetter(h, 'originator', 's') && hasLetter(h, 'responder', 'h') && (hasLetter(h, 'originator', 'a') || hasLetter(h, 'originator', 'd'));
}

export function reuseFacts(input: FactInput, settings: ClassifySettings): ReuseFacts {
  const { conn: c, sided, deciding } = input;
  // SYN_after_reset is also raised by the responder retransmitting its SYN-ACK after its own RST:
  // it means reuse only with a new SYN from the originator (a second S: Zeek logs S again only for
  // a new sequence number; or a sampled originator SYN after a sampled RST).
  const firstRstTs = Math.min(...sided.filter((x) => isRst(x.h)).map((x) => x.h.tsUs));
  const newSynAfterRst =
    countLetter(input.history, 'originator', 's') >= 2 ||
    sided.some((x) => x.side === 'originator' && (x.h.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN && x.h.tsUs > firstRstTs);
  const prev = input.corr.previousClose;
  const previousCloseAgoS = prev === undefined ? undefined : (c.tsUs - prev.closedTsUs) / 1e6;
  const prevClosed = prev !== undefined && previousEstablishedClosed(prev.connState, prev.history);
  const lastOrigBeforeRst =
    deciding === undefined
      ? undefined
      : sided.filter((x) => x.side === 'originator' && x.h.tsUs <= deciding.header.tsUs && !isRst(x.h) && (x.h.tcpFlags & TCP_FLAGS.ACK) !== 0).pop()?.h;
  const bareRstForSegment =
    deciding !== undefined && deciding.side === 'responder' && !deciding.hasAck && lastOrigBeforeRst !== undefined && deciding.header.seq === lastOrigBeforeRst.ack;
  const unknownConnectionReason = bareRstForSegment
    ? `a bare RST with seq ${deciding.header.seq}, the ACK of the originator's segment before it`
    : prev !== undefined && prev.closedTsUs <= c.tsUs
      ? `the previous connection on this 4-tuple (${prev.connState ?? '-'}) had ended before`
      : undefined;
  return {
    reuseWeird: input.weirdNames.find((n) => REUSE_WEIRDS.has(n) && (n !== SYN_AFTER_RESET_WEIRD || newSynAfterRst)),
    previousUid: prev?.uid,
    previousState: prev?.connState,
    previousCloseAgoS,
    twoMslS: settings.twoMslS,
    reuseWithin2Msl: prevClosed && previousCloseAgoS !== undefined && previousCloseAgoS < settings.twoMslS,
    rstForUnknownConnection: unknownConnectionReason !== undefined,
    unknownConnectionReason,
  };
}
