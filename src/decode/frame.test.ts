import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  ethernetFrame, ipv4Packet, ipv6Extension, ipv6Fragment, ipv6Packet, nullFrame, sll2Frame, sllFrame, tcpSegment, udpDatagram,
} from '../../test/helpers/pcap-writer';
import { createCaptureReader, packetTimeS } from './capture-file';
import type { FrameResult, TcpFields } from './frame';
import { decodeFrame, LINKTYPE } from './frame';
import { parseIpv6 } from './ip';

const ON = { teredo: true };
const SEG = { srcPort: 40000, dstPort: 443, seq: 0xfffffff0, ack: 7, flags: 0x018, window: 501, payload: Buffer.from('hello'), optionBytes: 12 };
const V4 = { src: [10, 0, 0, 1], dst: [192, 168, 1, 2], ttl: 63, id: 4242, proto: 6 } as const;
const A6 = parseIpv6('2001:db8::1') ?? new Uint8Array(16);
const B6 = parseIpv6('fe80::2:0:0:3') ?? new Uint8Array(16);
const V6 = { src: A6, dst: B6, hopLimit: 57, next: 6 };

const tcp4 = ipv4Packet(V4, tcpSegment(SEG));
const tcp6 = ipv6Packet(V6, tcpSegment(SEG));

const EXPECTED4: TcpFields = {
  srcIp: '10.0.0.1', dstIp: '192.168.1.2', srcPort: 40000, dstPort: 443, ipVersion: 4, ipTtl: 63, ipId: 4242,
  tcpFlags: 0x018, seq: 0xfffffff0, ack: 7, window: 501, payloadLen: 5,
};
const EXPECTED6: TcpFields = { ...EXPECTED4, srcIp: '2001:db8::1', dstIp: 'fe80::2:0:0:3', ipVersion: 6, ipTtl: 57, ipId: null };

const frame = (linkType: number, data: Uint8Array, originalLength = data.length): FrameResult => decodeFrame(linkType, data, originalLength, ON);
const ok = (r: FrameResult): TcpFields | string => (r.kind === 'tcp' ? r.tcp : r.reason);

describe('link layers', () => {
  it.each([
    ['Ethernet', LINKTYPE.ETHERNET, ethernetFrame(0x0800, tcp4)],
    ['Ethernet + 802.1Q', LINKTYPE.ETHERNET, ethernetFrame(0x0800, tcp4, [{ tpid: 0x8100, vid: 100 }])],
    ['Ethernet + 802.1ad + 802.1Q (QinQ)', LINKTYPE.ETHERNET, ethernetFrame(0x0800, tcp4, [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }])],
    ['Linux SLL', LINKTYPE.LINUX_SLL, sllFrame(0x0800, tcp4)],
    ['Linux SLL2', LINKTYPE.LINUX_SLL2, sll2Frame(0x0800, tcp4)],
    ['raw IP (101)', LINKTYPE.RAW, tcp4],
    ['raw IP (DLT 12)', LINKTYPE.RAW_DLT12, tcp4],
    ['LINKTYPE_IPV4', LINKTYPE.IPV4, tcp4],
    ['BSD loopback, little-endian host', LINKTYPE.NULL, nullFrame(2, tcp4, false)],
    ['BSD loopback, big-endian host', LINKTYPE.NULL, nullFrame(2, tcp4, true)],
    ['OpenBSD loopback', LINKTYPE.LOOP, nullFrame(2, tcp4, true)],
  ])('IPv4 over %s', (_name, linkType, data) => {
    expect(ok(frame(linkType, data))).toEqual(EXPECTED4);
  });

  it.each([
    ['Ethernet', LINKTYPE.ETHERNET, ethernetFrame(0x86dd, tcp6)],
    ['Ethernet + 802.1Q', LINKTYPE.ETHERNET, ethernetFrame(0x86dd, tcp6, [{ tpid: 0x8100, vid: 7 }])],
    ['Linux SLL', LINKTYPE.LINUX_SLL, sllFrame(0x86dd, tcp6)],
    ['Linux SLL2', LINKTYPE.LINUX_SLL2, sll2Frame(0x86dd, tcp6)],
    ['raw IP', LINKTYPE.RAW, tcp6],
    ['LINKTYPE_IPV6', LINKTYPE.IPV6, tcp6],
    ['BSD loopback (AF_INET6 = 24, NetBSD/OpenBSD)', LINKTYPE.NULL, nullFrame(24, tcp6, false)],
    ['BSD loopback (AF_INET6 = 30, macOS)', LINKTYPE.NULL, nullFrame(30, tcp6, true)],
  ])('IPv6 over %s', (_name, linkType, data) => {
    expect(ok(frame(linkType, data))).toEqual(EXPECTED6);
  });

  it('non-IP frames and unknown link types are counted, not decoded', () => {
    expect(ok(frame(LINKTYPE.ETHERNET, ethernetFrame(0x0806, Buffer.alloc(28))))).toBe('not_ip'); // ARP
    expect(ok(frame(LINKTYPE.ETHERNET, ethernetFrame(0x0800, tcp4, [{ tpid: 0x8100, vid: 1 }]).subarray(0, 15)))).toBe('too_short');
    expect(ok(frame(LINKTYPE.LINUX_SLL2, sll2Frame(0x0806, Buffer.alloc(28))))).toBe('not_ip');
    expect(ok(frame(LINKTYPE.NULL, nullFrame(7, tcp4, false)))).toBe('not_ip');
    expect(ok(frame(105, tcp4))).toBe('unsupported_link'); // 802.11
  });
});

describe('IPv4', () => {
  it('payload length comes from the IP total length: Ethernet padding is not payload', () => {
    const bare = ipv4Packet(V4, tcpSegment({ ...SEG, payload: Buffer.alloc(0), optionBytes: 0 }));
    const padded = ethernetFrame(0x0800, Buffer.concat([bare, Buffer.alloc(6)])); // 40-byte IP in a 60-byte frame
    expect(ok(frame(LINKTYPE.ETHERNET, padded))).toMatchObject({ payloadLen: 0 });
  });

  it('a frame cut by the snap length still reports the payload on the wire', () => {
    const big = ipv4Packet(V4, tcpSegment({ ...SEG, payload: Buffer.alloc(1400) }));
    const eth = ethernetFrame(0x0800, big);
    expect(ok(frame(LINKTYPE.ETHERNET, eth.subarray(0, 96), eth.length))).toMatchObject({ payloadLen: 1400 });
  });

  it('IP options are skipped', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, optionBytes: 8 }, tcpSegment(SEG))))).toEqual(EXPECTED4);
  });

  it('total length 0 (segmentation offload on the capturing host): the frame gives the length', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, totalLength: 0 }, tcpSegment(SEG))))).toEqual(EXPECTED4);
  });

  it('first fragment decoded, later fragments skipped as fragments', () => {
    const first = ipv4Packet({ ...V4, moreFragments: true }, tcpSegment(SEG));
    expect(ok(frame(LINKTYPE.RAW, first))).toEqual(EXPECTED4);
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, fragmentOffset: 185 }, Buffer.alloc(40))))).toBe('fragment');
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, fragmentOffset: 1, moreFragments: true }, Buffer.alloc(40))))).toBe('fragment');
  });

  it('too short for its headers, and inconsistent lengths', () => {
    // Cut by the snap length: the wire length is the whole packet's.
    expect(ok(frame(LINKTYPE.RAW, tcp4.subarray(0, 19), tcp4.length))).toBe('too_short'); // inside the IP header
    expect(ok(frame(LINKTYPE.RAW, tcp4.subarray(0, 20 + 19), tcp4.length))).toBe('too_short'); // inside the TCP header
    const badIhl = Buffer.from(tcp4);
    badIhl[0] = 0x44;
    expect(ok(frame(LINKTYPE.RAW, badIhl))).toBe('malformed');
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, totalLength: 2000 }, tcpSegment(SEG))))).toBe('malformed'); // longer than the frame
    const badOffset = Buffer.from(tcp4);
    badOffset[20 + 12] = 0x40; // TCP data offset 4 words
    expect(ok(frame(LINKTYPE.RAW, badOffset))).toBe('malformed');
    expect(ok(frame(LINKTYPE.RAW, Buffer.alloc(0)))).toBe('too_short');
    expect(ok(frame(LINKTYPE.RAW, Buffer.from([0x50])))).toBe('not_ip');
  });

  it('UDP and ICMP are not TCP, and TCP quoted in an ICMP error is not a packet of the flow', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, proto: 17 }, udpDatagram(53, 53, Buffer.alloc(20)))))).toBe('not_tcp');
    const icmpError = Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), tcp4.subarray(0, 28)]);
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...V4, proto: 1 }, icmpError)))).toBe('not_tcp');
  });

  it('the 12-bit flags field: AE (0x100) and reserved bits are kept', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet(V4, tcpSegment({ ...SEG, flags: 0x904 }))))).toMatchObject({ tcpFlags: 0x904 });
  });
});

describe('IPv6', () => {
  it('extension headers are skipped (hop-by-hop, routing, destination options, AH)', () => {
    const ah = Buffer.alloc(16);
    ah[0] = 6;
    ah[1] = 2; // (2 + 2) * 4 = 16 bytes
    const chain = Buffer.concat([ipv6Extension(43, 8), ipv6Extension(60, 24), ipv6Extension(51, 8), ah, tcpSegment(SEG)]);
    chain[0] = 43; // hop-by-hop -> routing
    chain[8] = 60; // routing -> destination options
    chain[32] = 51; // destination options -> AH
    expect(ok(frame(LINKTYPE.RAW, ipv6Packet({ ...V6, next: 0 }, chain)))).toEqual(EXPECTED6);
  });

  it('first fragment decoded, later fragments skipped', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv6Packet({ ...V6, next: 44 }, Buffer.concat([ipv6Fragment(6, 0, true), tcpSegment(SEG)]))))).toEqual(EXPECTED6);
    expect(ok(frame(LINKTYPE.RAW, ipv6Packet({ ...V6, next: 44 }, Buffer.concat([ipv6Fragment(6, 100, false), Buffer.alloc(30)]))))).toBe('fragment');
  });

  it('an extension header running past the payload is malformed; no next header is not TCP', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv6Packet({ ...V6, next: 0, payloadLength: 8 }, ipv6Extension(6, 16))))).toBe('malformed');
    expect(ok(frame(LINKTYPE.RAW, ipv6Packet({ ...V6, next: 59 }, Buffer.alloc(0))))).toBe('not_tcp');
    expect(ok(frame(LINKTYPE.RAW, tcp6.subarray(0, 39), tcp6.length))).toBe('too_short');
  });
});

describe('tunnels', () => {
  const outer = { src: [1, 1, 1, 1], dst: [2, 2, 2, 2], ttl: 30, id: 1, proto: 17 } as const;

  it('Teredo: the IPv6 packet inside UDP, with an origin indication and with an authentication indicator', () => {
    const plain = ipv4Packet(outer, udpDatagram(3544, 50000, tcp6));
    const origin = ipv4Packet(outer, udpDatagram(50000, 3544, Buffer.concat([Buffer.from('0000ab12c0a80001', 'hex'), tcp6])));
    const auth = Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.alloc(2 + 3 + 8 + 1), tcp6]); // id len 2, auth len 3, nonce, confirmation
    const authed = ipv4Packet(outer, udpDatagram(1234, 5678, auth));
    for (const p of [plain, origin, authed]) expect(ok(frame(LINKTYPE.RAW, p))).toEqual(EXPECTED6);
    expect(ok(decodeFrame(LINKTYPE.RAW, plain, plain.length, { teredo: false }))).toBe('not_tcp');
  });

  it('UDP whose payload is not a whole IPv6 packet is plain UDP', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet(outer, udpDatagram(3544, 3544, Buffer.concat([tcp6, Buffer.alloc(3)])))))).toBe('not_tcp');
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet(outer, udpDatagram(3544, 3544, Buffer.alloc(60, 0x45)))))).toBe('not_tcp');
  });

  it('IPv6 in IPv4 (41) and IPv4 in IPv4 (4): the innermost IP header', () => {
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...outer, proto: 41 }, tcp6)))).toEqual(EXPECTED6);
    expect(ok(frame(LINKTYPE.RAW, ipv4Packet({ ...outer, proto: 4 }, tcp4)))).toEqual(EXPECTED4);
  });
});

/**
 * tcpdump as an independent reader: the fixture captures come with `tcpdump -tt -n -v -S -K`
 * output (test/fixtures/pcap/README.md), and every field tcpdump prints must match ours.
 * tcpdump leaves out seq on segments without payload or SYN/FIN/RST and ack without the
 * ACK flag; those are compared only where printed.
 */
describe('real captures against tcpdump', () => {
  const FIXTURES = path.resolve(__dirname, '../../test/fixtures/pcap');
  const FLAG_LETTERS: Readonly<Record<string, number>> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20, E: 0x40, W: 0x80 };

  interface Printed { ts: string; src: string; dst: string; srcPort: number; dstPort: number; ttl: number; id: number | null; flags: number; seq?: number; ack?: number; window: number; length: number }

  function parseTcpdump(text: string): Printed[] {
    const joined = text.replace(/\n\s+/g, ' ').split('\n').filter((l) => l.trim() !== '');
    return joined.map((line) => {
      const m = /^(\d+\.\d{6}) (?:\S+ +(?:In|Out|M|B|P) +)?IP6? \((.*?)\) (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\],(.*)$/.exec(line);
      if (m === null) throw new Error(`tcpdump line not understood: ${line}`);
      const [, ts = '', ipInfo = '', src = '', sp = '', dst = '', dp = '', letters = '', rest = ''] = m;
      const ttl = /(?:ttl|hlim) (\d+)/.exec(ipInfo)?.[1];
      const id = /id (\d+)/.exec(ipInfo)?.[1];
      const seq = /seq (\d+)/.exec(rest)?.[1];
      const ack = /ack (\d+)/.exec(rest)?.[1];
      const win = /win (\d+)/.exec(rest)?.[1];
      const len = /length (\d+)\s*$/.exec(rest)?.[1];
      return {
        ts, src, dst, srcPort: Number(sp), dstPort: Number(dp), ttl: Number(ttl), id: id === undefined ? null : Number(id),
        // tcpdump's flag letters are ASCII.
        flags: letters.split('').reduce((f, c) => f | (FLAG_LETTERS[c] ?? 0), 0),
        ...(seq === undefined ? {} : { seq: Number(seq) }), ...(ack === undefined ? {} : { ack: Number(ack) }),
        window: Number(win), length: Number(len),
      };
    });
  }

  it.each(['lo-en10mb', 'any-sll2', 'any-sll', 'lo-nano'])('%s.pcap', (name) => {
    const printed = parseTcpdump(readFileSync(path.join(FIXTURES, `${name}.tcpdump.txt`), 'utf8'));
    const r = createCaptureReader();
    const ours: Printed[] = [];
    for (const e of [...r.push(readFileSync(path.join(FIXTURES, `${name}.pcap`))), ...r.end()]) {
      if (e.kind !== 'packet') throw new Error(e.error.detail);
      const d = decodeFrame(e.packet.linkType, e.packet.data, e.packet.originalLength, ON);
      if (d.kind !== 'tcp') throw new Error(d.reason);
      const t = d.tcp;
      const p = printed[ours.length];
      ours.push({
        ts: `${e.packet.tsSec}.${String(e.packet.tsUsec).padStart(6, '0')}`, src: t.srcIp, dst: t.dstIp, srcPort: t.srcPort, dstPort: t.dstPort,
        ttl: t.ipTtl, id: t.ipId, flags: t.tcpFlags, ...(p?.seq === undefined ? {} : { seq: t.seq }), ...(p?.ack === undefined ? {} : { ack: t.ack }),
        window: t.window, length: t.payloadLen,
      });
      expect(packetTimeS(e.packet.tsSec, e.packet.tsUsec)).toBe(Number(p?.ts));
    }
    expect(ours).toEqual(printed);
    // The captures hold real resets: the client's abort and the closed port's RST+ACK.
    expect(ours.filter((x) => (x.flags & 0x04) !== 0).length).toBeGreaterThanOrEqual(3);
  });
});
