/**
 * Which TCP addresses a set of processes listens on, read from /proc (no `ss` needed): the
 * socket inodes among each process's file descriptors, matched against /proc/net/tcp{,6}.
 */
import fs from 'node:fs';

export interface Listener {
  readonly pid: number;
  readonly address: string;
  readonly port: number;
}

const TCP_LISTEN = '0A';

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // gone, or not ours to read
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** /proc/net/tcp stores each 32-bit word of an address in host (little-endian) order. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

interface ListenRow {
  readonly inode: string;
  readonly address: string;
  readonly port: number;
}

function listeningRows(): ListenRow[] {
  const rows: ListenRow[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const state = cols[3];
      const inode = cols[9];
      if (local === undefined || state !== TCP_LISTEN || inode === undefined) continue;
      const [addrHex, portHex] = local.split(':');
      if (addrHex === undefined || portHex === undefined) continue;
      rows.push({ inode, address: decodeAddress(addrHex), port: parseInt(portHex, 16) });
    }
  }
  return rows;
}

export function listenersOf(pids: readonly number[]): Listener[] {
  const rows = listeningRows();
  const found: Listener[] = [];
  for (const pid of pids) {
    const inodes = socketInodes(pid);
    for (const row of rows) if (inodes.has(row.inode)) found.push({ pid, address: row.address, port: row.port });
  }
  return found;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
