/**
 * HistoryFacts: what the conn record and its history letters say (history.ts): the sides'
 * handshake and data letters, malformed packets, retransmissions and checksums before the RST,
 * the weirds.
 */
import type { HistoryFacts, Side } from '../../domain';
import { hasLetter, logarithmicLowerBound } from '../history';
import { beforeFirstRst, type FactInput } from './input';

/** Zeek's checksum weird for TCP. */
export const CHECKSUM_WEIRDS: ReadonlySet<string> = new Set(['bad_TCP_checksum']);

/**
 * Zeek's weirds for a segment whose sequence number (`TCP_seq_underflow_or_misorder`) or
 * acknowledgement (`TCP_ack_underflow_or_misorder`) lies below what the endpoint had already
 * sent or acknowledged: a retransmission, a reordered segment, or capture loss before Zeek saw
 * the sequence start. A weird names no side and capture loss raises it too, so it only corroborates.
 */
export const RETRANSMISSION_WEIRDS: ReadonlySet<string> = new Set(['TCP_seq_underflow_or_misorder', 'TCP_ack_underflow_or_misorder']);

/**
 * Zeek's weirds for a SYN with illegal flags (TCPSessionAdapter's SYN checks): `baroque_SYN` for
 * SYN+URG, which no history letter records, and `TCP_christmas` for SYN+RST (also history `Q`).
 * They name no side: they stand for the originator's SYN only when the responder sent none.
 */
export const MALFORMED_SYN_WEIRDS: ReadonlySet<string> = new Set(['baroque_SYN', 'TCP_christmas']);

export function historyFacts(input: FactInput): HistoryFacts {
  const { conn: c, history: h, firstRIndex, sender } = input;
  const origSyn = hasLetter(h, 'originator', 's');
  const respSynAck = hasLetter(h, 'responder', 'h');
  // D/d say whether data was exchanged; byte counts are inferred from sequence numbers and can
  // span a content gap (an ACK of data never seen), so they count only without a history.
  const noHistory = h.events.length === 0;
  const origData = hasLetter(h, 'originator', 'd') || (noHistory && (c.origBytes ?? 0) > 0);
  const respData = hasLetter(h, 'responder', 'd') || (noHistory && (c.respBytes ?? 0) > 0);
  const nonRst = (side: Side): boolean => h.events.some((e) => e.side === side && e.letter !== 'r');
  const malformed = h.events.find((e) => e.side === 'originator' && (e.letter === 'q' || e.letter === 'i') && (firstRIndex < 0 || e.index < firstRIndex));
  const senderT = sender === undefined ? 0 : h.events.filter((e) => e.side === sender && e.letter === 't' && (firstRIndex < 0 || e.index < firstRIndex)).length;
  const checksumHistory = beforeFirstRst(input, 'c');
  const checksumWeird = [...CHECKSUM_WEIRDS].some((n) => input.weirdSet.has(n));
  const retransmissionWeirds = input.weirdNames.filter((n) => RETRANSMISSION_WEIRDS.has(n));
  const malformedSynWeirds = origSyn && !respSynAck ? input.weirdNames.filter((n) => MALFORMED_SYN_WEIRDS.has(n)) : [];
  const missed = c.missedBytes ?? 0;
  return {
    tcp: c.proto === 'tcp',
    observer: c.observer,
    history: h.raw,
    connState: c.connState ?? '-',
    durationS: c.durationUs === undefined ? undefined : c.durationUs / 1e6,
    origPkts: c.origPkts,
    respPkts: c.respPkts,
    origBytes: c.origBytes ?? 0,
    respBytes: c.respBytes ?? 0,
    origSyn,
    origData,
    respData,
    payloadEitherWay: origData || respData,
    established: (origSyn && respSynAck) || (nonRst('originator') && nonRst('responder')),
    malformedSynHistory: malformed !== undefined,
    malformedLetter: malformed === undefined ? undefined : malformed.letter === 'q' ? 'Q' : 'I',
    malformedSynWeird: malformedSynWeirds.length === 0 ? undefined : malformedSynWeirds.join(','),
    retransmitsRepeatedly: senderT >= 2,
    senderRetransmitLetters: senderT,
    senderRetransmissionsAtLeast: logarithmicLowerBound(senderT),
    checksumSignal: checksumHistory || checksumWeird,
    checksumSource: checksumHistory ? 'history C/c' : checksumWeird ? 'weird bad_TCP_checksum' : undefined,
    retransmissionWeird: retransmissionWeirds.length === 0 ? undefined : retransmissionWeirds.join(','),
    weirdNames: input.weirdNames.length === 0 ? undefined : input.weirdNames.join(','),
    gapIsWholeByteCount:
      (hasLetter(h, 'originator', 'g') || hasLetter(h, 'responder', 'g')) && missed > 0 && (missed === (c.origBytes ?? -1) || missed === (c.respBytes ?? -1)),
  };
}
