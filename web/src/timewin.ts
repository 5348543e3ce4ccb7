/** Time windows as the API wants them: `YYYY-MM-DDThh:mm:ssZ`, span and look-back limits. */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const MAX_LOOKBACK = 7 * DAY;

/** A preset is a duration ending now (auto-refreshed); `custom` is a fixed range. */
export interface WindowChoice {
  preset: string;
  /** Duration of a preset, ms. */
  duration?: number;
  /** Custom range, ms. */
  start?: number;
  end?: number;
}

export interface ResolvedWindow {
  start: number;
  end: number;
  /** Ends now: refreshed periodically. */
  live: boolean;
}

export function formatApiTime(ms: number): string {
  return new Date(Math.floor(ms / SECOND) * SECOND).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `<input type="datetime-local">` value (local time, minutes) to ms, or undefined. */
export function parseLocalInput(value: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const date = new Date(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0);
  if (date.getMonth() !== (mo ?? 1) - 1 || date.getDate() !== d) return undefined;
  return date.getTime();
}

export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * Resolves a choice against the clock and the endpoint's span and look-back limits. Returns a message for the
 * user when a custom range cannot be asked for (the server would refuse it too).
 */
export function resolveWindow(choice: WindowChoice, now: number, maxSpan: number, maxLookback = MAX_LOOKBACK): ResolvedWindow | string {
  if (choice.duration !== undefined) {
    // Both ends are sent, so the span is exact whatever the skew between this clock and the server's.
    const end = Math.ceil(now / SECOND) * SECOND;
    return { start: end - Math.min(choice.duration, maxSpan), end, live: true };
  }
  const { start, end } = choice;
  if (start === undefined || end === undefined) return 'Enter both the start and the end of the window.';
  if (end <= start) return 'The end of the window must be after its start.';
  if (end - start > maxSpan) return `The window may span at most ${formatSpan(maxSpan)}.`;
  if (start < now - maxLookback) return `The window may start at most ${Math.round(maxLookback / DAY)} days ago.`;
  if (start >= now) return 'The window starts in the future.';
  return { start, end, live: end >= now };
}

export function formatSpan(ms: number): string {
  return ms % HOUR === 0 ? `${ms / HOUR} h` : `${Math.round(ms / MINUTE)} min`;
}

/** Query parameters for a resolved window. */
export function windowParams(w: ResolvedWindow, params: URLSearchParams): void {
  params.set('start_time', formatApiTime(w.start));
  params.set('end_time', formatApiTime(w.end));
}
