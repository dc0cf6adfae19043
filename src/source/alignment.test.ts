import fc from 'fast-check';

import { createAlignment, createIdleClock } from './alignment';

const make = (maxSkewMs = 1000, idleMs = 10_000): { a: ReturnType<typeof createAlignment>; clock: { t: number } } => {
  const clock = { t: 0 };
  return { a: createAlignment({ maxSkewMs, idleMs, now: () => clock.t }), clock };
};

describe('alignment of input partitions by message timestamp', () => {
  it('lets a partition go while it is within the skew of the lowest other head', () => {
    const { a } = make(1000);
    expect(a.admit('conn/0', 10_000)).toBe(true);
    expect(a.admit('headers/0', 10_500)).toBe(true);
    expect(a.admit('headers/0', 11_000)).toBe(true); // exactly the skew
  });

  it('pauses the partition that runs ahead, and resumes it once the others catch up', () => {
    const { a } = make(1000);
    a.admit('conn/0', 10_000);
    expect(a.admit('headers/0', 11_001)).toBe(false);
    expect(a.pausedCount()).toBe(1);
    expect(a.resumable()).toEqual([]);
    expect(a.admit('conn/0', 10_500)).toBe(true);
    expect(a.resumable()).toEqual(['headers/0']);
    expect(a.pausedCount()).toBe(0);
    // Resumed once only.
    expect(a.resumable()).toEqual([]);
  });

  it('does not hold back on a partition that is caught up (live traffic flows unaligned)', () => {
    const { a } = make(1000);
    a.admit('conn/0', 10_000);
    expect(a.admit('headers/0', 60_000)).toBe(false);
    a.reached('conn/0', true);
    expect(a.resumable()).toEqual(['headers/0']);
    expect(a.admit('headers/0', 60_000)).toBe(true);
    // New data on the caught-up partition makes it count again.
    expect(a.admit('conn/0', 10_001)).toBe(true);
    expect(a.admit('headers/0', 60_001)).toBe(false);
  });

  it('holds every partition back on an assigned one not seen yet, until it is seen, caught up or idle', () => {
    const { a, clock } = make(1000, 5000);
    a.reset(['conn/0', 'weird/0', 'headers/0']);
    // The first fetch of a backlog: the header batch must not go through whole before the conns are seen.
    expect(a.admit('headers/0', 1_000_000)).toBe(false);
    expect(a.admit('conn/0', 10_000)).toBe(false); // weird/0 is not seen yet either
    expect(a.resumable()).toEqual([]);
    a.reached('weird/0', true); // its lag is 0: nothing to wait for
    expect(a.resumable()).toEqual(['conn/0']); // the lowest head goes; headers/0 is far ahead of it
    expect(a.admit('conn/0', 10_000)).toBe(true);
    clock.t = 5001;
    expect(a.resumable()).toEqual([]); // no fetch has asked conn/0 for more yet
    a.fetching();
    a.fetched();
    clock.t = 10_002; // conn/0 has offered nothing since that fetch
    expect(a.resumable()).toEqual(['headers/0']);
  });

  it('does not hold back on a partition it was never told of', () => {
    const { a } = make(1000);
    expect(a.admit('headers/0', 1_000_000)).toBe(true);
    expect(a.admit('conn/0', 10_000)).toBe(true);
    expect(a.admit('headers/0', 1_000_001)).toBe(false);
  });

  it('lets an assigned partition that never offers a message stop holding back after idleMs', () => {
    const { a, clock } = make(1000, 5000);
    a.reset(['conn/0', 'headers/0']);
    expect(a.admit('headers/0', 1000)).toBe(false);
    a.fetching(); // asks for conn/0, which has nothing
    a.fetched();
    clock.t = 5001;
    expect(a.resumable()).toEqual(['headers/0']);
  });

  it('counts a partition idle only from when a fetch that asked for it came back without it', () => {
    const { a, clock } = make(1000, 300);
    expect(a.admit('conn/0', 1000)).toBe(true);
    expect(a.admit('headers/0', 5000)).toBe(false);
    a.fetching(); // asks for conn/0 only: headers/0 is paused
    a.reached('conn/0', true); // meanwhile the lag refresh finds conn/0 read to its end
    expect(a.resumable()).toEqual(['headers/0']);
    a.fetched(); // it did not ask for headers/0
    clock.t = 1200;
    expect(a.admit('weird/0', 7000)).toBe(false); // headers/0 (5000) has not been asked yet
    a.fetching(); // asks for headers/0
    clock.t = 1500;
    expect(a.resumable()).toEqual([]); // a slow answer is not silence
    a.fetched(); // back, without headers/0
    clock.t = 1700;
    expect(a.resumable()).toEqual([]);
    clock.t = 1801;
    expect(a.resumable()).toEqual(['weird/0']);
  });

  it('keeps a paused partition as a floor for the others even after idleMs (it is waiting, not idle)', () => {
    const { a, clock } = make(1000, 5000);
    a.admit('conn/0', 1000);
    expect(a.admit('weird/0', 5000)).toBe(false); // ahead of conn/0
    expect(a.admit('headers/0', 9000)).toBe(false); // ahead of conn/0 and of weird/0
    clock.t = 1000;
    a.admit('conn/0', 4500); // weird/0 (5000) may go, headers/0 (9000) is still ahead of both
    a.fetching(); // asks for conn/0 only
    a.fetched();
    clock.t = 7000; // conn/0 idle now; weird/0 was resumed at 1000 but is not re-offered yet
    expect(a.resumable()).toEqual(['weird/0']);
    expect(a.admit('weird/0', 5000)).toBe(true);
    expect(a.resumable()).toEqual([]); // headers/0 waits for weird/0, which is active
  });

  it('never holds back on a message without a timestamp', () => {
    const { a } = make(0);
    a.admit('conn/0', 10);
    expect(a.admit('headers/0', -1)).toBe(true);
    expect(a.admit('headers/0', Number.NaN)).toBe(true);
  });

  it('forgets every head on a rebalance and names the paused partitions to resume', () => {
    const { a } = make(1000);
    a.admit('conn/0', 0);
    a.admit('headers/0', 50_000);
    expect(a.reset(['headers/0'])).toEqual(['headers/0']);
    expect(a.pausedCount()).toBe(0);
    expect(a.admit('headers/0', 50_000)).toBe(true); // conn/0 is no longer assigned
  });

  it('never pauses every partition that has something to read: the lowest head always goes', () => {
    const partitions = ['conn/0', 'conn/1', 'weird/0', 'headers/0'];
    const step = fc.record({ p: fc.constantFrom(...partitions), ts: fc.integer({ min: 0, max: 100_000 }), caughtUp: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 0, max: 5000 }), (steps, skew) => {
        const { a } = make(skew, 1_000_000);
        a.reset(partitions);
        const paused = new Set<string>();
        /** Partitions that hold the others back: not caught up (assigned ones at first). */
        const holding = new Set<string>(partitions);
        for (const s of steps) {
          if (paused.has(s.p)) continue; // Kafka fetches nothing for a paused partition
          holding.add(s.p);
          if (!a.admit(s.p, s.ts)) paused.add(s.p);
          else if (s.caughtUp) {
            a.reached(s.p, true);
            holding.delete(s.p);
          }
          for (const k of a.resumable()) paused.delete(k);
        }
        expect(a.pausedCount()).toBe(paused.size);
        // Whenever something waits, some partition that is not caught up still reads.
        if (paused.size > 0) expect([...holding].some((k) => !paused.has(k))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the idle clock', () => {
  it('follows the wall clock while no batch is handled, and stands still while one is', () => {
    const wall = { t: 1000 };
    const c = createIdleClock(() => wall.t);
    expect(c.now()).toBe(1000);
    c.stop();
    wall.t = 5000;
    expect(c.now()).toBe(1000);
    c.stop(); // a second batch at the same time: still stopped since 1000
    wall.t = 6000;
    expect(c.now()).toBe(1000);
    c.start();
    expect(c.now()).toBe(1000);
    wall.t = 6500;
    expect(c.now()).toBe(1500); // 5 s stopped do not count
    c.start(); // already running: nothing changes
    expect(c.now()).toBe(1500);
    c.stop();
    wall.t = 7000;
    c.start();
    expect(c.now()).toBe(1500); // stopped twice, 5.5 s in all
  });

  it('keeps a partition from going idle while another partition\'s batch waits out a full sink', () => {
    const wall = { t: 0 };
    const clock = createIdleClock(() => wall.t);
    const a = createAlignment({ maxSkewMs: 1000, idleMs: 300, now: clock.now });
    expect(a.admit('headers/0', 2000)).toBe(true);
    a.reached('headers/0', false);
    // The next fetch asks for headers/0 and brings conn/0's batch only.
    a.fetching();
    a.fetched();
    clock.stop();
    expect(a.admit('conn/0', 1500)).toBe(true);
    wall.t = 12_000; // the conn batch waits 12 s for the sink
    // headers/0 has had no chance to offer anything meanwhile: it still holds conn/0 back.
    expect(a.admit('conn/0', 3500)).toBe(false);
    clock.start();
    wall.t = 12_301; // now headers/0 has truly offered nothing for idleMs
    expect(a.resumable()).toEqual(['conn/0']);
  });
});
