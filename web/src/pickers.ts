/**
 * Domain and task pickers fed by GET /v2/{project_id}/dashboard/names (a livestats addition: the
 * Huawei API has no list of domains or tasks). A picker is a <select> next to a text input: choosing a
 * domain adds it to the input's list, choosing a task puts it in the input; either fires the input's
 * `change` so the view reloads. New views adopt them the same way.
 */
import { ApiFailure, apiGet, type Session } from './api.js';
import { parseDomains } from './session.js';
import { ShapeError } from './shape.js';

export interface KnownTask {
  id: string;
  /** Epoch ms of the newest sample, or null. */
  lastSample: number | null;
}

export interface KnownNames {
  domains: string[];
  tasks: KnownTask[];
  truncated: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const UTC_SECOND = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Checks a dashboard/names body; throws ShapeError on anything unexpected. Pure. */
export function parseNames(json: unknown): KnownNames {
  const bad = (): ShapeError => new ShapeError('Unexpected response from the server: bad dashboard/names answer');
  if (!isObject(json) || !Array.isArray(json.domains) || !Array.isArray(json.tasks) || typeof json.truncated !== 'boolean') throw bad();
  const domains = (json.domains as unknown[]).map((d) => {
    if (typeof d !== 'string') throw bad();
    return d;
  });
  const tasks = (json.tasks as unknown[]).map((t): KnownTask => {
    if (!isObject(t) || typeof t.task_id !== 'string') throw bad();
    const last = t.last_sample_time;
    if (last !== null && (typeof last !== 'string' || !UTC_SECOND.test(last))) throw bad();
    return { id: t.task_id, lastSample: last === null ? null : Date.parse(last) };
  });
  return { domains, tasks, truncated: json.truncated };
}

/** The typed domains the project has never stored (a typo shows up here instead of as "No data"). Pure. */
export function unknownDomains(typed: readonly string[], known: readonly string[]): string[] {
  const set = new Set(known);
  return typed.filter((d) => !set.has(d));
}

/** " · never stored (a typo?): x, y" for the typed domains never stored, or "" (nothing known, or all known). Pure. */
export function neverStoredNote(typed: readonly string[], known: readonly string[] | undefined): string {
  const unknown = known ? unknownDomains(typed, known) : [];
  return unknown.length > 0 ? ` · never stored (a typo?): ${unknown.join(', ')}` : '';
}

/** Adds `domain` to a comma-separated list, once. Pure. */
export function addDomain(list: string, domain: string): string {
  const domains = parseDomains(list);
  if (!domains.includes(domain)) domains.push(domain);
  return domains.join(', ');
}

/** Views ask on every show; answers this recent (or still in flight) are shared. */
const CACHE_MS = 5_000;
let cached: { key: string; at: number; names: Promise<KnownNames | undefined> } | undefined;

/**
 * The project's names (shared for a few seconds per session). Undefined when the server does not serve
 * the route (an older livestats); a 401 and other failures reject with the ApiFailure.
 */
export function loadNames(session: Session, fresh = false): Promise<KnownNames | undefined> {
  const key = `${session.projectId}\u0000${session.token ?? ''}`;
  if (!fresh && cached && cached.key === key && Date.now() - cached.at < CACHE_MS) return cached.names;
  const names = apiGet(session, 'dashboard/names', new URLSearchParams()).then(parseNames, (err: unknown) => {
    if (err instanceof ApiFailure && err.status === 404) return undefined;
    throw err;
  });
  cached = { key, at: Date.now(), names };
  names.catch(() => (cached = undefined));
  return names;
}

/** A <select> of options whose first entry is a prompt; choosing one calls `pick` and returns to the prompt. */
export class Picker {
  constructor(
    private readonly select: HTMLSelectElement,
    private readonly prompt: string,
    pick: (value: string) => void,
  ) {
    select.addEventListener('change', () => {
      const v = select.value;
      select.value = '';
      if (v) pick(v);
    });
    this.fill([]);
  }

  fill(options: ReadonlyArray<{ value: string; label: string }>, emptyPrompt = this.prompt): void {
    this.select.replaceChildren(
      new Option(options.length > 0 ? this.prompt : emptyPrompt, ''),
      ...options.map((o) => new Option(o.label, o.value)),
    );
    this.select.disabled = options.length === 0;
  }

  get size(): number {
    return this.select.options.length - 1;
  }
}

/** A domain picker for a comma-separated domain input. */
export function domainPicker(select: HTMLSelectElement, input: HTMLInputElement): Picker {
  return new Picker(select, 'Add a known domain…', (d) => {
    input.value = addDomain(input.value, d);
    input.dispatchEvent(new Event('change'));
  });
}

/**
 * Fills a domain picker with the project's stored domains and passes them to `known` (undefined: the
 * server has no list). A failure changes nothing: the pickers are a convenience, and the failure shows
 * up in the view's own load.
 */
export async function fillDomainPicker(picker: Picker, session: Session, known: (domains: string[] | undefined) => void): Promise<void> {
  try {
    const names = await loadNames(session);
    known(names?.domains);
    picker.fill((names?.domains ?? []).map((d) => ({ value: d, label: d })), names ? 'No domains stored yet' : 'No list on this server');
  } catch {
    // a convenience only (see above)
  }
}
