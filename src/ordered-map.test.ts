import { OrderedMap } from './ordered-map';
import { seededRandom } from '../test/helpers/random';


describe('OrderedMap', () => {
  it('behaves as a Map over random sequences of set, delete, move to end, oldest and iteration', () => {
    const same = (a: unknown, b: unknown, what: string): void => {
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what}: ${JSON.stringify(a)} where a Map gives ${JSON.stringify(b)}`);
    };
    for (const seed of [1, 2, 3, 42, 2026]) {
      const next = seededRandom(seed);
      const ours = new OrderedMap<number, number>();
      const map = new Map<number, number>();
      for (let step = 0; step < 20_000; step++) {
        const op = next();
        const key = Math.floor(next() * 3000);
        if (op < 0.45) {
          ours.set(key, step);
          map.set(key, step);
        } else if (op < 0.75) {
          same(ours.delete(key), map.delete(key), `seed ${seed} step ${step} delete`);
        } else if (op < 0.85) {
          // Evict the oldest, as the capped stores do.
          const oldest = ours.oldest();
          const first = map.entries().next();
          same(oldest, first.done === true ? undefined : first.value, `seed ${seed} step ${step} oldest`);
          if (oldest !== undefined) {
            ours.delete(oldest[0]);
            map.delete(oldest[0]);
          }
        } else if (op < 0.995) {
          const had = map.get(key);
          same(ours.moveToEnd(key), had !== undefined, `seed ${seed} step ${step} moveToEnd`);
          if (had !== undefined) {
            map.delete(key);
            map.set(key, had);
          }
        } else {
          same([...ours], [...map], `seed ${seed} step ${step} entries`);
        }
        same([ours.size, ours.get(key), ours.has(key)], [map.size, map.get(key), map.has(key)], `seed ${seed} step ${step} size/get/has`);
      }
      expect([...ours.keys()]).toEqual([...map.keys()]);
      expect([...ours.values()]).toEqual([...map.values()]);
    }
  });

  it('sees, while iterating, what a Map would: entries added are visited, entries deleted are not', () => {
    const ours = new OrderedMap<string, number>();
    const map = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      ours.set(`k${i}`, i);
      map.set(`k${i}`, i);
    }
    const walk = (m: { delete(k: string): boolean; set(k: string, v: number): unknown; [Symbol.iterator](): Iterator<[string, number]> }): string[] => {
      const seen: string[] = [];
      for (const [k, v] of { [Symbol.iterator]: () => m[Symbol.iterator]() }) {
        seen.push(k);
        // Delete the next two (compaction must wait for the iteration), re-add one of them last, add a new key early on.
        m.delete(`k${v + 1}`);
        m.delete(`k${v + 2}`);
        if (v % 3 === 0) m.set(`k${v + 1}`, v + 1);
        if (v < 10) m.set(`n${v}`, 10_000 + v);
        if (seen.length > 20_000) break;
      }
      return seen;
    };
    expect(walk(ours)).toEqual(walk(map));
    expect([...ours]).toEqual([...map]);
  });

  it('reaches the oldest entry in constant time however many were deleted before it', () => {
    const ours = new OrderedMap<number, number>();
    const cap = 200_000;
    for (let i = 0; i < cap; i++) ours.set(i, i);
    // A capped store in steady state: evict the oldest, insert one more. With a Map this walks
    // every hole left by the evictions before it (about 90 µs per step at this size).
    for (let i = cap; i < cap + 300_000; i++) {
      const oldest = ours.oldest();
      if (oldest === undefined || oldest[0] !== i - cap) throw new Error(`oldest ${String(oldest?.[0])} at step ${i}`);
      ours.delete(oldest[0]);
      ours.set(i, i);
    }
    expect(ours.size).toBe(cap);
    expect(ours.oldest()).toEqual([300_000, 300_000]);
    ours.clear();
    expect(ours.size).toBe(0);
    expect(ours.oldest()).toBeUndefined();
  });
});
