/**
 * Text IP addresses -> network-order bytes, for validation and for the Community ID hash.
 *
 * Written here rather than taken from node:net because decode is pure (eslint keeps I/O modules
 * out of it) and because the hash needs the bytes, which node:net does not expose. Accepts what
 * Zeek writes: dotted-quad IPv4 and RFC 4291 IPv6 text (with `::` and an optional dotted IPv4
 * tail). Zone ids (`fe80::1%eth0`) are rejected: Zeek never writes them.
 * ip.test.ts checks the verdicts against node:net's isIP.
 *
 * Every conn parses two addresses (validation and the Community ID), so the parsers scan the
 * characters once and write into a caller's buffer (`writeIp`): no split, no regex, no array
 * per address (npm run bench, decode).
 */

const DOT = 0x2e;
const COLON = 0x3a;

/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Dotted-quad IPv4 in `text[start, end)` (no leading zeros, as Zeek writes it) -> `out[offset,
 * offset + 4)`. False when it is not one (`out` may then hold part of it).
 */
function writeIpv4At(text: string, start: number, end: number, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part === 3) return false;
      out[offset + part] = value;
      part++;
      digits = 0;
      value = 0;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return false;
    if (digits > 0 && value === 0) return false; // a leading zero
    value = value * 10 + d;
    if (value > 255) return false;
    digits++;
  }
  if (part !== 3 || digits === 0) return false;
  out[offset + 3] = value;
  return true;
}

/** IPv6 text -> `out[offset, offset + 16)`. False when it is not IPv6 (`out` may then hold part of it). */
function writeIpv6At(text: string, out: Uint8Array, offset: number): boolean {
  const n = text.length;
  if (n < 2 || n > 45) return false;
  let groups = 0; // 16-bit groups written so far (an IPv4 tail counts two)
  let gap = -1; // the group index `::` stands at
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let j = i;
    let value = 0;
    for (; j < n; j++) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
    }
    if (j < n && text.charCodeAt(j) === DOT) {
      // An embedded IPv4 address may only be the very last piece.
      if (groups > 6 || !writeIpv4At(text, i, n, out, offset + groups * 2)) return false;
      groups += 2;
      break;
    }
    const len = j - i;
    if (len === 0 || len > 4 || groups === 8) return false;
    out[offset + groups * 2] = value >> 8;
    out[offset + groups * 2 + 1] = value & 0xff;
    groups++;
    if (j === n) break;
    if (text.charCodeAt(j) !== COLON) return false;
    j++;
    if (j < n && text.charCodeAt(j) === COLON) {
      if (gap !== -1) return false;
      gap = groups;
      j++;
    } else if (j === n) {
      return false; // a single trailing colon
    }
    i = j;
  }
  if (gap === -1) return groups === 8;
  // `::` stands for at least one zero group: move the groups after it to the end, zero the rest.
  if (groups >= 8) return false;
  const after = (groups - gap) * 2;
  const from = offset + gap * 2;
  out.copyWithin(offset + 16 - after, from, from + after);
  out.fill(0, from, offset + 16 - after);
  return true;
}

/**
 * Writes the bytes of `text` (an IPv4 or IPv6 address) at `out[offset]`: returns how many (4 or
 * 16), or 0 when the text is not an IP address (`out` may then hold part of it). `out` needs
 * room for 16 bytes when the text has a colon.
 */
export function writeIp(text: string, out: Uint8Array, offset: number): 0 | 4 | 16 {
  if (text.includes(':')) return writeIpv6At(text, out, offset) ? 16 : 0;
  return writeIpv4At(text, 0, text.length, out, offset) ? 4 : 0;
}

/** Parses dotted-quad IPv4 (no leading zeros, as Zeek writes it) into 4 bytes. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return writeIpv4At(text, 0, text.length, out, 0) ? out : undefined;
}

/** Parses IPv6 text into 16 bytes. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return writeIpv6At(text, out, 0) ? out : undefined;
}

/** 4 bytes for IPv4, 16 for IPv6, undefined when the text is not an IP address. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

const CHECK = new Uint8Array(16);

/** Whether `text` is an IPv4 or IPv6 address (parseIp without allocating its bytes). */
export function isIp(text: string): boolean {
  return writeIp(text, CHECK, 0) !== 0;
}

/** Dotted-quad text of 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/**
 * RFC 5952 text of 16 bytes at `offset`, as inet_ntop (and so tshark and Zeek) writes it:
 * lower-case hex without leading zeros, the longest run of two or more zero groups (the first
 * on a tie) as `::`, and a dotted IPv4 tail for IPv4-compatible (`::a.b.c.d`) and IPv4-mapped
 * (`::ffff:a.b.c.d`) addresses.
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      parts.push(i === 0 ? ':' : '');
      i += bestLen - 1;
      if (i === 7) parts.push('');
      continue;
    }
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      parts.push(formatIpv4(bytes, offset + 12));
      break;
    }
    parts.push((words[i] ?? 0).toString(16));
  }
  return parts.join(':');
}
