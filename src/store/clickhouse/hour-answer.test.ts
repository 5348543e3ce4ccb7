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

  it('sums like a plain per-cell addition for random blocks, groups, codes and SQL cells, each answer independent of the one before', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    for (let round = 0; round < 30; round++) {
      // Codes differ between rounds (a column table left filled by the answer before would mix them up).
      const codes = Array.from({ length: 1 + Math.floor(rnd() * 9) }, () => pick([200, 206, 301, 304, 404, 499, 500, 502, 65_535, 1]));
      const hours = 1 + Math.floor(rnd() * 4);
      const lines: string[] = [];
      for (let i = 0; i < 400; i++) {
        lines.push([1, 10 + Math.floor(rnd() * hours), Math.floor(rnd() * 60), Math.floor(rnd() * 4), Math.floor(rnd() * 3), pick(codes), 1 + Math.floor(rnd() * 1000)].join('\t'));
      }
      const rows = parseBuildRows(lines.join('\n') + '\n');
      const slots = hours * 60 + 30;
      const from = (10 * 60 - 15) * MIN;
      const blocks = [...rows].map(([k, r]) => ({ cells: buildHourCells(r).detail, base: 15 + (Number(k.split(':')[1]) - 10) * 60 }));
      const groups = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => Math.floor(rnd() * 4) * 7 + Math.floor(rnd() * 3)))];
      const n = Math.floor(rnd() * 20);
      const extra = {
        slot: Int32Array.from({ length: n }, () => Math.floor(rnd() * slots)), code: Int32Array.from({ length: n }, () => pick([...codes, 418])),
        count: Float64Array.from({ length: n }, () => 1 + Math.floor(rnd() * 50)),
      };
      // The reference: every cell of the asked groups (and every SQL cell) added to its (code, slot).
      const want = new Map<number, Float64Array>();
      const add = (code: number, s: number, v: number): void => {
        let col = want.get(code);
        if (!col) want.set(code, (col = new Float64Array(slots)));
        col[s] = (col[s] as number) + v;
      };
      for (const { cells, base } of blocks) {
        for (const g of groups) for (let i = cells.offsets[g] as number; i < (cells.offsets[g + 1] as number); i++) add(cells.code[i] as number, base + (cells.minute[i] as number), cells.count[i] as number);
      }
      for (let i = 0; i < n; i++) add(extra.code[i] as number, extra.slot[i] as number, extra.count[i] as number);
      const cols = sumColumns(from, slots, blocks, groups, extra);
      const order = [...want.keys()].sort((a, b) => a - b);
      expect([...cols.codes]).toEqual(order);
      order.forEach((code, k) => expect([...cols.counts.subarray(k * slots, (k + 1) * slots)]).toEqual([...(want.get(code) as Float64Array)]));
    }
  });
});

