import { formatUtcSecond } from '../../src/contract/time.js';
import type { CarouselResponse } from '../../src/contract/carousel.js';

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
