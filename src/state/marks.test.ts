import { createInputMarks } from './marks';

describe('input marks of a correlation partition', () => {
  it('takes records in input order and skips a copy of one taken, per input partition', () => {
    const m = createInputMarks();
    expect(m.take('conn', 0, '10', 0)).toBe(true);
    expect(m.take('conn', 0, '10', 1)).toBe(true); // next record of the same message
    expect(m.take('conn', 1, '3', 0)).toBe(true); // another input partition has its own mark
    expect(m.take('conn', 0, '10', 1)).toBe(false);
    expect(m.take('conn', 0, '9', 5)).toBe(false);
    expect(m.take('conn', 0, '11', 0)).toBe(true);
    expect(m.skipped()).toBe(2);
    expect(m.drain()).toEqual([
      { topic: 'conn', partition: 0, offset: '11', n: 0 },
      { topic: 'conn', partition: 1, offset: '3', n: 0 },
    ]);
    expect(m.drain()).toEqual([]);
  });

  it('goes on from restored marks: what a checkpoint wrote is what the new owner skips', () => {
    const m = createInputMarks([{ topic: 'headers', partition: 2, offset: '9007199254740993', n: 4 }]);
    expect(m.take('headers', 2, '9007199254740993', 4)).toBe(false); // 64-bit offsets compare exactly
    expect(m.take('headers', 2, '9007199254740993', 5)).toBe(true);
  });
});
