import { describe, expect, it } from 'vitest';
import { buildHourCells, ISP_GROUPS, parseBuildRows } from './hour-cells.js';

describe('hour cells', () => {
  it('parses the build rows per (domain, hour) and sums every level by group, minute and code', () => {
    // domain index, hour, minute, region index, isp index, code, count
    const text = ['1\t10\t5\t6\t1\t200\t3', '1\t10\t5\t6\t2\t200\t4', '1\t10\t5\t5\t1\t404\t1', '1\t10\t0\t0\t1\t200\t2', '2\t10\t1\t6\t1\t200\t9'].join('\n') + '\n';
    const byBlock = parseBuildRows(text);
    expect([...byBlock.keys()]).toEqual(['1:10', '2:10']);
    const c = buildHourCells(byBlock.get('1:10') as NonNullable<ReturnType<typeof byBlock.get>>);
    const cellsOf = (l: keyof typeof c, g: number): string[] => {
      const x = c[l];
      const out: string[] = [];
      for (let i = x.offsets[g] as number; i < (x.offsets[g + 1] as number); i++) out.push(`${x.minute[i]}/${x.code[i]}=${x.count[i]}`);
      return out;
    };
    expect(cellsOf('all', 0)).toEqual(['0/200=2', '5/200=7', '5/404=1']);
    expect(cellsOf('region', 6)).toEqual(['5/200=7']);
    expect(cellsOf('region', 0)).toEqual(['0/200=2']);
    expect(cellsOf('isp', 1)).toEqual(['0/200=2', '5/200=3', '5/404=1']);
    expect(cellsOf('detail', 6 * ISP_GROUPS + 2)).toEqual(['5/200=4']);
    expect(cellsOf('detail', 7 * ISP_GROUPS + 1)).toEqual([]);
  });

  it('refuses a malformed row', () => {
    expect(() => parseBuildRows('1\t2\t3\n')).toThrow(/malformed/);
    expect(() => parseBuildRows('1\t2\t3\t4\t5\t6\tx\n')).toThrow(/malformed/);
  });
});
