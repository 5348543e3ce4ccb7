/**
 * A small deterministic generator for tests (a failure must be reproducible): a 32-bit linear
 * congruential sequence in [0, 1).
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
