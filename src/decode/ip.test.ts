import { isIP } from 'node:net';

import fc from 'fast-check';

import { formatIpv4, formatIpv6, parseIp } from './ip';

describe('parseIp', () => {
  it.each([
    ['1.2.3.4', [1, 2, 3, 4]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['::1', [...new Array<number>(15).fill(0), 1]],
    ['::', new Array<number>(16).fill(0)],
    ['::ffff:1.2.3.4', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
    ['2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['fe80:0001:0203:0405:0607:0809:0A0B:0C0D', [0xfe, 0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d]],
  ])('%s -> bytes', (text, bytes) => {
    expect(Array.from(parseIp(text) ?? [])).toEqual(bytes);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', 'g::1', '12345::', '::1.2.3', 'example.com', ' 1.2.3.4', '1.2.3.4::', '1:2:3:4:5:6:7:1.2.3.4', '1::2:', ':1::', '1:2:3:4:5:6::1.2.3.4'])(
    'rejects %j', (text) => {
      expect(parseIp(text)).toBeUndefined();
      expect(isIP(text)).toBe(0);
    },
  );

  it('agrees with node:net isIP on generated addresses and near-misses', () => {
    const candidates = fc.oneof(
      fc.ipV4(), fc.ipV6(), fc.ipV4Extended(),
      fc.string({ unit: fc.constantFrom('0', '1', 'f', 'F', ':', '.', '9', 'x'), maxLength: 45 }),
    );
    fc.assert(fc.property(candidates, (text) => {
      const ours = parseIp(text);
      const family = isIP(text);
      expect(ours === undefined ? 0 : ours.length === 4 ? 4 : 6).toBe(family);
    }), { numRuns: 3000 });
  });
});

describe('formatIpv6 / formatIpv4', () => {
  it.each([
    // RFC 5952 §4: shortest form, longest zero run (first on a tie), no run of one group, lower case.
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['FE80::ABCD', 'fe80::abcd'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    // inet_ntop's dotted tails: IPv4-mapped and IPv4-compatible
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::192.0.2.1'],
    ['2001:4f8:4:7:2e0:81ff:fe52:ffff', '2001:4f8:4:7:2e0:81ff:fe52:ffff'],
  ])('%s -> %s', (text, formatted) => {
    expect(formatIpv6(parseIp(text) ?? new Uint8Array(16))).toBe(formatted);
  });

  it('round-trips generated addresses through parseIp', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      expect(Array.from(parseIp(formatIpv6(bytes)) ?? [])).toEqual(Array.from(bytes));
    }));
    expect(formatIpv4(Uint8Array.of(9, 0, 0, 1, 10, 0, 255, 7), 4)).toBe('10.0.255.7');
  });
});
