import { describe, expect, it } from 'vitest';
import { combineDay, dayGridRange, dayLimitAt, type HourPart } from './day-stamps.js';

const TWO_32 = 4_294_967_296;
const hour = (rows: number, hi: number, lo: number, builtAt = 1): HourPart => ({ stampRows: rows, stampHi: hi, stampLo: lo, builtAt, bytes: new Float64Array(12).fill(rows) });

describe('day stamps', () => {
  it('combines 24 hour stamps as ClickHouse sums the day: rows added, the 64-bit tags sums added mod 2^64 (carry from the low half)', () => {
    const hours = new Map<number, HourPart>();
    for (let h = 0; h < 24; h++) hours.set(48 + h, hour(h + 1, TWO_32 - 1, TWO_32 - 1 - h, 100 - h));
    const day = combineDay(hours, 48, 12);
    // 24 x (2^64 - 1 - h) mod 2^64, in halves: the exact 64-bit sum, as BigInt checks.
    let tags = 0n;
    for (let h = 0; h < 24; h++) tags += (BigInt(TWO_32 - 1) << 32n) + BigInt(TWO_32 - 1 - h);
    tags %= 1n << 64n;
    expect(day?.stampRows).toBe(300);
    expect(day?.stampHi).toBe(Number(tags >> 32n));
    expect(day?.stampLo).toBe(Number(tags & 0xffffffffn));
    expect(day?.builtAt).toBe(77);
    expect(day?.bytes.length).toBe(288);
    expect(day?.bytes[23 * 12]).toBe(24);
    // One hour missing: no day block.
    hours.delete(60);
    expect(combineDay(hours, 48, 12)).toBeUndefined();
  });

  it('reads whole days below the day limit and single hours from it', () => {
    expect(dayLimitAt(Date.UTC(2026, 0, 2, 0, 3), 5 * 60_000)).toBe(Date.UTC(2026, 0, 1) / 3_600_000);
    expect(dayLimitAt(Date.UTC(2026, 0, 2, 0, 6), 5 * 60_000)).toBe(Date.UTC(2026, 0, 2) / 3_600_000);
    expect(dayGridRange(30, 100, 96)).toEqual([24, 100]);
    expect(dayGridRange(30, 50, 96)).toEqual([24, 72]);
    expect(dayGridRange(97, 100, 96)).toEqual([97, 100]);
  });
});
