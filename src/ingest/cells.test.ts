import { describe, expect, it } from 'vitest';
import { CellCounter, forEachCell } from './cells.js';

const MIN = 60_000;

function drained(c: CellCounter): Map<string, number> {
  const out = new Map<string, number>();
  forEachCell(c.drain(), (d, m, g, code, n) => out.set(`${d}|${m}|${g}|${code}`, (out.get(`${d}|${m}|${g}|${code}`) ?? 0) + n));
  return out;
}

describe('CellCounter', () => {
  it('sums per (domain, minute, geo, code), also for more codes than the dense part holds', () => {
    const c = new CellCounter();
    const expected = new Map<string, number>();
    let x = 3;
    for (let i = 0; i < 50_000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const domain = `d${x % 7}.com`;
      const minute = (1000 + (x >>> 8) % 30) * MIN;
      const geo = (x >>> 13) % 140;
      const code = 100 + ((x >>> 3) % 40) * 10; // 40 distinct codes: 16 dense, the rest hashed
      c.add(domain, minute + (x % MIN), geo, code, 1 + (i % 3));
      const k = `${domain}|${minute}|${geo}|${code}`;
      expected.set(k, (expected.get(k) ?? 0) + 1 + (i % 3));
    }
    // An upper bound: a slot's first lines are hashed, and may be counted again once it turns dense.
    expect(c.size).toBeGreaterThanOrEqual(expected.size);
    expect(drained(c)).toEqual(expected);
    expect(c.size).toBe(0);
    expect(drained(c).size).toBe(0);
  });

  it('a slot with a few lines costs no dense tables: 200,000 domains of one line each', () => {
    const c = new CellCounter();
    let cells = 0;
    for (let i = 0; i < 200_000; i++) {
      if (!c.add(`d${i}.com`, 1000 * MIN, i % 140, 200, 1, 10)) {
        forEachCell(c.drain(), () => cells++);
        c.add(`d${i}.com`, 1000 * MIN, i % 140, 200, 1, 10);
      }
    }
    forEachCell(c.drain(), () => cells++);
    expect(cells).toBe(200_000);
    expect(c['dense'].length).toBe(0);
  });

  it('refuses a new slot when full and works again after draining', () => {
    const c = new CellCounter();
    for (let m = 0; m < 4096; m++) expect(c.add('a.com', m * MIN, 1, 200)).toBe(true);
    expect(c.add('a.com', 4096 * MIN, 1, 200)).toBe(false);
    expect(c.add('a.com', 5, 1, 200)).toBe(true); // an existing slot still counts
    expect(drained(c).get(`a.com|0|1|200`)).toBe(2);
    expect(c.add('a.com', 4096 * MIN, 1, 200)).toBe(true);
  });
});
