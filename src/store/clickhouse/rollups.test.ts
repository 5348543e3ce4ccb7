import { describe, expect, it } from 'vitest';
import type { CountRow } from '../types.js';
import { chunkCounts } from './batch.js';
import { bulkCountsValues } from './bulk.js';
import { LEVELS, levelFor, levelInsert } from './rollups.js';
import { parseCodeCounts } from './store.js';

const T0 = Date.UTC(2026, 10, 20);
const row = (minute: number, region: CountRow['region'], isp: CountRow['isp'], count: number, bytes?: number): CountRow => ({
  project: 'p', domain: 'a.com', minute, region, isp, code: 200, count, bytes,
});

describe('levelFor', () => {
  it('reads the smallest level a filter allows', () => {
    expect(levelFor({ regions: [], isps: [] })?.table).toBe('http_counts_all');
    expect(levelFor({ regions: ['GD'], isps: [] })?.table).toBe('http_counts_region');
    expect(levelFor({ regions: [], isps: ['CMCC', 'CTCC'] })?.table).toBe('http_counts_isp');
    expect(levelFor({ regions: ['GD'], isps: ['CMCC'] })).toBeUndefined();
  });
});

describe('levelInsert', () => {
  it('sums a group over the dimensions the level drops, plus its marker', () => {
    const rows = [row(T0, 'GD', 'CMCC', 2, 100), row(T0, 'SH', 'CMCC', 3, 50.4), row(T0, 'GD', 'CTCC', 1)];
    const [chunk] = chunkCounts('b', rows);
    if (!chunk) throw new Error('no chunk');
    const m = T0 / 60_000;
    const day = Math.floor(m / 1440) * 1440;
    const [all, region] = LEVELS as [typeof LEVELS[0], typeof LEVELS[0]];
    expect(levelInsert('t', all, chunk, chunk.groups)).toBe(
      `INSERT INTO t (project, domain, minute, code, batch, count, markers, bytes) VALUES ('p', 'a.com', ${m}, 200, '', 6, 0, 150), ` +
      `('p', 'a.com', ${day}, 0, 'b#0', 0, 1, 0)`,
    );
    expect(levelInsert('t', region, chunk, chunk.groups)).toBe(
      `INSERT INTO t (project, domain, region, minute, code, batch, count, markers, bytes) VALUES ('p', 'a.com', 'GD', ${m}, 200, '', 3, 0, 100), ` +
      `('p', 'a.com', 'SH', ${m}, 200, '', 3, 0, 50), ('p', 'a.com', '', ${day}, 0, 'b#0', 0, 1, 0)`,
    );
  });
});

describe('parseCodeCounts', () => {
  it('reads TabSeparated minute, code, count rows and refuses anything else', () => {
    expect(parseCodeCounts('')).toEqual([]);
    expect(parseCodeCounts('29000000\t200\t5\n29000001\t404\t18446744073\n')).toEqual([
      { minute: 29_000_000 * 60_000, code: 200, count: 5 }, { minute: 29_000_001 * 60_000, code: 404, count: 18_446_744_073 },
    ]);
    expect(() => parseCodeCounts('1\t2\n')).toThrow(/malformed/);
    expect(() => parseCodeCounts('1\tx\t3\n')).toThrow(/non-numeric/);
  });
});

describe('bulkCountsValues', () => {
  it('renders column arrays as quoted VALUES rows', () => {
    const v = bulkCountsValues("p'", 'a.com', {
      count: 2, slot: [10, 11], dims: [[0, 1], [0, 3]], key: [200, 404], measures: [[3, 1], [300, 7.6]],
    });
    expect(v).toBe("('p\\'', 'a.com', 10, 'OT', 'CMCC', 200, '', 3, 0, 300), ('p\\'', 'a.com', 11, 'BJ', 'OTHER', 404, '', 1, 0, 8)");
    expect(() => bulkCountsValues('p', 'a', { count: 1, slot: [1], dims: [[999], [0]], key: [200], measures: [[1], [1]] })).toThrow(RangeError);
  });
});
