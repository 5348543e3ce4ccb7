/** A small deterministic PRNG (mulberry32) so benchmark datasets are identical run to run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index into `weights` drawn proportionally (weights are cumulative-free; small arrays only). */
export function pick(cumulative: readonly number[], r: number): number {
  const x = r * (cumulative[cumulative.length - 1] ?? 0);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] ?? 0) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const cumulate = (ws: readonly number[]): number[] => {
  let s = 0;
  return ws.map((w) => (s += w));
};
