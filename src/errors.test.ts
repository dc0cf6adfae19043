import { ZeekRstError, isZeekRstError } from './errors';

describe('ZeekRstError', () => {
  it('carries its code, retriable flag, detail and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new ZeekRstError('ZRST_ES_UNAVAILABLE', 'http://127.0.0.1:9200', { cause });
    expect(err.code).toBe('ZRST_ES_UNAVAILABLE');
    expect(err.retriable).toBe(true);
    expect(err.message).toBe('Elasticsearch did not answer: http://127.0.0.1:9200');
    expect(err.cause).toBe(cause);
    expect(isZeekRstError(err, 'ZRST_ES_UNAVAILABLE')).toBe(true);
    expect(isZeekRstError(err, 'ZRST_CONFIG_INVALID')).toBe(false);
    expect(isZeekRstError(new Error('x'))).toBe(false);
  });

  it('marks configuration errors as not retriable', () => {
    expect(new ZeekRstError('ZRST_CONFIG_INVALID').retriable).toBe(false);
  });
});
