/**
 * Evidence files read as the conns' time reaches them (`zeek-rst classify`, docs/cli.md).
 *
 * Each input (a header file, a capture, a weird file) is read ahead by up to `lookahead` records
 * (an item weighs its `weight`, its records: a block of an Avro container holds many), and an item is handed on once the caller's time has reached the item's `dueUs`, earliest
 * first. Evidence then enters the correlator shortly before the conns it belongs to, and what
 * the correlator's caps evict is evidence whose conns have already come, not evidence still
 * waiting for its conn. Zeek's logs and capture files are in time order, or nearly: an item out
 * of order waits in the read-ahead for the time to reach it while the items behind it go on,
 * and only more than `lookahead` records of such items hold the input back. Memory: at most
 * `lookahead` records per input, plus the last item read.
 */
export interface DueItem {
  /** Record time from which the item may be handed on, µs; -Infinity for at once. */
  readonly dueUs: number;
  /** Records the item holds, what it weighs in the read-ahead (default 1). */
  readonly weight?: number;
}

export interface DueInput<T extends DueItem> {
  readonly name: string;
  readonly items: AsyncIterator<T>;
  /** Called once, when the input has no more items to read. */
  readonly onEnd?: () => void;
}

export interface DueInputs<T extends DueItem> {
  /** Hands on, input by input and earliest first, every item due at `untilUs` (Infinity: everything left). */
  takeDue(untilUs: number, handle: (item: T, input: string) => Promise<void>): Promise<void>;
}

/** Records read ahead per input when not told otherwise. */
export const DEFAULT_LOOKAHEAD = 4096;

interface Queued<T> {
  readonly item: T;
  /** Read order: equal times keep the input's order. */
  readonly n: number;
}

/** A binary min-heap on (dueUs, read order). */
class DueHeap<T extends DueItem> {
  private readonly a: Queued<T>[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): T | undefined {
    return this.a[0]?.item;
  }

  push(q: Queued<T>): void {
    const a = this.a;
    a.push(q);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i], a[p])) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined) return undefined;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top.item;
  }

  private before(x: Queued<T> | undefined, y: Queued<T> | undefined): boolean {
    if (x === undefined || y === undefined) return false;
    return x.item.dueUs < y.item.dueUs || (x.item.dueUs === y.item.dueUs && x.n < y.n);
  }

  private swap(i: number, j: number): void {
    const a = this.a;
    const t = a[i];
    const u = a[j];
    if (t === undefined || u === undefined) return;
    a[i] = u;
    a[j] = t;
  }
}

interface Reader<T extends DueItem> {
  readonly input: DueInput<T>;
  readonly ahead: DueHeap<T>;
  /** Records of the items in `ahead`. */
  weight: number;
  read: number;
  done: boolean;
}

export function createDueInputs<T extends DueItem>(inputs: readonly DueInput<T>[], lookahead = DEFAULT_LOOKAHEAD): DueInputs<T> {
  if (!(lookahead >= 1)) throw new RangeError(`lookahead must be at least 1, not ${lookahead}`);
  const readers: Reader<T>[] = inputs.map((input) => ({ input, ahead: new DueHeap<T>(), weight: 0, read: 0, done: false }));
  return {
    async takeDue(untilUs, handle) {
      for (const r of readers) {
        for (;;) {
          if (!r.done && r.weight < lookahead) {
            const next = await r.input.items.next();
            if (next.done === true) {
              r.done = true;
              r.input.onEnd?.();
            } else {
              r.ahead.push({ item: next.value, n: r.read++ });
              r.weight += next.value.weight ?? 1;
            }
            continue;
          }
          const head = r.ahead.peek();
          if (head === undefined || head.dueUs > untilUs) break;
          r.ahead.pop();
          r.weight -= head.weight ?? 1;
          await handle(head, r.input.name);
        }
      }
    },
  };
}
