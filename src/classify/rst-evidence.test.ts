import type { PacketHeader } from '../domain';
import { judgeRsts, RESERVED_FLAG_BITS } from './rst-evidence';
import type { Side } from '../domain';

const SETTINGS = { ttlDeltaThreshold: 2, rstSeqSpread: 2, rstSpreadWindowS: 2 };
const NO_HOSTS = { orig: undefined, resp: undefined };

function pkt(side: Side, tsS: number, flags: number, ttl: number, extra: Partial<PacketHeader> = {}): { side: Side; h: PacketHeader } {
  const fromOrig = side === 'originator';
  return {
    side,
    h: {
      tsUs: tsS * 1e6,
      sensor: '',
      srcIp: fromOrig ? '10.0.0.1' : '10.0.0.2',
      dstIp: fromOrig ? '10.0.0.2' : '10.0.0.1',
      srcPort: fromOrig ? 40000 : 80,
      dstPort: fromOrig ? 80 : 40000,
      ipVersion: 4,
      ipTtl: ttl,
      ipId: 0,
      tcpFlags: flags,
      seq: 1000,
      ack: 2000,
      window: 1000,
      payloadLen: 0,
      communityId: '',
      ...extra,
    },
  };
}

describe('judgeRsts', () => {
  it('judges every RST on its own: an endpoint reply first, a forged RST later', () => {
    const judged = judgeRsts(
      [
        pkt('originator', 0, 0x02, 50),
        pkt('responder', 0.1, 0x12, 64),
        pkt('originator', 0.2, 0x10, 50),
        pkt('responder', 0.21, 0x04, 64), // the server's own bare RST (TTL 64, like its SYN-ACK)
        pkt('originator', 0.3, 0x18, 50, { payloadLen: 3 }),
        pkt('originator', 0.5, 0x14, 101), // claimed from the client, TTL 101 against its 50
      ],
      NO_HOSTS,
      SETTINGS,
    );
    expect(judged.map((j) => [j.side, j.origin])).toEqual([
      ['responder', 'endpoint'],
      ['originator', 'middlebox'],
    ]);
    expect(judged[1]?.signals).toEqual([{ kind: 'ttl', ttl: 101, expected: 50, source: 'flow' }]);
  });

  it('uses the claimed sender\'s packets after the RST for its baseline (a forged RST races them)', () => {
    const judged = judgeRsts([pkt('responder', 0.1, 0x14, 30), pkt('responder', 0.2, 0x18, 64, { payloadLen: 300 }), pkt('responder', 0.3, 0x10, 64)], NO_HOSTS, SETTINGS);
    expect(judged[0]?.baseline?.ttl).toBe(64);
    expect(judged[0]?.signals.map((s) => s.kind)).toEqual(['ttl', 'data_after']);
  });

  it('takes reserved flag bits on a RST as middlebox evidence (tcp_flags 3844 = 0xf04, a real forged RST)', () => {
    expect(3844 & RESERVED_FLAG_BITS).not.toBe(0);
    const judged = judgeRsts([pkt('responder', 0.1, 0x12, 64), pkt('responder', 0.2, 3844, 64)], NO_HOSTS, SETTINGS);
    expect(judged[0]?.signals).toEqual([{ kind: 'reserved_bits', flags: 3844 }]);
    expect(judged[0]?.origin).toBe('middlebox');
  });

  it('flags a RST whose sender answered the handshake from another distance than all its later packets', () => {
    // isp-blockpage-rst-centrace CSGvgwMR5Mt3iQyrbZ: SYN-ACK TTL 42, then a redirect, its FIN and a bare RST all TTL 46.
    const judged = judgeRsts([pkt('responder', 0.1, 0x12, 42), pkt('responder', 1.4, 0x18, 46, { payloadLen: 183 }), pkt('responder', 5, 0x11, 46), pkt('responder', 5.2, 0x04, 46)], NO_HOSTS, SETTINGS);
    expect(judged[0]?.signals).toEqual([{ kind: 'handshake_hops', hops: 18, handshakeHops: 22 }]);
    // One later packet at the handshake's distance: the sender's path did not change, no signal.
    const same = judgeRsts([pkt('responder', 0.1, 0x12, 42), pkt('responder', 1.4, 0x18, 42, { payloadLen: 183 }), pkt('responder', 5, 0x11, 46), pkt('responder', 5.2, 0x04, 46)], NO_HOSTS, SETTINGS);
    expect(same[0]?.signals.map((s) => s.kind)).not.toContain('handshake_hops');
  });
});
