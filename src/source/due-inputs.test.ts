import { createDueInputs, type DueItem } from './due-inputs';

interface Item extends DueItem {
  readonly id: string;
}

/** An input of items at the given times, counting how many were read. */
function input(name: string, times: readonly number[]): { name: string; items: AsyncIterator<Item>; onEnd: () => void; read: () => number; ended: () => number } {
  let read = 0;
  let ended = 0;
  async function* gen(): AsyncGenerator<Item> {
    for (const [i, t] of times.entries()) {
      await Promise.resolve();
      read++;
      yield { id: `${name}${i}`, dueUs: t };
    }
  }
  return { name, items: gen(), onEnd: () => { ended++; }, read: () => read, ended: () => ended };
}

async function take(inputs: ReturnType<typeof createDueInputs<Item>>, until: number): Promise<string[]> {
  const out: string[] = [];
  await inputs.takeDue(until, async (item, from) => {
    await Promise.resolve();
    out.push(`${from}:${item.id}`);
  });
  return out;
}

describe('due inputs', () => {
  it('hands on what the time has reached, input by input, and keeps the rest', async () => {
    const a = input('a', [10, 20, 30]);
    const b = input('b', [5, 25]);
    const d = createDueInputs([a, b]);
    expect(await take(d, 20)).toEqual(['a:a0', 'a:a1', 'b:b0']);
    expect(await take(d, 20)).toEqual([]);
    expect(await take(d, 29)).toEqual(['b:b1']);
    expect(await take(d, Number.POSITIVE_INFINITY)).toEqual(['a:a2']);
    expect([a.ended(), b.ended()]).toEqual([1, 1]);
    expect(await take(d, Number.POSITIVE_INFINITY)).toEqual([]);
    expect([a.ended(), b.ended()]).toEqual([1, 1]);
  });

  it('lets the items behind an out-of-order one go on, earliest first, equal times in input order', async () => {
    const a = input('a', [1, 1000, 2, 3, 3, -Infinity]);
    const d = createDueInputs([a], 8);
    expect(await take(d, 3)).toEqual(['a:a5', 'a:a0', 'a:a2', 'a:a3', 'a:a4']);
    expect(await take(d, 999)).toEqual([]);
    expect(await take(d, 1000)).toEqual(['a:a1']);
  });

  it('counts an item of many records as that many in the read-ahead', async () => {
    let read = 0;
    async function* blocks(): AsyncGenerator<Item> {
      for (let i = 0; i < 10; i++) {
        await Promise.resolve();
        read++;
        yield { id: `b${i}`, dueUs: 100 + i, weight: 400 };
      }
    }
    const d = createDueInputs([{ name: 'b', items: blocks() }], 1000);
    expect(await take(d, 0)).toEqual([]);
    // 400 + 400 < 1000, so a third is read; then 1,200 records wait and reading stops.
    expect(read).toBe(3);
    expect(await take(d, 100)).toEqual(['b:b0']);
    expect(read).toBe(4);
  });

  it('reads at most the lookahead ahead of the time', async () => {
    const a = input('a', Array.from({ length: 100 }, (_, i) => i));
    const d = createDueInputs([a], 10);
    expect(await take(d, 4)).toEqual(['a:a0', 'a:a1', 'a:a2', 'a:a3', 'a:a4']);
    // Five handed on, ten waiting: fifteen read.
    expect(a.read()).toBe(15);
    // A run of items out of order longer than the lookahead holds the input back until the time reaches them.
    const late = input('l', [...Array.from({ length: 4 }, () => 500), 1]);
    const dl = createDueInputs([late], 4);
    expect(await take(dl, 1)).toEqual([]);
    // At 500 the first is handed on, which makes room to read the one at 1, which is then the earliest.
    expect(await take(dl, 500)).toEqual(['l:l0', 'l:l4', 'l:l1', 'l:l2', 'l:l3']);
  });
});
