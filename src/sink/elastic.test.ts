import fc from 'fast-check';
import { bulkActionLine } from './elastic';
import type * as Elastic from './elastic';
import { connIndexFor } from './templates';

describe('what the sink sends for each document', () => {
  it('writes the action line JSON.stringify would, whatever the index and id, and the index changing between calls', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.constantFrom('zeek-rst-conn-2026.12.06', 'zeek-rst-conn-2026.12.07'), fc.string({ unit: 'binary' })), fc.string({ unit: 'binary' })), { minLength: 1, maxLength: 20 }), (docs) => {
        for (const [index, id] of docs) expect(bulkActionLine(index, id)).toBe(JSON.stringify({ index: { _index: index, _id: id } }));
      }),
      { numRuns: 200 },
    );
  });

  it('writes the empty index right as the first line of a fresh process', () => {
    // The memo of the last index once started as an empty index with an empty head, so a first
    // line for '' came out as just the id (found by the property above, seed 1424220514).
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the module, with its memo unset
      const fresh = require('./elastic') as typeof Elastic;
      expect(fresh.bulkActionLine('', 'C1')).toBe(JSON.stringify({ index: { _index: '', _id: 'C1' } }));
      expect(fresh.bulkActionLine('', 'C2')).toBe(JSON.stringify({ index: { _index: '', _id: 'C2' } }));
    });
  });

  it('names the UTC day of the timestamp, for times in any order and prefixes that change', () => {
    const day = (prefix: string, ms: number): string => {
      const d = new Date(ms);
      return `${prefix}-conn-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCDate()).padStart(2, '0')}`;
    };
    // Read from the calendar: the last ms of 2026-12-31 and the first of 2027.
    expect(connIndexFor('zeek-rst', Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toBe('zeek-rst-conn-2026.12.31');
    expect(connIndexFor('zeek-rst', Date.UTC(2027, 0, 1))).toBe('zeek-rst-conn-2027.01.01');
    expect(connIndexFor('other', Date.UTC(2027, 0, 1))).toBe('other-conn-2027.01.01');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('zeek-rst', 'site-b'), fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) })), { minLength: 1, maxLength: 30 }), (docs) => {
        for (const [prefix, ms] of docs) expect(connIndexFor(prefix, ms)).toBe(day(prefix, ms));
      }),
      { numRuns: 300 },
    );
  });
});
