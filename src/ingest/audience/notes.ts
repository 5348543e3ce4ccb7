/** What `livestats ingest` warns once when FLV lines come without $request_time (audience-api.md; see runWarnings). */
export const NO_REQUEST_TIME_WARNING =
  'FLV viewer counts need $request_time in the log format: without it each FLV line counts as a viewer of its end minute only';
