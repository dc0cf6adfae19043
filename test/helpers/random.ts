/**
 * A small deterministic generator (an LCG, the constants of Numerical Recipes), for model-based
 * tests: a failing sequence is replayed from its seed. Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}
