/**
 * Text IP addresses -> network-order bytes, for validation and for the Community ID hash.
 *
 * Written here rather than taken from node:net because decode is pure (eslint keeps I/O modules
 * out of it) and because the hash needs the bytes, which node:net does not expose. Accepts what
 * Zeek writes: dotted-quad IPv4 and RFC 4291 IPv6 text (with `::` and an optional dotted IPv4
 * tail). Zone ids (`fe80::1%eth0`) are rejected: Zeek never writes them.
 * ip.test.ts checks the verdicts against node:net's isIP.
 */

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Parses dotted-quad IPv4 (no leading zeros, as Zeek writes it) into 4 bytes. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!IPV4_PART.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 text into 16 bytes. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tailText = halves.length === 2 ? (halves[1] ?? '') : undefined;
  const tail = tailText === undefined || tailText === '' ? [] : tailText.split(':');
  const groups: number[] = [];
  const all = [...head, ...tail];
  // An embedded IPv4 address may only be the very last piece.
  const last = all[all.length - 1];
  let v4: Uint8Array | undefined;
  if (last !== undefined && last.includes('.')) {
    v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    if (tail.length > 0) tail.pop();
    else head.pop();
  }
  const toGroups = (pieces: readonly string[]): number[] | undefined => {
    const out: number[] = [];
    for (const p of pieces) {
      if (!HEX_GROUP.test(p)) return undefined;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  if (h === undefined || t === undefined) return undefined;
  const wanted = v4 === undefined ? 8 : 6;
  const present = h.length + t.length;
  if (halves.length === 2) {
    // `::` stands for at least one zero group.
    if (present >= wanted) return undefined;
    groups.push(...h, ...new Array<number>(wanted - present).fill(0), ...t);
  } else {
    if (present !== wanted) return undefined;
    groups.push(...h);
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

/** 4 bytes for IPv4, 16 for IPv6, undefined when the text is not an IP address. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
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
