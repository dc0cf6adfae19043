import { countLetter, firstRstSide, logarithmicLowerBound, parseHistory } from './history';

describe('history letters', () => {
  it('splits by case: upper originator, lower responder; ^ flips', () => {
    const h = parseHistory('ShADadFRf');
    expect([h.orig, h.resp, h.flipped]).toEqual(['sadfr', 'hadf', false]);
    expect(parseHistory('^dAfR')).toMatchObject({ flipped: true, orig: 'ar', resp: 'df' });
    expect(firstRstSide(parseHistory('ShAdDafr'))).toBe('responder');
    expect(firstRstSide(parseHistory('ShAF'))).toBeUndefined();
  });

  it('reads t/T logarithmically: 1st, 10th, 100th', () => {
    const h = parseHistory('ShADdttr');
    expect(countLetter(h, 'responder', 't')).toBe(2);
    expect([0, 1, 2, 3].map(logarithmicLowerBound)).toEqual([0, 1, 10, 100]);
  });
});
