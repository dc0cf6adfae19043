/**
 * A Map in insertion order whose oldest entry costs O(1) to reach, for capped
 * stores (evict the oldest, expire from the oldest while it is out of its window).
 *
 * A plain Map used that way is quadratic in V8: a deleted entry stays a hole in its table until
 * the table is rehashed, and `map.keys().next()` or a `for...of` that stops at the first live
 * entry walks every hole before it. With the emitted-conn store at its cap (200,000), evicting the
 * oldest and inserting one more took 91 µs in a microbench (0.6 µs at 1,000 entries), and a CPU
 * profile of `npm run bench -- e2e --conns 1000000` spent 4.3 % of its samples in that walk alone,
 * with the rest of it in every tick's expiry loops.
 *
 * Same semantics as Map for what the correlator uses: `set` of a present key replaces its value
 * in place, `delete` then `set` puts the key last, iteration visits entries in order and sees
 * entries added during it but not those deleted. `moveToEnd` is `delete` + `set` without a new
 * slot. Entries live in an array of slots beside an index Map; a deleted or moved slot's old
 * place is skipped, and the array is compacted once at least half of it is stale (never during
 * an iteration), so every operation is amortised O(1). `ordered-map.test.ts` compares it with a
 * Map over random operation sequences.
 */
interface Slot<K, V> {
  readonly key: K;
  value: V;
  /** Its index in `order`; -1 once deleted. A slot in `order` at another index is stale there. */
  pos: number;
}

/** Stale slots tolerated before compaction is considered. */
const MIN_STALE = 1024;

export class OrderedMap<K, V> implements Iterable<[K, V]> {
  private readonly index = new Map<K, Slot<K, V>>();
  private order: Slot<K, V>[] = [];
  /** Every slot before it is stale. */
  private head = 0;
  /** Iterations in progress: compaction waits for them (it moves slots). */
  private iterating = 0;

  get size(): number {
    return this.index.size;
  }

  get(key: K): V | undefined {
    return this.index.get(key)?.value;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  set(key: K, value: V): this {
    const slot = this.index.get(key);
    if (slot !== undefined) {
      slot.value = value;
      return this;
    }
    const fresh: Slot<K, V> = { key, value, pos: this.order.length };
    this.order.push(fresh);
    this.index.set(key, fresh);
    return this;
  }

  delete(key: K): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.index.delete(key);
    slot.pos = -1;
    this.compactIfStale();
    return true;
  }

  /** Puts a present key last, as `delete` + `set` would; false when absent. */
  moveToEnd(key: K): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    if (slot.pos === this.order.length - 1) return true;
    slot.pos = this.order.length;
    this.order.push(slot);
    this.compactIfStale();
    return true;
  }

  /** The oldest entry, or undefined when empty. */
  oldest(): [K, V] | undefined {
    const order = this.order;
    while (this.head < order.length && order[this.head]?.pos !== this.head) this.head++;
    const s = order[this.head];
    return s === undefined ? undefined : [s.key, s.value];
  }

  clear(): void {
    for (const s of this.index.values()) s.pos = -1;
    this.index.clear();
    this.order = [];
    this.head = 0;
  }

  *entries(): IterableIterator<[K, V]> {
    this.iterating++;
    try {
      // `order` is read again at each step: entries added during the iteration are visited.
      for (let i = this.head; i < this.order.length; i++) {
        const s = this.order[i];
        if (s !== undefined && s.pos === i) yield [s.key, s.value];
      }
    } finally {
      this.iterating--;
    }
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  private compactIfStale(): void {
    const stale = this.order.length - this.index.size;
    if (this.iterating > 0 || stale < MIN_STALE || stale * 2 < this.order.length) return;
    const live: Slot<K, V>[] = [];
    const order = this.order;
    for (let i = this.head; i < order.length; i++) {
      const s = order[i];
      if (s === undefined || s.pos !== i) continue;
      s.pos = live.length;
      live.push(s);
    }
    this.order = live;
    this.head = 0;
  }
}
