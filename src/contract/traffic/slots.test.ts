import { describe, expect, it } from 'vitest';
import { slotsOf } from './slots.js';

const t = (iso: string): number => Date.parse(iso);
const M5 = 300_000;
const H = 3_600_000;
const D = 86_400_000;

describe('slotsOf', () => {
  const now = t('2028-03-01T12:07:30Z');
  it('lists every slot intersecting [start, end), aligned in UTC', () => {
    expect(slotsOf({ start: t('2028-03-01T10:00:00Z'), end: t('2028-03-01T10:15:00Z'), now }, M5))
      .toEqual({ slotMs: M5, from: t('2028-03-01T10:00:00Z'), to: t('2028-03-01T10:15:00Z'), count: 3 });
    // mid-slot start and end: both edge slots are included
    expect(slotsOf({ start: t('2028-03-01T10:02:00Z'), end: t('2028-03-01T10:10:01Z'), now }, M5))
      .toEqual({ slotMs: M5, from: t('2028-03-01T10:00:00Z'), to: t('2028-03-01T10:15:00Z'), count: 3 });
  });
  it('aligns days to UTC midnight and hours to the hour', () => {
    expect(slotsOf({ start: t('2028-02-28T23:59:59Z'), end: t('2028-03-01T00:00:01Z'), now }, D))
      .toEqual({ slotMs: D, from: t('2028-02-28T00:00:00Z'), to: t('2028-03-02T00:00:00Z'), count: 3 });
    expect(slotsOf({ start: t('2028-03-01T09:30:00Z'), end: t('2028-03-01T11:00:00Z'), now }, H).count).toBe(2);
  });
  it('drops slots that have not begun yet, keeping the current one', () => {
    expect(slotsOf({ start: t('2028-03-01T11:55:00Z'), end: t('2028-03-01T13:00:00Z'), now }, M5))
      .toEqual({ slotMs: M5, from: t('2028-03-01T11:55:00Z'), to: t('2028-03-01T12:10:00Z'), count: 3 });
    expect(slotsOf({ start: t('2028-03-01T12:10:00Z'), end: t('2028-03-01T13:00:00Z'), now }, M5).count).toBe(0);
  });
});
