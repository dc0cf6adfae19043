import { FlowIndex } from './flow-index';
import { seededRandom } from '../../test/helpers/random';

describe('FlowIndex', () => {
  it('gives the keys a Map of Sets gives, in the same order, over random sequences of add and delete', () => {
    for (const seed of [1, 7, 2026]) {
      const next = seededRandom(seed);
      const ours = new FlowIndex();
      const model = new Map<string, Set<string>>();
      for (let step = 0; step < 20_000; step++) {
        // Few flows and few keys per flow, so that flows go from one key to several and back.
        const cid = `cid-${Math.floor(next() * 40)}`;
        const key = `k-${Math.floor(next() * 6)}`;
        if (next() < 0.55) {
          ours.add(cid, key);
          const set = model.get(cid) ?? new Set<string>();
          set.add(key);
          model.set(cid, set);
        } else {
          ours.delete(cid, key);
          const set = model.get(cid);
          set?.delete(key);
          if (set?.size === 0) model.delete(cid);
        }
        const expected = [...(model.get(cid) ?? [])];
        const got = [...ours.keysOf(cid)];
        if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`seed ${seed} step ${step} ${cid}: ${JSON.stringify(got)}, a Map of Sets gives ${JSON.stringify(expected)}`);
      }
    }
  });

  it('has no keys for an unknown flow, and none once its last key is deleted', () => {
    const index = new FlowIndex();
    expect([...index.keysOf('a')]).toEqual([]);
    index.add('a', 'x');
    index.add('a', 'x');
    expect([...index.keysOf('a')]).toEqual(['x']);
    index.add('a', 'y');
    index.delete('a', 'x');
    expect([...index.keysOf('a')]).toEqual(['y']);
    index.delete('a', 'y');
    index.delete('a', 'y');
    expect([...index.keysOf('a')]).toEqual([]);
  });
});
