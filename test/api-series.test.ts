import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isp, Region } from '../src/contract/values.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const M0 = Date.UTC(2026, 5, 10, 7, 0, 0);
const MIN = 60_000;
const WINDOW = 'start_time=2026-06-10T07:00:00Z&end_time=2026-06-10T07:03:00Z';

type Cell = [domain: string, minuteOffset: number, region: Region, isp: Isp, code: number, n: number];
const rec = ([domain, m, region, isp, code, n]: Cell, project = 'p') => ({
  project, domain, time: M0 + m * MIN + 17_000, region, isp, code, n,
});

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => NOW });
  const cells: Cell[] = [
    ['a.com', 0, 'GD', 'CMCC', 200, 3],
    ['a.com', 0, 'BJ', 'CTCC', 404, 1],
    ['a.com', 2, 'GD', 'CUCC', 200, 1],
    ['a.com', 2, 'SH', 'CMCC', 502, 2],
    ['b.com', 0, 'GD', 'CMCC', 200, 5],
    ['b.com', 0, 'BJ', 'CMCC', 206, 1],
    ['c.com', 0, 'GD', 'CMCC', 500, 9], // another domain: never part of a/b answers
  ];
  await app.feed(cells.map((c) => rec(c)));
  await app.feed([rec(['a.com', 0, 'GD', 'CMCC', 200, 1000], 'other-project')]);
});
afterAll(async () => app.close());

type Series = Array<{ time: string; http_codes: Array<{ code: number; count: number; proportion: number }> }>;
const series = async (qs: string): Promise<Series> => {
  const r = await app.request(`/v2/p/stats/httpcodes?${qs}&${WINDOW}`);
  expect(r.status).toBe(200);
  return (r.json as { data_series: Series }).data_series;
};
const e = (code: number, count: number, proportion: number) => ({ code, count, proportion });
const T = ['2026-06-10T07:00:00Z', '2026-06-10T07:01:00Z', '2026-06-10T07:02:00Z'];

describe('ListQueryHttpCode series', () => {
  it('sums two domains into one dense series with zero-filled minutes and absent codes', async () => {
    expect(await series('play_domains=a.com,b.com')).toEqual([
      { time: T[0], http_codes: [e(200, 8, 0.8), e(206, 1, 0.1), e(404, 1, 0.1), e(502, 0, 0)] },
      { time: T[1], http_codes: [e(200, 0, 0), e(206, 0, 0), e(404, 0, 0), e(502, 0, 0)] },
      { time: T[2], http_codes: [e(200, 1, 0.3333), e(206, 0, 0), e(404, 0, 0), e(502, 2, 0.6667)] },
    ]);
  });

  it('treats domains case-insensitively and sends the same answer for repeated and comma forms', async () => {
    const a = await series('play_domains=A.COM,b.com');
    const b = await series('play_domains=a.com&play_domains=B.com.&play_domains=a.com');
    expect(b).toEqual(a);
    expect(a[0]?.http_codes[0]).toEqual(e(200, 8, 0.8));
  });

  it('filters by region alone', async () => {
    expect(await series('play_domains=a.com,b.com&region=GD')).toEqual([
      { time: T[0], http_codes: [e(200, 8, 1)] },
      { time: T[1], http_codes: [e(200, 0, 0)] },
      { time: T[2], http_codes: [e(200, 1, 1)] },
    ]);
  });

  it('filters by isp alone', async () => {
    expect(await series('play_domains=a.com,b.com&isp=CMCC')).toEqual([
      { time: T[0], http_codes: [e(200, 8, 0.8889), e(206, 1, 0.1111), e(502, 0, 0)] },
      { time: T[1], http_codes: [e(200, 0, 0), e(206, 0, 0), e(502, 0, 0)] },
      { time: T[2], http_codes: [e(200, 0, 0), e(206, 0, 0), e(502, 2, 1)] },
    ]);
  });

  it('combines region, isp and code filters; code does not shrink the denominator', async () => {
    expect(await series('play_domains=a.com,b.com&region=GD,SH&isp=CMCC')).toEqual([
      { time: T[0], http_codes: [e(200, 8, 1), e(502, 0, 0)] },
      { time: T[1], http_codes: [e(200, 0, 0), e(502, 0, 0)] },
      { time: T[2], http_codes: [e(200, 0, 0), e(502, 2, 1)] },
    ]);
    expect(await series('play_domains=a.com,b.com&code=404')).toEqual([
      { time: T[0], http_codes: [e(404, 1, 0.1)] },
      { time: T[1], http_codes: [e(404, 0, 0)] },
      { time: T[2], http_codes: [e(404, 0, 0)] },
    ]);
    expect(await series('play_domains=a.com,b.com&code=404,599&region=BJ')).toEqual([
      { time: T[0], http_codes: [e(404, 1, 0.5), e(599, 0, 0)] },
      { time: T[1], http_codes: [e(404, 0, 0), e(599, 0, 0)] },
      { time: T[2], http_codes: [e(404, 0, 0), e(599, 0, 0)] },
    ]);
  });

  it('adds late records for past minutes to what is stored, and rounds proportions half-up', async () => {
    await app.feed([rec(['d.com', 0, 'HK', 'OTHER', 200, 31]), rec(['d.com', 0, 'HK', 'OTHER', 404, 1])]);
    expect((await series('play_domains=d.com'))[0]).toEqual({ time: T[0], http_codes: [e(200, 31, 0.9688), e(404, 1, 0.0313)] });
    await app.feed([rec(['d.com', 0, 'HK', 'OTHER', 200, 32])]);
    expect((await series('play_domains=d.com'))[0]).toEqual({ time: T[0], http_codes: [e(200, 63, 0.9844), e(404, 1, 0.0156)] });
  });

  it('answers a domain without data with empty code lists', async () => {
    expect(await series('play_domains=never.example')).toEqual(T.map((time) => ({ time, http_codes: [] })));
  });
});

describe('ListCarouselTaskDetail series', () => {
  it('returns dense per-second lists with zeros where no sample exists, latest sample per second', async () => {
    const S0 = Date.UTC(2026, 5, 10, 11, 0, 0);
    const s = (i: number, v: number) => ({ project: 'p', taskId: 't', second: S0 + i * 1000 + 400, videoFps: v, videoKbps: v * 100, audioFps: 43, audioKbps: 128 });
    await app.feed([], [s(0, 25), s(2, 30), s(5, 1)]);
    await app.feed([], [s(5, 24)]); // replaces second 5
    const r = await app.request('/v2/p/stats/carousel-task/detail?carousel_task_id=t&start_time=2026-06-10T11:00:00Z&end_time=2026-06-10T11:00:06Z');
    expect(r.json).toEqual({
      start_time: '2026-06-10T11:00:00Z',
      end_time: '2026-06-10T11:00:06Z',
      video_framerate_list: [25, 0, 30, 0, 0, 24],
      video_bitrate_list: [2500, 0, 3000, 0, 0, 2400],
      audio_framerate_list: [43, 0, 43, 0, 0, 43],
      audio_bitrate_list: [128, 0, 128, 0, 0, 128],
    });
  });
});
