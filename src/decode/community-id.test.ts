import { communityId, IP_PROTO } from './community-id';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { SourceRef } from '../domain';
import { decodeConnJson } from './zeek-json';

const SRC: SourceRef = { kind: 'kafka', topic: 'zeek-conn', partition: 0, offset: '0' };

type Vector = readonly [proto: number, src: string, dst: string, sport: number | null, dport: number | null, base64: string, hex: string, seed1: string];

// Published vectors, not our output:
// - corelight/community-id-spec baseline/README.md, the "Default settings", "seed=1" and "No base64" tables;
// - corelight/pycommunityid tests/communityid_test.py (test_icmp, test_icmp6, test_sctp, test_tcp, test_udp, test_ip),
//   each with its default / no-base64 / seed=1 results.
const VECTORS: readonly Vector[] = [
  // community-id-spec baseline/README.md
  [6, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:wCb3OG7yAFWelaUydu0D+125CLM=', '1:c026f7386ef200559e95a53276ed03fb5db908b3', '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  [6, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:wCb3OG7yAFWelaUydu0D+125CLM=', '1:c026f7386ef200559e95a53276ed03fb5db908b3', '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  [17, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=', '1:d0cbbd227431eb3e1988264cffb1d78b658c84e8', '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  [17, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=', '1:d0cbbd227431eb3e1988264cffb1d78b658c84e8', '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  [132, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=', '1:10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f', '1:uitchpn5MMGAQKBJh7bIr/bAr7s='],
  [132, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=', '1:10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f', '1:uitchpn5MMGAQKBJh7bIr/bAr7s='],
  [1, '1.2.3.4', '5.6.7.8', 8, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:72ba1d4472f6144b078dbbf752446b7dbb386d9d', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU='],
  [1, '5.6.7.8', '1.2.3.4', 0, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:72ba1d4472f6144b078dbbf752446b7dbb386d9d', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU='],
  [1, '1.2.3.4', '5.6.7.8', 11, 0, '1:f/YiSyWqczrTgfUCZlBUnvHRcPk=', '1:7ff6224b25aa733ad381f5026650549ef1d170f9', '1:1DD7cWGC/Yg91YGsQeni8du3pIA='],
  [58, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 128, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=', '1:d1b7fb872309530b777cc103ef3f0b21f46905ea', '1:IO27GQzPuCtNnwFvjWALMHu5tJE='],
  [58, 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 129, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=', '1:d1b7fb872309530b777cc103ef3f0b21f46905ea', '1:IO27GQzPuCtNnwFvjWALMHu5tJE='],
  [58, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 146, 0, '1:fYC8+pz24E+EhANP1EZhpX0Dw10=', '1:7d80bcfa9cf6e04f8484034fd44661a57d03c35d', '1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s='],
  [46, '1.2.3.4', '5.6.7.8', null, null, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:8a4bf79267fcf65b9fef758fcf58ceb38f52efaf', '1:/buhqeOmaRCopOZFy9HnoJd5XW8='],
  [46, '5.6.7.8', '1.2.3.4', null, null, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:8a4bf79267fcf65b9fef758fcf58ceb38f52efaf', '1:/buhqeOmaRCopOZFy9HnoJd5XW8='],
  [46, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', null, null, '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=', '1:c10ff69b0ae75cfe259897077462f978f8d1f9ed', '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM='],
  [46, 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', null, null, '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=', '1:c10ff69b0ae75cfe259897077462f978f8d1f9ed', '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM='],
  // pycommunityid tests/communityid_test.py
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:5f4b27617a60c22bfd4d9b6a83ae2c833527e839', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
  [1, '192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:5f4b27617a60c22bfd4d9b6a83ae2c833527e839', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
  [1, '192.168.0.89', '192.168.0.1', 20, 0, '1:3o2RFccXzUgjl7zDpqmY7yJi8rI=', '1:de8d9115c717cd482397bcc3a6a998ef2262f2b2', '1:lCXHHxavE1Vq3oX9NH5ladQg02o='],
  [1, '192.168.0.89', '192.168.0.1', 20, 1, '1:tz/fHIDUHs19NkixVVoOZywde+I=', '1:b73fdf1c80d41ecd7d3648b1555a0e672c1d7be2', '1:Ie3wmFyxiEyikbsbcO03d2nh+PM='],
  [1, '192.168.0.1', '192.168.0.89', 0, 20, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:5f4b27617a60c22bfd4d9b6a83ae2c833527e839', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:7461f21af8cc7e58e0e81a69c26ddb8342cef136', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:7461f21af8cc7e58e0e81a69c26ddb8342cef136', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
  [58, '3ffe:507:0:1:260:97ff:fe07:69ea', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=', '1:35da1b0d7f0f40d25b0327e45b186d2f63eaa79c', '1:OlOWx9psIbBFi7lOCw/4MhlKR9M='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:507:0:1:260:97ff:fe07:69ea', 3, 0, '1:/OGBt9BN1ofenrmSPWYicpij2Vc=', '1:fce181b7d04dd687de9eb9923d66227298a3d957', '1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE='],
  [132, '192.168.170.8', '192.168.170.56', 7, 80, '1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=', '1:8d0802c5b92efa9346c3c58f6c473f4d2fee4e94', '1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU='],
  [132, '192.168.170.56', '192.168.170.8', 80, 7, '1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=', '1:8d0802c5b92efa9346c3c58f6c473f4d2fee4e94', '1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '1:2d053da9994af81e45dca0e67afea6e4f3226eb8', '1:3V71V58M3Ksw/yuFALMcW0LAHvc='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '1:2d053da9994af81e45dca0e67afea6e4f3226eb8', '1:3V71V58M3Ksw/yuFALMcW0LAHvc='],
  [6, '10.0.0.1', '10.0.0.2', 10, 11569, '1:SXBGMX1lBOwhhoDrZynfROxnhnM=', '1:497046317d6504ec218680eb6729df44ec678673', '1:HmBRGR+fUyXF4t8WEtal7Y0gEAo='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ=', '1:77f14fe445b7c22635bc29dd87095e451287a304', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ=', '1:77f14fe445b7c22635bc29dd87095e451287a304', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI='],
  [46, '10.1.24.4', '10.1.12.1', null, null, '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=', '1:fe7408e1187f4ed63799fd11da0245064565812e', '1:BK3BVW3U2eemuwVQVN3zd/GULno='],
  [46, '10.1.12.1', '10.1.24.4', null, null, '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=', '1:fe7408e1187f4ed63799fd11da0245064565812e', '1:BK3BVW3U2eemuwVQVN3zd/GULno='],
];

// community-id-spec baseline/baseline_deflt.json (pycommunityid's community-id-pcap over pcaps/combined.pcap.gz), default settings.
const BASELINE_DEFLT: readonly (readonly [number, string, string, number | null, number | null, string])[] = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 136, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 135, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 136, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 136, 135, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ='],
  [58, '3ffe:501:410:0:2c0:dfff:fe47:33e', '3ffe:507:0:1:200:86ff:fe05:80da', 1, 4, '1:hLZd0XGWojozrvxqE0dWB1iM6R0='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 129, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 128, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 134, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 133, '1:pkvHqCL88/tg1k4cPigmZXUtL00='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM='],
  [6, '2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 63943, 25, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [132, '192.168.170.56', '192.168.170.8', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [46, '10.1.12.1', '10.1.12.2', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
  [46, '10.1.12.2', '10.1.12.1', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
];

function tuple(proto: number, srcIp: string, dstIp: string, sport: number | null, dport: number | null) {
  return { proto, srcIp, dstIp, ...(sport !== null && { srcPort: sport }), ...(dport !== null && { dstPort: dport }) };
}

describe('communityId (v1)', () => {
  it.each(VECTORS)('proto %i %s -> %s (%s / %s)', (proto, src, dst, sport, dport, b64, hex, seed1) => {
    const t = tuple(proto, src, dst, sport, dport);
    expect(communityId(t)).toBe(b64);
    expect(communityId(t, { base64: false })).toBe(hex);
    expect(communityId(t, { seed: 1 })).toBe(seed1);
  });

  it.each(BASELINE_DEFLT)('baseline_deflt: proto %i %s -> %s', (proto, src, dst, sport, dport, expected) => {
    expect(communityId(tuple(proto, src, dst, sport, dport))).toBe(expected);
  });

  it('reports no ID for unparseable or mixed-family addresses and for missing ports', () => {
    expect(communityId({ proto: IP_PROTO.TCP, srcIp: 'ohdear.com', dstIp: '5.6.7.8', srcPort: 1, dstPort: 2 })).toBeUndefined();
    expect(communityId({ proto: IP_PROTO.TCP, srcIp: '1.2.3.4', dstIp: '::1', srcPort: 1, dstPort: 2 })).toBeUndefined();
    expect(communityId({ proto: IP_PROTO.TCP, srcIp: '1.2.3.4', dstIp: '5.6.7.8', srcPort: 1 })).toBeUndefined();
  });

  it('maps Zeek proto names when decoding a conn without community_id: icmp over IPv6 is ICMPv6, unknown_transport needs ip_proto', () => {
    // Same vectors as above, entered the way conn.log writes them (proto name, id.orig_p = type, id.resp_p = code/counterpart).
    const decoded = (proto: string, origH: string, origP: number, respH: string, respP: number, ipProto?: number): string | undefined => {
      const line = { ts: 1_258_560_000, uid: 'C1', 'id.orig_h': origH, 'id.orig_p': origP, 'id.resp_h': respH, 'id.resp_p': respP, proto, ...(ipProto === undefined ? {} : { ip_proto: ipProto }) };
      const d = decodeConnJson(Buffer.from(JSON.stringify(line)), SRC);
      return d.ok ? d.value.communityId : undefined;
    };
    expect(decoded('icmp', 'fe80::200:86ff:fe05:80da', 135, 'fe80::260:97ff:fe07:69ea', 136)).toBe('1:dGHyGvjMfljg6Bppwm3bg0LO8TY=');
    expect(decoded('icmp', '192.168.0.89', 8, '192.168.0.1', 0)).toBe('1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
    expect(decoded('tcp', '128.232.110.120', 34855, '66.35.250.204', 80, 6)).toBe('1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
    expect(decoded('unknown_transport', '10.1.12.1', 0, '10.1.12.2', 0, 46)).toBe('1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=');
    expect(decoded('unknown_transport', '10.1.12.1', 0, '10.1.12.2', 0)).toBe('');
  });

  it('decoding the m57 conn lines without community_id gives the IDs Zeek wrote (IPv4 and IPv6, TCP and UDP)', () => {
    const lines = readFileSync(path.join(__dirname, '../../test/fixtures/corpus/zeek-testing-m57-short/conn.redacted.json'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    let v6 = 0;
    for (const [i, line] of lines.entries()) {
      const { community_id: written, ...row } = JSON.parse(line) as Record<string, unknown>;
      const d = decodeConnJson(Buffer.from(JSON.stringify({ ts: 1_258_560_000 + i, uid: `C${i}`, ...row })), SRC);
      expect(d.ok && d.value.communityId).toBe(written);
      if (String(row['id.orig_h']).includes(':')) v6++;
    }
    expect(lines.length).toBeGreaterThan(2000);
    expect(v6).toBeGreaterThan(0);
  });
});
