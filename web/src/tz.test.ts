import { afterEach, expect, it } from 'vitest';
import { formatClock, formatDateTime, isZone, offsetLabel, parseZonedInput, setZone, toZonedInput, zoneLabel } from './tz.js';

// Node reads TZ when it changes: the "local" zone of these tests is Shanghai's (UTC+08:00, no DST).
(globalThis as unknown as { process: { env: Record<string, string> } }).process.env.TZ = 'Asia/Shanghai';
afterEach(() => setZone('local'));

it('formats and parses in UTC whatever the process zone', () => {
  const ms = Date.UTC(2026, 11, 6, 3, 4, 5);
  expect(formatClock(ms, 'utc')).toBe('03:04:05');
  expect(formatDateTime(ms, 'utc')).toBe('2026-12-06 03:04:05');
  expect(formatDateTime(Date.UTC(2026, 11, 6, 3, 4), 'utc')).toBe('2026-12-06 03:04');
  expect(toZonedInput(ms, 'utc')).toBe('2026-12-06T03:04');
  expect(parseZonedInput('2026-12-06T03:04', 'utc')).toBe(Date.UTC(2026, 11, 6, 3, 4));
  expect(parseZonedInput('2026-02-30T03:04', 'utc')).toBeUndefined();
  expect(parseZonedInput('2026-12-06T24:04', 'utc')).toBeUndefined();
  expect(parseZonedInput('yesterday', 'utc')).toBeUndefined();
});

it('round-trips an input value through both zones', () => {
  const ms = Date.UTC(2026, 5, 1, 22, 30);
  for (const z of ['local', 'utc'] as const) expect(parseZonedInput(toZonedInput(ms, z), z)).toBe(ms);
});

it('labels the zone with its offset', () => {
  expect(offsetLabel(0, 'utc')).toBe('UTC');
  expect(zoneLabel('utc')).toBe('UTC');
  expect(zoneLabel('local', 0)).toBe('local, UTC+08:00');
  expect(toZonedInput(Date.UTC(2026, 11, 6, 20, 0), 'local')).toBe('2026-12-07T04:00');
  expect(formatClock(Date.UTC(2026, 11, 6, 20, 0), 'local')).toBe('04:00:00');
  expect(isZone('utc') && isZone('local') && !isZone('Asia/Shanghai') && !isZone(null)).toBe(true);
});
