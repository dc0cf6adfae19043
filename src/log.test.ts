import { captureLog as capture } from '../test/helpers/log-capture';
import { createRootLogger, stageLogger } from './log';

describe('logger', () => {
  it('redacts secrets at the top level and nested, and keeps identifiers', () => {
    const out = capture();
    const log = stageLogger(createRootLogger({ level: 'info', destination: out.stream }), 'sink');
    log.info({ password: 'pw1', elasticsearch: { apiKey: 'k1', node: 'http://h' }, kafka: { sasl: { password: 'pw2' } }, headers: { authorization: 'ApiKey k2' }, uid: 'C1' }, 'hello');
    const text = JSON.stringify(out.lines());
    for (const secret of ['pw1', 'k1', 'pw2', 'k2']) expect(text).not.toContain(secret);
    expect(out.lines()).toEqual([expect.objectContaining({ stage: 'sink', uid: 'C1', msg: 'hello', password: '[redacted]', elasticsearch: { apiKey: '[redacted]', node: 'http://h' } })]);
  });

  it('honours the level', () => {
    const out = capture();
    const log = createRootLogger({ level: 'warn', destination: out.stream });
    log.info('quiet');
    log.warn('loud');
    expect(out.lines()).toEqual([expect.objectContaining({ msg: 'loud' })]);
  });
});
