import { SECOND, floorTo } from '../time.js';
import type { TimeWindow } from '../window.js';

/** The storage granularity of the traffic cube and the slot of every peak: 5 minutes. */
export const SLOT_5MIN_MS = 300 * SECOND;

/** Slots of `slotMs` (aligned in UTC), as [from, to): epoch ms; `to` is exclusive; `count` slots. */
export interface SlotRange {
  slotMs: number;
  from: number;
  to: number;
  count: number;
}

/**
 * Every slot of `slotMs` that intersects the half-open window [start, end), except slots that have
 * not begun by `now` (traffic-api.md, "Slots"). Alignment is to the epoch, so 86400 s slots start at
 * UTC midnight. An empty range (count 0) when the whole window lies in the future.
 */
export function slotsOf(window: TimeWindow, slotMs: number): SlotRange {
  const from = floorTo(window.start, slotMs);
  const endSlot = Math.ceil(window.end / slotMs) * slotMs;
  const to = Math.max(from, Math.min(endSlot, floorTo(window.now, slotMs) + slotMs));
  return { slotMs, from, to, count: (to - from) / slotMs };
}
