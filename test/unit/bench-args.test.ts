import { positiveInt, positiveInts, suiteArgs, UsageError } from '../../bench/args';

describe('bench suite arguments', () => {
  it('keeps a filter given first', () => {
    // `npm run bench -- decode` once ran every suite: the first argument was dropped as if it followed --against.
    expect(suiteArgs(['decode'])).toEqual({ json: false, against: undefined, filters: ['decode'] });
    expect(suiteArgs(['decode', 'headers', '--json'])).toEqual({ json: true, against: undefined, filters: ['decode', 'headers'] });
  });

  it('takes the revision after --against, wherever it stands', () => {
    expect(suiteArgs(['--against', 'HEAD~1', 'decode'])).toEqual({ json: false, against: 'HEAD~1', filters: ['decode'] });
    expect(suiteArgs(['decode', '--against', 'abc123', '--json'])).toEqual({ json: true, against: 'abc123', filters: ['decode'] });
  });

  it('refuses --against without a revision', () => {
    expect(() => suiteArgs(['--against'])).toThrow(UsageError);
    expect(() => suiteArgs(['--against', '--json'])).toThrow('--against needs a git revision');
  });

  it('runs every suite without a filter', () => {
    expect(suiteArgs([]).filters).toEqual([]);
    expect(suiteArgs(['--json']).filters).toEqual([]);
  });
});

describe('bench numeric options', () => {
  it('reads a positive integer, or the default when absent', () => {
    expect(positiveInt(['--conns', '3000'], '--conns', 7)).toBe(3000);
    expect(positiveInt([], '--conns', 7)).toBe(7);
  });

  it('refuses what is not a positive integer, naming the option', () => {
    for (const bad of ['abc', '0', '-5', '1.5', '']) expect(() => positiveInt(['--conns', bad], '--conns', 7)).toThrow(UsageError);
    expect(() => positiveInt(['--conns'], '--conns', 7)).not.toThrow(); // no value: the default
    expect(() => positiveInt(['--conns', 'abc'], '--conns', 7)).toThrow('--conns must be a positive integer, got "abc"');
  });

  it('reads a list of positive integers', () => {
    expect(positiveInts(['--concurrency', '1,2,4'], '--concurrency', [8])).toEqual([1, 2, 4]);
    expect(positiveInts([], '--concurrency', [8])).toEqual([8]);
    for (const bad of ['1,,2', '1,x', '0', '']) expect(() => positiveInts(['--concurrency', bad], '--concurrency', [8])).toThrow(UsageError);
  });
});
