import { expect, it } from 'vitest';
import { DAY, formatApiTime, HOUR, parseLocalInput, resolveWindow, toLocalInput, windowParams } from './timewin.js';

const NOW = Date.parse('2026-11-23T07:30:15.400Z');

it('formats times exactly as the API wants them', () => {
  expect(formatApiTime(NOW)).toBe('2026-11-23T07:30:15Z');
  expect(formatApiTime(Date.parse('2026-01-02T03:04:05.999Z'))).toBe('2026-01-02T03:04:05Z');
});

it('a preset ends at the next whole second and spans exactly its duration', () => {
  const w = resolveWindow({ preset: '24h', duration: DAY }, NOW, DAY);
  expect(w).toEqual({ start: Date.parse('2026-11-22T07:30:16Z'), end: Date.parse('2026-11-23T07:30:16Z'), live: true });
  const p = new URLSearchParams();
  if (typeof w !== 'string') windowParams(w, p);
  expect(p.toString()).toBe('start_time=2026-11-22T07%3A30%3A16Z&end_time=2026-11-23T07%3A30%3A16Z');
  // A preset longer than the endpoint allows is cut to the limit.
  expect(resolveWindow({ preset: 'x', duration: 5 * HOUR }, NOW, 3 * HOUR)).toMatchObject({ live: true });
  const cut = resolveWindow({ preset: 'x', duration: 5 * HOUR }, NOW, 3 * HOUR);
  expect(typeof cut !== 'string' && cut.end - cut.start).toBe(3 * HOUR);
});

it('custom windows: checked against the span and look-back limits; live when they reach now', () => {
  const h = (n: number): number => NOW - n * HOUR;
  expect(resolveWindow({ preset: 'custom', start: h(5), end: h(4) }, NOW, DAY)).toEqual({ start: h(5), end: h(4), live: false });
  expect(resolveWindow({ preset: 'custom', start: h(1), end: NOW + 1000 }, NOW, DAY)).toMatchObject({ live: true });
  expect(resolveWindow({ preset: 'custom', start: h(1) }, NOW, DAY)).toMatch(/both/);
  expect(resolveWindow({ preset: 'custom', start: h(1), end: h(2) }, NOW, DAY)).toMatch(/after its start/);
  expect(resolveWindow({ preset: 'custom', start: h(1), end: h(1) }, NOW, DAY)).toMatch(/after its start/);
  expect(resolveWindow({ preset: 'custom', start: h(30), end: h(5) }, NOW, DAY)).toMatch(/at most 24 h/);
  expect(resolveWindow({ preset: 'custom', start: h(4), end: h(0.5) }, NOW, 3 * HOUR)).toMatch(/at most 3 h/);
  expect(resolveWindow({ preset: 'custom', start: h(7 * 24 + 1), end: h(7 * 24) }, NOW, DAY)).toMatch(/7 days/);
  expect(resolveWindow({ preset: 'custom', start: NOW + HOUR, end: NOW + 2 * HOUR }, NOW, DAY)).toMatch(/future/);
});

it('datetime-local values round-trip and impossible dates are refused', () => {
  const ms = parseLocalInput('2026-11-23T07:30');
  expect(ms).toBe(new Date(2026, 10, 23, 7, 30).getTime());
  expect(toLocalInput(ms ?? 0)).toBe('2026-11-23T07:30');
  expect(parseLocalInput('2026-11-23T07:30:59')).toBe(new Date(2026, 10, 23, 7, 30, 59).getTime());
  for (const bad of ['', '2026-02-30T10:00', '2026-11-23', 'yesterday', '2026-11-23 07:30']) expect(parseLocalInput(bad), bad).toBeUndefined();
});
