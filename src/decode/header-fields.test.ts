import fc from 'fast-check';

import { checkedHeaderOf, headerOf, usualHeaderOf } from './header-fields';
import { isProblem } from './validate';

const TS_US = 1_377_201_633_620_883;

// pop3-rej/pop3.headers.jsonl line 2 as avsc decodes it: the RST-ACK answering the first SYN.
const RST_ACK = {
  ts: TS_US, sensor: null, src_ip: '212.227.15.188', dst_ip: '192.168.0.4', src_port: 110, dst_port: 26242, ip_version: 4,
  ip_ttl: 57, ip_id: 0, tcp_flags: 20, seq: 0, ack: 3_145_310_915, window: 0, payload_len: 0, community_id: null,
};

/**
 * A value of a field: mostly in its range (so that whole records are often valid), else at and
 * past its bounds, of another type, or absent (undefined reads as a missing key).
 */
const intField = (lo: number, hi: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: lo, max: hi }) },
    { weight: 1, arbitrary: fc.constantFrom(lo, hi, lo - 1, hi + 1, 0.5, -0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, String(lo), true, null, undefined) },
  );
const stringField = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('1:hD7pty84ojn1gCMKWpu+f9MWUyk=', 'tap-1', null, undefined) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(7, false, {})) },
);
const addressField = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('10.0.0.1', '192.168.1.20', '212.227.15.188') },
  { weight: 2, arbitrary: fc.constantFrom('fd00::1', '2001:db8::5') },
  { weight: 1, arbitrary: fc.constantFrom('10.0.0.256', 'not-an-ip', '', 4, null, undefined) },
);

const record = fc.record(
  {
    sensor: stringField,
    src_ip: addressField,
    dst_ip: addressField,
    src_port: intField(0, 65535),
    dst_port: intField(0, 65535),
    ip_version: fc.constantFrom(4, 6, null, undefined, 4, 6, null, undefined, 0, 5, 255, 256, 4.5, '4'),
    ip_ttl: intField(0, 255),
    ip_id: intField(0, 65535),
    tcp_flags: intField(0, 0x0fff),
    seq: intField(0, 0xffffffff),
    ack: intField(0, 0xffffffff),
    window: intField(0, 65535),
    payload_len: intField(0, 9000),
    community_id: stringField,
  },
);

describe('the usual-record reader', () => {
  it('reads the usual record, once its addresses have been checked, as the checked reader does', () => {
    const checked = checkedHeaderOf(RST_ACK, TS_US);
    expect(isProblem(checked)).toBe(false);
    const usual = usualHeaderOf(RST_ACK, TS_US);
    expect(usual).toBeDefined();
    expect(usual).toEqual(checked);
  });

  it('leaves a record whose addresses were never checked to the checked reader', () => {
    const fresh = { ...RST_ACK, src_ip: '198.51.100.77' };
    expect(usualHeaderOf(fresh, TS_US)).toBeUndefined();
    expect(headerOf(fresh, TS_US)).toEqual(checkedHeaderOf(fresh, TS_US));
  });

  it('gives, for every record it accepts, what the checked reader gives; it accepts no record the checked reader refuses', () => {
    let accepted = 0;
    fc.assert(
      fc.property(record, (r) => {
        const checked = checkedHeaderOf(r, TS_US); // pools the addresses it finds valid
        const usual = usualHeaderOf(r, TS_US);
        if (usual === undefined) return;
        accepted++;
        expect(isProblem(checked)).toBe(false);
        expect(usual).toEqual(checked);
      }),
      { numRuns: 5000 },
    );
    // The property says nothing unless the usual reader took a good share of the records.
    expect(accepted).toBeGreaterThan(250); // about 550 of 5000 on average
  });

  it('headerOf refuses a bad record for the same reason as the checked reader', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(headerOf(r, TS_US)).toEqual(checkedHeaderOf(r, TS_US));
      }),
      { numRuns: 2000 },
    );
  });
});
