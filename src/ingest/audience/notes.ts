import type { IngestStats } from '../processor.js';

/** What `livestats ingest` says once when FLV lines come without $request_time (audience-api.md). */
export const NO_REQUEST_TIME_WARNING =
  'FLV viewer counts need $request_time in the log format: without it each FLV line counts as a viewer of its end minute only';

/** Calls `warn` the first time `stats` show FLV lines without $request_time; returns whether it has warned (pass it back in). */
export function warnNoRequestTime(stats: IngestStats, warned: boolean, warn: (msg: string) => void): boolean {
  if (warned || !(stats.audience?.no_request_time ?? 0)) return warned;
  warn(NO_REQUEST_TIME_WARNING);
  return true;
}
