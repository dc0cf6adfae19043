/**
 * The sampling policy of `zeek-rst headers` (docs/inputs.md#packet-headers): every packet with
 * SYN, FIN or RST (so every SYN, SYN-ACK, FIN and RST), plus 1 in N of the others, N = 64 by
 * default. Which others is decided by a hash of the flow and the packet's index within its flow,
 * not by chance or by a global counter, so two sensors that see the same flow keep the same
 * packets, and a rerun on the same capture keeps the same sample.
 *
 * The hash, for another implementation to reproduce: h = FNV-1a 32-bit over the UTF-8 bytes of
 * the flow's Community ID v1 string (seed 0), then over the 4 bytes of the index (little-endian,
 * the index counts the flow's packets in both directions from 0); then MurmurHash3's fmix32
 * finaliser; the packet is kept when h mod N == 0.
 *
 * Per-flow counters are bounded (maxFlows): past the cap the least recently seen flow is dropped
 * and counted; a dropped flow that comes back counts from 0 again. Deterministic, no clock.
 */
import { TCP_FLAGS } from '../domain';
import { OrderedMap } from '../ordered-map';

export const DEFAULT_SAMPLE_ONE_IN = 64;
export const DEFAULT_SAMPLER_MAX_FLOWS = 200_000;
const ALWAYS = TCP_FLAGS.SYN | TCP_FLAGS.FIN | TCP_FLAGS.RST;

export interface SamplerOptions {
  /** Keep 1 in `oneIn` of the packets without SYN/FIN/RST; 1 keeps every packet. */
  readonly oneIn: number;
  /** Flows whose packet index is remembered at most. */
  readonly maxFlows?: number;
}

export interface HeaderSampler {
  /** Whether to keep this packet; call once per TCP packet, in capture order. */
  keep(communityId: string, tcpFlags: number): boolean;
  /** Flows dropped from the index table because of the cap. */
  readonly evictedFlows: number;
  /** Flows currently tracked. */
  readonly trackedFlows: number;
}

// Bound once: in a vm context (jest's) every lookup of the global `Math` goes through the
// context's interceptors, which made this hash, called for every packet of a capture, 6x slower.
const { imul } = Math;
const fnv1a = (h: number, byte: number): number => imul(h ^ byte, 0x01000193) >>> 0;

/** FNV-1a 32 over the UTF-8 bytes of a string, from seed `h`. */
function fnv1aUtf8(h: number, s: string): number {
  // Community IDs are ASCII (a version, a colon, base64), whose UTF-8 bytes are its char codes;
  // only another string needs its bytes encoded.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      const bytes = Buffer.from(s.slice(i), 'utf8');
      for (const b of bytes) h = fnv1a(h, b);
      return h;
    }
    h = fnv1a(h, c);
  }
  return h;
}

/** FNV-1a 32 over the id and the index, then fmix32 (see the file comment). */
export function sampleHash(communityId: string, index: number): number {
  let h = fnv1aUtf8(0x811c9dc5, communityId);
  for (let i = 0; i < 4; i++) h = fnv1a(h, (index >>> (8 * i)) & 0xff);
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function createHeaderSampler(options: SamplerOptions): HeaderSampler {
  const { oneIn } = options;
  const maxFlows = options.maxFlows ?? DEFAULT_SAMPLER_MAX_FLOWS;
  if (!Number.isInteger(oneIn) || oneIn < 1) throw new RangeError(`oneIn must be a positive integer, got ${oneIn}`);
  if (!Number.isInteger(maxFlows) || maxFlows < 1) throw new RangeError(`maxFlows must be a positive integer, got ${maxFlows}`);
  // Insertion order is recency order: a flow moves last on every packet. An OrderedMap, not a
  // Map: evicting a Map's oldest walks every hole its evictions left (src/ordered-map.ts).
  const next = new OrderedMap<string, number>();
  let evicted = 0;
  return {
    keep(communityId, tcpFlags) {
      const index = next.get(communityId) ?? 0;
      next.set(communityId, (index + 1) >>> 0);
      next.moveToEnd(communityId);
      if (next.size > maxFlows) {
        const oldest = next.oldest();
        if (oldest !== undefined) next.delete(oldest[0]);
        evicted++;
      }
      if ((tcpFlags & ALWAYS) !== 0 || oneIn === 1) return true;
      return sampleHash(communityId, index) % oneIn === 0;
    },
    get evictedFlows() {
      return evicted;
    },
    get trackedFlows() {
      return next.size;
    },
  };
}
