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
 * (absent in JSON, `-` in TSV) in ordinary output.
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
  readonly service?: string;
  /** `duration`: last packet time minus first, µs; absent for single-packet connections. */
  readonly durationUs?: number;
  /** `orig_bytes`: payload bytes from the originator, taken from sequence numbers (can overcount on gaps). */
  readonly origBytes?: number;
  /** `resp_bytes`: payload bytes from the responder, from sequence numbers. */
  readonly respBytes?: number;
  /** `conn_state`: Zeek's summary of the connection's state (see CONN_STATES). */
  readonly connState?: ConnState;
  /** `local_orig`: the originator is in Site::local_nets; absent when not configured. */
  readonly localOrig?: boolean;
  /** `local_resp`: the responder is in Site::local_nets. */
  readonly localResp?: boolean;
  /** `missed_bytes`: bytes Zeek saw as gaps (packet loss at the sensor or in the content). */
  readonly missedBytes?: number;
  /** `history`: Zeek's state history letters (upper case originator, lower case responder); see classify/history.ts. */
  readonly history?: string;
  /** `orig_pkts`: packets from the originator. */
  readonly origPkts?: number;
  /** `orig_ip_bytes`: IP-level bytes from the originator. */
  readonly origIpBytes?: number;
  /** `resp_pkts`: packets from the responder. */
  readonly respPkts?: number;
  /** `resp_ip_bytes`: IP-level bytes from the responder. */
  readonly respIpBytes?: number;
  /** `community_id`: Community ID v1 when Zeek's policy script wrote it; decode fills it in when absent. */
  readonly communityId: string;
  /** `_system_name` (zeek-kafka) or the configured observer: the sensor that wrote the record. */
  readonly observer?: string;
  /** True when the record came from a canonified test log (ts/uid replaced or removed), decoded with `allowCanonified`. */
  readonly canonified?: true;
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
  readonly source: SourceRef;
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
