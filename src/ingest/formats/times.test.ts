import { describe, expect, it } from 'vitest';
import { epochToMs, parseEpochSeconds, parseIso8601, parseTimeLocal } from './times.js';

describe('log times', () => {
  it('time_local with offsets', () => {
    expect(parseTimeLocal('10/Oct/2000:13:55:36 -0700')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
    expect(parseTimeLocal('29/Feb/2024:00:00:00 +0000')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['30/Feb/2024:00:00:00 +0000', '10/Foo/2000:13:55:36 -0700', '10/Oct/2000:25:55:36 -0700', '10/Oct/2000:13:55:36', '']) {
      expect(parseTimeLocal(bad)).toBeNaN();
    }
  });
  it('ISO 8601 with zone, Z and fractions', () => {
    expect(parseIso8601('2024-01-01T08:00:00+08:00')).toBe(Date.UTC(2024, 0, 1));
    expect(parseIso8601('2024-01-01T00:00:00.123Z')).toBe(Date.UTC(2024, 0, 1) + 123);
    expect(parseIso8601('2024-01-01T00:00:00+0100')).toBe(Date.UTC(2023, 11, 31, 23));
    expect(parseIso8601('2024-01-01T00:00:00')).toBeNaN();
    expect(parseIso8601('2024-13-01T00:00:00Z')).toBeNaN();
  });
  it('epoch seconds and milliseconds', () => {
    expect(parseEpochSeconds('1700000000.123')).toBe(1_700_000_000_123);
    expect(parseEpochSeconds('17e8')).toBeNaN();
  });
  it('$msec: the same milliseconds as the decimal conversion, and the same refusals', () => {
    // What parseEpochSeconds gave before its digit-summing path: the pattern, then the conversion.
    const reference = (s: string): number => (/^\d{9,11}(\.\d{1,9})?$/.test(s) ? Math.round(Number(s) * 1000) : NaN);
    const texts = ['1700000000', '1700000000.1', '1700000000.12', '1700000000.123', '1700000000.1235', '1700000000.999999999',
      '123456789', '99999999999.999', '00000000000.001', '1700000000.', '.123', '1700000000.1234567890', '12345678', '123456789012',
      '1700000000.12a', '1700000000,123', ' 1700000000.123', '1700000000.123 ', '-1700000000.123', '+1700000000', '1700000000..1', ''];
    let seed = 21;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let k = 0; k < 20_000; k++) {
      const whole = String(next() % 2 ** 31).padStart(9 + (next() % 3), '0').slice(0, 11);
      const digits = next() % 5;
      const frac = digits === 0 ? '' : `.${String(next()).padStart(digits, '0').slice(-digits)}`;
      texts.push(whole + frac);
    }
    for (const t of texts) expect([t, parseEpochSeconds(t)]).toEqual([t, reference(t)]);
    expect(epochToMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(epochToMs(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(epochToMs(-5)).toBeNaN();
  });
});
