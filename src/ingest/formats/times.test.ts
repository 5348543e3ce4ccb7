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
    expect(epochToMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(epochToMs(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(epochToMs(-5)).toBeNaN();
  });
});
