import { expect, it } from 'vitest';
import { sumDuplicateCells } from './reduce.js';

const sums = (c: ReturnType<typeof sumDuplicateCells>): Map<string, string> => {
  const out = new Map<string, string>();
  for (let i = 0; i < c.count; i++) {
    const k = [c.series[i], c.slot[i], c.dims[0]?.[i], c.dims[1]?.[i], c.key[i]].join('|');
    const prev = out.get(k)?.split(',').map(Number) ?? c.measures.map(() => 0);
    out.set(k, c.measures.map((m, v) => (prev[v] as number) + (m[i] as number)).join(','));
  }
  return out;
};

it('sums cells that share (series, slot, dims, key) and keeps every total', () => {
  let x = 7;
  const rnd = (n: number): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const n = 5000;
  const cells = {
    count: n, series: Float64Array.from({ length: n }, () => 1 + rnd(4)), slot: Float64Array.from({ length: n }, () => 5_000_000 + rnd(12)),
    dims: [Int32Array.from({ length: n }, () => rnd(35)), Int32Array.from({ length: n }, () => rnd(4))],
    key: Int32Array.from({ length: n }, () => rnd(9)),
    measures: [Float64Array.from({ length: n }, () => 1 + rnd(3)), Float64Array.from({ length: n }, () => rnd(1_000_000))],
  };
  const reduced = sumDuplicateCells(cells, [35, 4]);
  expect(reduced.count).toBeLessThan(n);
  expect(sums(reduced).size).toBe(reduced.count);
  expect(sums(reduced)).toEqual(sums(cells));
  const distinct = { ...reduced };
  expect(sumDuplicateCells(distinct, [35, 4])).toBe(distinct);
});

it('gives the same sums call after call whatever the sizes and measure counts in between (its kept scratch columns)', () => {
  let x = 11;
  const rnd = (n: number): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const make = (n: number, m: number): Parameters<typeof sumDuplicateCells>[0] => ({
    count: n, series: Float64Array.from({ length: n }, () => rnd(3)), slot: Float64Array.from({ length: n }, () => 100 + rnd(5)),
    dims: [Int32Array.from({ length: n }, () => rnd(6)), Int32Array.from({ length: n }, () => rnd(2))],
    key: Int32Array.from({ length: n }, () => rnd(3)),
    measures: Array.from({ length: m }, () => Float64Array.from({ length: n }, () => rnd(1000))),
  });
  for (const [n, m] of [[50, 2], [3000, 6], [40, 1], [9000, 2], [200, 6], [2 ** 17 + 5, 3], [30, 6]] as const) {
    const cells = make(n, m);
    const reduced = sumDuplicateCells(cells, [6, 2]);
    expect(reduced.measures.length).toBe(m);
    expect(sums(reduced).size).toBe(reduced.count);
    expect(sums(reduced)).toEqual(sums(cells));
  }
});
