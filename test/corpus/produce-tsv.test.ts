/**
 * `zeek-rst produce` converts Zeek TSV logs to the JSON Zeek's own writer produces. The corpus
 * holds both forms of the same baselines (corpus/INDEX.md: conn.json was made from conn.log by
 * the corpus tool, with ts restored from the trace and duration recomputed at full precision):
 * every other field must match exactly.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { zeekMessages } from '../../src/source/zeek-lines';

const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
const cases = readdirSync(CORPUS).filter((c) => existsSync(path.join(CORPUS, c, 'conn.log')) && existsSync(path.join(CORPUS, c, 'conn.json')));

function without(record: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof record !== 'object' || record === null) throw new Error('not an object');
  return Object.fromEntries(Object.entries(record).filter(([k]) => !keys.includes(k)));
}

describe('produce: Zeek TSV to Zeek JSON', () => {
  it('finds the corpus cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases)('%s/conn.log converts to the records of conn.json', async (c) => {
    const converted: unknown[] = [];
    for await (const value of zeekMessages(path.join(CORPUS, c, 'conn.log'))) converted.push(JSON.parse(value.toString('utf8')));
    const reference = readFileSync(path.join(CORPUS, c, 'conn.json'), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l): unknown => JSON.parse(l));
    expect(converted).toHaveLength(reference.length);
    converted.forEach((record, i) => {
      // The TSV keeps the canonifier's X's in ts; duration has 6 digits there.
      expect(without(record, ['ts', 'duration'])).toEqual(without(reference[i], ['ts', 'duration']));
      expect(without(record, [])['ts']).toBe('XXXXXXXXXX.XXXXXX');
    });
  });
});
