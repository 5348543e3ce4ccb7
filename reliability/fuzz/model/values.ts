import fc from 'fast-check';

/** The fixed clock every fuzz processor runs with (so verdicts do not depend on when the run is). */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
export const DAY = 86_400_000;
export const RETENTION_DAYS = 8;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** A second within the last 7 days of NOW (always countable). */
export const recentSecond = fc.integer({ min: Math.floor((NOW - 7 * DAY) / 1000), max: NOW / 1000 }).map((s) => s * 1000);
/** A UTC offset in minutes, as servers log them. */
export const offsetMinutes = fc.integer({ min: -12 * 4, max: 14 * 4 }).map((q) => q * 15);

function wall(ms: number, offsetMin: number): Date {
  return new Date(ms + offsetMin * 60_000);
}

function zone(offsetMin: number, colon: boolean): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return `${sign}${p2(Math.floor(a / 60))}${colon ? ':' : ''}${p2(a % 60)}`;
}

/** nginx $time_local: 10/Oct/2000:13:55:36 -0700 */
export function timeLocal(ms: number, offsetMin: number): string {
  const d = wall(ms, offsetMin);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${zone(offsetMin, false)}`;
}

/** nginx $time_iso8601: 2000-10-10T13:55:36-07:00 (or Z / a fraction, as other shippers write it) */
export function timeIso(ms: number, offsetMin: number, style: 'offset' | 'z' | 'fraction' = 'offset'): string {
  const d = wall(ms, offsetMin);
  const base = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  if (style === 'z') return `${new Date(ms).toISOString().slice(0, 19)}Z`;
  if (style === 'fraction') return `${base}.${String(ms % 1000).padStart(3, '0')}${zone(offsetMin, true)}`;
  return `${base}${zone(offsetMin, true)}`;
}

/** nginx $msec: seconds with milliseconds. */
export const msec = (ms: number): string => `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;

const lower = 'abcdefghijklmnopqrstuvwxyz';
const labelChars = fc.constantFrom(...(lower + '0123456789').split(''));

/** One DNS label of a play domain (letters, digits, inner hyphens, never "--" in 3rd/4th place). */
const label = fc
  .tuple(labelChars, fc.array(fc.constantFrom(...(lower + '0123456789-').split('')), { maxLength: 10 }), labelChars)
  .map(([a, mid, z]) => (a + mid.join('') + z).replace(/^(..)--/, '$1-'));

/** IDN labels and their ASCII form (computed by hand from RFC 3492, not by the code under test). */
const IDN: ReadonlyArray<readonly [string, string]> = [['例子', 'xn--fsqu00a'], ['bücher', 'xn--bcher-kva'], ['münchen', 'xn--mnchen-3ya']];

/** A play domain as logged ($host: any case, maybe a port or a trailing dot) and the domain it counts as. */
export interface HostSample {
  logged: string;
  domain: string;
}

export const hostArb: fc.Arbitrary<HostSample> = fc
  .record({
    labels: fc.array(label, { minLength: 1, maxLength: 3 }),
    tld: fc.constantFrom('com', 'cn', 'net', 'example', 'io', 'tv'),
    idn: fc.option(fc.constantFrom(...IDN), { freq: 6 }),
    upper: fc.boolean(),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { freq: 4 }),
    dot: fc.boolean(),
  })
  .map(({ labels, tld, idn, upper, port, dot }) => {
    const parts = idn ? [idn[0], ...labels.slice(1)] : labels;
    const ascii = idn ? [idn[1], ...labels.slice(1)] : labels;
    const name = [...parts, tld].join('.') + (dot && port === null ? '.' : '');
    return {
      logged: (upper ? name.toUpperCase() : name) + (port !== null ? `:${port}` : ''),
      domain: [...ascii, tld].join('.'),
    };
  });

/** Free text as a browser or a crawler could put in a header (any Unicode, quotes, backslashes). */
export const headerText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
);

/** A request path with a query, as clients send it (percent-encoding, odd characters; no space or quote). */
export const pathArb = fc
  .array(fc.oneof(fc.constantFrom('live', 'hls', 'x.ts', 'index.m3u8', '%20', '%E4%BE%8B', '..', 'a+b', '?a=1&b=2', ''), fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map((s) => s.replace(/[\s"\\]/g, ''))), { maxLength: 4 })
  .map((segs) => '/' + segs.join('/'));
