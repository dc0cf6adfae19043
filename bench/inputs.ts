/**
 * Bench inputs, built once at module load from the corpus copy (test/fixtures/corpus).
 *
 * Conns: the 2,164 real conn rows of the zeek-testing m57 trace (488 TCP), whose redacted log has
 * no ts and no uid; each copy gets a ts (10 ms apart, in order) and a uid, and is repeated
 * REPEAT times (10,820 lines), as Zeek's JSON writer prints them (ts and uid first).
 *
 * Headers: for the correlate and header benches, the TCP rows get a distinct originator port per
 * copy (so that copies are distinct flows) and about 10 header records each, the generator's
 * default profile (every SYN, SYN-ACK, FIN and RST plus a few of the other packets): SYN, SYN-ACK,
 * ACK, five data packets, FIN and the closing FIN or RST, spread over the conn's duration, with
 * the Community ID set as a sensor computing it would.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { ConnRecord, PacketHeader, SourceRef } from '../src/domain';
import type * as ZeekJson from '../src/decode/zeek-json';
import { fromDist, ROOT } from './dist';

const zeekJson = fromDist('decode/zeek-json') as typeof ZeekJson;

export const REPEAT = 5;
const BASE_TS = 1_258_560_000;

const base: Record<string, unknown>[] = readFileSync(path.join(ROOT, 'test/fixtures/corpus/zeek-testing-m57-short/conn.redacted.json'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

export const BASE_ROWS = base.length;

function withTsUid(row: Record<string, unknown>, i: number): Record<string, unknown> {
  return { ts: Number((BASE_TS + i * 0.01).toFixed(6)), uid: `C${i.toString(36).padStart(16, '0')}`, ...row };
}

/** The m57 lines with ts and uid, REPEAT times, as Zeek JSON bytes (community_id as Zeek wrote it). */
export const connLines: readonly Buffer[] = Array.from({ length: REPEAT * base.length }, (_, i) =>
  Buffer.from(JSON.stringify(withTsUid(base[i % base.length] ?? {}, i))));

/** The same lines without community_id: decode computes it. */
export const connLinesNoCid: readonly Buffer[] = Array.from({ length: REPEAT * base.length }, (_, i) => {
  const { community_id: _cid, ...row } = base[i % base.length] ?? {};
  return Buffer.from(JSON.stringify(withTsUid(row, i)));
});

export const benchSource: SourceRef = { kind: 'kafka', topic: 'zeek-conn', partition: 0, offset: '0' };

export function decodeConn(raw: Uint8Array): ConnRecord {
  const d = zeekJson.decodeConnJson(raw, benchSource);
  if (!d.ok) throw new Error(`bench input does not decode: ${d.dead.detail}`);
  return d.value;
}

export interface Flow {
  readonly conn: ConnRecord;
  readonly headers: readonly PacketHeader[];
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

function headersOf(c: ConnRecord, n: number): PacketHeader[] {
  const dur = Math.max(c.durationUs ?? 0, 1000);
  const reset = (c.history ?? '').toLowerCase().includes('r');
  const resetByResp = (c.history ?? '').includes('r');
  // [from originator, flags, payload, fraction of the duration]
  const plan: [boolean, number, number, number][] = [
    [true, SYN, 0, 0],
    [false, SYN | ACK, 0, 0.02],
    [true, ACK, 0, 0.04],
    [true, PSH | ACK, 120, 0.2],
    [false, PSH | ACK, 1400, 0.3],
    [false, ACK, 1400, 0.4],
    [true, ACK, 0, 0.5],
    [false, PSH | ACK, 600, 0.7],
    [true, FIN | ACK, 0, 0.9],
    reset ? [!resetByResp, RST | ACK, 0, 1] : [false, FIN | ACK, 0, 1],
  ];
  let origSeq = (n * 7919) >>> 0;
  let respSeq = (n * 104729) >>> 0;
  return plan.map(([fromOrig, flags, payload, at], k) => {
    const h: PacketHeader = {
      tsUs: c.tsUs + Math.round(dur * at),
      sensor: null,
      srcIp: fromOrig ? c.origH : c.respH,
      dstIp: fromOrig ? c.respH : c.origH,
      srcPort: fromOrig ? c.origP : c.respP,
      dstPort: fromOrig ? c.respP : c.origP,
      ipVersion: c.origH.includes(':') ? 6 : 4,
      ipTtl: fromOrig ? 64 : 117,
      ipId: (n * 13 + k) & 0xffff,
      tcpFlags: flags,
      seq: fromOrig ? origSeq : respSeq,
      ack: fromOrig ? respSeq : origSeq,
      window: 64240,
      payloadLen: payload,
      communityId: c.communityId,
    };
    if (fromOrig) origSeq = (origSeq + payload) >>> 0;
    else respSeq = (respSeq + payload) >>> 0;
    return h;
  });
}

/** The TCP rows of the m57 lines, REPEAT times, each copy its own flow, with ~10 headers each. */
export const tcpFlows: readonly Flow[] = (() => {
  const flows: Flow[] = [];
  for (let i = 0; i < REPEAT * base.length; i++) {
    const row = base[i % base.length] ?? {};
    if (row.proto !== 'tcp') continue;
    const copy = Math.floor(i / base.length);
    const { community_id: _cid, ...rest } = row;
    const origP = typeof rest['id.orig_p'] === 'number' ? rest['id.orig_p'] : 0;
    const conn = decodeConn(Buffer.from(JSON.stringify(withTsUid({ ...rest, 'id.orig_p': (origP + copy * 4099) % 65536 }, i))));
    flows.push({ conn, headers: headersOf(conn, i) });
  }
  return flows;
})();

export const headerCount = tcpFlows.reduce((n, f) => n + f.headers.length, 0);
