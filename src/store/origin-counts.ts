import { ORIGIN_SLOT_MS } from './origin.js';

/** A session's domain and span as the stream count needs it (end null: still open). */
export interface SessionSpan {
  domain: string;
  start: number;
  end: number | null;
}

/**
 * Per 5-minute slot of [from, to): the largest number of sessions open at once in the slot, per
 * domain, summed over the domains (origin-api.md, ShowStreamCount). Sessions are half-open
 * [start, end); an open one runs to `now`. Pure, shared by both stores so their answers agree.
 */
export function streamCountSeries(spans: readonly SessionSpan[], from: number, to: number, now: number): Float64Array {
  const slots = Math.max(0, Math.floor((to - from) / ORIGIN_SLOT_MS));
  const out = new Float64Array(slots);
  const byDomain = new Map<string, Array<[number, number]>>();
  for (const s of spans) {
    const end = Math.min(s.end ?? now, to);
    const start = Math.max(s.start, from);
    if (end <= start) continue;
    let events = byDomain.get(s.domain);
    if (!events) byDomain.set(s.domain, (events = []));
    events.push([start, 1], [end, -1]);
  }
  for (const events of byDomain.values()) {
    // Ends before starts at the same instant: a session ending when another starts is not "at once".
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let e = 0;
    for (let i = 0; i < slots; i++) {
      const slotStart = from + i * ORIGIN_SLOT_MS;
      const slotEnd = slotStart + ORIGIN_SLOT_MS;
      while (e < events.length && (events[e] as [number, number])[0] <= slotStart) cur += (events[e++] as [number, number])[1];
      let max = cur;
      while (e < events.length && (events[e] as [number, number])[0] < slotEnd) {
        cur += (events[e++] as [number, number])[1];
        if (cur > max) max = cur;
      }
      out[i] = (out[i] as number) + max;
    }
  }
  return out;
}

/** Seconds of [dayStart, dayStart + 1 day) covered by at least one of the spans (push_duration of a stream). */
export function coveredSeconds(spans: ReadonlyArray<{ start: number; end: number | null }>, dayStart: number, now: number): number {
  const dayEnd = dayStart + 86_400_000;
  const parts = spans
    .map((s) => [Math.max(s.start, dayStart), Math.min(s.end ?? now, dayEnd)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of parts) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) {
      curEnd = b;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return Math.floor(total / 1000);
}
