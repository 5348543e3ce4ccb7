import { describe, expect, it } from 'vitest';
import { toCodeCounts } from '../store/sqlite/results.js';
import { httpCodesJson, type HttpCodesQuery } from './httpcodes.js';
import { codeCountColumns, renderHttpCodes, type HttpCodesColumns } from './httpcodes-body.js';

const MIN = 60_000;
let seed = 11;
const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;

/** Random per-code columns: sparse or dense, small and huge counts, zero columns, offsets beside the window. */
function randomColumns(fromMinute: number, slots: number): HttpCodesColumns {
  const codes = [...new Set(Array.from({ length: rnd(8) }, () => 100 + rnd(500)))].sort((a, b) => a - b);
  const counts = new Float64Array(codes.length * slots);
  const big = rnd(4) === 0;
  for (let i = 0; i < counts.length; i++) {
    if (rnd(3) === 0) continue;
    counts[i] = big ? rnd(2 ** 30) * 2 ** 20 + rnd(1000) : rnd(5) * rnd(100_000);
  }
  return { fromMinute, slots, codes: Int32Array.from(codes), counts };
}

describe('renderHttpCodes', () => {
  it('writes exactly the bytes of httpCodesJson over the same cells, for random inputs', () => {
    for (let round = 0; round < 400; round++) {
      // Windows crossing UTC midnight and year ends, and columns that start before or after the window.
      const t0 = Date.UTC(2025 + rnd(3), 11, 31, 23, 30 + rnd(30)) + (round % 7 === 0 ? 30_000 : 0);
      const slots = rnd(90);
      const cols = randomColumns(t0 + (rnd(5) - 2) * MIN, rnd(100));
      const codes = round % 3 === 0 ? [...new Set([...cols.codes.slice(0, 2), 100 + rnd(500)])].sort((a, b) => a - b) : [];
      const q: HttpCodesQuery = { domains: ['a.com'], codes, regions: [], isps: [], fromMinute: t0, toMinute: t0 + slots * MIN - rnd(2) * 1000 };
      const expected = httpCodesJson(q, toCodeCounts(cols));
      expect(Buffer.from(renderHttpCodes(q, cols)).toString('latin1')).toBe(expected);
    }
  });

  it('writes every digit count and proportion boundary exactly (word and digit-pair writes)', () => {
    const t0 = Date.UTC(2026, 5, 30, 23, 50);
    const edges: number[] = [1, 2];
    for (let p = 10; p <= 2 ** 31 * 10; p *= 10) edges.push(p - 1, p, p + 1);
    edges.push(2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1);
    const codes = Int32Array.of(100, 200, 5999, 12345);
    const slots = edges.length;
    const counts = new Float64Array(codes.length * slots);
    edges.forEach((e, i) => {
      counts[i] = e;
      counts[slots + i] = edges[(i * 7) % edges.length] as number;
      counts[2 * slots + i] = i % 3 === 0 ? 0 : 1;
      counts[3 * slots + i] = e * 3;
    });
    const cols = { fromMinute: t0, slots, codes, counts };
    for (const requested of [[], [200, 404, 12345]]) {
      const q: HttpCodesQuery = { domains: ['a.com'], codes: requested, regions: [], isps: [], fromMinute: t0, toMinute: t0 + slots * MIN };
      expect(Buffer.from(renderHttpCodes(q, cols)).toString('latin1')).toBe(httpCodesJson(q, toCodeCounts(cols)));
    }
  });

  it('renders a window with no cells as minutes with empty code lists', () => {
    const t0 = Date.UTC(2026, 0, 1, 7);
    const q = { codes: [], fromMinute: t0, toMinute: t0 + 2 * MIN };
    const body = Buffer.from(renderHttpCodes(q, { fromMinute: t0, slots: 0, codes: new Int32Array(0), counts: new Float64Array(0) })).toString();
    expect(body).toBe('{"data_series":[{"time":"2026-01-01T07:00:00Z","http_codes":[]},{"time":"2026-01-01T07:01:00Z","http_codes":[]}]}');
  });
});

describe('codeCountColumns', () => {
  it('renders (minute, code, count) cells to exactly the bytes of httpCodesJson, for random cells', () => {
    for (let round = 0; round < 400; round++) {
      const t0 = Date.UTC(2025 + rnd(3), 11, 31, 23, 30 + rnd(30)) + (round % 7 === 0 ? 30_000 : 0);
      const slots = rnd(90);
      // Cells inside and beside the window, repeated (minute, code) pairs, zero and negative counts.
      const cells = Array.from({ length: rnd(300) }, () => ({
        minute: Math.floor(t0 / MIN) * MIN + (rnd(slots + 10) - 5) * MIN,
        code: 100 + rnd(12) * 37,
        count: rnd(6) === 0 ? -rnd(3) : rnd(4) === 0 ? rnd(2 ** 30) * 2 ** 20 : rnd(100_000),
      }));
      const codes = round % 3 === 0 ? [...new Set([100, 100 + rnd(12) * 37, 100 + rnd(500)])].sort((a, b) => a - b) : [];
      const q: HttpCodesQuery = { domains: ['a.com'], codes, regions: [], isps: [], fromMinute: t0, toMinute: t0 + slots * MIN - rnd(2) * 1000 };
      const cols = codeCountColumns(q, cells);
      const inWindow = cells.filter((c) => c.count > 0).every((c) => {
        const i = (c.minute - q.fromMinute) / MIN;
        return Number.isInteger(i) && i >= 0 && c.minute < q.toMinute;
      });
      // Defined exactly when every positive count lies on the window's minutes (then byte-identical).
      expect(cols !== undefined).toBe(inWindow);
      if (cols) expect(Buffer.from(renderHttpCodes(q, cols)).toString('latin1')).toBe(httpCodesJson(q, cells));
      // Only the cells on the window's minutes: always columns.
      const on = cells.filter((c) => Number.isInteger((c.minute - q.fromMinute) / MIN) && c.minute >= q.fromMinute && c.minute < q.toMinute);
      const onCols = codeCountColumns(q, on);
      expect(onCols).toBeDefined();
      if (onCols) expect(Buffer.from(renderHttpCodes(q, onCols)).toString('latin1')).toBe(httpCodesJson(q, on));
    }
  });
});
