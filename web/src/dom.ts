import { HOUR } from './timewin.js';
import { formatClock, toZonedInput, zoneLabel } from './tz.js';
/** The element with this id, of the expected kind; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`dashboard: #${id} is missing or not a ${kind.name}`);
  return el;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** An input with this id and placeholder. */
export function input(id: string, placeholder = ''): HTMLInputElement {
  const i = el('input');
  i.id = id;
  i.placeholder = placeholder;
  return i;
}

/** A label: its text, a space, then the control it names. */
export function label(text: string, control: HTMLElement, className?: string): HTMLLabelElement {
  const l = el('label', text, className);
  l.append(' ', control);
  return l;
}

/** Adds a view's tab (a link to #`id`, its element id tab-`id`) to `tabs` and its section to `main`. */
export function mountView(tabs: HTMLElement, main: HTMLElement, id: string, title: string, section: HTMLElement): void {
  const a = el('a', title);
  a.href = `#${id}`;
  a.id = `tab-${id}`;
  tabs.append(a);
  main.append(section);
}

/** "14:05:09 (UTC)": a time of day in the chosen zone, the zone named. */
export const clock = (ms: number): string => `${formatClock(ms)} (${zoneLabel()})`;
export const integer = (n: number): string => Math.round(n).toLocaleString('en-US');
export const share = (v: number): string => `${(v * 100).toFixed(2)}%`;

/**
 * Shows the custom from/to inputs of a filter form only while "custom" is chosen, and fills
 * them with the last hour the first time they appear (in the chosen time zone).
 */
export function syncCustomWindow(form: HTMLFormElement, custom: boolean, from: HTMLInputElement, to: HTMLInputElement): void {
  for (const label of form.querySelectorAll<HTMLElement>('label.custom')) label.hidden = !custom;
  if (custom && !from.value) {
    to.value = toZonedInput(Date.now());
    from.value = toZonedInput(Date.now() - HOUR);
  }
}
