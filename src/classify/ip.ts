/**
 * Minimal IP address and CIDR arithmetic for device attribution (pure; node:net is I/O-side).
 * Addresses become bigints so IPv4 and IPv6 share one comparison.
 */

export interface ParsedIp {
  readonly version: 4 | 6;
  readonly value: bigint;
}

export interface Cidr {
  readonly version: 4 | 6;
  /** Network address with host bits cleared. */
  readonly network: bigint;
  readonly prefix: number;
  /** As written in the configuration, for evidence. */
  readonly text: string;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseGroups(text: string): bigint[] | undefined {
  if (text === '') return [];
  const out: bigint[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 === undefined) return undefined;
      out.push(v4 >> 16n, v4 & 0xffffn);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(BigInt(`0x${p}`));
    }
  }
  return out;
}

function parseIpv6(text: string): bigint | undefined {
  const zoneless = text.split('%')[0] ?? '';
  const halves = zoneless.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => 0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    const v = parseIpv6(text);
    return v === undefined ? undefined : { version: 6, value: v };
  }
  const v = parseIpv4(text);
  return v === undefined ? undefined : { version: 4, value: v };
}

/** Parses `addr/prefix` (or a bare address: a host route). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, prefixText, extra] = text.trim().split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (ip === undefined) return undefined;
  const bits = ip.version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, network, prefix, text: text.trim() };
}

export function cidrContains(net: Cidr, ip: ParsedIp | undefined): boolean {
  if (ip === undefined || ip.version !== net.version) return false;
  const bits = net.version === 4 ? 32 : 128;
  const hostBits = BigInt(bits - net.prefix);
  return (ip.value >> hostBits) << hostBits === net.network;
}
