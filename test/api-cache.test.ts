import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const T = NOW - 10 * 60_000;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => NOW, queryCacheMs: 60_000 });
});
afterAll(async () => app.close());

const total = async (project: string): Promise<number> => {
  const r = await app.request(`/v2/${project}/stats/httpcodes?play_domains=a.com`);
  const body = r.json as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
  return body.data_series.flatMap((e) => e.http_codes).reduce((n, c) => n + c.count, 0);
};
const rec = (project: string, n: number) => ({ project, domain: 'a.com', time: T, region: 'GD' as const, isp: 'CMCC' as const, code: 200, n });

it('never serves a cached answer once this node stored newer data for the project', async () => {
  await app.feed([rec('p', 2), rec('q', 5)]);
  expect(await total('p')).toBe(2);
  expect(await total('q')).toBe(5);
  await app.feed([rec('p', 3)]);
  expect(await total('p')).toBe(5);
  const s = { project: 'p', taskId: 't', second: T, videoFps: 25, videoKbps: 1, audioFps: 43, audioKbps: 1 };
  await app.feed([], [s]);
  const fps = async (): Promise<number> =>
    ((await app.request('/v2/p/stats/carousel-task/detail?carousel_task_id=t')).json as { video_framerate_list: number[] })
      .video_framerate_list.reduce((a, b) => a + b, 0);
  expect(await fps()).toBe(25);
  await app.feed([], [{ ...s, videoFps: 30 }]);
  expect(await fps()).toBe(30);
});
