/**
 * Slots still in progress: a slot whose end is after `now` holds only part of its requests, and drawn
 * like the others it looks like a sudden drop. Views draw such slots apart (dashed) and say
 * "in progress" in the tooltip. Pure.
 */

/** Splits time-ordered points into complete slots and the slots not ended by `now`. */
export function splitPartial<T>(points: readonly T[], timeOf: (p: T) => number, slotMs: number, now: number): { complete: T[]; partial: T[] } {
  const complete: T[] = [];
  const partial: T[] = [];
  for (const p of points) (timeOf(p) + slotMs > now ? partial : complete).push(p);
  return { complete, partial };
}

/** The slot `time` belongs to has not ended by `now`. */
export const inProgress = (time: number, slotMs: number, now: number): boolean => time + slotMs > now;
