/**
 * TTL and IP ID baselines (docs/correlation.md): what a host's own packets usually look like, so that a
 * RST claiming to come from it can be compared. Built only from non-RST packets: a forged RST
 * must not poison the baseline it is judged against.
 *
 * Strength: the flow's own packets from the claimed sender are the strongest baseline (same path,
 * same stack); the host's recent packets on other flows are next (same host, maybe another path).
 */
import { TCP_FLAGS, type Baseline, type IpIdBehaviour, type PacketHeader } from '../domain';
import { OrderedMap } from '../ordered-map';
import type { HostSampleState } from './state';

/** Common initial TTLs: 32 (old Windows), 64 (Linux, BSD, macOS), 128 (Windows), 255 (network gear, Solaris). */
export const INITIAL_TTL_CLASSES = [32, 64, 128, 255] as const;

/** The smallest common initial TTL that is >= the observed one. */
export function initialTtlClass(observedTtl: number): number {
  for (const c of INITIAL_TTL_CLASSES) if (observedTtl <= c) return c;
  return 255;
}

/** Hops from the sender to the sensor, assuming its initial TTL is the class above the observed one. */
export function hopsFromTtl(observedTtl: number): number {
  return initialTtlClass(observedTtl) - observedTtl;
}

/** The most frequent value; ties go to the most recent of the tied values. */
export function mode(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  let best: number | undefined;
  let bestCount = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c >= bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** Forward distance between two 16-bit IP IDs. */
export function ipIdForward(from: number, to: number): number {
  return (to - from + 0x10000) % 0x10000;
}

/**
 * IP ID behaviour of a sequence of IDs in send order: `zero` (DF packets of Linux and others),
 * `increasing` (a global or per-destination counter: small forward steps), else `random`.
 * Fewer than 3 samples say nothing.
 */
export function ipIdBehaviour(ids: readonly number[]): IpIdBehaviour {
  if (ids.length < 3) return 'unknown';
  if (ids.every((id) => id === 0)) return 'zero';
  let small = 0;
  for (let i = 1; i < ids.length; i++) {
    const prev = ids[i - 1];
    const cur = ids[i];
    if (prev === undefined || cur === undefined) continue;
    const step = ipIdForward(prev, cur);
    if (step > 0 && step <= 2048) small++;
  }
  return small >= 0.8 * (ids.length - 1) ? 'increasing' : 'random';
}

export function isRst(h: PacketHeader): boolean {
  return (h.tcpFlags & TCP_FLAGS.RST) !== 0;
}

/** Baseline from a list of packets of one sender (any order); undefined when no non-RST packet. */
export function baselineOf(packets: readonly PacketHeader[], source: Baseline['source']): Baseline | undefined {
  const usable = packets.filter((p) => !isRst(p)).sort((a, b) => a.tsUs - b.tsUs);
  const ttl = mode(usable.map((p) => p.ipTtl));
  if (ttl === undefined) return undefined;
  const ids = usable.flatMap((p) => (p.ipId === null ? [] : [p.ipId]));
  return {
    source,
    ttl,
    hops: hopsFromTtl(ttl),
    samples: usable.length,
    ipIdBehaviour: ipIdBehaviour(ids),
    lastIpId: ids[ids.length - 1],
  };
}

/** One non-RST packet of a host, as the host baseline keeps it. */
type HostSample = HostSampleState;

/** A host's samples as the changelog keeps them; `seq` orders hosts from least to most recently updated. */
export interface HostEntry {
  readonly host: string;
  readonly seq: number;
  readonly samples: readonly HostSample[];
}

export interface HostBaselineStore {
  /** Learns from one header (RSTs are ignored), under its sensor and source IP. Returns 1 when a host had to be evicted, else 0. */
  observe(h: PacketHeader): number;
  /**
   * The host's baseline as the sensor `observer` saw it, from its most recent samples captured at
   * or before `atUs`. Keyed by observer AND IP: two sites with the same private ranges never share
   * a baseline. Headers without a sensor are kept under no observer and serve any observer that
   * has no samples of its own for the IP (as the join accepts them for any conn). Reading "as of"
   * a capture time, not "whatever has arrived", keeps a verdict independent of arrival order:
   * `classify` (all headers first) and `run` (interleaved topics) see the same baseline.
   */
  get(observer: string | undefined, ip: string, atUs: number): Baseline | undefined;
  size(): number;
  /**
   * Hosts updated or evicted since the last call (`samples` null: evicted), least recently
   * updated first, each with the next `seq` from `nextSeq`. Only with change tracking on.
   */
  drainChanges(nextSeq: () => number): readonly { readonly host: string; readonly entry: HostEntry | null }[];
  /** Loads hosts into an empty store (changelog restore), in `seq` order. */
  restore(entries: readonly HostEntry[]): void;
}

/** Index of the first sample with tsUs > t (samples sorted by tsUs). */
function upperBound(samples: readonly HostSample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const s = samples[mid];
    if (s !== undefined && s.tsUs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per-host baselines, capped at `maxHosts` (least recently updated host evicted first) with the
 * `samples` latest packets per host by capture time: memory stays flat under an endless stream.
 */
export function createHostBaselineStore(maxHosts: number, samples: number, trackChanges = false): HostBaselineStore {
  // Least recently updated first, the oldest evicted: OrderedMap, not Map (ordered-map.ts).
  const hosts = new OrderedMap<string, HostSample[]>();
  // Hosts changed since the last drain, in the order of their last change (the map's order).
  const touched = trackChanges ? new Set<string>() : undefined;
  const touch = (host: string): void => {
    if (touched === undefined) return;
    touched.delete(host);
    touched.add(host);
  };
  // One `observer|ip` key string per pair, found by two lookups of strings the decoders pool:
  // building and hashing a fresh key for every header and every conn cost more than the store's
  // own work (npm run bench -- headers). A memo, so it is bounded by clearing it.
  const keys = new Map<string, Map<string, string>>();
  let keyCount = 0;
  const keyOf = (observer: string | null | undefined, ip: string): string => {
    const o = observer ?? '';
    const known = keys.get(o)?.get(ip);
    if (known !== undefined) return known;
    if (keyCount >= 2 * maxHosts) {
      keys.clear();
      keyCount = 0;
    }
    let byIp = keys.get(o);
    if (byIp === undefined) {
      byIp = new Map();
      keys.set(o, byIp);
    }
    const key = `${o}|${ip}`;
    byIp.set(ip, key);
    keyCount++;
    return key;
  };
  return {
    observe(h) {
      if (isRst(h)) return 0;
      const key = keyOf(h.sensor, h.srcIp);
      let list = hosts.get(key);
      let evicted = 0;
      if (list === undefined) {
        list = [];
        if (hosts.size >= maxHosts) {
          const oldest = hosts.oldest();
          if (oldest !== undefined) {
            hosts.delete(oldest[0]);
            touch(oldest[0]);
            evicted = 1;
          }
        }
        hosts.set(key, list);
      } else {
        hosts.moveToEnd(key); // most recently updated last
      }
      touch(key);
      // Packets mostly arrive in capture order, so this is almost always an append (push, not
      // the generic splice).
      const at = upperBound(list, h.tsUs);
      const sample: HostSample = { tsUs: h.tsUs, ttl: h.ipTtl, ipId: h.ipId };
      if (at === list.length) list.push(sample);
      else list.splice(at, 0, sample);
      if (list.length > samples) list.shift();
      return evicted;
    },
    get(observer, ip, atUs) {
      // Every conn asks for both its hosts: no key is built while the store is empty (no headers
      // yet, or none at all), and the sensor-less key is looked up again only when it differs.
      if (hosts.size === 0) return undefined;
      const own = keyOf(observer, ip);
      const list = hosts.get(own) ?? (observer === undefined || observer === '' ? undefined : hosts.get(keyOf(undefined, ip)));
      if (list === undefined) return undefined;
      const upTo = list.slice(0, upperBound(list, atUs));
      const ttl = mode(upTo.map((s) => s.ttl));
      if (ttl === undefined) return undefined;
      const ids = upTo.flatMap((s) => (s.ipId === null ? [] : [s.ipId]));
      return {
        source: 'host',
        ttl,
        hops: hopsFromTtl(ttl),
        samples: upTo.length,
        ipIdBehaviour: ipIdBehaviour(ids),
        lastIpId: ids[ids.length - 1],
      };
    },
    size: () => hosts.size,
    drainChanges(nextSeq) {
      if (touched === undefined) return [];
      const out: { host: string; entry: HostEntry | null }[] = [];
      for (const host of touched) {
        const list = hosts.get(host);
        out.push({ host, entry: list === undefined ? null : { host, seq: nextSeq(), samples: list.slice() } });
      }
      touched.clear();
      return out;
    },
    restore(entries) {
      for (const e of [...entries].sort((a, b) => a.seq - b.seq).slice(-maxHosts)) hosts.set(e.host, e.samples.slice(-samples));
    },
  };
}
