// Jest's own order (failed first, then longest first by the timings of earlier runs, else the
// largest file first), except that test/integration/load.test.ts always starts first: it runs
// the two longest suites one after the other, and on a clean clone, with no timings yet, jest
// would start that small file last and leave the other worker idle meanwhile.
import Sequencer from '@jest/test-sequencer';

const FIRST = /[\\/]test[\\/]integration[\\/]load\.test\.ts$/;

export default class LoadFirstSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    return [...sorted.filter((t) => FIRST.test(t.path)), ...sorted.filter((t) => !FIRST.test(t.path))];
  }
}
