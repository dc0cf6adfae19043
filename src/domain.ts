/**
 * The records that flow through zeek-rst: source -> decode -> correlate -> classify -> sink.
 *
 * Every field is documented the way Zeek documents conn.log: meaning, unit, the source field it
 * comes from, and when it can be absent. Times are microseconds since the Unix epoch (`...Us`)
 * everywhere inside; decode converts on the way in and sink/ecs.ts on the way out.
 */

/** Where a record or a dead letter came from, so that an analyst can find the original bytes. */
export type SourceRef =
  | {
      readonly kind: 'kafka';
      readonly topic: string;
      readonly partition: number;
      /** Kafka offsets are 64-bit: kept as the decimal string kafkajs gives. */
      readonly offset: string;
      /**
       * 0-based position of the record in a message that carries several (a batch of packet
       * headers); absent when the message holds one record.
       */
      readonly index?: number;
    }
  | {
      readonly kind: 'file';
      readonly path: string;
      /** 1-based line number for line formats; record index for Avro container files. */
      readonly line: number;
    };

/** Zeek's conn_state codes (base/protocols/conn/main.zeek, `conn_state` field). */
export const CONN_STATES = {
  S0: 'Connection attempt seen, no reply.',
  S1: 'Connection established, not terminated.',
  SF: 'Normal establishment and termination.',
  REJ: 'Connection attempt rejected.',
  S2: 'Connection established and close attempt by originator seen (but no reply from responder).',
  S3: 'Connection established and close attempt by responder seen (but no reply from originator).',
  RSTO: 'Connection established, originator aborted (sent a RST).',
  RSTR: 'Responder sent a RST.',
  RSTOS0: 'Originator sent a SYN followed by a RST, we never saw a SYN-ACK from the responder.',
  RSTRH: 'Responder sent a SYN ACK followed by a RST, we never saw a SYN from the (purported) originator.',
  SH: 'Originator sent a SYN followed by a FIN, we never saw a SYN ACK from the responder (hence the connection was "half" open).',
  SHR: 'Responder sent a SYN ACK followed by a FIN, we never saw a SYN from the originator.',
  OTH: 'No SYN seen, just midstream traffic (one example of this is a "partial connection" that was not later closed).',
} as const;

export type ConnState = keyof typeof CONN_STATES;

/** Transport protocol as Zeek's `proto` enum writes it. */
export type Transport = 'tcp' | 'udp' | 'icmp' | 'unknown_transport';

/**
 * One conn.log record (Zeek `Conn::Info`). Optional fields are those Zeek leaves unset
 * (absent in JSON, `-` in TSV) in ordinary output. The decoders build every conn with all its
 * fields, in this order, an unset one as undefined: one shape for all conns, each field inside
 * the object. A conn built from an object literal with only some of them (as tests do) is the
 * same record to every reader.
 */
export interface ConnRecord {
  /** `ts`: time of the connection's first packet, µs since epoch. */
  readonly tsUs: number;
  /** `uid`: Zeek's unique connection id (e.g. `CHhAvVGS1DHFjwGM9`). Unique per sensor, not globally. */
  readonly uid: string;
  /** `id.orig_h`: originator address (IPv4 dotted or IPv6 text, as Zeek writes it). */
  readonly origH: string;
  /** `id.orig_p`: originator port, 0..65535. */
  readonly origP: number;
  /** `id.resp_h`: responder address. */
  readonly respH: string;
  /** `id.resp_p`: responder port, 0..65535. */
  readonly respP: number;
  /** `proto`: transport protocol. */
  readonly proto: Transport;
  /** `service`: comma-separated analyzers that confirmed the protocol; absent when none did. */
  readonly service?: string | undefined;
  /** `duration`: last packet time minus first, µs; absent for single-packet connections. */
  readonly durationUs?: number | undefined;
  /** `orig_bytes`: payload bytes from the originator, taken from sequence numbers (can overcount on gaps). */
  readonly origBytes?: number | undefined;
  /** `resp_bytes`: payload bytes from the responder, from sequence numbers. */
  readonly respBytes?: number | undefined;
  /** `conn_state`: Zeek's summary of the connection's state (see CONN_STATES). */
  readonly connState?: ConnState | undefined;
  /** `local_orig`: the originator is in Site::local_nets; absent when not configured. */
  readonly localOrig?: boolean | undefined;
  /** `local_resp`: the responder is in Site::local_nets. */
  readonly localResp?: boolean | undefined;
  /** `missed_bytes`: bytes Zeek saw as gaps (packet loss at the sensor or in the content). */
  readonly missedBytes?: number | undefined;
  /** `history`: Zeek's state history letters (upper case originator, lower case responder); see classify/history.ts. */
  readonly history?: string | undefined;
  /** `orig_pkts`: packets from the originator. */
  readonly origPkts?: number | undefined;
  /** `orig_ip_bytes`: IP-level bytes from the originator. */
  readonly origIpBytes?: number | undefined;
  /** `resp_pkts`: packets from the responder. */
  readonly respPkts?: number | undefined;
  /** `resp_ip_bytes`: IP-level bytes from the responder. */
  readonly respIpBytes?: number | undefined;
  /** `community_id`: Community ID v1 when Zeek's policy script wrote it; decode fills it in when absent. */
  readonly communityId: string;
  /** `_system_name` (zeek-kafka) or the configured observer: the sensor that wrote the record. */
  readonly observer?: string | undefined;
  /** True when the record came from a canonified test log (ts/uid replaced or removed), decoded with `allowCanonified`. */
  readonly canonified?: true | undefined;
  /** Where it came from. */
  readonly source: SourceRef;
}

/** One weird.log record (Zeek `Weird::Info`). */
export interface WeirdRecord {
  /** `ts`: time of the packet that raised the weird, µs since epoch. */
  readonly tsUs: number;
  /** `uid`: the connection's uid; absent for weirds not tied to a connection (e.g. IP-level). */
  readonly uid?: string;
  /** `id.orig_h` ... `id.resp_p`: the connection's 5-tuple when the weird is tied to one. */
  readonly origH?: string;
  readonly origP?: number;
  readonly respH?: string;
  readonly respP?: number;
  /** `name`: the weird's name, e.g. `bad_TCP_checksum`, `data_after_reset`. */
  readonly name: string;
  /** `addl`: extra detail some weirds carry. */
  readonly addl?: string;
  /** `notice`: whether the weird was turned into a notice. */
  readonly notice?: boolean;
  /** `peer`: the Zeek node that raised it. */
  readonly peer?: string;
  /** `source`: the analyzer that raised it (Zeek >= 4.0), e.g. `TCP`. */
  readonly weirdSource?: string;
  /** `_system_name` or the configured observer. */
  readonly observer?: string;
  readonly canonified?: true;
  readonly source: SourceRef;
}

/** TCP flag bits as carried in `PacketHeader.tcpFlags` (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  /** AE (accurate ECN, RFC 9768; formerly NS). Bits 0x200-0x800 are reserved: injectors set them. */
  AE: 0x100,
} as const;

/** One sampled TCP packet header (schemas/packet_header.avsc, record zeek_rst.PacketHeader). */
export interface PacketHeader {
  /** `ts`: capture time, µs since epoch (Avro timestamp-micros; JSON lines carry epoch seconds). */
  readonly tsUs: number;
  /** `sensor`: the capturing sensor, when known. */
  readonly sensor: string | null;
  /** `src_ip` / `dst_ip`: IPv4 or IPv6 addresses. For tunnelled packets, the IP header around TCP. */
  readonly srcIp: string;
  readonly dstIp: string;
  /** `src_port` / `dst_port`: 0..65535. */
  readonly srcPort: number;
  readonly dstPort: number;
  /** `ip_version`: 4 or 6. */
  readonly ipVersion: 4 | 6;
  /** `ip_ttl`: IPv4 TTL or IPv6 hop limit, 0..255. */
  readonly ipTtl: number;
  /** `ip_id`: IPv4 identification, 0..65535; null for IPv6. */
  readonly ipId: number | null;
  /** `tcp_flags`: the 12-bit flags field, bit set of TCP_FLAGS plus the reserved bits 0x200-0x800. */
  readonly tcpFlags: number;
  /** `seq` / `ack`: raw 32-bit sequence and acknowledgement numbers (ack is given even without the ACK flag). */
  readonly seq: number;
  readonly ack: number;
  /** `window`: raw, unscaled receive window. */
  readonly window: number;
  /** `payload_len`: TCP payload bytes. */
  readonly payloadLen: number;
  /** `community_id`: Community ID v1 of the flow; decode computes it when absent. */
  readonly communityId: string;
}

/**
 * Why an input could not become a record. A closed set: the dead-letter topic's `reason` header
 * and the `zeek_rst_dead_letters_total{reason}` metric use these literals.
 */
/**
 * What a topic or a file carries: conn or weird records, either (one topic for every Zeek log, the
 * record's wrapper key or `_path` decides), or packet headers.
 */
export type InputKind = 'conn' | 'weird' | 'zeek' | 'headers';

/**
 * One unit of input as a source hands it to decode: a Kafka message, a line of a file, or a
 * whole Avro container file. Both sources produce it, so both go through one decode dispatch.
 */
export interface InputMessage {
  readonly value: Uint8Array;
  readonly source: SourceRef;
  readonly input: InputKind;
  /** `zeek-tsv` for a line of a Zeek TSV log (its header lines came before, from the same file). */
  readonly format?: 'zeek-tsv';
}

export type DeadLetterReason =
  /** Larger than the configured limit (default 1 MiB). */
  | 'oversized_message'
  /** No bytes, or only whitespace. */
  | 'empty_message'
  | 'invalid_utf8'
  | 'malformed_json'
  /** Valid JSON, but not an object (array, string, number, null). */
  | 'not_an_object'
  /** The wrapper key, `_path` or `#path` names a log other than conn/weird, none names one, or it contradicts the topic's type. */
  | 'unknown_log_type'
  /** A required field is absent (or null, or a canonified uid in strict mode). */
  | 'missing_field'
  /** A field has the wrong JSON/Avro type (a port as a string, a bool as "T"). */
  | 'wrong_type'
  /** Not an IPv4/IPv6 address, or the two endpoints are of different families. */
  | 'invalid_ip'
  /** Port not an integer in 0..65535. */
  | 'invalid_port'
  /** TTL / hop limit not an integer in 0..255. */
  | 'invalid_ttl'
  /** IPv4 ID not an integer in 0..65535. */
  | 'invalid_ip_id'
  /** TCP flags not an integer in 0..4095 (the 12-bit field). */
  | 'invalid_flags'
  /** TCP window not an integer in 0..65535. */
  | 'invalid_window'
  /** seq / ack not an integer in 0..2^32-1. */
  | 'invalid_sequence'
  /** A byte or packet count below zero. */
  | 'negative_count'
  /** A duration below zero. */
  | 'negative_duration'
  /** A history with letters outside Zeek's alphabet, or absurdly long (decode/conn-bounds.ts). */
  | 'invalid_history'
  /** A duration no real connection has (more than ten years). */
  | 'absurd_duration'
  /** More packets or bytes than any link carries in the conn's duration. */
  | 'absurd_count'
  /** A conn whose observer+uid is already known with another 5-tuple or start time. */
  | 'conflicting_duplicate'
  /** NaN or ±Infinity (TSV `nan`/`inf`). */
  | 'non_finite_number'
  /** A ts that is neither epoch seconds/millis nor ISO 8601, or canonified X's in strict mode. */
  | 'invalid_timestamp'
  /** A ts outside the accepted window (default 1990-01-01 .. 2100-01-01). */
  | 'timestamp_out_of_range'
  /** A value outside a closed set (proto, conn_state, ip_version). */
  | 'invalid_enum'
  /** A TSV data line without headers, or with the wrong number of columns. */
  | 'invalid_tsv'
  /** Avro bytes end before the record (or its framing header) does. */
  | 'truncated_avro'
  /** Unknown single-object fingerprint or Confluent schema id, or a writer schema that does not resolve. */
  | 'unknown_schema'
  /** Any other Avro failure: unknown framing, trailing bytes, bad union index, corrupt container. */
  | 'invalid_avro'
  /** A packet capture (pcap/pcapng) that ends inside its file header or a record. */
  | 'truncated_capture'
  /** Not a pcap/pcapng capture, or a header or record that breaks the format (detail: byte offset, record number). */
  | 'invalid_capture'
  /** A message of the internal repartition topic that `run` did not write (docs/scale-out.md). */
  | 'invalid_repartition_record'
  /** Elasticsearch rejected the document (mapping conflict). */
  | 'mapping_rejected';

/** The pipeline stage that produced a dead letter. */
export type DeadLetterStage = 'decode' | 'validate' | 'correlate' | 'sink';

/** An input that could not be processed, kept whole so nothing is lost. */
export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly stage: DeadLetterStage;
  /** One line for a person: which field, what value, what was expected. */
  readonly detail: string;
  /** The original bytes, unchanged. */
  readonly raw: Uint8Array;
  readonly source: SourceRef;
}

/** A decode result: a record, or a dead letter. Decoding never throws on input. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly dead: DeadLetter };

/** What the RST means: the cause. docs/verdicts.md. */
export const VERDICTS = [
  'closed_port',
  'policy_reject',
  'accept_queue_overflow',
  'time_wait_reuse',
  'malformed_syn',
  'half_open_scan',
  'connect_scan',
  'client_abort',
  'server_abort',
  'retransmission_failure',
  'idle_timeout',
  'teardown_reset',
  'policy_reset',
  'injected_reset',
  'backscatter',
  'unclassified_reset',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** When in the connection's life the RST appeared. */
export type Phase = 'establishment' | 'post_handshake' | 'data_transfer' | 'teardown' | 'any' | 'none';

/** Who sent the RST, from the case of the history letters. */
export type Sender = 'originator' | 'responder' | 'both' | 'unknown';

/** Whether the RST came from the endpoint it claims, from header evidence. */
export type Origin = 'endpoint' | 'middlebox' | 'unknown';

// --- correlate -> classify ----------------------------------------------------------------------

/** How a sender's IPv4 IDs move from packet to packet (correlate/baseline.ts `ipIdBehaviour`). */
export type IpIdBehaviour = 'increasing' | 'zero' | 'random' | 'unknown';

/** A sender's baseline as classification sees it. */
export interface Baseline {
  readonly source: 'flow' | 'host';
  /** Mode of the recent non-RST TTLs. */
  readonly ttl: number;
  readonly hops: number;
  readonly samples: number;
  readonly ipIdBehaviour: IpIdBehaviour;
  /** IP ID of the last non-RST packet, when IPv4. */
  readonly lastIpId: number | undefined;
}

/** The baselines of a connection's two endpoints, built from their packets on other flows too. */
export interface HostBaselines {
  readonly orig: Baseline | undefined;
  readonly resp: Baseline | undefined;
}

/** The last connection seen on the same 4-tuple (for TIME_WAIT reuse). */
export interface PreviousClose {
  readonly uid: string;
  /** The sensor that saw it (its stream time expires the memory). */
  readonly observer: string | undefined;
  /** ts + duration of that connection, µs. */
  readonly closedTsUs: number;
  readonly connState: ConnState | undefined;
  readonly history: string | undefined;
}

/** One conn with all the evidence joined to it: what classification reads. */
export interface Correlated {
  readonly conn: ConnRecord;
  readonly weirds: readonly WeirdRecord[];
  /** Sampled headers of this flow, sorted by time. */
  readonly headers: readonly PacketHeader[];
  /** Host baselines (from other flows too) of the two endpoints, at emission time. */
  readonly hostBaselines: HostBaselines;
  readonly previousClose: PreviousClose | undefined;
}

// --- classify -> sink ---------------------------------------------------------------------------

/** One endpoint of a connection (history letters: upper case originator, lower case responder). */
export type Side = 'originator' | 'responder';

/** Where the first RST sits and the resets' shape (classify/stage.ts, docs/verdicts.md#stage-and-tags). */
export type RstStage = 'post_syn' | 'post_ack' | 'post_psh' | 'later_in_flow';

export type RstTag =
  | 'single_rst'
  | 'multiple_rst'
  | 'rst_only'
  | 'rst_ack_only'
  | 'rst_and_rst_ack'
  | 'ack_zero'
  | 'ack_same'
  | 'ack_different';

export type ScannerFingerprint = 'zmap' | 'masscan';

/** Where one sampled RST came from, judged from its headers alone (classify/rst-evidence.ts). */
export type RstOrigin = 'endpoint' | 'middlebox';

/** Why one RST is judged to come from a middlebox; a closed set, rendered by classify/rst-evidence.ts `reasonText`. */
export type MiddleboxSignal =
  | { readonly kind: 'ttl'; readonly ttl: number; readonly expected: number; readonly source: Baseline['source'] }
  | { readonly kind: 'handshake_hops'; readonly hops: number; readonly handshakeHops: number }
  | { readonly kind: 'data_after'; readonly source: 'headers' }
  | { readonly kind: 'seq_spread'; readonly gap: number }
  | { readonly kind: 'reserved_bits'; readonly flags: number };

/** One sampled RST judged on its own against its claimed sender's packets in the flow. */
export interface RstJudgement {
  readonly side: Side;
  readonly header: PacketHeader;
  readonly hasAck: boolean;
  readonly ttl: number;
  readonly hops: number;
  readonly baseline: Baseline | undefined;
  readonly ttlDelta: number | undefined;
  readonly hopsDelta: number | undefined;
  /** RST IP ID minus the claimed sender's previous IP ID (16-bit, signed). */
  readonly ipIdDelta: number | undefined;
  /** The sender's IP IDs increase and the RST's is not a small step forward. */
  readonly ipIdOutOfSequence: boolean;
  /** The RST's seq minus the first RST's of the same sender, when that is a jump within the spread window. */
  readonly seqGap: number | undefined;
  readonly signals: readonly MiddleboxSignal[];
  readonly origin: RstOrigin;
}

/*
 * The facts, in typed groups (docs/architecture.md, "Rules as data"): `Facts` is their
 * intersection, flat so that evidence templates name any fact. Computed once per connection, one
 * function per group in classify/facts/ (composed by classify/facts.ts `deriveEvidence`); rules
 * read them, the engine quotes them, sink/ecs.ts copies some of them into the document.
 */

/** What the conn record and its history letters say (history.ts): sides, data, payload, retransmission and checksum letters, weirds. */
export interface HistoryFacts {
  readonly tcp: boolean;
  /** The conn's sensor, when known. */
  readonly observer: string | undefined;
  readonly history: string;
  /** Zeek's conn_state; `-` when Zeek logged none (evidence quotes it, text and JSON value, as Zeek's TSV writes an unset field). */
  readonly connState: ConnState | '-';
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
  /** Zeek's illegal-SYN weirds (facts/history.ts MALFORMED_SYN_WEIRDS) when only the originator sent a SYN, comma-separated. */
  readonly malformedSynWeird: string | undefined;
  readonly retransmitsRepeatedly: boolean;
  /** `T`/`t` letters of the RST sender before its RST (logarithmic: 2 letters = >= 10). */
  readonly senderRetransmitLetters: number;
  readonly senderRetransmissionsAtLeast: number;
  readonly checksumSignal: boolean;
  readonly checksumSource: 'history C/c' | 'weird bad_TCP_checksum' | undefined;
  /** The retransmission and misorder weirds of the conn (facts/history.ts RETRANSMISSION_WEIRDS), sorted, comma-separated. */
  readonly retransmissionWeird: string | undefined;
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
  readonly previousState: ConnState | undefined;
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
  readonly ipIdBehaviour: IpIdBehaviour;
  /** RST IP ID minus the claimed sender's previous IP ID (16-bit, signed). */
  readonly ipIdDelta: number | undefined;
  /** The sender's IP IDs increase and the RST's is not a small step forward. */
  readonly ipIdOutOfSequence: boolean;
  /** TTL differs from the claimed sender's baseline by >= the threshold (2). */
  readonly ttlMismatch: boolean;
  /** The silence before the RST, or before the peer's packets it answered (baselines.ts, idleGapBefore). */
  readonly idleBeforeS: number | undefined;
  /** '' when the RST itself ended the silence; else which of the peer's packets it answered. */
  readonly idleTrigger: string;
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

export type FactValue = string | number | boolean | null;

export interface Evidence {
  readonly rule: string;
  readonly text: string;
  /** The facts the text quotes, by name. */
  readonly values: Readonly<Record<string, FactValue>>;
}

export interface DeviceAttribution {
  readonly name: string;
  /** firewall | ips | load_balancer, or `unknown` for an unconfigured middlebox. */
  readonly kind: string;
}

/** Result of classifying one connection. `verdict` is present iff the connection has a RST. */
export interface Classification {
  readonly present: boolean;
  readonly verdict?: Verdict;
  readonly phase?: Phase;
  readonly sender?: Sender;
  readonly origin?: Origin;
  readonly confidence?: number;
  readonly rules: readonly string[];
  readonly evidence: readonly Evidence[];
  readonly explanation?: string;
  readonly device?: DeviceAttribution;
  /** Where the first RST sits (Cloudflare Radar's passive tampering stages). */
  readonly stage?: RstStage;
  /** Shape tags of the resets, plus `zmap` / `masscan` on a scan probe whose SYN carries the scanner's IP ID. */
  readonly tags: readonly (RstTag | ScannerFingerprint)[];
  /** Every sampled RST with its own origin, in capture order. */
  readonly resets: readonly RstJudgement[];
  readonly facts: Facts;
}

// --- sink/ecs.ts -> Elasticsearch / stdout ------------------------------------------------------

/** The `rst.*` part of the document (docs/fields.md). */
export interface EcsRst {
  readonly present: boolean;
  readonly verdict?: Verdict;
  readonly phase?: Phase;
  readonly sender?: Sender;
  readonly origin?: Origin;
  readonly confidence?: number;
  readonly rules?: readonly string[];
  readonly evidence?: readonly Evidence[];
  readonly explanation?: string;
  readonly ack?: boolean;
  readonly ttl?: { readonly observed?: number; readonly expected?: number; readonly delta?: number };
  readonly hops?: { readonly observed?: number; readonly expected?: number };
  readonly ip_id_delta?: number;
  readonly count?: number;
  readonly idle_before_s?: number;
  readonly retransmissions?: number;
  readonly device?: { readonly name: string; readonly kind: string };
  /**
   * `probe`: this conn is a scan probe (classify/scans.ts). `scanner`: its source is a scanner in
   * the conn's window; written false here and set by the scan summary step (sink/scans-store.ts),
   * which sees every instance's documents.
   */
  readonly scan?: { readonly scanner: boolean; readonly probe: boolean };
  readonly headers?: { readonly sampled: boolean };
  /** When the first RST happened (see the module comment); present when a RST is. */
  readonly ts?: string;
  /** Where the first RST sits: post_syn, post_ack, post_psh, later_in_flow (docs/verdicts.md#stage-and-tags). */
  readonly stage?: string;
  /** Shape tags of the resets, and zmap / masscan on a scan probe. */
  readonly tags?: readonly string[];
  /** Every sampled RST with its own origin, in capture order. */
  readonly resets?: readonly EcsReset[];
}

export interface EcsReset {
  readonly sender: string;
  readonly ts: string;
  readonly ttl: number;
  readonly hops: number;
  readonly tcp_flags: number;
  readonly ack: boolean;
  readonly origin: string;
  readonly signals: readonly string[];
}

/** ECS `network.direction` values zeek-rst writes. */
export type NetworkDirection = 'inbound' | 'outbound' | 'internal' | 'external' | 'unknown';

export interface EnrichedDoc {
  readonly '@timestamp': string;
  readonly event: {
    readonly kind: 'event';
    readonly category: readonly ['network'];
    readonly type: readonly string[];
    readonly dataset: 'zeek_rst.connection';
    readonly start: string;
    readonly end: string;
    readonly duration?: number;
    readonly outcome: 'success' | 'failure' | 'unknown';
  };
  readonly source: { readonly ip: string; readonly port: number; readonly bytes?: number; readonly packets?: number };
  readonly destination: { readonly ip: string; readonly port: number; readonly bytes?: number; readonly packets?: number };
  readonly network: {
    readonly transport: string;
    readonly protocol?: string;
    readonly direction: NetworkDirection;
    readonly community_id: string;
    readonly bytes?: number;
    readonly packets?: number;
  };
  readonly observer?: { readonly name: string };
  readonly zeek: {
    readonly session_id: string;
    readonly connection: {
      readonly state?: string;
      readonly state_message?: string;
      readonly history?: string;
      readonly missed_bytes?: number;
      readonly local_orig?: boolean;
      readonly local_resp?: boolean;
    };
    readonly weird?: { readonly names: readonly string[] };
  };
  readonly rst: EcsRst;
}
