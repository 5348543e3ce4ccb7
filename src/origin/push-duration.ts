import { coveredSeconds } from '../store/origin-counts.js';
import type { OriginQuery } from '../store/origin.js';
import type { QueryOptions } from '../store/types.js';

const DAY_MS = 86_400_000;
const PAGE = 100;

/** Which publish sessions make a stream's push_duration. */
export interface PushDurationFilter {
  project: string;
  /** Publish domains (normalized), at least one: a portrait's play domain, or the publish domains that feed it. */
  domains: string[];
  /** Absent: any app (the portrait is per stream name). */
  app?: string;
  stream: string;
  /** UTC midnight, epoch ms. */
  day: number;
}

/**
 * push_duration of a stream for a UTC day (audience-api.md's portrait): the seconds of that day
 * covered by its publish sessions (overlaps counted once, relays included; an open session runs
 * to `now`).
 */
export async function pushDuration(
  store: Pick<OriginQuery, 'historySessions'>, f: PushDurationFilter, now: number = Date.now(), options?: QueryOptions,
): Promise<number> {
  const { project, domains, app, stream, day: dayStart } = f;
  if (dayStart % DAY_MS !== 0) throw new RangeError('dayStart must be a UTC day boundary');
  const spans: Array<{ start: number; end: number | null }> = [];
  for (let offset = 0; ; offset++) {
    const page = await store.historySessions({ project, domains, ...(app !== undefined ? { app } : {}), stream, from: dayStart, to: dayStart + DAY_MS, offset, limit: PAGE }, options);
    spans.push(...page.sessions);
    if ((offset + 1) * PAGE >= page.total || page.sessions.length === 0) break;
  }
  return coveredSeconds(spans, dayStart, now);
}
