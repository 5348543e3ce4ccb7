import { describe, expect, it } from 'vitest';
import { codeCountColumns, renderHttpCodes } from '../../contract/httpcodes-body.js';
import { columnsToCells, sumColumns } from './hour-answer.js';
import { buildHourCells, parseBuildRows } from './hour-cells.js';

const MIN = 60_000;

describe('hour answer (the hour-block worker\'s summing)', () => {
  it('adds up the asked groups of every block and the SQL cells into the same columns (and bytes) as the cells would give', () => {
    // domain index, hour, minute, region index, isp index, code, count: two hours of one domain.
    const text = ['1\t10\t5\t6\t1\t200\t3', '1\t10\t5\t6\t2\t404\t4', '1\t10\t59\t5\t1\t200\t1', '1\t11\t0\t6\t1\t200\t2', '1\t11\t7\t6\t1\t502\t9'].join('\n') + '\n';
    const rows = parseBuildRows(text);
    const h10 = buildHourCells(rows.get('1:10') as NonNullable<ReturnType<typeof rows.get>>);
    const h11 = buildHourCells(rows.get('1:11') as NonNullable<ReturnType<typeof rows.get>>);
    // The window starts 30 minutes before hour 10; SQL adds a cell in that edge and one in hour 10.
    const from = (10 * 60 - 30) * MIN;
    const to = (12 * 60) * MIN;
    const slots = 150;
    const extra = { slot: Int32Array.from([3, 35]), code: Int32Array.from([304, 200]), count: Float64Array.from([5, 10]) };
    const cols = sumColumns(from, slots, [{ cells: h10.region, base: 30 }, { cells: h11.region, base: 90 }], [6], extra);
    const expected = [
      { minute: from + 3 * MIN, code: 304, count: 5 },
      { minute: from + 35 * MIN, code: 200, count: 13 },
      { minute: from + 35 * MIN, code: 404, count: 4 },
      { minute: from + 90 * MIN, code: 200, count: 2 },
      { minute: from + 97 * MIN, code: 502, count: 9 },
    ];
    expect([...cols.codes]).toEqual([200, 304, 404, 502]);
    expect(columnsToCells(cols)).toEqual(expected);
    for (const codes of [[], [200, 404], [301]]) {
      const q = { codes, fromMinute: from, toMinute: to };
      expect(Buffer.from(renderHttpCodes(q, cols)).toString()).toBe(Buffer.from(renderHttpCodes(q, codeCountColumns(q, expected) as NonNullable<ReturnType<typeof codeCountColumns>>)).toString());
    }
  });

  it('an answer without blocks or cells has no codes', () => {
    const cols = sumColumns(0, 60, [], [0]);
    expect(cols.codes.length).toBe(0);
    expect(columnsToCells(cols)).toEqual([]);
  });
});
