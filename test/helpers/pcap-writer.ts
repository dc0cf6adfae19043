/**
 * A tiny writer of synthetic captures and frames for the tests: pcap (both byte orders, micro- or
 * nanosecond magic), pcapng (sections, interface descriptions with options, Enhanced / Simple /
 * obsolete Packet blocks) and Ethernet, VLAN, SLL, SLL2, loopback, IPv4, IPv6, TCP, UDP headers.
 * Written here, from the format descriptions (pcap-savefile(5), draft-ietf-opsawg-pcapng,
 * RFC 791/8200/9293), so tests can build link layers and corner cases no real capture in the
 * repository has. Checksums are left 0: nothing in zeek-rst reads them.
 */

export interface PcapPacket {
  readonly tsSec: number;
  /** Microseconds, or nanoseconds with `nanos`. */
  readonly tsFrac: number;
  readonly data: Uint8Array;
  /** Defaults to data.length. */
  readonly originalLength?: number;
}

export interface PcapOptions {
  readonly linkType: number;
  readonly bigEndian?: boolean;
  readonly nanos?: boolean;
  readonly snapLen?: number;
}

export function pcapFile(options: PcapOptions, packets: readonly PcapPacket[]): Buffer {
  const be = options.bigEndian === true;
  const head = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number): void => {
    if (be) b.writeUInt32BE(v >>> 0, o);
    else b.writeUInt32LE(v >>> 0, o);
  };
  const w16 = (b: Buffer, v: number, o: number): void => {
    if (be) b.writeUInt16BE(v, o);
    else b.writeUInt16LE(v, o);
  };
  w32(head, options.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(head, 2, 4);
  w16(head, 4, 6);
  w32(head, options.snapLen ?? 262144, 16);
  w32(head, options.linkType, 20);
  const parts = [head];
  for (const p of packets) {
    const rec = Buffer.alloc(16);
    w32(rec, p.tsSec, 0);
    w32(rec, p.tsFrac, 4);
    w32(rec, p.data.length, 8);
    w32(rec, p.originalLength ?? p.data.length, 12);
    parts.push(rec, Buffer.from(p.data));
  }
  return Buffer.concat(parts);
}

/** One pcapng block: type, total length, body padded to 4, total length. */
export function pcapngBlock(type: number, body: Uint8Array, bigEndian = false): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const total = 12 + body.length + pad;
  const b = Buffer.alloc(total);
  const w32 = (v: number, o: number): void => {
    if (bigEndian) b.writeUInt32BE(v >>> 0, o);
    else b.writeUInt32LE(v >>> 0, o);
  };
  w32(type, 0);
  w32(total, 4);
  Buffer.from(body).copy(b, 8);
  w32(total, total - 4);
  return b;
}

function options(list: readonly { code: number; value: Uint8Array }[], bigEndian: boolean): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const o of list) {
    const h = Buffer.alloc(4);
    if (bigEndian) {
      h.writeUInt16BE(o.code, 0);
      h.writeUInt16BE(o.value.length, 2);
    } else {
      h.writeUInt16LE(o.code, 0);
      h.writeUInt16LE(o.value.length, 2);
    }
    parts.push(h, Buffer.from(o.value), Buffer.alloc((4 - (o.value.length % 4)) % 4));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

export function sectionHeader(bigEndian = false): Buffer {
  const body = Buffer.alloc(16);
  if (bigEndian) {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
  } else {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
  }
  body.writeBigInt64LE(-1n, 8); // section length unknown (all ones, either order)
  return pcapngBlock(0x0a0d0d0a, body, bigEndian);
}

export interface InterfaceOptions {
  readonly linkType: number;
  readonly snapLen?: number;
  /** if_tsresol byte: 6 = µs (default), 9 = ns, 0x80 | n = 2^-n. */
  readonly tsresol?: number;
  readonly tsoffset?: bigint;
}

export function interfaceBlock(i: InterfaceOptions, bigEndian = false): Buffer {
  const fixed = Buffer.alloc(8);
  if (bigEndian) {
    fixed.writeUInt16BE(i.linkType, 0);
    fixed.writeUInt32BE(i.snapLen ?? 0, 4);
  } else {
    fixed.writeUInt16LE(i.linkType, 0);
    fixed.writeUInt32LE(i.snapLen ?? 0, 4);
  }
  const opts: { code: number; value: Uint8Array }[] = [];
  if (i.tsresol !== undefined) opts.push({ code: 9, value: Uint8Array.of(i.tsresol) });
  if (i.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    if (bigEndian) v.writeBigInt64BE(i.tsoffset);
    else v.writeBigInt64LE(i.tsoffset);
    opts.push({ code: 14, value: v });
  }
  return pcapngBlock(1, Buffer.concat([fixed, options(opts, bigEndian)]), bigEndian);
}

/** Enhanced Packet Block; `ticks` in the interface's resolution. */
export function enhancedPacket(interfaceId: number, ticks: bigint, data: Uint8Array, originalLength = data.length, bigEndian = false): Buffer {
  const fixed = Buffer.alloc(20);
  const w32 = (v: number, o: number): void => {
    if (bigEndian) fixed.writeUInt32BE(v >>> 0, o);
    else fixed.writeUInt32LE(v >>> 0, o);
  };
  w32(interfaceId, 0);
  w32(Number(ticks >> 32n), 4);
  w32(Number(ticks & 0xffffffffn), 8);
  w32(data.length, 12);
  w32(originalLength, 16);
  const pad = Buffer.alloc((4 - (data.length % 4)) % 4);
  return pcapngBlock(6, Buffer.concat([fixed, Buffer.from(data), pad]), bigEndian);
}

export function simplePacket(data: Uint8Array, originalLength = data.length, bigEndian = false): Buffer {
  const len = Buffer.alloc(4);
  if (bigEndian) len.writeUInt32BE(originalLength);
  else len.writeUInt32LE(originalLength);
  return pcapngBlock(3, Buffer.concat([len, Buffer.from(data), Buffer.alloc((4 - (data.length % 4)) % 4)]), bigEndian);
}

/** The obsolete Packet Block (type 2): 16-bit interface id and drop count. */
export function obsoletePacket(interfaceId: number, ticks: bigint, data: Uint8Array, bigEndian = false): Buffer {
  const fixed = Buffer.alloc(20);
  const w32 = (v: number, o: number): void => {
    if (bigEndian) fixed.writeUInt32BE(v >>> 0, o);
    else fixed.writeUInt32LE(v >>> 0, o);
  };
  if (bigEndian) fixed.writeUInt16BE(interfaceId, 0);
  else fixed.writeUInt16LE(interfaceId, 0);
  w32(Number(ticks >> 32n), 4);
  w32(Number(ticks & 0xffffffffn), 8);
  w32(data.length, 12);
  w32(data.length, 16);
  return pcapngBlock(2, Buffer.concat([fixed, Buffer.from(data), Buffer.alloc((4 - (data.length % 4)) % 4)]), bigEndian);
}

// ---- frames ----

export interface TcpSpec {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** 12-bit flags field. */
  readonly flags: number;
  readonly window: number;
  readonly payload?: Uint8Array;
  /** Bytes of TCP options (a multiple of 4). */
  readonly optionBytes?: number;
}

export function tcpSegment(t: TcpSpec): Buffer {
  const opt = t.optionBytes ?? 0;
  const h = Buffer.alloc(20 + opt);
  h.writeUInt16BE(t.srcPort, 0);
  h.writeUInt16BE(t.dstPort, 2);
  h.writeUInt32BE(t.seq >>> 0, 4);
  h.writeUInt32BE(t.ack >>> 0, 8);
  h.writeUInt16BE((((20 + opt) / 4) << 12) | (t.flags & 0x0fff), 12);
  h.writeUInt16BE(t.window, 14);
  if (opt > 0) h.fill(1, 20); // NOPs
  return Buffer.concat([h, Buffer.from(t.payload ?? new Uint8Array(0))]);
}

export function udpDatagram(srcPort: number, dstPort: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, Buffer.from(payload)]);
}

export interface Ipv4Spec {
  readonly src: readonly [number, number, number, number];
  readonly dst: readonly [number, number, number, number];
  readonly ttl: number;
  readonly id: number;
  readonly proto: number;
  /** Fragment offset in 8-byte units, and the more-fragments flag. */
  readonly fragmentOffset?: number;
  readonly moreFragments?: boolean;
  /** Overrides the total length field (0 = offload). */
  readonly totalLength?: number;
  readonly optionBytes?: number;
}

export function ipv4Packet(ip: Ipv4Spec, payload: Uint8Array): Buffer {
  const opt = ip.optionBytes ?? 0;
  const h = Buffer.alloc(20 + opt);
  h[0] = 0x40 | ((20 + opt) / 4);
  h.writeUInt16BE(ip.totalLength ?? 20 + opt + payload.length, 2);
  h.writeUInt16BE(ip.id, 4);
  h.writeUInt16BE(((ip.moreFragments === true ? 1 : 0) << 13) | (ip.fragmentOffset ?? 0), 6);
  h[8] = ip.ttl;
  h[9] = ip.proto;
  Buffer.from(ip.src).copy(h, 12);
  Buffer.from(ip.dst).copy(h, 16);
  return Buffer.concat([h, Buffer.from(payload)]);
}

export interface Ipv6Spec {
  /** 16 bytes each. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly hopLimit: number;
  readonly next: number;
  readonly payloadLength?: number;
}

export function ipv6Packet(ip: Ipv6Spec, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(ip.payloadLength ?? payload.length, 4);
  h[6] = ip.next;
  h[7] = ip.hopLimit;
  Buffer.from(ip.src).copy(h, 8);
  Buffer.from(ip.dst).copy(h, 24);
  return Buffer.concat([h, Buffer.from(payload)]);
}

/** An IPv6 extension header of the (len + 1) * 8 layout, `size` bytes (a multiple of 8). */
export function ipv6Extension(next: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = next;
  b[1] = size / 8 - 1;
  return b;
}

export function ipv6Fragment(next: number, offset8: number, more: boolean): Buffer {
  const b = Buffer.alloc(8);
  b[0] = next;
  b.writeUInt16BE((offset8 << 3) | (more ? 1 : 0), 2);
  b.writeUInt32BE(0x12345678, 4);
  return b;
}

export function ethernetFrame(ethertype: number, payload: Uint8Array, vlanTags: readonly { tpid: number; vid: number }[] = []): Buffer {
  const macs = Buffer.from('0200000000010200000000020000', 'hex').subarray(0, 12);
  const tags = vlanTags.map((t) => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(t.tpid, 0);
    b.writeUInt16BE(t.vid, 2);
    return b;
  });
  const type = Buffer.alloc(2);
  type.writeUInt16BE(ethertype, 0);
  return Buffer.concat([macs, ...tags, type, Buffer.from(payload)]);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL): 16-byte header. */
export function sllFrame(protocol: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, Buffer.from(payload)]);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): 20-byte header, protocol first. */
export function sll2Frame(protocol: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(2, 4); // ifindex
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 4; // outgoing
  h[11] = 6;
  return Buffer.concat([h, Buffer.from(payload)]);
}

/** BSD loopback (LINKTYPE_NULL): the address family as a 4-byte word in the capturing host's order. */
export function nullFrame(family: number, payload: Uint8Array, bigEndian: boolean): Buffer {
  const h = Buffer.alloc(4);
  if (bigEndian) h.writeUInt32BE(family, 0);
  else h.writeUInt32LE(family, 0);
  return Buffer.concat([h, Buffer.from(payload)]);
}
