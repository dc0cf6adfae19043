/**
 * Every pcap of the corpus, read by our capture parser, gives exactly the records tshark
 * extracted into its `*.headers.jsonl` (test/fixtures/corpus/INDEX.md): same fields, same
 * values, same order. A pcap without a headers file holds no TCP packet (the UDP and ICMP
 * checksum traces), so it must give none. The CLI test (test/unit/headers-cli.test.ts) checks the
 * same through `zeek-rst headers --sample all --format jsonl`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { createCaptureReader, packetTimeS } from '../../src/decode/capture-file';
import { decodeFrame } from '../../src/decode/frame';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');

const CAPTURES = readdirSync(CORPUS)
  .filter((d) => statSync(path.join(CORPUS, d)).isDirectory())
  .flatMap((d) => readdirSync(path.join(CORPUS, d)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(d, f)));

function expected(capture: string): unknown[] {
  const file = path.join(CORPUS, capture.replace(/\.pcap(ng)?$/, '.headers.jsonl'));
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l): unknown => JSON.parse(l));
}

describe('corpus pcaps against their tshark extraction', () => {
  it('finds the corpus captures', () => {
    expect(CAPTURES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CAPTURES)('%s', (capture) => {
    const reader = createCaptureReader();
    const records: unknown[] = [];
    for (const e of [...reader.push(readFileSync(path.join(CORPUS, capture))), ...reader.end()]) {
      if (e.kind === 'error') throw new Error(e.error.detail);
      const p = e.packet;
      const d = decodeFrame(p.linkType, p.data, p.originalLength, { teredo: true });
      if (d.kind === 'skip') continue;
      const t = d.tcp;
      records.push({
        ts: packetTimeS(p.tsSec, p.tsUsec), src_ip: t.srcIp, dst_ip: t.dstIp, src_port: t.srcPort, dst_port: t.dstPort, ip_ttl: t.ipTtl,
        ip_id: t.ipId, tcp_flags: t.tcpFlags, seq: t.seq, ack: t.ack, window: t.window, payload_len: t.payloadLen,
      });
    }
    expect(records).toEqual(expected(capture));
  });
});
