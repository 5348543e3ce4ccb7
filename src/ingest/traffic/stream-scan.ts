import { MAX_NAME_LENGTH } from '../../contract/traffic/values.js';

/**
 * The per-line fast path of streamOfUri: reads the shape of a request target in place (no regular
 * expression, no split, no string made), for the plain targets that make up nearly all of a log:
 * origin-form (`/...`), no percent escapes, no control characters. It answers exactly what
 * streamOfUri answers for such a target (property-tested against it); anything else is SLOW and
 * the caller asks streamOfUri.
 */
export const SCAN_FLV = 0;
export const SCAN_HLS = 1;
export const SCAN_OTHER = 2;
export const SCAN_SLOW = -1;

/** Where the names are in the scanned string: app = [appStart, appEnd), stream = [streamStart, streamEnd). */
export interface ScanRanges {
  appStart: number;
  appEnd: number;
  streamStart: number;
  streamEnd: number;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

function endsWith(s: string, end: number, suffix: string): boolean {
  const n = suffix.length;
  if (end < n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(end - n + i) !== suffix.charCodeAt(i)) return false;
  return true;
}

/** Scans the target s[from, to) (e.g. inside a request line); fills `r` for FLV and HLS. */
export function scanStreamTarget(s: string, from: number, to: number, r: ScanRanges): number {
  if (from >= to || s.charCodeAt(from) !== 47) return SCAN_SLOW;
  // The path ends at '?' or '#'; slashes at most 3 (more: other).
  let slash2 = -1;
  let slash3 = -1;
  let end = to;
  for (let i = from + 1; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 63 || c === 35) {
      end = i;
      break;
    }
    if (c === 37 || c < 32 || c === 127) return SCAN_SLOW;
    if (c === 47) {
      if (slash2 < 0) slash2 = i;
      else if (slash3 < 0) slash3 = i;
      else return SCAN_OTHER;
    }
  }
  if (slash2 < 0) return SCAN_OTHER;
  const appStart = from + 1;
  const appLen = slash2 - appStart;
  if (appLen < 1 || appLen > MAX_NAME_LENGTH) return SCAN_SLOW;
  r.appStart = appStart;
  r.appEnd = slash2;
  if (slash3 >= 0) {
    // /app/stream/<segment>.ts|.m4s|.aac, the segment name non-empty.
    const streamLen = slash3 - slash2 - 1;
    if (streamLen < 1 || streamLen > MAX_NAME_LENGTH) return SCAN_SLOW;
    const seg = end - slash3 - 1;
    const ok = (seg > 3 && endsWith(s, end, '.ts')) || (seg > 4 && (endsWith(s, end, '.m4s') || endsWith(s, end, '.aac')));
    if (!ok) return SCAN_OTHER;
    r.streamStart = slash2 + 1;
    r.streamEnd = slash3;
    return SCAN_HLS;
  }
  const fileStart = slash2 + 1;
  let stop: number;
  let protocol: number;
  if (endsWith(s, end, '.flv')) {
    stop = end - 4;
    protocol = SCAN_FLV;
  } else if (endsWith(s, end, '.m3u8')) {
    stop = end - 5;
    protocol = SCAN_HLS;
  } else if (endsWith(s, end, '.ts')) {
    // stream-<digits>.ts / stream_<digits>.ts: the longest digit run before '.ts', a '-' or '_' before it, a name before that.
    let d = end - 3;
    while (d > fileStart && isDigit(s.charCodeAt(d - 1))) d--;
    if (d === end - 3 || d - 1 <= fileStart) return SCAN_OTHER;
    const sep = s.charCodeAt(d - 1);
    if (sep !== 45 && sep !== 95) return SCAN_OTHER;
    stop = d - 1;
    protocol = SCAN_HLS;
  } else {
    return SCAN_OTHER;
  }
  const streamLen = stop - fileStart;
  if (streamLen < 1 || streamLen > MAX_NAME_LENGTH) return SCAN_SLOW;
  r.streamStart = fileStart;
  r.streamEnd = stop;
  return protocol;
}
