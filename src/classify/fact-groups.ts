/**
 * The facts, in typed groups (docs/architecture.md, "Rules as data"): `Facts` is their
 * intersection, flat so that evidence templates name any fact. Computed once per connection by
 * facts.ts `deriveEvidence`; types only here.
 */
import type { Origin, Sender } from '../domain';
import type { Side } from './history';

/** What the conn record and its history letters say (history.ts): sides, data, payload, retransmission and checksum letters, weirds. */
export interface HistoryFacts {
  readonly tcp: boolean;
  readonly observer: string;
  readonly history: string;
  readonly flipped: boolean;
  readonly connState: string;
  readonly durationS: number | undefined;
  readonly origPkts: number | undefined;
  readonly respPkts: number | undefined;
  readonly origBytes: number;
  readonly respBytes: number;
  readonly origSyn: boolean;
  readonly origData: boolean;
  readonly respData: boolean;
  readonly payloadEitherWay: boolean;
  /** Handshake seen (S then h), or both sides sent something other than a RST. */
  readonly established: boolean;
  readonly malformedSynHistory: boolean;
  /** The history letter of the malformed originator packet. */
  readonly malformedLetter: 'Q' | 'I' | undefined;
  readonly retransmitsRepeatedly: boolean;
  /** `T`/`t` letters of the RST sender before its RST (logarithmic: 2 letters = >= 10). */
  readonly senderRetransmitLetters: number;
  readonly senderRetransmissionsAtLeast: number;
  readonly checksumSignal: boolean;
  readonly checksumSource: 'history C/c' | 'weird bad_TCP_checksum' | undefined;
  readonly weirdNames: string | undefined;
  /** Without headers: a content gap (g/G) whose missed bytes equal a side's byte count, i.e. the bytes were inferred from an ACK, not seen. */
  readonly gapIsWholeByteCount: boolean;
}

/** Where the RSTs sit: who reset first, what came before, the shapes of the decision order. */
export interface RstPositionFacts {
  /** A RST is in the history or among the sampled headers. */
  readonly rstPresent: boolean;
  readonly rstSender: Sender;
  /** Who sent the first RST (history first, headers when the history has none). */
  readonly firstRstBy: Side | 'unknown';
  /** `R` + `r` letters: each is a RST with a new sequence number. */
  readonly rstLettersHistory: number;
  /** `RR` or `rr`: one side reset twice with different sequence numbers (a hint only without headers). */
  readonly repeatedRstHistory: boolean;
  /** RSTs: the larger of the history letters and the sampled RST packets. */
  readonly rstCount: number;
  readonly finBeforeRst: boolean;
  /** The RST answers a SYN: conn_state REJ, or originator SYN answered by a responder RST before any SYN-ACK or data. */
  readonly rstAnswersSyn: boolean;
  /** `ShAr`: handshake done, responder RST, no payload, no FIN. */
  readonly acceptQueueShape: boolean;
  /** `ShR`: SYN, SYN-ACK, originator RST, no ACK and no payload. */
  readonly halfOpenScanShape: boolean;
  /** `ShAR` / `ShAFR`: full handshake then originator RST, no payload, short. */
  readonly connectScanShape: boolean;
  /** `SaR`: SYN answered by a bare ACK (no SYN-ACK), originator RST, nothing else. */
  readonly challengeAckShape: boolean;
  /** `Dr` mid-stream: originator data, the responder's RST first, no SYN and no SYN-ACK seen. */
  readonly midStreamData: boolean;
  /** No SYN from the originator and no payload either way: only resets (and handshake replies). */
  readonly noSynOnlyResets: boolean;
}

/** The 4-tuple's previous connection and the reuse weirds (time_wait_reuse, mid-stream Dr). */
export interface ReuseFacts {
  readonly reuseWeird: string | undefined;
  readonly previousUid: string | undefined;
  readonly previousState: string | undefined;
  readonly previousCloseAgoS: number | undefined;
  readonly twoMslS: number;
  readonly reuseWithin2Msl: boolean;
  /**
   * The responder answered as a stack does for a segment of a connection it does not know: a
   * bare RST whose seq is the ACK of the originator's segment before it (RFC 9293 §3.5.2), or
   * the previous connection on this 4-tuple was already closed or reset before this one began.
   */
  readonly rstForUnknownConnection: boolean;
  readonly unknownConnectionReason: string | undefined;
}

/** Per-RST header evidence (rst-evidence.ts), for the deciding RST and the connection: origin, middlebox signals, ACKs of unsent data, odd flags. */
export interface RstHeaderFacts {
  readonly headersSampled: number;
  /** Every packet of the conn record (orig_pkts + resp_pkts) has a sampled header: no sampling gap. */
  readonly headersComplete: boolean;
  /** A header of the (first) RST from the claimed sender was sampled. */
  readonly rstSampled: boolean;
  readonly rstHasAck: boolean | undefined;
  readonly rstTtl: number | undefined;
  readonly rstHops: number | undefined;
  readonly malformedSynHeader: boolean;
  readonly malformedSynFlags: string | undefined;
  readonly dataAfterRst: boolean;
  readonly dataAfterRstSource: 'headers' | 'weird' | undefined;
  /** Two RSTs from the sender, the second > rstSeqSpread above the first within the spread window. */
  readonly rstSeqSpread: boolean;
  readonly rstSeqGap: number | undefined;
  /** docs/verdicts.md#decision-order step 2 middlebox test: TTL mismatch, data after the RST, or spread RSTs. */
  readonly rstFromMiddlebox: boolean;
  readonly middleboxReason: string | undefined;
  /** A RST answering a SYN without ACK (RFC 9293: a genuine one acknowledges the SYN). */
  readonly synRstWithoutAck: boolean;
  readonly origin: Origin;
  /** A sampled RST has reserved bits (0x200-0x800) of the 12-bit flags field set. */
  readonly reservedBitsRst: boolean;
  readonly reservedBitsFlags: number | undefined;
  /** Headers show a side acknowledging a sequence number its peer never sent, or two ISNs from one side (a forged SYN-ACK or injected data). */
  readonly unsentAck: boolean;
  readonly unsentAckDetail: string | undefined;
}

/** The claimed sender's baseline (correlate/baseline.ts) against the deciding RST, and the idle gap before it. */
export interface BaselineFacts {
  readonly expectedTtl: number | undefined;
  readonly ttlDelta: number | undefined;
  readonly expectedHops: number | undefined;
  readonly baselineSource: 'flow' | 'host' | 'none';
  readonly ipIdBehaviour: string;
  /** RST IP ID minus the claimed sender's previous IP ID (16-bit, signed). */
  readonly ipIdDelta: number | undefined;
  /** The sender's IP IDs increase and the RST's is not a small step forward. */
  readonly ipIdOutOfSequence: boolean;
  readonly ttlDeltaThreshold: number;
  /** TTL differs from the claimed sender's baseline by >= the threshold (2). */
  readonly ttlMismatch: boolean;
  readonly idleBeforeS: number | undefined;
  readonly idleThresholdS: number;
  /** The gap before the RST is >= the idle threshold and cannot be a sampling artefact (odds <= IDLE_ARTEFACT_MAX_ODDS). */
  readonly idleGapExceeded: boolean;
  /** Odds that the gap is only unsampled packets: 0 with complete headers (see samplingGapOdds). */
  readonly idleGapArtefactOdds: number | undefined;
  /** No header gap known; duration >= threshold with few packets per side (weak idle signal). */
  readonly longQuietDuration: boolean;
  readonly idleMaxPacketsPerSide: number;
}

/** The configured device that explains a middlebox RST (devices.ts). */
export interface DeviceFacts {
  readonly deviceName: string | undefined;
  readonly deviceKind: string | undefined;
  readonly deviceMode: string | undefined;
  readonly deviceNetwork: string | undefined;
  /** The middlebox RST matches a configured device (network and, when given, hops). */
  readonly deviceExplainsMiddlebox: boolean;
  /** The RST answers a SYN and a configured reject-mode firewall/IPS covers the path. */
  readonly rejectDeviceCoversPath: boolean;
}

export type Facts = HistoryFacts & RstPositionFacts & ReuseFacts & RstHeaderFacts & BaselineFacts & DeviceFacts;
