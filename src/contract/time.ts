/** Strict UTC timestamps of the form YYYY-MM-DDThh:mm:ssZ (the only form the contract accepts). */
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const daysInMonth = (y: number, m: number): number => {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
};

/** Parses a contract timestamp to epoch milliseconds; undefined when it is not exactly valid. */
export function parseUtcSecond(text: string): number | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Formats epoch milliseconds (floored to the second) as YYYY-MM-DDThh:mm:ssZ. */
export function formatUtcSecond(ms: number): string {
  const d = new Date(Math.floor(ms / SECOND) * SECOND);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`
  );
}

export const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
