import fc from 'fast-check';
import { createOffsetTracker, type MessageRef } from './offset-tracker';

const ref = (offset: number, partition = 0, topic = 'zeek-conn'): MessageRef => ({ topic, partition, offset: String(offset) });

describe('offset tracker', () => {
  it('commits nothing until the oldest message completes, then the whole completed run', () => {
    const t = createOffsetTracker();
    for (const o of [10, 11, 12]) t.track(ref(o));
    t.release(ref(11));
    t.release(ref(12));
    expect(t.committable()).toEqual([]);
    t.release(ref(10));
    expect(t.committable()).toEqual([{ topic: 'zeek-conn', partition: 0, offset: '13' }]);
    expect(t.incompleteCount()).toBe(0);
  });

  it('keeps a message incomplete while it has holds (one per document it produced)', () => {
    const t = createOffsetTracker();
    t.track(ref(0));
    t.acquire(ref(0), 2);
    t.release(ref(0)); // processing done, two documents in flight
    t.release(ref(0)); // first document acknowledged
    expect(t.committable()).toEqual([]);
    t.release(ref(0)); // second document acknowledged
    expect(t.committable()).toEqual([{ topic: 'zeek-conn', partition: 0, offset: '1' }]);
  });

  it('tracks partitions and topics separately and tolerates gaps in the numbering', () => {
    const t = createOffsetTracker();
    t.track(ref(5, 0));
    t.track(ref(9, 0)); // 6..8 were compacted away
    t.track(ref(5, 1));
    t.track(ref(0, 0, 'zeek-weird'));
    t.release(ref(5, 0));
    t.release(ref(9, 0));
    t.release(ref(0, 0, 'zeek-weird'));
    expect(t.committable()).toEqual(
      expect.arrayContaining([
        { topic: 'zeek-conn', partition: 0, offset: '10' },
        { topic: 'zeek-weird', partition: 0, offset: '1' },
      ]),
    );
    expect(t.committable()).toHaveLength(2);
    expect(t.incompleteCount()).toBe(1);
  });

  it('reports a position once, until it advances again', () => {
    const t = createOffsetTracker();
    t.track(ref(0));
    t.release(ref(0));
    const first = t.committable();
    t.markCommitted(first);
    expect(t.committable()).toEqual([]);
    t.track(ref(1));
    t.release(ref(1));
    expect(t.committable()).toEqual([{ topic: 'zeek-conn', partition: 0, offset: '2' }]);
  });

  it('keeps a position that advanced while its commit was in flight', () => {
    const t = createOffsetTracker();
    t.track(ref(0));
    t.track(ref(1));
    t.release(ref(0));
    const inFlight = t.committable();
    t.release(ref(1));
    t.markCommitted(inFlight);
    expect(t.committable()).toEqual([{ topic: 'zeek-conn', partition: 0, offset: '2' }]);
  });

  it('forgets a revoked partition and ignores late releases for it', () => {
    const t = createOffsetTracker();
    t.track(ref(0));
    t.track(ref(1));
    t.forget({ topic: 'zeek-conn', partition: 0 });
    expect(t.incompleteCount()).toBe(0);
    expect(t.release(ref(0))).toBe(false);
    expect(t.committable()).toEqual([]);
  });

  it('skips re-delivered offsets it already tracks, and refuses holds on unknown messages', () => {
    const t = createOffsetTracker();
    expect(t.track(ref(3))).toBe(true);
    expect(t.track(ref(3))).toBe(false);
    expect(t.track(ref(2))).toBe(false);
    expect(t.incompleteCount()).toBe(1);
    expect(() => { t.acquire(ref(4)); }).toThrow(RangeError);
    expect(t.release(ref(4))).toBe(false);
  });

  it('handles 64-bit offsets beyond Number precision', () => {
    const t = createOffsetTracker();
    const big = '9007199254740993';
    t.track({ topic: 'x', partition: 0, offset: big });
    t.release({ topic: 'x', partition: 0, offset: big });
    expect(t.committable()).toEqual([{ topic: 'x', partition: 0, offset: '9007199254740994' }]);
  });

  it('never commits past an incomplete message, whatever the completion order (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: 0, maxLength: n }))),
        ([n, order]) => {
          const t = createOffsetTracker();
          for (let i = 0; i < n; i += 1) t.track(ref(i));
          const done = new Set<number>();
          let committed = 0;
          for (const i of order) {
            t.release(ref(i));
            done.add(i);
            for (const p of t.committable()) {
              const pos = Number(p.offset);
              // Every offset below the position must be complete.
              for (let j = committed; j < pos; j += 1) expect(done.has(j)).toBe(true);
              committed = pos;
            }
            t.markCommitted(t.committable());
          }
          let expected = 0;
          while (done.has(expected)) expected += 1;
          expect(committed).toBe(expected);
          expect(t.incompleteCount()).toBe(n - done.size);
          expect(t.trackedCount()).toBe(n - expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
