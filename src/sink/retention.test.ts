import { dailyIndexDay, expiredIndices } from './retention';

describe('retention of daily indices', () => {
  const now = Date.UTC(2024, 2, 21, 12); // 2024-03-21 12:00 UTC

  it('reads the day from this deployment\'s daily index names only', () => {
    expect(dailyIndexDay('zeek-rst', 'zeek-rst-conn-2024.03.01')).toBe(Date.UTC(2024, 2, 1));
    expect(dailyIndexDay('zeek-rst', 'zeek-rstx-conn-2024.03.01')).toBeUndefined();
    expect(dailyIndexDay('zeek-rst', 'other-zeek-rst-conn-2024.03.01')).toBeUndefined();
    expect(dailyIndexDay('zeek-rst', 'zeek-rst-conn-2024.03.01-restored')).toBeUndefined();
    expect(dailyIndexDay('zeek-rst', 'zeek-rst-conn-2024.02.30')).toBeUndefined();
    expect(dailyIndexDay('zeek-rst', 'zeek-rst-scans')).toBeUndefined();
    expect(dailyIndexDay('a.b', 'axb-conn-2024.03.01')).toBeUndefined(); // the prefix is literal, not a pattern
  });

  it('expires a day once all of it is older than the maximum age', () => {
    const names = ['zeek-rst-conn-2024.03.19', 'zeek-rst-conn-2024.03.20', 'zeek-rst-conn-2024.03.21', 'zeek-rst-conn-2024.03.18', 'zeek-rst-scans'];
    // Max age 1 day: the cut-off is 2024-03-20 12:00; the 19th ended at 2024-03-20 00:00.
    expect(expiredIndices('zeek-rst', names, 1, now)).toEqual(['zeek-rst-conn-2024.03.18', 'zeek-rst-conn-2024.03.19']);
    expect(expiredIndices('zeek-rst', names, 0, now)).toEqual([]);
  });
});
