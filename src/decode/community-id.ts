/**
 * Community ID v1 flow hashing (https://github.com/corelight/community-id-spec).
 *
 * sha1(seed:2 . saddr . daddr . proto:1 . 0:1 . sport:2 . dport:2), all network byte order, with
 * the endpoints ordered so the smaller (address, port) comes first; rendered "1:" + base64.
 * ICMP and ICMPv6 use the message type as the source "port" and, for request/response types,
 * the counterpart type as the destination "port" (two-way, ordered like ports); for every other
 * type the code is used and the tuple is not reordered (one-way). These maps are Zeek's
 * (ICMP4_counterpart / ICMP6_counterpart) as published in pycommunityid's icmp.py / icmp6.py.
 */
import { hash } from 'node:crypto';

import type { Transport } from '../domain';
import { writeIp } from './ip';

export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMP6: 58, SCTP: 132 } as const;

/** ICMPv4 request <-> reply types (echo, timestamp, info, router solicit/advert, mask). */
const ICMP4_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17],
]);
/** ICMPv6 request <-> reply types (echo, MLD, router/neighbor discovery, WRU, HAAD). */
const ICMP6_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128], [130, 131], [131, 130], [133, 134], [134, 133],
  [135, 136], [136, 135], [139, 140], [140, 139], [144, 145], [145, 144],
]);

export interface FlowTuple {
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...). */
  readonly proto: number;
  readonly srcIp: string;
  readonly dstIp: string;
  /** Ports for TCP/UDP/SCTP; ICMP type for ICMP; omitted for port-less protocols. */
  readonly srcPort?: number;
  /** Ports for TCP/UDP/SCTP; ICMP code (or counterpart type) for ICMP. */
  readonly dstPort?: number;
}

export interface CommunityIdOptions {
  /** Seed, 0..65535. Default 0, as everywhere in zeek-rst. */
  readonly seed?: number;
  /** Base64 digest (default) or hex, as the spec's `--no-base64`. */
  readonly base64?: boolean;
}

function hasPorts(proto: number): boolean {
  return proto === IP_PROTO.TCP || proto === IP_PROTO.UDP || proto === IP_PROTO.SCTP
    || proto === IP_PROTO.ICMP || proto === IP_PROTO.ICMP6;
}

/**
 * The hash input, written in place: seed:2, the two addresses (4 or 16 bytes each), proto:1, 0:1,
 * then the ports:4 when the protocol has them. One buffer for every call (decode is
 * synchronous), hashed through a view of the length each address family and protocol gives.
 */
const INPUT = Buffer.alloc(2 + 16 + 16 + 2 + 4);
const VIEWS: ReadonlyMap<number, Buffer> = new Map([12, 16, 36, 40].map((n) => [n, INPUT.subarray(0, n)]));

/**
 * Community ID v1 of a flow tuple; undefined when the addresses do not parse, are of different
 * families, or a port-carrying protocol lacks its ports (the spec allows reporting no ID then).
 */
export function communityId(tuple: FlowTuple, options: CommunityIdOptions = {}): string | undefined {
  const len = writeIp(tuple.srcIp, INPUT, 2);
  if (len === 0 || writeIp(tuple.dstIp, INPUT, 2 + len) !== len) return undefined;
  return hashInput(tuple.proto, len, tuple.srcPort, tuple.dstPort, options);
}

/**
 * communityId of addresses already parsed (writeIp): `src[0, len)` and `dst[0, len)`, both of
 * the family `len` says. For a decoder that parsed them to validate them.
 */
export function communityIdOfBytes(
  proto: number, src: Uint8Array, dst: Uint8Array, len: 4 | 16, srcPort?: number, dstPort?: number, options: CommunityIdOptions = {},
): string | undefined {
  for (let i = 0; i < len; i++) {
    INPUT[2 + i] = src[i] ?? 0;
    INPUT[2 + len + i] = dst[i] ?? 0;
  }
  return hashInput(proto, len, srcPort, dstPort, options);
}

/** The rest of the hash input, after the two addresses at INPUT[2, 2 + 2 * len), then the hash. */
function hashInput(proto: number, len: 4 | 16, srcPort: number | undefined, dstPort: number | undefined, options: CommunityIdOptions): string | undefined {
  const input = INPUT;
  const seed = options.seed ?? 0;
  const withPorts = hasPorts(proto);
  let sport = srcPort ?? 0;
  let dport = dstPort ?? 0;
  if (withPorts && (srcPort === undefined || dstPort === undefined)) return undefined;
  let oneWay = false;
  if (proto === IP_PROTO.ICMP || proto === IP_PROTO.ICMP6) {
    const map = proto === IP_PROTO.ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART;
    const counterpart = map.get(sport);
    if (counterpart === undefined) oneWay = true;
    else dport = counterpart;
  }
  if (!oneWay) {
    // Byte-wise comparison of the (addr, port) endpoints; the smaller goes first.
    let d = 0;
    for (let i = 2; i < 2 + len && d === 0; i++) d = (input[i] ?? 0) - (input[i + len] ?? 0);
    if (d > 0 || (d === 0 && sport > dport)) {
      for (let i = 2; i < 2 + len; i++) {
        const t = input[i] ?? 0;
        input[i] = input[i + len] ?? 0;
        input[i + len] = t;
      }
      const p = sport;
      sport = dport;
      dport = p;
    }
  }
  input.writeUInt16BE(seed, 0);
  let pos = 2 + 2 * len;
  input[pos++] = proto;
  input[pos++] = 0;
  if (withPorts) {
    input.writeUInt16BE(sport, pos);
    input.writeUInt16BE(dport, pos + 2);
  }
  const view = VIEWS.get(2 + 2 * len + 2 + (withPorts ? 4 : 0)) ?? INPUT;
  return `1:${hash('sha1', view, options.base64 === false ? 'hex' : 'base64')}`;
}

/**
 * The IP protocol number for a Zeek `proto` value. Zeek writes `icmp` for ICMPv6 too, so the
 * address family decides; `unknown_transport` uses the record's `ip_proto` when it has one.
 */
export function ipProtoOf(transport: Transport, isIpv6: boolean, ipProto: number | undefined): number | undefined {
  switch (transport) {
    case 'tcp':
      return IP_PROTO.TCP;
    case 'udp':
      return IP_PROTO.UDP;
    case 'icmp':
      return isIpv6 ? IP_PROTO.ICMP6 : IP_PROTO.ICMP;
    case 'unknown_transport':
      return ipProto;
    default: {
      const never: never = transport;
      return never;
    }
  }
}
