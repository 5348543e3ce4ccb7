import { describe, expect, it } from 'vitest';
import { httpCodesJson, proportion, shapeHttpCodes, type HttpCodesQuery } from './httpcodes.js';

describe('proportion', () => {
  it('rounds half-up to 4 decimals exactly', () => {
    expect(proportion(750, 1400)).toBe(0.5357); // 0.535714...
    expect(proportion(1, 8)).toBe(0.125);
    expect(proportion(1, 16)).toBe(0.0625);
    expect(proportion(1, 32)).toBe(0.0313); // 0.03125 -> half-up
    expect(proportion(3, 32)).toBe(0.0938); // 0.09375 -> half-up
    expect(proportion(1, 3)).toBe(0.3333);
    expect(proportion(2, 3)).toBe(0.6667);
    expect(proportion(1, 20000)).toBe(0.0001); // 0.00005 -> half-up
    expect(proportion(1, 20001)).toBe(0); // just below half
    expect(proportion(5, 5)).toBe(1);
    expect(proportion(0, 5)).toBe(0);
    expect(proportion(0, 0)).toBe(0);
  });
  it('stays exact beyond 2^53 intermediates', () => {
    expect(proportion(2 ** 50, 2 ** 51)).toBe(0.5);
    expect(proportion(2 ** 50 + 1, 3 * 2 ** 50)).toBe(0.3333);
  });
});

describe('shapeHttpCodes', () => {
  const t0 = Date.UTC(2026, 0, 1, 7, 0);
  const q = (over: Partial<HttpCodesQuery> = {}): HttpCodesQuery => ({
    domains: ['a.com'], codes: [], regions: [], isps: [], fromMinute: t0, toMinute: t0 + 3 * 60_000, ...over,
  });

  it('zero-fills every minute and lists every seen code in each entry, ascending', () => {
    const res = shapeHttpCodes(q(), [
      { minute: t0, code: 404, count: 1 },
      { minute: t0, code: 200, count: 3 },
      { minute: t0 + 120_000, code: 200, count: 2 },
    ]);
    expect(res).toEqual({
      data_series: [
        { time: '2026-01-01T07:00:00Z', http_codes: [{ code: 200, count: 3, proportion: 0.75 }, { code: 404, count: 1, proportion: 0.25 }] },
        { time: '2026-01-01T07:01:00Z', http_codes: [{ code: 200, count: 0, proportion: 0 }, { code: 404, count: 0, proportion: 0 }] },
        { time: '2026-01-01T07:02:00Z', http_codes: [{ code: 200, count: 2, proportion: 1 }, { code: 404, count: 0, proportion: 0 }] },
      ],
    });
  });

  it('keeps the denominator of all codes when a code filter is given', () => {
    const res = shapeHttpCodes(q({ codes: [404, 502], toMinute: t0 + 60_000 }), [
      { minute: t0, code: 200, count: 7 },
      { minute: t0, code: 404, count: 1 },
    ]);
    expect(res.data_series).toEqual([
      { time: '2026-01-01T07:00:00Z', http_codes: [{ code: 404, count: 1, proportion: 0.125 }, { code: 502, count: 0, proportion: 0 }] },
    ]);
  });

  it('sums duplicate cells (several domains) and answers empty code lists when nothing was seen', () => {
    expect(shapeHttpCodes(q({ toMinute: t0 + 60_000 }), [
      { minute: t0, code: 200, count: 1 }, { minute: t0, code: 200, count: 2 },
    ]).data_series[0]?.http_codes).toEqual([{ code: 200, count: 3, proportion: 1 }]);
    expect(shapeHttpCodes(q({ toMinute: t0 + 120_000 }), [])).toEqual({
      data_series: [{ time: '2026-01-01T07:00:00Z', http_codes: [] }, { time: '2026-01-01T07:01:00Z', http_codes: [] }],
    });
  });
});

describe('httpCodesJson', () => {
  it('encodes exactly what shapeHttpCodes builds, for random inputs', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const t0 = Date.UTC(2026, 0, 1, 23, 50);
    for (let round = 0; round < 200; round++) {
      const slots = 1 + rnd(30);
      const cells = Array.from({ length: rnd(60) }, () => ({ minute: t0 + rnd(slots + 2) * 60_000 - 60_000, code: 100 + rnd(500), count: rnd(5) * rnd(100000) }));
      const codes = round % 3 === 0 ? [...new Set(cells.slice(0, 3).map((c) => c.code))].sort((a, b) => a - b) : [];
      const query: HttpCodesQuery = { domains: ['a.com'], codes, regions: [], isps: [], fromMinute: t0, toMinute: t0 + slots * 60_000 };
      expect(JSON.parse(httpCodesJson(query, cells))).toEqual(shapeHttpCodes(query, cells));
    }
  });
});
