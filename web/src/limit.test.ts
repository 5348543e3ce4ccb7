import { expect, it } from 'vitest';
import { mapLimit } from './limit.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

it('keeps order and never has more than `limit` calls in flight', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapLimit(Array.from({ length: 35 }, (_, i) => i), 6, async (i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await tick();
    inFlight--;
    return i * 2;
  });
  expect(out).toEqual(Array.from({ length: 35 }, (_, i) => i * 2));
  expect(peak).toBe(6);
});

it('stops starting new calls after a failure and rejects with it', async () => {
  const started: number[] = [];
  await expect(mapLimit(Array.from({ length: 20 }, (_, i) => i), 2, async (i) => {
    started.push(i);
    await tick();
    if (i === 1) throw new Error('boom');
    return i;
  })).rejects.toThrow('boom');
  await tick();
  await tick();
  expect(started.length).toBeLessThan(6);
});

it('handles no items', async () => {
  expect(await mapLimit([], 6, async () => 1)).toEqual([]);
});
