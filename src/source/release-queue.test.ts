import { createReleaseQueue } from './release-queue';

const ref = (offset: number): { topic: string; partition: number; offset: string } => ({ topic: 'zeek-weird', partition: 0, offset: String(offset) });

describe('release queue', () => {
  it('holds a record for its retention, then until the sink has completed what was enqueued by then', () => {
    const q = createReleaseQueue(1000);
    q.hold(ref(1), 0);
    q.hold(ref(2), 500);
    expect(q.due(999, 10, 10)).toEqual([]);
    // Retention of ref 1 passed; documents up to seq 12 exist now and only 11 are complete.
    expect(q.due(1000, 12, 11)).toEqual([]);
    expect(q.due(1100, 12, 12)).toEqual([ref(1)]);
    expect(q.size()).toBe(1);
    expect(q.due(1500, 12, 12)).toEqual([ref(2)]);
    expect(q.size()).toBe(0);
  });

  it('gives a record the barrier of the moment its retention passed', () => {
    const q = createReleaseQueue(10);
    q.hold(ref(1), 0);
    q.hold(ref(2), 5);
    expect(q.due(10, 3, 2)).toEqual([]); // ref 1 waits for seq 3
    expect(q.due(20, 4, 3)).toEqual([ref(1)]); // ref 2 waits for seq 4
    expect(q.due(21, 4, 4)).toEqual([ref(2)]);
  });

  it('releases everything on a graceful stop once the sink is drained', () => {
    const q = createReleaseQueue(1_000_000);
    q.hold(ref(1), 0);
    q.hold(ref(2), 1);
    expect(q.releaseAll(5, 4)).toEqual([]);
    expect(q.due(2, 5, 5)).toEqual([ref(1), ref(2)]);
  });

  it('stays small under a long stream', () => {
    const q = createReleaseQueue(100);
    for (let t = 0; t < 50_000; t += 1) {
      q.hold(ref(t), t);
      q.due(t, t, t);
    }
    expect(q.size()).toBeLessThanOrEqual(101);
  });
});
