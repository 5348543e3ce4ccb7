import type { Session } from './api.js';
import type { Chart } from './charts.js';

/** What the views need from the page around them. */
export interface Shell {
  session(): Session;
  demo: boolean;
  /** Refresh period of live windows (10 s; `?refresh=ms` in the URL changes it, e.g. for tests). */
  refreshMs: number;
  /** Reports a failed load: a 401 signs out with the API's message, anything else shows it. */
  fail(err: unknown): void;
  /** A load succeeded: clears the error banner. */
  ok(): void;
}

export interface TestHooks {
  charts: Record<string, Chart>;
  loads: Record<string, number>;
  view?: string;
}

declare global {
  interface Window {
    /** Read by the browser test: chart instances and how many loads each part finished. */
    __livestats?: TestHooks;
  }
}

export function hooks(): TestHooks {
  window.__livestats ??= { charts: {}, loads: {} };
  return window.__livestats;
}

export function countLoad(name: string): void {
  const h = hooks();
  h.loads[name] = (h.loads[name] ?? 0) + 1;
}
