import { suiteArgs } from '../../bench/args';

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

  it('says when --against has no revision', () => {
    expect(suiteArgs(['--against']).against).toBe('');
    expect(suiteArgs(['--against', '--json'])).toEqual({ json: true, against: '', filters: [] });
  });

  it('runs every suite without a filter', () => {
    expect(suiteArgs([]).filters).toEqual([]);
    expect(suiteArgs(['--json']).filters).toEqual([]);
  });
});
