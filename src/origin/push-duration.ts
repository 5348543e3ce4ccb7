import { coveredSeconds } from '../store/origin-counts.js';
import type { OriginQuery } from '../store/origin.js';
import type { QueryOptions } from '../store/types.js';

const DAY_MS = 86_400_000;
const PAGE = 100;

/**
 * push_duration of a stream for the UTC day starting at `dayStart` (audience-api.md's portrait):
 * the seconds of that day covered by its publish sessions (overlaps counted once; an open
 * session runs to `now`).
 */
export async function pushDuration(
  store: Pick<OriginQuery, 'historySessions'>, project: string, domain: string, app: string, stream: string, dayStart: number,
  now: number = Date.now(), options?: QueryOptions,
): Promise<number> {
  if (dayStart % DAY_MS !== 0) throw new RangeError('dayStart must be a UTC day boundary');
  const spans: Array<{ start: number; end: number | null }> = [];
  for (let offset = 0; ; offset++) {
    const page = await store.historySessions({ project, domains: [domain], app, stream, from: dayStart, to: dayStart + DAY_MS, offset, limit: PAGE }, options);
    spans.push(...page.sessions);
    if ((offset + 1) * PAGE >= page.total || page.sessions.length === 0) break;
  }
  return coveredSeconds(spans, dayStart, now);
}
