/**
 * The fields of one packet header record -> PacketHeader: avsc's record (reader schema) or a
 * parsed JSON line, snake_case names as in schemas/packet_header.avsc (docs/inputs.md#packet-headers).
 *
 * Two readers give the same header for every record both accept (header-fields.test.ts):
 * - `usualHeaderOf` takes the record every sensor sends, each field of its type and in its
 *   range and both addresses already checked once, with plain comparisons and nothing else;
 * - `checkedHeaderOf` reads any record field by field and names the first problem.
 * `headerOf` tries the first and falls back to the second, so a refused record is refused for
 * the same reason as before the fast reader existed.
 */
import type { PacketHeader } from '../domain';
import { communityId, IP_PROTO } from './community-id';
import { StringPool } from './string-pool';
import type { Problem } from './validate';
import { FieldReader, problem } from './validate';

const UINT32_MAX = 0xffffffff;

/** Values a flow's headers repeat (sensor, Community ID), one string each (decode/string-pool.ts). */
const HEADER_STRINGS = new StringPool(65_536);

/** Addresses of headers already checked by `isIp`, one string each. */
const HEADER_ADDRESSES = new StringPool(65_536);

const pooled = (s: string | undefined): string | undefined => (s === undefined ? undefined : HEADER_STRINGS.intern(s));

/** `r.addrOf(name, value)`, without checking again an address the pool holds. */
function checkedAddress(r: FieldReader, name: string, value: unknown): string {
  if (typeof value === 'string') {
    const known = HEADER_ADDRESSES.get(value);
    if (known !== undefined) return known;
  }
  const a = r.addrOf(name, value);
  // addrOf returns the value itself when it is an address, '' (never an address) when not.
  return a !== '' && a === value ? HEADER_ADDRESSES.add(a) : a;
}

/** The snake_case names a header is read from, in the order they are checked. */
export const HEADER_FIELD_NAMES = [
  'ts', 'sensor', 'src_ip', 'dst_ip', 'src_port', 'dst_port', 'ip_version', 'ip_ttl', 'ip_id', 'tcp_flags', 'seq', 'ack', 'window',
  'payload_len', 'community_id',
] as const;

/**
 * Validates header fields (snake_case, as in the schema) into a PacketHeader, or the problem that
 * refuses them. `o` is avsc's record or a parsed JSON line, read by property with constant names:
 * several times cheaper than a lookup per field through Fields (a keyed read with a varying name
 * plus Object.hasOwn; npm run bench -- headers). Equal to reading own properties only, because
 * neither Object.prototype nor avsc's record prototype has any of these names
 * (packet-header.test.ts checks both).
 */
export function headerOf(o: Readonly<Record<string, unknown>>, tsUs: number): PacketHeader | Problem {
  return usualHeaderOf(o, tsUs) ?? checkedHeaderOf(o, tsUs);
}

/** The IP version of two checked addresses, or undefined when they are of different families. */
function ipVersionOf(srcIp: string, dstIp: string): 4 | 6 | undefined {
  const isV6 = srcIp.includes(':');
  if (isV6 !== dstIp.includes(':')) return undefined;
  return isV6 ? 6 : 4;
}

/** The Community ID the sensor gave, or the one of the TCP 4-tuple ('' when none exists). */
function cidOf(given: string | undefined, srcIp: string, dstIp: string, srcPort: number, dstPort: number): string {
  return given ?? communityId({ proto: IP_PROTO.TCP, srcIp, dstIp, srcPort, dstPort }) ?? '';
}

const isIntIn = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isAbsent = (v: unknown): v is null | undefined => v === null || v === undefined;

/**
 * The header of a record whose every field is of its type and in its range and whose addresses
 * are in the pool of checked ones, or undefined for any other record: `checkedHeaderOf` then
 * reads it again field by field and names what is wrong. The usual record is read with plain
 * comparisons, without a problem per field to track (npm run bench -- headers). For every record
 * it accepts, it gives what `checkedHeaderOf` gives (header-fields.test.ts compares the two).
 */
export function usualHeaderOf(o: Readonly<Record<string, unknown>>, tsUs: number): PacketHeader | undefined {
  const { sensor, src_ip, dst_ip, src_port, dst_port, ip_version, ip_ttl, ip_id, tcp_flags, seq, ack, window, payload_len, community_id } = o;
  if (typeof src_ip !== 'string' || typeof dst_ip !== 'string') return undefined;
  if (!(isAbsent(sensor) || typeof sensor === 'string') || !(isAbsent(community_id) || typeof community_id === 'string')) return undefined;
  if (!isIntIn(src_port, 0, 65535) || !isIntIn(dst_port, 0, 65535) || !isIntIn(ip_ttl, 0, 255) || !isIntIn(tcp_flags, 0, 0x0fff)) return undefined;
  if (!isIntIn(seq, 0, UINT32_MAX) || !isIntIn(ack, 0, UINT32_MAX) || !isIntIn(window, 0, 65535)) return undefined;
  if (!(isAbsent(ip_id) || isIntIn(ip_id, 0, 65535)) || typeof payload_len !== 'number' || !Number.isSafeInteger(payload_len) || payload_len < 0) return undefined;
  const srcIp = HEADER_ADDRESSES.get(src_ip);
  const dstIp = HEADER_ADDRESSES.get(dst_ip);
  if (srcIp === undefined || dstIp === undefined) return undefined;
  const ipVersion = ipVersionOf(srcIp, dstIp);
  if (ipVersion === undefined || !(isAbsent(ip_version) || ip_version === ipVersion)) return undefined;
  const cid = cidOf(isAbsent(community_id) ? undefined : HEADER_STRINGS.intern(community_id), srcIp, dstIp, src_port, dst_port);
  return {
    tsUs, sensor: isAbsent(sensor) ? null : HEADER_STRINGS.intern(sensor), srcIp, dstIp, srcPort: src_port, dstPort: dst_port, ipVersion, ipTtl: ip_ttl,
    ipId: isAbsent(ip_id) ? null : ip_id, tcpFlags: tcp_flags, seq, ack, window, payloadLen: payload_len, communityId: cid,
  };
}

/** `headerOf` field by field, with the first problem found. */
export function checkedHeaderOf(o: Readonly<Record<string, unknown>>, tsUs: number): PacketHeader | Problem {
  const r = new FieldReader();
  const sensor = pooled(r.optStringOf('sensor', o.sensor)) ?? null;
  const srcIp = checkedAddress(r, 'src_ip', o.src_ip);
  const dstIp = checkedAddress(r, 'dst_ip', o.dst_ip);
  const srcPort = r.portOf('src_port', o.src_port);
  const dstPort = r.portOf('dst_port', o.dst_port);
  const version = r.intInOf('ip_version', o.ip_version, 0, 255, 'invalid_enum', false);
  const ipTtl = r.intInOf('ip_ttl', o.ip_ttl, 0, 255, 'invalid_ttl', true) ?? 0;
  const ipId = r.intInOf('ip_id', o.ip_id, 0, 65535, 'invalid_ip_id', false) ?? null;
  const tcpFlags = r.intInOf('tcp_flags', o.tcp_flags, 0, 0x0fff, 'invalid_flags', true) ?? 0;
  const seq = r.intInOf('seq', o.seq, 0, UINT32_MAX, 'invalid_sequence', true) ?? 0;
  const ack = r.intInOf('ack', o.ack, 0, UINT32_MAX, 'invalid_sequence', true) ?? 0;
  const window = r.intInOf('window', o.window, 0, 65535, 'invalid_window', true) ?? 0;
  const rawPayloadLen = o.payload_len;
  if (rawPayloadLen === undefined || rawPayloadLen === null) r.fail(problem('missing_field', 'payload_len is missing'));
  const payloadLen = r.countOf('payload_len', rawPayloadLen) ?? 0;
  const givenCid = pooled(r.optStringOf('community_id', o.community_id));
  const p = r.problem();
  if (p !== undefined) return p;
  const ipVersion = ipVersionOf(srcIp, dstIp);
  if (ipVersion === undefined) return problem('invalid_ip', `src_ip ${srcIp} and dst_ip ${dstIp} are of different address families`);
  if (version !== undefined && version !== ipVersion) {
    return problem('invalid_enum', `ip_version ${version} does not match the addresses (IPv${ipVersion})`);
  }
  const cid = cidOf(givenCid, srcIp, dstIp, srcPort, dstPort);
  return { tsUs, sensor, srcIp, dstIp, srcPort, dstPort, ipVersion, ipTtl, ipId, tcpFlags, seq, ack, window, payloadLen, communityId: cid };
}
