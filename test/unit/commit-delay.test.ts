/**
 * The bench's commit delay (bench/commit-delay.ts): how long ago the consumer's position reached
 * the committed offset. The expected figures are worked out from the samples by hand.
 */
import { createCommitDelay } from '../../bench/commit-delay';

describe('commit delay', () => {
  it('is the age of the committed offset, in seconds of the samples', () => {
    const d = createCommitDelay();
    // t=0: consumed to 100, nothing committed: the position was first seen now.
    expect(d.observe(0, [{ key: 'c/0', consumed: 100n, committed: undefined }])).toBe(0);
    // t=1 s: consumed to 200, still nothing committed: offset 0 was reached at t=0.
    expect(d.observe(1000, [{ key: 'c/0', consumed: 200n, committed: undefined }])).toBe(1);
    // t=5 s: consumed to 600, committed 150: the position passed 150 at t=1 s (it was 200 then).
    expect(d.observe(5000, [{ key: 'c/0', consumed: 600n, committed: 150n }])).toBe(4);
    // t=6 s: everything consumed is committed.
    expect(d.observe(6000, [{ key: 'c/0', consumed: 600n, committed: 600n }])).toBe(0);
  });

  it('reports the worst partition', () => {
    const d = createCommitDelay();
    d.observe(0, [{ key: 'c/0', consumed: 10n, committed: 0n }, { key: 'h/0', consumed: 1n, committed: 0n }]);
    d.observe(2000, [{ key: 'c/0', consumed: 20n, committed: 10n }, { key: 'h/0', consumed: 5n, committed: 0n }]);
    // c/0: committed 20 reached at t=2 s -> 1 s; h/0: committed 1 reached at t=0 -> 3 s.
    expect(d.observe(3000, [{ key: 'c/0', consumed: 30n, committed: 20n }, { key: 'h/0', consumed: 9n, committed: 1n }])).toBe(3);
  });

  it('keeps what later samples still need after pruning', () => {
    const d = createCommitDelay();
    for (let t = 0; t <= 10; t++) d.observe(t * 1000, [{ key: 'c/0', consumed: BigInt(t * 100), committed: BigInt(Math.max(0, t - 3) * 100) }]);
    // At t=10 s the committed offset 700 was reached at t=7 s.
    expect(d.observe(11_000, [{ key: 'c/0', consumed: 1100n, committed: 700n }])).toBe(4);
    // A committed offset between two samples counts from the first sample at or past it (900 at t=9 s).
    expect(d.observe(12_000, [{ key: 'c/0', consumed: 1200n, committed: 850n }])).toBe(3);
  });
});
