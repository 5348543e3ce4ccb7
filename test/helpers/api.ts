import { expect } from 'vitest';
import { formatUtcSecond } from '../../src/contract/time.js';
import type { CarouselResponse } from '../../src/contract/carousel.js';
import type { HttpResult } from './app.js';

/** GET ListCarouselTaskDetail over real HTTP. */
export async function carouselDetail(
  base: string, project: string, task: string, startMs: number, endMs: number, token?: string,
): Promise<CarouselResponse> {
  const q = new URLSearchParams({ carousel_task_id: task, start_time: formatUtcSecond(startMs), end_time: formatUtcSecond(endMs) });
  const res = await fetch(`${base}/v2/${project}/stats/carousel-task/detail?${q}`, { headers: token ? { 'x-auth-token': token } : {} });
  if (res.status !== 200) throw new Error(`carousel detail: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as CarouselResponse;
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  obj: object;
}

/** A Log that keeps every line, for assertions on what was logged. */
export function collectingLog(): { lines: LogLine[]; info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The contract checks of the API tests, on the app `app()` returns: `expectInvalid` (a 400 naming the
 * parameter, in the JSON error envelope, with a request id) and `ok` (a 200 in JSON with a request id;
 * returns the body).
 */
export function contractChecks(app: () => { request(path: string): Promise<HttpResult> }): {
  expectInvalid(path: string, name: string): Promise<void>;
  ok(path: string): Promise<unknown>;
} {
  return {
    async expectInvalid(path, name) {
      const r = await app().request(path);
      expect({ path, status: r.status, body: r.json })
        .toEqual({ path, status: 400, body: { error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${name}` } });
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    },
    async ok(path) {
      const r = await app().request(path);
      expect({ path, status: r.status, body: r.status === 200 ? 'ok' : r.json }).toEqual({ path, status: 200, body: 'ok' });
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      return r.json;
    },
  };
}
