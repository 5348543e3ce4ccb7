/**
 * The time zone the dashboard shows times in: the browser's ("local") or UTC (the API's). One choice
 * for the whole page, kept in the URL (`tz=utc`), shown on time axes, tooltips, "Updated" and the
 * From/To fields. Views call the formatters here instead of Date's local methods, and register their
 * datetime inputs so a change of zone keeps the instant they hold.
 */
import { parseLocalInput, toLocalInput } from './timewin.js';

export type Zone = 'local' | 'utc';

let zone: Zone = 'local';
const listeners = new Set<(z: Zone) => void>();
const inputs = new Set<HTMLInputElement>();

export const currentZone = (): Zone => zone;
export const isZone = (v: string | null | undefined): v is Zone => v === 'local' || v === 'utc';

/** Switches the zone: registered datetime inputs keep their instant, listeners (views, labels) run. */
export function setZone(z: Zone): void {
  if (z === zone) return;
  const old = zone;
  for (const input of inputs) {
    const ms = parseZonedInput(input.value, old);
    if (ms !== undefined) input.value = toZonedInput(ms, z);
  }
  zone = z;
  for (const l of listeners) l(z);
}

export function onZoneChange(l: (z: Zone) => void): void {
  listeners.add(l);
}

/** A `datetime-local` input whose value is in the chosen zone. */
export function registerZonedInput(input: HTMLInputElement): void {
  inputs.add(input);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Minutes east of UTC of `z` at `ms`. */
export const offsetMinutes = (ms: number, z: Zone = zone): number => (z === 'utc' ? 0 : -new Date(ms).getTimezoneOffset());

/** "UTC" or "UTC+08:00" / "UTC-05:30": the zone's offset at `ms`. */
export function offsetLabel(ms: number, z: Zone = zone): string {
  const off = offsetMinutes(ms, z);
  if (off === 0 && z === 'utc') return 'UTC';
  const a = Math.abs(off);
  return `UTC${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The label shown next to times: "UTC" or "local, UTC+08:00". */
export const zoneLabel = (z: Zone = zone, at: number = Date.now()): string => (z === 'utc' ? 'UTC' : `local, ${offsetLabel(at, z)}`);

interface Parts { y: number; mo: number; d: number; h: number; mi: number; s: number }

function parts(ms: number, z: Zone): Parts {
  const t = new Date(ms);
  return z === 'utc'
    ? { y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate(), h: t.getUTCHours(), mi: t.getUTCMinutes(), s: t.getUTCSeconds() }
    : { y: t.getFullYear(), mo: t.getMonth() + 1, d: t.getDate(), h: t.getHours(), mi: t.getMinutes(), s: t.getSeconds() };
}

/** "14:05:09" in the zone. */
export function formatClock(ms: number, z: Zone = zone): string {
  const p = parts(ms, z);
  return `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
}

/** "2026-12-06 14:05" (seconds when not zero) in the zone. */
export function formatDateTime(ms: number, z: Zone = zone): string {
  const p = parts(ms, z);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}${p.s ? `:${pad(p.s)}` : ''}`;
}

/** `<input type="datetime-local">` value (minutes) in the zone. */
export function toZonedInput(ms: number, z: Zone = zone): string {
  if (z === 'local') return toLocalInput(ms);
  const p = parts(ms, 'utc');
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}`;
}

/** A `datetime-local` value read in the zone, to ms; undefined when it is not a real date and time. */
export function parseZonedInput(value: string, z: Zone = zone): number | undefined {
  if (z === 'local') return parseLocalInput(value);
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return ms;
}

/** How a zoned datetime input is kept in the URL: the instant in UTC ("2026-12-06T10:00Z"), whatever the zone. */
export const instantCodec = {
  toUrl(value: string): string | undefined {
    const ms = parseZonedInput(value);
    return ms === undefined ? undefined : new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
  },
  fromUrl(value: string): string | undefined {
    const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/.test(value) ? Date.parse(value) : NaN;
    return Number.isNaN(ms) ? undefined : toZonedInput(ms);
  },
};

/** Writes the zone's label into every `[data-tz-label]` element of the page (From/To fields, headings). */
export function labelZone(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-tz-label]')) el.textContent = `(${zoneLabel()})`;
}
