/**
 * A captured packet -> a PacketHeader (or the counted reason it gives none): the frame decoder's
 * TCP fields, the time as Zeek's packet time in µs (tv_sec * 1e6 + tv_usec, so that
 * tsUs / 1e6 is exactly Zeek's tv_sec + tv_usec / 1e6), the sensor, and the Community ID v1 of
 * the flow. The source names the capture and the record number. Pure.
 */
import type { PacketHeader } from '../domain';
import type { CaptureRecord } from './capture-file';
import { communityId, IP_PROTO } from './community-id';
import type { SkipReason } from './frame';
import { decodeFrame } from './frame';
import { DEFAULT_MAX_TS_US, DEFAULT_MIN_TS_US } from './validate';

/** Frame skip reasons, and a time outside what the rest of zeek-rst accepts (1990..2100). */
export type HeaderSkipReason = SkipReason | 'timestamp_out_of_range';

export interface ExtractOptions {
  /** Follow Teredo tunnels (default on, as Zeek does). */
  readonly teredo: boolean;
  /** `sensor` of every record; null when not given. */
  readonly sensor: string | null;
}

/** A header with the number of its packet record in the capture (1-based). */
export type Extracted = { readonly kind: 'header'; readonly header: PacketHeader; readonly record: number } | { readonly kind: 'skip'; readonly reason: HeaderSkipReason };

export function extractHeader(packet: CaptureRecord, options: ExtractOptions): Extracted {
  const frame = decodeFrame(packet.linkType, packet.data, packet.originalLength, options);
  if (frame.kind === 'skip') return frame;
  const t = frame.tcp;
  const tsUs = packet.tsSec * 1_000_000 + packet.tsUsec;
  if (tsUs < DEFAULT_MIN_TS_US || tsUs > DEFAULT_MAX_TS_US) return { kind: 'skip', reason: 'timestamp_out_of_range' };
  const cid = communityId({ proto: IP_PROTO.TCP, srcIp: t.srcIp, dstIp: t.dstIp, srcPort: t.srcPort, dstPort: t.dstPort }) ?? '';
  return {
    kind: 'header',
    header: { tsUs, sensor: options.sensor, ...t, communityId: cid },
    record: packet.record,
  };
}
