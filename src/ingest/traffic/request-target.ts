/**
 * The request target of a logged request line: `GET /live/s.flv?k=v HTTP/1.1` -> `/live/s.flv?k=v`.
 * A line without a protocol part (`GET /x`) gives everything after the method; '' when there is no target.
 */
export function requestTarget(request: string): string {
  const first = request.indexOf(' ');
  if (first < 0) return '';
  let start = first + 1;
  while (start < request.length && request.charCodeAt(start) === 32) start++;
  let end = request.indexOf(' ', start);
  if (end < 0) end = request.length;
  return request.slice(start, end);
}

/** requestTarget without making the string: sets span to the target's [start, end) in `request`; false when there is none. */
export function requestTargetSpan(request: string, span: { start: number; end: number }): boolean {
  const first = request.indexOf(' ');
  if (first < 0) return false;
  let start = first + 1;
  while (start < request.length && request.charCodeAt(start) === 32) start++;
  let end = request.indexOf(' ', start);
  if (end < 0) end = request.length;
  span.start = start;
  span.end = end;
  return end > start;
}
