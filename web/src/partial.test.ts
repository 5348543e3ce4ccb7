import { expect, it } from 'vitest';
import { inProgress, splitPartial } from './partial.js';

const H = 3_600_000;
it('keeps slots that end after now apart; a slot ending exactly now is complete', () => {
  const points = [{ time: 0, v: 1 }, { time: H, v: 2 }, { time: 2 * H, v: 3 }];
  expect(splitPartial(points, (p) => p.time, H, 2.5 * H)).toEqual({ complete: points.slice(0, 2), partial: points.slice(2) });
  expect(splitPartial(points, (p) => p.time, H, 3 * H).partial).toEqual([]);
  // A day slot in the browser's evening is still in progress.
  expect(inProgress(0, 24 * H, 20 * H)).toBe(true);
  expect(inProgress(0, 300_000, 300_000)).toBe(false);
});
