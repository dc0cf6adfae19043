/**
 * Packet capture files -> packet records: classic pcap (libpcap's format: microsecond and
 * nanosecond magics, either byte order, and the "modified" Kuznetzov variant) and pcapng
 * (sections of either byte order, several interfaces, Enhanced, Simple and the obsolete Packet
 * blocks; every other block type is skipped as the format requires).
 *
 * Incremental and pure: the caller pushes the bytes as they come (a file, or tcpdump on a
 * pipe) and gets back the complete records; nothing here reads a file or a clock. A record is
 * handed out as soon as its last byte arrives, so live capture is not held back.
 *
 * Time is computed as libpcap delivers it to Zeek (pcap_open_offline, microsecond precision):
 * seconds and microseconds, nanosecond and other pcapng resolutions truncated to the
 * microsecond, the pcapng if_tsoffset added to the seconds. Zeek's packet time is then
 * tv_sec + tv_usec / 1e6 (see packetTimeS).
 *
 * Corrupt or cut-off input ends the stream with one CaptureError that names the byte offset
 * and the record number where it happened; every record before it has been returned.
 */

/** Why a capture stopped being readable. */
export type CaptureErrorReason =
  /** The bytes end inside the file header or inside a record. */
  | 'truncated_capture'
  /** Not a pcap/pcapng file, or a header or record that breaks the format. */
  | 'invalid_capture';

export interface CaptureError {
  readonly reason: CaptureErrorReason;
  /** Byte offset, from the start of the stream, of the header or record that failed. */
  readonly offset: number;
  /** 1-based number of the packet record that failed (packets returned before it: record - 1). */
  readonly record: number;
  /** One line for a person, starting with the offset and the record number. */
  readonly detail: string;
  /** The unreadable bytes from `offset` on, as far as they had arrived (at most RAW_KEPT_BYTES). */
  readonly raw: Buffer;
}

/** One captured packet. */
export interface CaptureRecord {
  /** 1-based packet number in the stream (pcapng: counting packet blocks only). */
  readonly record: number;
  /** Byte offset of the record (its record header or block) from the start of the stream. */
  readonly offset: number;
  /** LINKTYPE_* of the packet's interface (tcpdump.org/linktypes.html), FCS bits removed. */
  readonly linkType: number;
  /** Capture time, as libpcap gives it: whole seconds since the epoch ... */
  readonly tsSec: number;
  /** ... and microseconds 0..999999 (truncated from finer resolutions). */
  readonly tsUsec: number;
  /** Length of the packet on the wire; `data` may be shorter (snap length). */
  readonly originalLength: number;
  /** The captured bytes (a copy: safe to keep). */
  readonly data: Buffer;
}

export type CaptureEvent = { readonly kind: 'packet'; readonly packet: CaptureRecord } | { readonly kind: 'error'; readonly error: CaptureError };

export interface CaptureReader {
  /** Feeds the next bytes; returns the records (and at most one error) they complete. */
  push(chunk: Uint8Array): CaptureEvent[];
  /** The input ended: an error when it ended inside the file header or a record. */
  end(): CaptureEvent[];
  /** 'pcap' or 'pcapng' once the magic has been read. */
  readonly format: 'pcap' | 'pcapng' | undefined;
  /** Bytes consumed so far (whole records and headers). */
  readonly bytesRead: number;
  /** True after an error: further input is ignored. */
  readonly failed: boolean;
}

/** Zeek's packet time in epoch seconds: `double(tv_sec) + double(tv_usec) / 1e6`. */
export function packetTimeS(tsSec: number, tsUsec: number): number {
  return tsSec + tsUsec / 1e6;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const PCAP_FILE_HEADER = 24;
/**
 * libpcap refuses records larger than its maximum snap length (256 KiB for all but a few link
 * types); we allow 1 MiB so odd captures still read, and so a corrupt length cannot make us
 * buffer gigabytes of a pipe.
 */
export const MAX_PACKET_BYTES = 1024 * 1024;
/** libpcap's own ceiling on a pcapng block. */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
/** How much of the unreadable input an error keeps. */
export const RAW_KEPT_BYTES = 64 * 1024;
/** libpcap's LT_LINKTYPE: the upper bits carry FCS information. */
const LINKTYPE_MASK = 0x03ffffff;

const BLOCK = { IDB: 1, OPB: 2, SPB: 3, EPB: 6 } as const;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Interface {
  readonly linkType: number;
  readonly snapLen: number;
  /** Ticks per second of the timestamps. */
  readonly ticksPerSecond: bigint;
  readonly tsOffsetS: number;
}

type State =
  | { readonly kind: 'magic' }
  | { readonly kind: 'pcap'; readonly le: boolean; readonly nanos: boolean; readonly recordHeader: number; readonly linkType: number }
  | { kind: 'pcapng'; le: boolean; interfaces: Interface[] }
  | { readonly kind: 'failed' };

class Reader implements CaptureReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  private state: State = { kind: 'magic' };
  private records = 0;
  private events: CaptureEvent[] = [];

  get format(): 'pcap' | 'pcapng' | undefined {
    return this.state.kind === 'pcap' || this.state.kind === 'pcapng' ? this.state.kind : undefined;
  }

  get bytesRead(): number {
    return this.base;
  }

  get failed(): boolean {
    return this.state.kind === 'failed';
  }

  push(chunk: Uint8Array): CaptureEvent[] {
    if (this.state.kind === 'failed' || chunk.length === 0) return [];
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.buf = this.buf.length === 0 ? incoming : Buffer.concat([this.buf, incoming]);
    this.events = [];
    let pos = 0;
    for (;;) {
      const used = this.step(pos);
      if (used === 0) break;
      pos += used;
    }
    this.consume(pos);
    return this.events;
  }

  end(): CaptureEvent[] {
    this.events = [];
    if (this.state.kind !== 'failed' && this.buf.length > 0) {
      const left = this.buf.length;
      if (this.state.kind === 'magic') {
        if (left < 4 || isKnownMagic(this.buf)) this.fail('truncated_capture', 0, `the file header needs ${PCAP_FILE_HEADER} bytes, the input has ${left}`);
        else this.fail('invalid_capture', 0, `not a pcap or pcapng capture: magic 0x${this.buf.subarray(0, 4).toString('hex')}`);
      } else {
        this.fail('truncated_capture', 0, `the input ends inside a record: ${this.describeTail(this.state, left)}`);
      }
    }
    const out = this.events;
    this.events = [];
    return out;
  }

  private describeTail(s: Extract<State, { kind: 'pcap' | 'pcapng' }>, left: number): string {
    if (s.kind === 'pcap') {
      if (left < s.recordHeader) return `its ${s.recordHeader}-byte header has ${left}`;
      const capLen = s.le ? this.buf.readUInt32LE(8) : this.buf.readUInt32BE(8);
      return `it declares ${capLen} captured bytes, ${left - s.recordHeader} are present`;
    }
    if (left < 12) return `a block header needs 12 bytes, ${left} are present`;
    const total = s.le ? this.buf.readUInt32LE(4) : this.buf.readUInt32BE(4);
    return `the block declares ${total} bytes, ${left} are present`;
  }

  private consume(n: number): void {
    this.base += n;
    // Keep only the unfinished tail; copying it frees the chunk it came from.
    this.buf = n >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(n));
  }

  /** Parses one unit at `pos`; returns the bytes it used, 0 when more input is needed or after an error. */
  private step(pos: number): number {
    const left = this.buf.length - pos;
    switch (this.state.kind) {
      case 'failed':
        return 0;
      case 'magic':
        return this.readMagic(pos, left);
      case 'pcap':
        return this.readPcapRecord(this.state, pos, left);
      case 'pcapng':
        return this.readBlock(this.state, pos, left);
      default: {
        const never: never = this.state;
        return never;
      }
    }
  }

  private fail(reason: CaptureErrorReason, at: number, what: string): 0 {
    const offset = this.base + at;
    const record = this.records + 1;
    const detail = `byte ${offset}, record ${record}: ${what}`;
    const raw = Buffer.from(this.buf.subarray(at, at + RAW_KEPT_BYTES));
    this.events.push({ kind: 'error', error: { reason, offset, record, detail, raw } });
    this.state = { kind: 'failed' };
    return 0;
  }

  private readMagic(pos: number, left: number): number {
    if (left < 4) return 0;
    const be = this.buf.readUInt32BE(pos);
    const le = this.buf.readUInt32LE(pos);
    if (be === PCAPNG_SHB) {
      this.state = { kind: 'pcapng', le: true, interfaces: [] };
      return 0 + this.readBlock(this.state, pos, left);
    }
    const magic = [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED].includes(le) ? { v: le, le: true } : { v: be, le: false };
    if (![PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED].includes(magic.v)) {
      return this.fail('invalid_capture', pos, `not a pcap or pcapng capture: magic 0x${this.buf.subarray(pos, pos + 4).toString('hex')}`);
    }
    if (left < PCAP_FILE_HEADER) return 0;
    const u16 = (o: number): number => (magic.le ? this.buf.readUInt16LE(pos + o) : this.buf.readUInt16BE(pos + o));
    const u32 = (o: number): number => (magic.le ? this.buf.readUInt32LE(pos + o) : this.buf.readUInt32BE(pos + o));
    const major = u16(4);
    if (major !== 2) return this.fail('invalid_capture', pos, `pcap version ${major}.${u16(6)} is not 2.x`);
    this.state = {
      kind: 'pcap',
      le: magic.le,
      nanos: magic.v === PCAP_MAGIC_NS,
      recordHeader: magic.v === PCAP_MAGIC_MODIFIED ? 24 : 16,
      linkType: u32(20) & LINKTYPE_MASK,
    };
    return PCAP_FILE_HEADER;
  }

  private readPcapRecord(s: Extract<State, { kind: 'pcap' }>, pos: number, left: number): number {
    if (left < s.recordHeader) return 0;
    const u32 = (o: number): number => (s.le ? this.buf.readUInt32LE(pos + o) : this.buf.readUInt32BE(pos + o));
    const capLen = u32(8);
    const origLen = u32(12);
    if (capLen > MAX_PACKET_BYTES) return this.fail('invalid_capture', pos, `record header claims ${capLen} captured bytes (limit ${MAX_PACKET_BYTES}): corrupt length`);
    const sub = u32(4);
    if (sub >= (s.nanos ? 1e9 : 1e6)) return this.fail('invalid_capture', pos, `record header has ${sub} ${s.nanos ? 'nanoseconds' : 'microseconds'}: not below one second`);
    if (left < s.recordHeader + capLen) return 0;
    const start = pos + s.recordHeader;
    this.emit(pos, s.linkType, u32(0), s.nanos ? Math.floor(sub / 1000) : sub, Math.max(origLen, capLen), start, start + capLen);
    return s.recordHeader + capLen;
  }

  private emit(pos: number, linkType: number, tsSec: number, tsUsec: number, originalLength: number, from: number, to: number): void {
    this.records++;
    const packet: CaptureRecord = {
      record: this.records, offset: this.base + pos, linkType, tsSec, tsUsec, originalLength, data: Buffer.from(this.buf.subarray(from, to)),
    };
    this.events.push({ kind: 'packet', packet });
  }

  private readBlock(s: Extract<State, { kind: 'pcapng' }>, pos: number, left: number): number {
    if (left < 12) return 0;
    let type = s.le ? this.buf.readUInt32LE(pos) : this.buf.readUInt32BE(pos);
    if (this.buf.readUInt32BE(pos) === PCAPNG_SHB) {
      // A Section Header Block sets the byte order of everything up to the next one.
      type = PCAPNG_SHB;
      const bom = this.buf.readUInt32LE(pos + 8);
      if (bom === PCAPNG_BOM) s.le = true;
      else if (this.buf.readUInt32BE(pos + 8) === PCAPNG_BOM) s.le = false;
      else return this.fail('invalid_capture', pos, `section header with byte-order magic 0x${this.buf.subarray(pos + 8, pos + 12).toString('hex')}`);
    }
    const u32 = (o: number): number => (s.le ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o));
    const total = u32(pos + 4);
    if (total < 12 || total % 4 !== 0) return this.fail('invalid_capture', pos, `block of type 0x${type.toString(16)} has length ${total} (at least 12, a multiple of 4)`);
    if (total > MAX_BLOCK_BYTES) return this.fail('invalid_capture', pos, `block of type 0x${type.toString(16)} claims ${total} bytes (limit ${MAX_BLOCK_BYTES}): corrupt length`);
    if (left < total) return 0;
    if (u32(pos + total - 4) !== total) return this.fail('invalid_capture', pos, `block of type 0x${type.toString(16)}: trailing length ${u32(pos + total - 4)} differs from ${total}`);
    const body = pos + 8;
    const bodyEnd = pos + total - 4;
    switch (type) {
      case PCAPNG_SHB: {
        if (total < 28) return this.fail('invalid_capture', pos, `section header block of ${total} bytes (at least 28)`);
        const major = s.le ? this.buf.readUInt16LE(body + 4) : this.buf.readUInt16BE(body + 4);
        if (major !== 1) return this.fail('invalid_capture', pos, `pcapng major version ${major} is not 1`);
        s.interfaces = [];
        return total;
      }
      case BLOCK.IDB: {
        if (total < 20) return this.fail('invalid_capture', pos, `interface description block of ${total} bytes (at least 20)`);
        const linkType = s.le ? this.buf.readUInt16LE(body) : this.buf.readUInt16BE(body);
        const iface = this.interfaceOptions(s.le, body + 8, bodyEnd, linkType, u32(body + 4));
        if (typeof iface === 'string') return this.fail('invalid_capture', pos, `interface ${s.interfaces.length}: ${iface}`);
        s.interfaces.push(iface);
        return total;
      }
      case BLOCK.EPB:
      case BLOCK.OPB: {
        if (total < 32) return this.fail('invalid_capture', pos, `packet block of ${total} bytes (at least 32)`);
        const ifId = type === BLOCK.EPB ? u32(body) : (s.le ? this.buf.readUInt16LE(body) : this.buf.readUInt16BE(body));
        const iface = s.interfaces[ifId];
        if (iface === undefined) return this.fail('invalid_capture', pos, `packet on interface ${ifId}, but the section describes ${s.interfaces.length}`);
        const capLen = u32(body + 12);
        const origLen = u32(body + 16);
        const data = body + 20;
        if (data + capLen > bodyEnd) return this.fail('invalid_capture', pos, `packet block claims ${capLen} captured bytes, its block holds ${bodyEnd - data}`);
        const ts = this.time(iface, u32(body + 4), u32(body + 8));
        this.emit(pos, iface.linkType, ts.sec, ts.usec, Math.max(origLen, capLen), data, data + capLen);
        return total;
      }
      case BLOCK.SPB: {
        const iface = s.interfaces[0];
        if (iface === undefined) return this.fail('invalid_capture', pos, 'simple packet block before any interface description');
        if (total < 16) return this.fail('invalid_capture', pos, `simple packet block of ${total} bytes (at least 16)`);
        const origLen = u32(body);
        const room = bodyEnd - (body + 4);
        // The SPB has no captured length: the packet is its original length cut to the snap length and the block.
        const capLen = Math.min(origLen, room, iface.snapLen === 0 ? room : iface.snapLen);
        // No timestamp in an SPB: libpcap reports 0.
        this.emit(pos, iface.linkType, 0, 0, Math.max(origLen, capLen), body + 4, body + 4 + capLen);
        return total;
      }
      default:
        return total; // name resolution, statistics, decryption secrets, custom blocks: not needed
    }
  }

  private interfaceOptions(le: boolean, from: number, to: number, linkType: number, snapLen: number): Interface | string {
    let ticksPerSecond = 1_000_000n;
    let tsOffsetS = 0;
    for (let p = from; p + 4 <= to;) {
      const code = le ? this.buf.readUInt16LE(p) : this.buf.readUInt16BE(p);
      const len = le ? this.buf.readUInt16LE(p + 2) : this.buf.readUInt16BE(p + 2);
      if (code === OPT_END) break;
      const v = p + 4;
      if (v + len > to) return `option ${code} of ${len} bytes runs past its block`;
      if (code === OPT_IF_TSRESOL && len >= 1) {
        const r = this.buf[v] ?? 6;
        const exp = BigInt(r & 0x7f);
        if ((r & 0x80) !== 0 ? exp > 63n : exp > 19n) return `if_tsresol 0x${r.toString(16)} is out of range`;
        ticksPerSecond = (r & 0x80) !== 0 ? 2n ** exp : 10n ** exp;
      } else if (code === OPT_IF_TSOFFSET && len >= 8) {
        tsOffsetS = Number(le ? this.buf.readBigInt64LE(v) : this.buf.readBigInt64BE(v));
      }
      p = v + len + ((4 - (len % 4)) % 4);
    }
    return { linkType: linkType & LINKTYPE_MASK, snapLen, ticksPerSecond, tsOffsetS };
  }

  /** 64-bit tick count -> seconds and microseconds, truncated like libpcap. */
  private time(iface: Interface, high: number, low: number): { sec: number; usec: number } {
    if (iface.ticksPerSecond === 1_000_000n && high < 0x200000) {
      // The common case in Number arithmetic: exact below 2^53 µs (year 2255).
      const t = high * 0x100000000 + low;
      const sec = Math.floor(t / 1e6);
      return { sec: sec + iface.tsOffsetS, usec: t - sec * 1e6 };
    }
    const t = (BigInt(high) << 32n) | BigInt(low);
    const sec = t / iface.ticksPerSecond;
    const usec = ((t % iface.ticksPerSecond) * 1_000_000n) / iface.ticksPerSecond;
    return { sec: Number(sec) + iface.tsOffsetS, usec: Number(usec) };
  }
}

function isKnownMagic(b: Buffer): boolean {
  const le = b.readUInt32LE(0);
  const be = b.readUInt32BE(0);
  return be === PCAPNG_SHB || [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED].some((m) => m === le || m === be);
}

export function createCaptureReader(): CaptureReader {
  return new Reader();
}
