/**
 * The playback view's health summary: the 5xx share of the newest complete minutes against fixed
 * thresholds (docs/dashboard.md lists them). 4xx codes (404, 499: clients' doing, mostly) are shown
 * but do not set the level. Pure: unit-tested on its own.
 */
import type { MinuteTotals } from './shape.js';

/** The summary looks at this many newest complete minutes of the window. */
export const HEALTH_MINUTES = 15;
/** Fewer requests than this in those minutes: too few to judge. */
export const HEALTH_MIN_REQUESTS = 100;
/** 5xx share at or above this: degraded. */
export const DEGRADED_5XX = 0.01;
/** 5xx share at or above this: failing. */
export const FAILING_5XX = 0.05;

export type HealthLevel = 'healthy' | 'degraded' | 'failing' | 'unknown';

export interface Health {
  level: HealthLevel;
  /** Minutes looked at and their requests. */
  minutes: number;
  requests: number;
  /** 5xx and 4xx shares over those minutes (0 when no requests). */
  serverShare: number;
  clientShare: number;
}

export function healthOf(minutes: readonly MinuteTotals[]): Health {
  const last = minutes.slice(-HEALTH_MINUTES);
  let requests = 0;
  let errors = 0;
  let serverErrors = 0;
  for (const m of last) {
    requests += m.total;
    errors += m.errors;
    serverErrors += m.serverErrors;
  }
  const serverShare = requests > 0 ? serverErrors / requests : 0;
  const clientShare = requests > 0 ? (errors - serverErrors) / requests : 0;
  const level: HealthLevel = requests < HEALTH_MIN_REQUESTS ? 'unknown'
    : serverShare >= FAILING_5XX ? 'failing' : serverShare >= DEGRADED_5XX ? 'degraded' : 'healthy';
  return { level, minutes: last.length, requests, serverShare, clientShare };
}
