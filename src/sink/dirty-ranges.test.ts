import { createDirtyRanges } from './dirty-ranges';

describe('dirty ranges for the scan summary pass', () => {
  it('gives a range only once every document in it is acknowledged', () => {
    const d = createDirtyRanges();
    d.note(1, 1_000);
    d.note(2, 5_000);
    expect(d.take(1)).toBeUndefined(); // document 2 shares the segment and is not acknowledged yet
    expect(d.take(2)).toEqual({ fromMs: 1_000, toMs: 5_001 });
    expect(d.take(2)).toBeUndefined();
  });

  it('keeps far-apart times in separate segments and takes the ready ones', () => {
    const d = createDirtyRanges(64, 60_000);
    d.note(1, 0);
    d.note(2, 3_600_000); // an hour later: a segment of its own
    expect(d.size()).toBe(2);
    expect(d.take(1)).toEqual({ fromMs: 0, toMs: 1 });
    expect(d.take(2)).toEqual({ fromMs: 3_600_000, toMs: 3_600_001 });
  });

  it('stays bounded by merging the oldest segments, losing no time', () => {
    const d = createDirtyRanges(4, 10);
    for (let i = 1; i <= 100; i++) d.note(i, i * 1_000);
    expect(d.size()).toBeLessThanOrEqual(4);
    expect(d.take(100)).toEqual({ fromMs: 1_000, toMs: 100_001 });
  });

  it('takes a range that was put back together with the next ready one', () => {
    const d = createDirtyRanges();
    d.putBack({ fromMs: 10, toMs: 20 });
    d.note(1, 500);
    expect(d.take(0)).toEqual({ fromMs: 10, toMs: 20 });
    d.putBack({ fromMs: 10, toMs: 20 });
    expect(d.take(1)).toEqual({ fromMs: 10, toMs: 501 });
  });
});
