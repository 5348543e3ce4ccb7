import { describe, expect, it } from 'vitest';
import { gridBase, parseStampGrid, sameStamp, stampAt } from './stamp-grid.js';

describe('parseStampGrid', () => {
  it('puts each row of numbers in its (project, domain, hour) cell; absent cells read zero; rows outside the hours are ignored', () => {
    // p, d (1-based indexes in the asked lists), hour, rows, tags div 2^32, tags mod 2^32
    const text = '1\t2\t101\t7\t4294967295\t4294967294\n2\t1\t100\t3\t0\t9\n1\t1\t99\t5\t1\t1\n1\t1\t103\t5\t1\t1\n0\t1\t100\t5\t1\t1\n';
    const g = parseStampGrid(text, ['p1', 'p2'], ['a', 'b'], 100, 103);
    expect(g.hours).toBe(3);
    const b = gridBase(g, 'p1', 'b', 100);
    expect(stampAt(g, b + 1)).toEqual({ stampRows: 7, stampHi: 4294967295, stampLo: 4294967294 });
    expect(stampAt(g, b)).toEqual({ stampRows: 0, stampHi: 0, stampLo: 0 });
    expect(stampAt(g, gridBase(g, 'p2', 'a', 100))).toEqual({ stampRows: 3, stampHi: 0, stampLo: 9 });
    // Hours 99 and 103 are outside [100, 103); index 0 (not in the list) is dropped.
    expect([...g.rows].reduce((x, y) => x + y, 0)).toBe(10);
    expect(gridBase(g, 'p3', 'a', 100)).toBe(-1);
    expect(gridBase(g, 'p1', 'c', 100)).toBe(-1);
  });

  it('tells stamps apart that differ only in the lowest bit of a 64-bit tags sum', () => {
    const g = parseStampGrid('1\t1\t0\t1\t4294967295\t4294967295\n', ['p'], ['d'], 0, 1);
    expect(sameStamp({ stampRows: 1, stampHi: 4294967295, stampLo: 4294967295 }, g, 0)).toBe(true);
    expect(sameStamp({ stampRows: 1, stampHi: 4294967295, stampLo: 4294967294 }, g, 0)).toBe(false);
    expect(sameStamp({ stampRows: 0, stampHi: 0, stampLo: 0 }, g, -1)).toBe(false);
  });

  it('refuses anything but numbers', () => {
    expect(() => parseStampGrid('1\t1\t0\t1\t\\N\t0\n', ['p'], ['d'], 0, 1)).toThrow();
  });
});
