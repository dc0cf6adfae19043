import fc from 'fast-check';

import { objectFields } from './validate';
import { CONN_FIELD_NAMES, connValues, connValuesOfObject } from './zeek-record';

describe('conn field values', () => {
  it('no conn field name is a property of Object.prototype, so a property read of a JSON.parse object finds own fields only', () => {
    for (const name of CONN_FIELD_NAMES) expect(name in Object.prototype).toBe(false);
  });

  it('connValues reads exactly CONN_FIELD_NAMES, in that order', () => {
    const read: string[] = [];
    connValues({ get: (name) => void read.push(name) });
    expect(read).toEqual([...CONN_FIELD_NAMES]);
  });

  it('read by property from a parsed object, the values are those read through objectFields', () => {
    const value = fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 2 }));
    const names = fc.constantFrom(...CONN_FIELD_NAMES, 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'other');
    fc.assert(fc.property(fc.dictionary(names, value), (dict) => {
      // Through JSON text, as the decoder gets it: `__proto__` becomes an own key, the prototype stays Object.prototype.
      const parsed = JSON.parse(JSON.stringify(dict)) as Record<string, unknown>;
      expect(connValuesOfObject(parsed)).toEqual(connValues(objectFields(parsed)));
    }));
  });
});
