import type { Session } from './api.js';

/** Sign-in is kept per browser tab (session storage); recent carousel tasks per browser (local storage). */
const SESSION_KEY = 'livestats.session';
const TASKS_KEY = 'livestats.recentTasks';
const MAX_TASKS = 8;

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const isProjectId = (s: string): boolean => PROJECT_ID.test(s);

export function loadSession(storage: Storage = sessionStorage): Session | undefined {
  try {
    const v = JSON.parse(storage.getItem(SESSION_KEY) ?? 'null') as Partial<Session> | null;
    if (!v || typeof v.projectId !== 'string' || !isProjectId(v.projectId)) return undefined;
    return { projectId: v.projectId, token: typeof v.token === 'string' && v.token ? v.token : null };
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session | undefined, storage: Storage = sessionStorage): void {
  if (s) storage.setItem(SESSION_KEY, JSON.stringify(s));
  else storage.removeItem(SESSION_KEY);
}

export function recentTasks(storage: Storage = localStorage): string[] {
  try {
    const v = JSON.parse(storage.getItem(TASKS_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string').slice(0, MAX_TASKS) : [];
  } catch {
    return [];
  }
}

export function rememberTask(task: string, storage: Storage = localStorage): string[] {
  const list = [task, ...recentTasks(storage).filter((t) => t !== task)].slice(0, MAX_TASKS);
  storage.setItem(TASKS_KEY, JSON.stringify(list));
  return list;
}

/** Splits the domain input (commas, spaces, new lines), trims, lower-cases, de-duplicates. */
export function parseDomains(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\s,;]+/)) {
    const d = part.trim().toLowerCase().replace(/\.$/, '');
    if (d) seen.add(d);
  }
  return [...seen];
}
