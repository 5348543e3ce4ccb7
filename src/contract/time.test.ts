import { describe, expect, it } from 'vitest';
import { formatUtcSecond, parseUtcSecond } from './time.js';

describe('parseUtcSecond', () => {
  it('accepts exactly YYYY-MM-DDThh:mm:ssZ', () => {
    expect(parseUtcSecond('2020-07-23T07:00:00Z')).toBe(Date.UTC(2020, 6, 23, 7, 0, 0));
    expect(parseUtcSecond('1970-01-01T00:00:00Z')).toBe(0);
    expect(parseUtcSecond('2026-12-31T23:59:59Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
  });

  it('knows leap days', () => {
    expect(parseUtcSecond('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parseUtcSecond('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseUtcSecond('2026-02-29T00:00:00Z')).toBeUndefined();
    expect(parseUtcSecond('2100-02-29T00:00:00Z')).toBeUndefined();
  });

  it.each([
    '2026-02-30T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T23:60:00Z', '2026-01-01T23:59:60Z',
    '2026-01-01T00:00:00z', '2026-01-01T00:00:00+08:00', '2026-01-01T00:00:00.000Z', '2026-01-01 00:00:00Z',
    '2026-01-01T00:00:00', '2026-1-01T00:00:00Z', ' 2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z ',
    '', '1588888888', '1969-12-31T23:59:59Z', '２０２６-01-01T00:00:00Z', '2026-01-01T00:00:00ZZ',
  ])('rejects %j', (text) => {
    expect(parseUtcSecond(text)).toBeUndefined();
  });
});

describe('formatUtcSecond', () => {
  it('round-trips and floors to the second', () => {
    expect(formatUtcSecond(Date.UTC(2020, 5, 4, 7, 1, 0) + 999)).toBe('2020-06-04T07:01:00Z');
    expect(formatUtcSecond(parseUtcSecond('2028-02-29T23:59:59Z') ?? NaN)).toBe('2028-02-29T23:59:59Z');
  });
});
