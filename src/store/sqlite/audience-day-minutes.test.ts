import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { rng } from '../../../test/helpers/rng.js';
import { AUDIENCE_BLOCK_SLOTS } from './audience-layout.js';
import { buildDayMinutes, buildDayPeaks, DAY_MINUTES, domainDaySlots } from './audience-day-minutes.js';

/**
 * domainDaySlots against a model (a map of minute -> viewers) over stored days with gaps, values of one
 * to four varint bytes and another series beside: windows starting and ending inside days, across
 * midnights and past the last stored day, slots of 1, 5, 7, 15 and 60 minutes, a last slot cut short by
 * the window's end (its minutes after the end not taken). Slots of whole 5-minute windows read the days'
 * 5-minute peaks (v19, built from the minutes), the others the minutes: windows on and off 5-minute
 * boundaries take both. A real SQLite file (in memory).
 */
it('folds the stored days\' minutes into slots exactly: partial days, gaps, a slot cut by the window\'s end', () => {
  const db = new Database(':memory:');
  const rand = rng(21);
  const model = new Map<number, number>();
  const firstDay = 20_000;
  const blocks: Array<[number, number, Float64Array]> = [];
  // Series 1: days 0, 1, 3 (day 2 missing); series 2: day 1 (must not leak into series 1).
  for (const [series, day] of [[1, 0], [1, 1], [2, 1], [1, 3]] as Array<[number, number]>) {
    for (let b = 0; b < DAY_MINUTES / AUDIENCE_BLOCK_SLOTS; b++) {
      const minutes = new Float64Array(AUDIENCE_BLOCK_SLOTS);
      for (let i = 0; i < minutes.length; i++) {
        const scale = [100, 16_000, 2_000_000, 300_000_000][Math.floor(rand() * 4)] as number;
        minutes[i] = rand() < 0.1 ? 0 : Math.floor(rand() * scale);
        if (series === 1) model.set((firstDay + day) * DAY_MINUTES + b * AUDIENCE_BLOCK_SLOTS + i, minutes[i] as number);
      }
      blocks.push([series, (firstDay + day) * (DAY_MINUTES / AUDIENCE_BLOCK_SLOTS) + b, minutes]);
    }
  }
  buildDayMinutes(db, blocks.sort((a, b) => a[1] - b[1]));
  buildDayPeaks(db);
  expect(db.prepare('SELECT count(*) FROM aud_domain_days5').pluck().get()).toBe(4);
  const base = firstDay * DAY_MINUTES;
  for (let n = 0; n < 600; n++) {
    const per = [1, 5, 7, 15, 60, 300][n % 6] as number;
    // Half the windows on whole 5 minutes at both ends (the peaks' path), the rest anywhere.
    const aligned = n % 12 < 6;
    const from = base - 100 + (aligned ? 5 * Math.floor(rand() * DAY_MINUTES) : Math.floor(rand() * 5 * DAY_MINUTES));
    const to = from + (aligned ? per * (1 + Math.floor(rand() * (3 * DAY_MINUTES / per))) : 1 + Math.floor(rand() * 3 * DAY_MINUTES));
    // As readUsersSeries: the slots of the window rounded to whole slots (the last may be cut short by `to`).
    const out = new Float64Array(Math.max(0, Math.round((to - from) / per)));
    domainDaySlots(db, 1, from, to, per, out);
    const want = new Float64Array(out.length);
    for (let j = 0; j < want.length; j++) {
      for (let m = from + j * per; m < Math.min(from + (j + 1) * per, to); m++) want[j] = Math.max(want[j] as number, model.get(m) ?? 0);
    }
    expect([...out], `${from} ${to} ${per}`).toEqual([...want]);
  }
  // Aligned windows read the peaks, the others the minutes: without the peaks an aligned window reads nothing.
  const day1 = (firstDay + 1) * DAY_MINUTES;
  const at5 = new Float64Array(DAY_MINUTES / 5);
  domainDaySlots(db, 1, day1, day1 + DAY_MINUTES, 5, at5);
  expect(Math.max(...at5)).toBeGreaterThan(0);
  db.exec('DELETE FROM aud_domain_days5');
  domainDaySlots(db, 1, day1, day1 + DAY_MINUTES, 5, at5.fill(0));
  expect(Math.max(...at5)).toBe(0);
  const at7 = new Float64Array(Math.round(DAY_MINUTES / 7));
  domainDaySlots(db, 1, day1, day1 + DAY_MINUTES, 7, at7);
  expect(Math.max(...at7)).toBeGreaterThan(0);
});
