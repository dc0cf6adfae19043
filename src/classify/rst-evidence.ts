/**
 * Per-RST header evidence (docs/verdicts.md#sender-and-origin): every sampled RST of a connection
 * is judged on its own against its claimed sender's packets in the flow. In a tampered connection
 * the first RST is often the real endpoint's answer to the tampering, and the forged ones come
 * later, so judging only the first RST misses them.
 *
 * The claimed sender's flow baseline is built from all of its non-RST packets in the correlation
 * window, before and after the RST (forged RSTs race the real packets), never from RSTs.
 */
import { TCP_FLAGS, type ConnRecord, type HostBaselines, type MiddleboxSignal, type PacketHeader, type RstJudgement, type Side } from '../domain';
import { baselineOf, hopsFromTtl, isRst } from '../correlate/baseline';

/** Bits of the 12-bit TCP flags field that a stack never sets (0x200-0x800: reserved). */
export const RESERVED_FLAG_BITS = 0x0e00;

export interface RstEvidenceSettings {
  readonly ttlDeltaThreshold: number;
  readonly rstSeqSpread: number;
  readonly rstSpreadWindowS: number;
}

export function headerSide(c: ConnRecord, h: PacketHeader): Side | undefined {
  if (h.srcIp === c.origH && h.srcPort === c.origP) return 'originator';
  if (h.srcIp === c.respH && h.srcPort === c.respP) return 'responder';
  return undefined;
}

export function signed16(d: number): number {
  const m = ((d % 0x10000) + 0x10000) % 0x10000;
  return m >= 0x8000 ? m - 0x10000 : m;
}

/** Forward distance of 32-bit sequence numbers. */
export function seqForward(from: number, to: number): number {
  return (to - from + 0x100000000) % 0x100000000;
}

function isHandshakePacket(side: Side, h: PacketHeader): boolean {
  const syn = (h.tcpFlags & TCP_FLAGS.SYN) !== 0;
  const ack = (h.tcpFlags & TCP_FLAGS.ACK) !== 0;
  return syn && !isRst(h) && (side === 'responder' ? ack : !ack);
}

export function reasonText(s: MiddleboxSignal): string {
  switch (s.kind) {
    case 'ttl':
      return `TTL ${s.ttl} vs ${s.expected} from the sender's ${s.source} baseline`;
    case 'handshake_hops':
      return `${s.hops} hops vs ${s.handshakeHops} on the sender's own handshake packet, with its later packets at the RST's distance`;
    case 'data_after':
      return 'data from the sender after its RST (headers)';
    case 'seq_spread':
      return `a RST ${s.gap} above the sender's first RST within the spread window`;
    case 'reserved_bits':
      return `reserved TCP flag bits set (tcp_flags ${s.flags})`;
  }
}

/**
 * Judges every sampled RST of one connection, in capture order. `sided` are the flow's headers
 * with the side each comes from.
 */
export function judgeRsts(
  sided: readonly { readonly side: Side; readonly h: PacketHeader }[],
  hostBaselines: HostBaselines,
  settings: RstEvidenceSettings,
): RstJudgement[] {
  const bySide = (side: Side): PacketHeader[] => sided.filter((x) => x.side === side).map((x) => x.h).sort((a, b) => a.tsUs - b.tsUs);
  const packets = { originator: bySide('originator'), responder: bySide('responder') };
  const baselines = { originator: baselineOf(packets.originator, 'flow'), responder: baselineOf(packets.responder, 'flow') };
  const hosts = { originator: hostBaselines.orig, responder: hostBaselines.resp };
  const out: RstJudgement[] = [];
  for (const side of ['originator', 'responder'] as const) {
    const own = packets[side];
    const host = hosts[side];
    const baseline = baselines[side] ?? host;
    const handshake = own.find((p) => isHandshakePacket(side, p));
    const afterHandshake = handshake === undefined ? [] : own.filter((p) => !isRst(p) && p.tsUs > handshake.tsUs);
    const rsts = own.filter(isRst);
    const first = rsts[0];
    for (const rst of rsts) {
      const signals: MiddleboxSignal[] = [];
      const ttl = rst.ipTtl;
      const hops = hopsFromTtl(ttl);
      const ttlDelta = baseline === undefined ? undefined : Math.abs(ttl - baseline.ttl);
      const hopsDelta = baseline === undefined ? undefined : Math.abs(hops - baseline.hops);
      if (baseline !== undefined && ttlDelta !== undefined && ttlDelta >= settings.ttlDeltaThreshold) {
        signals.push({ kind: 'ttl', ttl, expected: baseline.ttl, source: baseline.source });
      } else if (handshake !== undefined && afterHandshake.length > 0) {
        // The RST matches the sender's later packets, but all of those sit at another distance than
        // the sender's own handshake packet: whoever answered after the handshake is not the host
        // that completed it (an in-path filter that took the connection over).
        const hsHops = hopsFromTtl(handshake.ipTtl);
        const shifted = (p: PacketHeader): boolean => Math.abs(hopsFromTtl(p.ipTtl) - hsHops) >= settings.ttlDeltaThreshold;
        if (shifted(rst) && afterHandshake.every(shifted)) signals.push({ kind: 'handshake_hops', hops, handshakeHops: hsHops });
      }
      if (own.some((p) => p.tsUs > rst.tsUs && p.payloadLen > 0 && !isRst(p))) signals.push({ kind: 'data_after', source: 'headers' });
      let seqGap: number | undefined;
      if (first !== undefined && rst !== first && rst.tsUs - first.tsUs <= settings.rstSpreadWindowS * 1e6) {
        const gap = seqForward(first.seq, rst.seq);
        if (gap > settings.rstSeqSpread && gap < 0x80000000) {
          seqGap = gap;
          signals.push({ kind: 'seq_spread', gap });
        }
      }
      if ((rst.tcpFlags & RESERVED_FLAG_BITS) !== 0) signals.push({ kind: 'reserved_bits', flags: rst.tcpFlags });
      let ipIdDelta: number | undefined;
      if (rst.ipId !== null) {
        const prev = own.filter((p) => !isRst(p) && p.tsUs <= rst.tsUs && p.ipId !== null).pop();
        const prevId = prev?.ipId ?? host?.lastIpId ?? null;
        if (prevId !== null) ipIdDelta = signed16(rst.ipId - prevId);
      }
      const ipIdOutOfSequence = baseline?.ipIdBehaviour === 'increasing' && ipIdDelta !== undefined && (ipIdDelta <= 0 || ipIdDelta > 2048);
      out.push({
        side,
        header: rst,
        hasAck: (rst.tcpFlags & TCP_FLAGS.ACK) !== 0,
        ttl,
        hops,
        baseline,
        ttlDelta,
        hopsDelta,
        ipIdDelta,
        ipIdOutOfSequence,
        seqGap,
        signals,
        origin: signals.length > 0 ? 'middlebox' : 'endpoint',
      });
    }
  }
  return out.sort((a, b) => a.header.tsUs - b.header.tsUs);
}

/** A side acknowledged a sequence number its peer never sent: it received a forged segment. */
export interface UnsentAck {
  /** The side whose ACK claims more (or other) than its peer sent. */
  readonly side: Side;
  readonly ack: number;
  /** The peer's ISN from its own sampled SYN / SYN-ACK. */
  readonly peerIsn: number;
  /** Forward distance from the peer's ISN + 1 to the ACK, or negative when the ACK lies before it. */
  readonly distance: number;
  /** The peer sent two handshake packets with different ISNs (`ack` is then the second ISN). */
  readonly conflictingIsn: boolean;
}

function signed32(d: number): number {
  return d >= 0x80000000 ? d - 0x100000000 : d;
}

export function unsentAckText(u: UnsentAck): string {
  const peer = u.side === 'originator' ? 'responder' : 'originator';
  if (u.conflictingIsn) return `the ${peer} sent handshake packets with two ISNs (${u.peerIsn} and ${u.ack}): one is forged`;
  return `the ${u.side} acknowledged ${u.ack}, ${u.distance} from the ${peer}'s ISN ${u.peerIsn} + 1, a sequence number the ${peer} never sent`;
}

/**
 * The first ACK (on a non-RST packet) that acknowledges a sequence number the peer cannot have
 * sent: before the peer's ISN + 1 (a forged SYN-ACK gave the acker another ISN), or beyond every
 * byte the peer can have sent (`peerIpBytes`, the conn record's IP byte count of the peer, bounds
 * its payload; without it, the highest sequence seen from the peer). Needs the peer's handshake
 * packet: control packets are always sampled.
 */
export function firstUnsentAck(
  sided: readonly { readonly side: Side; readonly h: PacketHeader }[],
  peerIpBytes: { readonly originator: number | undefined; readonly responder: number | undefined },
): UnsentAck | undefined {
  const sorted = [...sided].sort((a, b) => a.h.tsUs - b.h.tsUs);
  for (const side of ['originator', 'responder'] as const) {
    const peer: Side = side === 'originator' ? 'responder' : 'originator';
    const peerPackets = sorted.filter((x) => x.side === peer).map((x) => x.h);
    const handshakes = peerPackets.filter((p) => isHandshakePacket(peer, p));
    const hs = handshakes[0];
    if (hs === undefined) continue;
    // Two handshake packets of one side with different ISNs: one of them is forged (a SYN-ACK race).
    const other = handshakes.find((p) => p.seq !== hs.seq);
    if (other !== undefined) return { side, ack: other.seq, peerIsn: hs.seq, distance: signed32(seqForward(hs.seq, other.seq)), conflictingIsn: true };
    const start = (hs.seq + 1) % 0x100000000;
    const seenEnd = Math.max(0, ...peerPackets.map((p) => seqForward(start, (p.seq + p.payloadLen + ((p.tcpFlags & TCP_FLAGS.FIN) !== 0 ? 1 : 0)) % 0x100000000)).filter((d) => d < 0x80000000));
    const bound = Math.max(seenEnd, peerIpBytes[peer] ?? 0) + 1;
    for (const x of sorted) {
      if (x.side !== side || isRst(x.h) || (x.h.tcpFlags & TCP_FLAGS.ACK) === 0 || x.h.tsUs < hs.tsUs) continue;
      const d = seqForward(start, x.h.ack);
      if (d >= 0x80000000) return { side, ack: x.h.ack, peerIsn: hs.seq, distance: d - 0x100000000, conflictingIsn: false };
      if (d > bound) return { side, ack: x.h.ack, peerIsn: hs.seq, distance: d, conflictingIsn: false };
    }
  }
  return undefined;
}
