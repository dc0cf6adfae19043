/**
 * The vocabulary of Internet-scale passive tampering measurement (docs/verdicts.md#stage-and-tags):
 * where the first RST of a connection sits, as Cloudflare Radar's passive tampering detection
 * names it (`post_syn`, `post_ack`, `post_psh`, `later_in_flow`), and shape tags of its resets
 * (single or multiple; RST, RST+ACK or both; ACK numbers zero, the same or different), so that a
 * site's numbers compare with the published Internet-wide ones. Also the ZMap / Masscan fingerprint
 * of a sampled SYN. Facts about position, independent of the verdict.
 */
import { TCP_FLAGS, type ConnRecord, type PacketHeader, type RstStage, type RstTag, type ScannerFingerprint, type Side } from '../domain';
import { isRst } from '../correlate/baseline';
import type { ParsedHistory } from './history';

/** ZMap writes this IP ID into every probe (src/probe_modules/packet.c of zmap/zmap). */
export const ZMAP_IP_ID = 54321;

type SidedHeader = { readonly side: Side; readonly h: PacketHeader };

/**
 * Stage of the first RST: what the originator had sent before it. From the history letters before
 * the first `R`/`r` (complete, not sampled); the sampled headers only tell one data packet from
 * several. Undefined when nothing but resets and handshake replies was seen (no SYN, no data).
 */
export function rstStage(h: ParsedHistory, sided: readonly SidedHeader[]): RstStage | undefined {
  const firstR = h.events.find((e) => e.letter === 'r');
  const rstHeaders = sided.filter((x) => isRst(x.h));
  const firstRstTs = rstHeaders.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...rstHeaders.map((x) => x.h.tsUs));
  const before = (side: Side, letter: string): boolean =>
    h.events.some((e) => e.side === side && e.letter === letter && (firstR === undefined || e.index < firstR.index));
  const origDataPackets = sided.filter((x) => x.side === 'originator' && x.h.payloadLen > 0 && !isRst(x.h) && x.h.tsUs < firstRstTs).length;
  if (before('originator', 'd')) return before('responder', 'd') || origDataPackets >= 2 ? 'later_in_flow' : 'post_psh';
  if (before('responder', 'd')) return 'later_in_flow';
  if (before('originator', 'a')) return 'post_ack';
  if (before('originator', 's')) return 'post_syn';
  return undefined;
}

/**
 * Shape tags of the connection's resets: count from history and headers; RST vs RST+ACK vs both,
 * and the ACK numbers (`ack_zero`: a sampled RST with ACK field 0; `ack_same` / `ack_different`:
 * two or more RST+ACKs with one or several ACK numbers) from the sampled RSTs.
 */
export function rstTags(rstCount: number, sided: readonly SidedHeader[]): RstTag[] {
  const tags: RstTag[] = [rstCount > 1 ? 'multiple_rst' : 'single_rst'];
  const rsts = sided.filter((x) => isRst(x.h)).map((x) => x.h);
  if (rsts.length === 0) return tags;
  const withAck = rsts.filter((r) => (r.tcpFlags & TCP_FLAGS.ACK) !== 0).length;
  tags.push(withAck === 0 ? 'rst_only' : withAck === rsts.length ? 'rst_ack_only' : 'rst_and_rst_ack');
  if (rsts.some((r) => r.ack === 0)) tags.push('ack_zero');
  // Same or different: among the RST+ACKs (a bare RST's ACK field means nothing).
  const acked = rsts.filter((r) => (r.tcpFlags & TCP_FLAGS.ACK) !== 0 && r.ack !== 0);
  if (acked.length >= 2) tags.push(new Set(acked.map((r) => r.ack)).size === 1 ? 'ack_same' : 'ack_different');
  return tags;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((a, p) => a * 256 + p, 0);
}

/**
 * The scanner that built the originator's sampled SYN, when its IP ID says so: ZMap's constant
 * 54321, or Masscan's IP ID = (destination IP ^ destination port ^ sequence number) & 0xffff
 * (templ-pkt.c of robertdavidgraham/masscan). Each matches a random SYN with odds 1 in 65536.
 */
export function scannerFingerprint(c: ConnRecord, sided: readonly SidedHeader[]): ScannerFingerprint | undefined {
  const syn = sided.find((x) => x.side === 'originator' && (x.h.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN)?.h;
  if (syn === undefined || syn.ipId === null) return undefined;
  if (syn.ipId === ZMAP_IP_ID) return 'zmap';
  const dst = ipv4ToInt(c.respH);
  if (dst !== undefined && ((dst ^ c.respP ^ syn.seq) & 0xffff) === syn.ipId) return 'masscan';
  return undefined;
}
