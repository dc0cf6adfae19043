import { StringPool } from './string-pool';

describe('StringPool', () => {
  it('returns the pooled value of an equal string, and nothing for one never added', () => {
    const pool = new StringPool(4);
    expect(pool.get('10.0.0.1')).toBeUndefined();
    expect(pool.intern(['10', '0', '0', '1'].join('.'))).toBe('10.0.0.1');
    expect(pool.get('10.0.0.1')).toBe('10.0.0.1');
    expect(pool.get('10.0.0.2')).toBeUndefined();
    expect(pool.size).toBe(1);
  });

  it('stays within its bound: past max values it starts again empty', () => {
    const pool = new StringPool(3);
    for (const s of ['a', 'b', 'c']) pool.add(s);
    expect(pool.size).toBe(3);
    pool.add('d');
    expect(pool.size).toBe(1);
    expect(pool.get('a')).toBeUndefined();
    expect(pool.get('d')).toBe('d');
    for (let i = 0; i < 1000; i++) pool.intern(`v${i}`);
    expect(pool.size).toBeLessThanOrEqual(3);
  });
});
