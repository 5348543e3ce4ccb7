const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  if (y < 1970 || mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return NaN;
  const t = Date.UTC(y, mo, d, h, mi, s);
  // Reject dates that rolled over (31 Feb -> 3 Mar).
  return new Date(t).getUTCDate() === d ? t : NaN;
}

/** Offset in ms of "+hhmm"/"-hhmm" or "+hh:mm"/"Z" at s[from..]; NaN when malformed. */
function zoneOffset(s: string, from: number): number {
  const sign = s[from];
  if (sign === 'Z' && s.length === from + 1) return 0;
  if (sign !== '+' && sign !== '-') return NaN;
  const rest = s.length - from - 1;
  const colon = rest === 5 && s[from + 3] === ':';
  if (rest !== 4 && !colon) return NaN;
  const hh = digits(s, from + 1, 2);
  const mm = digits(s, from + (colon ? 4 : 3), 2);
  if (hh < 0 || mm < 0 || hh > 23 || mm > 59) return NaN;
  const ms = (hh * 60 + mm) * 60_000;
  return sign === '+' ? ms : -ms;
}

/** nginx $time_local: "10/Oct/2000:13:55:36 -0700" -> epoch ms (NaN when malformed). */
export function parseTimeLocal(s: string): number {
  if (s.length !== 26 || s[2] !== '/' || s[6] !== '/' || s[11] !== ':' || s[14] !== ':' || s[17] !== ':' || s[20] !== ' ') {
    return NaN;
  }
  const mo = MONTHS[s.slice(3, 6)];
  if (mo === undefined) return NaN;
  const d = digits(s, 0, 2);
  const y = digits(s, 7, 4);
  const h = digits(s, 12, 2);
  const mi = digits(s, 15, 2);
  const sec = digits(s, 18, 2);
  if (d < 0 || y < 0 || h < 0 || mi < 0 || sec < 0) return NaN;
  return utc(y, mo, d, h, mi, sec) - zoneOffset(s, 21);
}

/** ISO 8601 "2000-10-10T13:55:36-07:00", "...Z", optional fraction -> epoch ms (NaN when malformed). */
export function parseIso8601(s: string): number {
  if (s.length < 20 || s[4] !== '-' || s[7] !== '-' || (s[10] !== 'T' && s[10] !== ' ') || s[13] !== ':' || s[16] !== ':') {
    return NaN;
  }
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return NaN;
  let i = 19;
  let frac = 0;
  if (s[i] === '.' || s[i] === ',') {
    const start = ++i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start || i - start > 9) return NaN;
    frac = Math.floor(Number('0.' + s.slice(start, i)) * 1000);
  }
  return utc(y, mo - 1, d, h, mi, sec) + frac - zoneOffset(s, i);
}

/** 10^(3 - n) for n fraction digits up to 3: the fraction's digits as milliseconds. */
const FRACTION_SCALE = [1000, 100, 10, 1];

/**
 * Epoch seconds with optional fraction ("1700000000.123", nginx $msec) -> ms: 9 to 11 digits, then
 * optionally a point and 1 to 9 digits, else NaN. Up to 3 fraction digits (nginx writes 3) the
 * milliseconds are summed from the digits, with no string-to-number conversion (a runtime call, the
 * largest part of this parse per line): the same value as Math.round(Number(s) * 1000), which is
 * within 0.05 of that whole number at these magnitudes. More digits take that formula itself.
 */
export function parseEpochSeconds(s: string): number {
  const n = s.length;
  let i = 0;
  let sec = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    sec = sec * 10 + c;
  }
  if (i < 9 || i > 11) return NaN;
  if (i === n) return sec * 1000;
  if (s.charCodeAt(i) !== 46) return NaN;
  const start = ++i;
  let frac = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    frac = frac * 10 + c;
  }
  const digits = n - start;
  if (digits < 1 || digits > 9) return NaN;
  if (digits <= 3) return sec * 1000 + frac * (FRACTION_SCALE[digits] as number);
  return Math.round(Number(s) * 1000);
}

/** Epoch seconds or milliseconds by magnitude (JSON logs): >= 1e11 is ms. */
export function epochToMs(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return NaN;
  return n >= 1e11 ? Math.round(n) : Math.round(n * 1000);
}

/** A one-entry cache: consecutive log lines mostly share their timestamp text. */
export class CachedTime {
  private lastText = '';
  private lastValue = NaN;
  constructor(private readonly parseFn: (s: string) => number) {}
  parse(s: string): number {
    if (s === this.lastText) return this.lastValue;
    this.lastText = s;
    this.lastValue = this.parseFn(s);
    return this.lastValue;
  }
}
