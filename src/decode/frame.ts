/**
 * One captured frame -> the TCP header fields of zeek_rst.PacketHeader, or the reason it has none.
 *
 * Link layers (LINKTYPE_* numbers of tcpdump.org/linktypes.html): Ethernet with any number of
 * 802.1Q / 802.1ad tags, Linux cooked capture v1 (SLL, 113) and v2 (SLL2, 276: what `tcpdump -i
 * any` writes), raw IP (101, and the DLT numbers 12 and 14 old files carry; 228 IPv4, 229 IPv6),
 * BSD loopback (0, the address family in the capturing host's byte order) and OpenBSD loopback
 * (108, network order). Network: IPv4 and IPv6, IPv6 extension headers skipped; IP-in-IP (4 and
 * 41) and, as an option, Teredo (IPv6 in UDP, RFC 4380) are followed to the innermost IP header,
 * whose addresses, TTL and ID the record carries.
 *
 * The fields are the ones tshark gives for the same packet (test/fixtures/corpus/INDEX.md):
 * - `payloadLen` is tshark's `tcp.len`: from the IP length fields (total length, or IPv6 payload
 *   length minus extension headers), minus the TCP header, so a frame cut by the snap length
 *   still reports what was on the wire, and Ethernet padding is not counted.
 * - `tcpFlags` is the 12-bit field (FIN 0x001 ... CWR 0x080, AE 0x100, reserved 0x200-0x800).
 * - `ack` is the raw field even without the ACK flag.
 * - A non-first IPv4 or IPv6 fragment carries no TCP header: skipped as `fragment`. A first
 *   fragment is decoded (no reassembly, like tshark with ip.defragment off).
 * - TCP quoted inside ICMP errors is not a packet of the flow: ICMP is `not_tcp`.
 * - IPv6 with a type-0 routing header: the addresses are the header's, as tshark shows them
 *   (Zeek's conn uses the routing header's final destination instead; type 0 is deprecated
 *   by RFC 5095 and hardly seen).
 * - A total length of 0 on IPv4 is taken as TCP segmentation offload (captured on the sending
 *   host), and the frame's length is used, as Wireshark does by default.
 * Pure: no I/O; never throws on any input.
 */
import type { PacketHeader } from '../domain';
import { formatIpv4, formatIpv6 } from './ip';

/** The header fields a frame itself carries; time, sensor and Community ID come from the capture around it. */
export type TcpFields = Omit<PacketHeader, 'tsUs' | 'sensor' | 'communityId' | 'source'>;

/** Why a frame gave no TCP header; every skipped frame is counted under one of these. */
export const SKIP_REASONS = ['unsupported_link', 'not_ip', 'not_tcp', 'fragment', 'too_short', 'malformed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type FrameResult = { readonly kind: 'tcp'; readonly tcp: TcpFields } | { readonly kind: 'skip'; readonly reason: SkipReason };

export interface FrameOptions {
  /** Follow Teredo: UDP whose payload parses as RFC 4380 indicators + an IPv6 packet (any port, as Zeek and tshark's heuristic do). */
  readonly teredo: boolean;
}

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_DLT12: 12,
  RAW_DLT14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8, QINQ_OLD: 0x9100 } as const;
const PROTO = { IPIP: 4, TCP: 6, UDP: 17, IPV6: 41 } as const;
/** IPv6 extension headers with the (length + 1) * 8 layout (RFC 8200 §4), and AH's (length + 2) * 4. */
const IPV6_EXT = { HOP_BY_HOP: 0, ROUTING: 43, FRAGMENT: 44, AH: 51, DEST_OPTS: 60, MOBILITY: 135, HIP: 139, SHIM6: 140 } as const;
/** Loopback address families: AF_INET everywhere; AF_INET6 is 10 on Linux, 24, 28 or 30 on the BSDs and macOS. */
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);
/** Tunnels inside tunnels: more than this is treated as malformed (as a guard, not a protocol limit). */
const MAX_DEPTH = 4;

const skip = (reason: SkipReason): FrameResult => ({ kind: 'skip', reason });

/**
 * `data`: the captured bytes; `originalLength`: the frame's length on the wire (>= data.length).
 * Lengths on the wire bound what the IP headers may claim; captured bytes bound what is read.
 */
export function decodeFrame(linkType: number, data: Uint8Array, originalLength: number, options: FrameOptions): FrameResult {
  const wire = Math.max(originalLength, data.length);
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return ethernet(data, wire, options);
    case LINKTYPE.LINUX_SLL:
      return data.length < 16 ? skip('too_short') : byEthertype(u16(data, 14), data, 16, wire, options);
    case LINKTYPE.LINUX_SLL2:
      return data.length < 20 ? skip('too_short') : byEthertype(u16(data, 0), data, 20, wire, options);
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_DLT12:
    case LINKTYPE.RAW_DLT14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return ip(data, 0, wire, options, 0);
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (data.length < 4) return skip('too_short');
      const be = u32(data, 0);
      // DLT_NULL is in the byte order of the host that captured; a family fits in the low byte, so try both orders.
      const family = linkType === LINKTYPE.LOOP || be <= 0xff ? be : swap32(be);
      if (family !== AF_INET && !AF_INET6.has(family)) return skip('not_ip');
      return ip(data, 4, wire, options, 0);
    }
    default:
      return skip('unsupported_link');
  }
}

function ethernet(data: Uint8Array, wire: number, options: FrameOptions): FrameResult {
  let p = 12;
  for (;;) {
    if (data.length < p + 2) return skip('too_short');
    const type = u16(data, p);
    if (type !== ETHERTYPE.VLAN && type !== ETHERTYPE.QINQ && type !== ETHERTYPE.QINQ_OLD) return byEthertype(type, data, p + 2, wire, options);
    p += 4; // tag control information, then the next type
  }
}

function byEthertype(type: number, data: Uint8Array, start: number, wire: number, options: FrameOptions): FrameResult {
  if (type !== ETHERTYPE.IPV4 && type !== ETHERTYPE.IPV6) return skip('not_ip');
  return ip(data, start, wire, options, 0);
}

/** The IP packet at `start`; `end` is where it ends on the wire (it may lie past the captured bytes). */
function ip(data: Uint8Array, start: number, end: number, options: FrameOptions, depth: number): FrameResult {
  if (depth > MAX_DEPTH) return skip('malformed');
  if (data.length < start + 1) return skip('too_short');
  const version = (data[start] ?? 0) >> 4;
  if (version === 4) return ipv4(data, start, end, options, depth);
  if (version === 6) return ipv6(data, start, end, options, depth);
  return skip('not_ip');
}

function ipv4(data: Uint8Array, start: number, end: number, options: FrameOptions, depth: number): FrameResult {
  if (data.length < start + 20) return skip('too_short');
  const headerLen = ((data[start] ?? 0) & 0x0f) * 4;
  if (headerLen < 20) return skip('malformed');
  if (data.length < start + headerLen) return skip('too_short');
  const totalLen = u16(data, start + 2);
  const available = end - start;
  // A total length of 0: segmentation offload on the capturing host; the frame gives the length.
  const length = totalLen === 0 ? available : totalLen;
  if (length < headerLen || length > available) return skip('malformed');
  if ((u16(data, start + 6) & 0x1fff) !== 0) return skip('fragment');
  const proto = data[start + 9] ?? 0;
  const net: Net = { version: 4, src: formatIpv4(data, start + 12), dst: formatIpv4(data, start + 16), ttl: data[start + 8] ?? 0, id: u16(data, start + 4) };
  return transport(proto, net, data, start + headerLen, start + length, options, depth);
}

function ipv6(data: Uint8Array, start: number, end: number, options: FrameOptions, depth: number): FrameResult {
  if (data.length < start + 40) return skip('too_short');
  const payloadLen = u16(data, start + 4);
  const available = end - start - 40;
  // Payload length 0 is a jumbogram (RFC 2675) or offload: the frame gives the length.
  const length = payloadLen === 0 ? available : payloadLen;
  if (length > available) return skip('malformed');
  const net: Net = { version: 6, src: formatIpv6(data, start + 8), dst: formatIpv6(data, start + 24), ttl: data[start + 7] ?? 0, id: null };
  let next = data[start + 6] ?? 0;
  let p = start + 40;
  const payloadEnd = start + 40 + length;
  for (;;) {
    switch (next) {
      case IPV6_EXT.HOP_BY_HOP:
      case IPV6_EXT.ROUTING:
      case IPV6_EXT.DEST_OPTS:
      case IPV6_EXT.MOBILITY:
      case IPV6_EXT.HIP:
      case IPV6_EXT.SHIM6:
      case IPV6_EXT.AH:
      case IPV6_EXT.FRAGMENT: {
        if (data.length < p + 8) return skip('too_short');
        if (next === IPV6_EXT.FRAGMENT && (u16(data, p + 2) >> 3) !== 0) return skip('fragment');
        const size = next === IPV6_EXT.FRAGMENT ? 8 : next === IPV6_EXT.AH ? ((data[p + 1] ?? 0) + 2) * 4 : ((data[p + 1] ?? 0) + 1) * 8;
        next = data[p] ?? 0;
        p += size;
        if (p > payloadEnd) return skip('malformed');
        continue;
      }
      default:
        return transport(next, net, data, p, payloadEnd, options, depth);
    }
  }
}

interface Net {
  readonly version: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly id: number | null;
}

/** The payload of an IP header: TCP, or a tunnel to follow. `end` is where the IP payload ends on the wire. */
function transport(proto: number, net: Net, data: Uint8Array, start: number, end: number, options: FrameOptions, depth: number): FrameResult {
  switch (proto) {
    case PROTO.TCP:
      return tcp(net, data, start, end);
    case PROTO.IPIP:
    case PROTO.IPV6:
      return ip(data, start, end, options, depth + 1);
    case PROTO.UDP:
      return options.teredo ? teredo(data, start, end, options, depth) : skip('not_tcp');
    default:
      return skip('not_tcp');
  }
}

function tcp(net: Net, data: Uint8Array, start: number, end: number): FrameResult {
  if (data.length < start + 20) return skip('too_short');
  const headerLen = ((data[start + 12] ?? 0) >> 4) * 4;
  const payloadLen = end - start - headerLen;
  if (headerLen < 20 || payloadLen < 0) return skip('malformed');
  return {
    kind: 'tcp',
    tcp: {
      srcIp: net.src,
      dstIp: net.dst,
      srcPort: u16(data, start),
      dstPort: u16(data, start + 2),
      ipVersion: net.version,
      ipTtl: net.ttl,
      ipId: net.id,
      tcpFlags: u16(data, start + 12) & 0x0fff,
      seq: u32(data, start + 4),
      ack: u32(data, start + 8),
      window: u16(data, start + 14),
      payloadLen,
    },
  };
}

/**
 * Teredo (RFC 4380 §5.1.1): an optional authentication indicator (type 0x0001: client id and
 * authentication value lengths, 8-byte nonce, confirmation byte), an optional origin indication
 * (type 0x0000, 8 bytes), then an IPv6 packet that fills the datagram. A UDP payload that does not
 * parse that way is plain UDP (`not_tcp`).
 */
function teredo(data: Uint8Array, udpStart: number, end: number, options: FrameOptions, depth: number): FrameResult {
  if (data.length < udpStart + 8) return skip('not_tcp');
  const udpLen = u16(data, udpStart + 4);
  if (udpLen < 8 || udpStart + udpLen > end) return skip('not_tcp');
  const payloadEnd = udpStart + udpLen;
  let p = udpStart + 8;
  if (data.length >= p + 4 && u16(data, p) === 0x0001) p += 13 + (data[p + 2] ?? 0) + (data[p + 3] ?? 0);
  if (data.length >= p + 2 && u16(data, p) === 0x0000) p += 8;
  if (data.length < p + 40 || payloadEnd - p < 40) return skip('not_tcp');
  if ((data[p] ?? 0) >> 4 !== 6 || p + 40 + u16(data, p + 4) !== payloadEnd) return skip('not_tcp');
  return ip(data, p, payloadEnd, options, depth + 1);
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) >>> 0) + (((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0));
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) >>> 0) + (((x >>> 8) & 0xff) << 16) + (((x >>> 16) & 0xff) << 8) + (x >>> 24);
}
