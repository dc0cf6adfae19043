import { hopsFromTtl, initialTtlClass, ipIdBehaviour, mode } from './baseline';

describe('baselines', () => {
  it('puts a TTL in the smallest initial class >= it', () => {
    expect([1, 32, 33, 52, 57, 64, 65, 124, 128, 129, 251, 255].map(initialTtlClass)).toEqual([32, 32, 64, 64, 64, 64, 128, 128, 128, 255, 255, 255]);
    expect(hopsFromTtl(52)).toBe(12); // ldap client data packets
    expect(hopsFromTtl(251)).toBe(4); // ldap RST
  });

  it('tells increasing, zero and random IP IDs apart', () => {
    expect(ipIdBehaviour([31756, 31757, 49424, 49425, 49426, 49427, 49428])).toBe('increasing');
    expect(ipIdBehaviour([0, 0, 0, 0])).toBe('zero');
    expect(ipIdBehaviour([65534, 65535, 0, 1])).toBe('increasing'); // wraps
    expect(ipIdBehaviour([5, 40000, 1200, 61000, 300])).toBe('random');
    expect(ipIdBehaviour([1, 2])).toBe('unknown');
  });

  it('takes the mode of TTLs', () => {
    expect(mode([251, 251, 52, 52, 52, 52, 52])).toBe(52);
    expect(mode([])).toBeUndefined();
  });
});
