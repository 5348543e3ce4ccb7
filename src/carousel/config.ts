import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isProjectId } from '../api/project.js';
import { isTaskId } from '../contract/carousel.js';
import type { CarouselTaskSpec } from './runner.js';

/** A `serve --carousel` file that cannot be used; the message says where and why. */
export class CarouselConfigError extends Error {}

const TASK_KEYS = new Set(['project', 'task', 'playlist', 'to', 'loop', 'probe']);
const URL_RE = /^[a-z][a-z0-9+.-]*:\/\/\S+$/i;
const MAX_TASKS = 1000;

function fail(where: string, why: string): never {
  throw new CarouselConfigError(`${where}: ${why}`);
}

function parseTask(raw: unknown, where: string, baseDir: string): CarouselTaskSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'must be an object');
  const t = raw as Record<string, unknown>;
  for (const key of Object.keys(t)) if (!TASK_KEYS.has(key)) fail(where, `unknown key "${key.slice(0, 40)}"`);
  if (typeof t.project !== 'string' || !isProjectId(t.project)) fail(where, '"project" must be a project id');
  if (typeof t.task !== 'string' || !isTaskId(t.task)) fail(where, '"task" must be a task id (letters, digits, ._~:@-)');
  if (!Array.isArray(t.playlist) || t.playlist.length === 0) fail(where, '"playlist" must be a non-empty array of files');
  const playlist = t.playlist.map((f, i) => {
    if (typeof f !== 'string' || f.trim().length === 0) fail(`${where}.playlist[${i}]`, 'must be a file path');
    return resolve(baseDir, f);
  });
  if (typeof t.to !== 'string' || !URL_RE.test(t.to)) fail(where, '"to" must be a stream URL such as rtmp://host/app/stream');
  if (t.loop !== undefined && typeof t.loop !== 'boolean') fail(where, '"loop" must be true or false');
  if (t.probe !== undefined && (typeof t.probe !== 'string' || !URL_RE.test(t.probe))) fail(where, '"probe" must be a stream URL');
  return {
    project: t.project, taskId: t.task, playlist, to: t.to, loop: t.loop ?? true,
    ...(typeof t.probe === 'string' ? { probeUrl: t.probe } : {}),
  };
}

/**
 * Parses the carousel file of `livestats serve --carousel file.json`:
 * `{"tasks": [{"project", "task", "playlist": [files], "to": url, "loop"?: true, "probe"?: url}]}`.
 * Relative playlist paths are relative to the file.
 */
export function parseCarouselConfig(text: string, file: string): CarouselTaskSpec[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { tasks?: unknown }).tasks)) {
    fail(file, 'expected {"tasks": [...]}');
  }
  const raw = (doc as { tasks: unknown[] }).tasks;
  if (raw.length > MAX_TASKS) fail(file, `at most ${MAX_TASKS} tasks`);
  const seen = new Set<string>();
  return raw.map((t, i) => {
    const spec = parseTask(t, `${file}: tasks[${i}]`, dirname(resolve(file)));
    const key = `${spec.project}/${spec.taskId}`;
    if (seen.has(key)) fail(`${file}: tasks[${i}]`, `task ${key} is listed twice`);
    seen.add(key);
    return spec;
  });
}

export function loadCarouselConfig(file: string): CarouselTaskSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CarouselConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseCarouselConfig(text, file);
}
