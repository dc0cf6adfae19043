import type { ConnRecord, PacketHeader } from '../domain';
import type { Side } from '../domain';
import { parseHistory } from './history';
import { rstStage, rstTags, scannerFingerprint, ZMAP_IP_ID } from './stage';

function h(side: Side, tsS: number, flags: number, extra: Partial<PacketHeader> = {}): { side: Side; h: PacketHeader } {
  return {
    side,
    h: {
      tsUs: tsS * 1e6, sensor: null, srcIp: side === 'originator' ? '192.0.2.1' : '198.51.100.7', dstIp: side === 'originator' ? '198.51.100.7' : '192.0.2.1',
      srcPort: side === 'originator' ? 40000 : 443, dstPort: side === 'originator' ? 443 : 40000, ipVersion: 4, ipTtl: 64, ipId: 1, tcpFlags: flags,
      seq: 1, ack: 1, window: 1024, payloadLen: 0, communityId: '', ...extra,
    },
  };
}

describe('rst stage (Cloudflare Radar passive tampering stages)', () => {
  it.each([
    ['Sr', 'post_syn'],
    ['ShAr', 'post_ack'],
    ['ShADr', 'post_psh'],
    ['ShADrFr', 'post_psh'],
    ['ShADadr', 'later_in_flow'],
    ['ShADFr', 'post_psh'],
    ['^r', undefined],
    ['Dr', 'post_psh'],
  ])('history %s -> %s', (history, stage) => {
    expect(rstStage(parseHistory(history), [])).toBe(stage);
  });

  it('tells one data packet from several by the sampled headers', () => {
    const two = [h('originator', 1, 0x18, { payloadLen: 100 }), h('originator', 2, 0x18, { payloadLen: 100 }), h('responder', 3, 0x14)];
    expect(rstStage(parseHistory('ShADr'), two)).toBe('later_in_flow');
    expect(rstStage(parseHistory('ShADr'), two.slice(1))).toBe('post_psh');
  });
});

describe('rst tags', () => {
  it('counts, flags and ACK numbers of the sampled RSTs', () => {
    expect(rstTags(1, [])).toEqual(['single_rst']);
    expect(rstTags(1, [h('responder', 1, 0x14, { ack: 77 })])).toEqual(['single_rst', 'rst_ack_only']);
    // GFW TLS RSTs: three RST+ACKs with one ack number, then the server's bare RSTs (ack 0).
    const gfw = [h('responder', 1, 0x14, { ack: 5 }), h('responder', 1.001, 0x14, { ack: 5 }), h('responder', 1.002, 0x14, { ack: 5 }), h('responder', 2, 0x04, { ack: 0 })];
    expect(rstTags(4, gfw)).toEqual(['multiple_rst', 'rst_and_rst_ack', 'ack_zero', 'ack_same']);
    expect(rstTags(2, [h('responder', 1, 0x14, { ack: 5 }), h('responder', 2, 0x14, { ack: 9 })])).toEqual(['multiple_rst', 'rst_ack_only', 'ack_different']);
    expect(rstTags(2, [h('originator', 1, 0x04, { ack: 0 })])).toEqual(['multiple_rst', 'rst_only', 'ack_zero']);
    // Bare RSTs with a leftover ACK field: no same/different tag.
    expect(rstTags(2, [h('responder', 1, 0x04, { ack: 5 }), h('responder', 2, 0x04, { ack: 5 })])).toEqual(['multiple_rst', 'rst_only']);
  });
});

describe('scanner fingerprint', () => {
  const conn = { respH: '198.51.100.7', respP: 443 } as ConnRecord;
  it('knows ZMap by IP ID 54321 and Masscan by IP ID = dst IP ^ dst port ^ seq', () => {
    expect(scannerFingerprint(conn, [h('originator', 0, 0x02, { ipId: ZMAP_IP_ID })])).toBe('zmap');
    const seq = 0x12345678;
    const masscanId = ((0xc6336407 ^ 443 ^ seq) & 0xffff) >>> 0; // 198.51.100.7 = 0xc6336407
    expect(scannerFingerprint(conn, [h('originator', 0, 0x02, { ipId: masscanId, seq })])).toBe('masscan');
    expect(scannerFingerprint(conn, [h('originator', 0, 0x02, { ipId: 1234, seq })])).toBeUndefined();
    // Only the originator's SYN counts, never a SYN-ACK.
    expect(scannerFingerprint(conn, [h('originator', 0, 0x12, { ipId: ZMAP_IP_ID })])).toBeUndefined();
  });
});
