import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { contractChecks } from './helpers/api.js';
import { formatUtcSecond } from '../src/contract/time.js';

// The clock is pinned (mid-minute, the day after a leap day) so boundaries are exact.
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const NOW_S = NOW - 250;
const H = 3_600_000;
const D = 24 * H;

const HC = '/v2/p1/stats/httpcodes';
const CT = '/v2/p1/stats/carousel-task/detail';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => NOW });
  await app.feed(
    [{ project: 'p1', domain: 'a.com', time: NOW - 5 * 60_000, region: 'GD', isp: 'CMCC', code: 200 }],
    [{ project: 'p1', taskId: 'task-1', second: NOW_S - 10_000, videoFps: 25, videoKbps: 2000, audioFps: 43, audioKbps: 128 }],
  );
});
afterAll(async () => app.close());

const { expectInvalid } = contractChecks(() => app);

describe('ListQueryHttpCode validation', () => {
  const domains11 = Array.from({ length: 11 }, (_, i) => `d${i}.com`).join(',');
  it.each([
    ['missing play_domains', '', 'play_domains'],
    ['empty play_domains', 'play_domains=', 'play_domains'],
    ['only separators', 'play_domains=,%2C,', 'play_domains'],
    ['11 domains', `play_domains=${domains11}`, 'play_domains'],
    ['not a host name', 'play_domains=a%20b.com', 'play_domains'],
    ['a URL instead of a host', 'play_domains=http%3A%2F%2Fa.com%2F', 'play_domains'],
    ['bad percent-encoding', 'play_domains=%E4%BE', 'play_domains'],
    ['code=abc', 'play_domains=a.com&code=abc', 'code'],
    ['code=600', 'play_domains=a.com&code=600', 'code'],
    ['code=99', 'play_domains=a.com&code=99', 'code'],
    ['code=2000', 'play_domains=a.com&code=2000', 'code'],
    ['code=+200', 'play_domains=a.com&code=%2B200', 'code'],
    ['one bad code among good', 'play_domains=a.com&code=200,404&code=x', 'code'],
    ['region=XX', 'play_domains=a.com&region=XX', 'region'],
    ['region lower-case', 'play_domains=a.com&region=bj', 'region'],
    ['isp=cmcc', 'play_domains=a.com&isp=cmcc', 'isp'],
    ['isp unknown', 'play_domains=a.com&isp=CMCC,ATT', 'isp'],
    ['lower-case z', 'play_domains=a.com&start_time=2028-03-01T11:00:00z', 'start_time'],
    ['offset +08:00', 'play_domains=a.com&start_time=2028-03-01T19:00:00%2B08:00', 'start_time'],
    ['2026-02-30', 'play_domains=a.com&start_time=2026-02-30T00:00:00Z', 'start_time'],
    ['milliseconds', 'play_domains=a.com&start_time=2028-03-01T11:00:00.000Z', 'start_time'],
    ['epoch seconds', 'play_domains=a.com&end_time=1835000000', 'end_time'],
    ['two different start times', 'play_domains=a.com&start_time=2028-03-01T11:00:00Z&start_time=2028-03-01T11:01:00Z', 'start_time'],
    ['end before start', 'play_domains=a.com&start_time=2028-03-01T11:00:00Z&end_time=2028-03-01T10:00:00Z', 'end_time'],
    ['end equal to start', 'play_domains=a.com&start_time=2028-03-01T11:00:00Z&end_time=2028-03-01T11:00:00Z', 'end_time'],
    ['start in the future, no end', `play_domains=a.com&start_time=${formatUtcSecond(NOW_S + 60_000)}`, 'start_time'],
    ['span 24 h + 1 s', `play_domains=a.com&start_time=${formatUtcSecond(NOW_S - D - 1000)}&end_time=${formatUtcSecond(NOW_S)}`, 'start_time'],
    ['span over 24 h, end defaulted', `play_domains=a.com&start_time=${formatUtcSecond(NOW_S - D - 1000)}`, 'start_time'],
    ['start 7 days + 1 s ago', `play_domains=a.com&start_time=${formatUtcSecond(NOW_S - 7 * D - 1000)}&end_time=${formatUtcSecond(NOW_S - 7 * D + H)}`, 'start_time'],
    ['only end, its default start beyond 7 days', `play_domains=a.com&end_time=${formatUtcSecond(NOW_S - 7 * D + H - 1000)}`, 'end_time'],
  ])('%s', async (_label, qs, name) => {
    await expectInvalid(`${HC}?${qs}`, name);
  });

  it.each([
    ['span exactly 24 h (mid-minute: both edge minutes included)', `start_time=${formatUtcSecond(NOW_S - D)}&end_time=${formatUtcSecond(NOW_S)}`, 1441],
    ['span exactly 24 h, minute-aligned', 'start_time=2028-02-29T00:00:00Z&end_time=2028-03-01T00:00:00Z', 1440],
    ['start exactly 7 days ago', `start_time=${formatUtcSecond(NOW_S - 7 * D)}&end_time=${formatUtcSecond(NOW_S - 7 * D + H)}`, 61],
    ['leap day window', 'start_time=2028-02-29T12:00:00Z&end_time=2028-02-29T12:05:00Z', 5],
    ['mid-minute start and end', 'start_time=2028-03-01T11:00:30Z&end_time=2028-03-01T11:02:01Z', 3],
    ['default window (last hour, mid-minute now)', '', 61],
    ['end in the future is clamped to the current minute', `start_time=${formatUtcSecond(NOW_S - 120_000)}&end_time=${formatUtcSecond(NOW_S + H)}`, 3],
    ['empty optional parameters mean "not given"', 'code=&region=&isp=&start_time=&end_time=', 61],
  ])('accepts %s', async (_label, qs, slots) => {
    const r = await app.request(`${HC}?play_domains=a.com&${qs}`);
    expect(r.status).toBe(200);
    expect((r.json as { data_series: unknown[] }).data_series).toHaveLength(slots);
  });

  it('accepts 10 domains, and 11 items that are 10 domains once de-duplicated (case-insensitive)', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => `d${i}.com`);
    expect((await app.request(`${HC}?play_domains=${ten.join(',')}`)).status).toBe(200);
    expect((await app.request(`${HC}?play_domains=${ten.join(',')},D0.COM&play_domains=d1.com`)).status).toBe(200);
  });

  it('answers slot times in UTC, oldest first, the window start minute included', async () => {
    const r = await app.request(`${HC}?play_domains=a.com&start_time=2028-03-01T11:58:59Z&end_time=2028-03-01T12:00:01Z`);
    const times = (r.json as { data_series: Array<{ time: string }> }).data_series.map((e) => e.time);
    expect(times).toEqual(['2028-03-01T11:58:00Z', '2028-03-01T11:59:00Z', '2028-03-01T12:00:00Z']);
  });
});

describe('ListCarouselTaskDetail validation', () => {
  it.each([
    ['missing id', '', 'carousel_task_id'],
    ['empty id', 'carousel_task_id=', 'carousel_task_id'],
    ['blank id', 'carousel_task_id=%20%20', 'carousel_task_id'],
    ['id with a slash', 'carousel_task_id=a%2Fb', 'carousel_task_id'],
    ['id too long', `carousel_task_id=${'x'.repeat(129)}`, 'carousel_task_id'],
    ['two ids', 'carousel_task_id=a&carousel_task_id=b', 'carousel_task_id'],
    ['bad start', 'carousel_task_id=task-1&start_time=yesterday', 'start_time'],
    ['bad end', 'carousel_task_id=task-1&end_time=2028-03-01T12:00:00', 'end_time'],
    ['span 3 h + 1 s', `carousel_task_id=task-1&start_time=${formatUtcSecond(NOW_S - 3 * H - 1000)}&end_time=${formatUtcSecond(NOW_S)}`, 'start_time'],
    ['end before start', `carousel_task_id=task-1&start_time=${formatUtcSecond(NOW_S - H)}&end_time=${formatUtcSecond(NOW_S - 2 * H)}`, 'end_time'],
    ['start 7 days + 1 s ago', `carousel_task_id=task-1&start_time=${formatUtcSecond(NOW_S - 7 * D - 1000)}&end_time=${formatUtcSecond(NOW_S - 7 * D + H)}`, 'start_time'],
  ])('%s', async (_label, qs, name) => {
    await expectInvalid(`${CT}?${qs}`, name);
  });

  it('answers 404 LIVE.103011019 for a task the project never saw', async () => {
    const r = await app.request(`${CT}?carousel_task_id=nope`);
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error_code: 'LIVE.103011019', error_msg: 'The resource does not exist: carousel_task_id' });
    expect((await app.request(`/v2/p2/stats/carousel-task/detail?carousel_task_id=task-1`)).status).toBe(404);
  });

  it('defaults to the last hour: 3600 values per list, window echoed, end clamped to now', async () => {
    const r = await app.request(`${CT}?carousel_task_id=task-1`);
    const body = r.json as Record<string, unknown>;
    expect(body.start_time).toBe(formatUtcSecond(NOW_S - H));
    expect(body.end_time).toBe(formatUtcSecond(NOW_S));
    for (const k of ['video_framerate_list', 'video_bitrate_list', 'audio_framerate_list', 'audio_bitrate_list']) {
      expect(body[k]).toHaveLength(3600);
    }
    expect((body.video_framerate_list as number[])[3590]).toBe(25);
    const future = await app.request(`${CT}?carousel_task_id=task-1&start_time=${formatUtcSecond(NOW_S - 60_000)}&end_time=${formatUtcSecond(NOW_S + H)}`);
    expect((future.json as { end_time: string }).end_time).toBe(formatUtcSecond(NOW_S));
    expect((future.json as { audio_bitrate_list: number[] }).audio_bitrate_list).toHaveLength(60);
  });

  it('accepts a span of exactly 3 hours', async () => {
    const r = await app.request(`${CT}?carousel_task_id=task-1&start_time=${formatUtcSecond(NOW_S - 3 * H)}&end_time=${formatUtcSecond(NOW_S)}`);
    expect(r.status).toBe(200);
    expect((r.json as { video_bitrate_list: number[] }).video_bitrate_list).toHaveLength(10800);
  });
});

describe('routing and envelope', () => {
  it('answers unknown paths with APIGW.0101', async () => {
    // `/` is the web dashboard (test/dashboard-serve.test.ts).
    for (const path of ['/nope', '/v2', '/v2/p1/stats', '/v2/p1/stats/httpcodes/extra', '/v3/p1/stats/httpcodes']) {
      const r = await app.request(path);
      expect({ path, status: r.status, body: r.json }).toEqual({
        path, status: 404,
        body: { error_code: 'APIGW.0101', error_msg: 'The API does not exist or has not been published in the environment' },
      });
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('answers URLs that cannot be decoded like unknown paths, with a request id', async () => {
    for (const path of ['/v2/%zz/stats/httpcodes', '/%', '/v2/p1/stats/%E4%BE']) {
      const r = await app.request(path);
      expect({ path, status: r.status, body: r.json }).toEqual({
        path, status: 404,
        body: { error_code: 'APIGW.0101', error_msg: 'The API does not exist or has not been published in the environment' },
      });
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('answers requests the HTTP parser rejects in the envelope too', async () => {
    const raw = (payload: string): Promise<string> => new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(app.url).port), '127.0.0.1', () => socket.end(payload));
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString()));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
    const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1.1 431 /);
    expect(big).toMatch(/\r\nX-Request-Id: [0-9a-f]{32}\r\n/);
    expect(big).toContain('{"error_code":"LIVE.100011001","error_msg":"Invalid request parameter: headers"}');
    const junk = await raw('\u0000\u0001 garbage\r\n\r\n');
    expect(junk).toMatch(/^HTTP\/1.1 400 /);
    expect(junk).toContain('{"error_code":"LIVE.100011001","error_msg":"Invalid request parameter: request"}');
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('answers a known path with the wrong method with LIVE.100011011', async () => {
    for (const [method, path] of [['POST', HC], ['DELETE', CT], ['PUT', HC], ['PATCH', CT], ['POST', '/healthz']] as const) {
      const r = await app.request(`${path}?play_domains=a.com`, { method, body: method === 'DELETE' ? undefined : '{"x":1}', headers: { 'content-type': 'application/xml' } });
      expect({ method, path, status: r.status, body: r.json }).toEqual({
        method, path, status: 400, body: { error_code: 'LIVE.100011011', error_msg: 'The HTTP method is not supported for this API' },
      });
    }
  });

  it('rejects an invalid project id', async () => {
    await expectInvalid('/v2/a%20b/stats/httpcodes?play_domains=a.com', 'project_id');
    await expectInvalid(`/v2/${'p'.repeat(65)}/stats/httpcodes?play_domains=a.com`, 'project_id');
  });

  it('gives every response its own request id', async () => {
    const ids = new Set<string>();
    for (const path of [`${HC}?play_domains=a.com`, `${HC}`, '/nope', '/healthz']) {
      ids.add((await app.request(path)).headers.get('x-request-id') ?? '');
    }
    expect(ids.size).toBe(4);
  });

  it('survives hostile query strings', async () => {
    await expectInvalid(`${HC}?play_domains=${','.repeat(5000)}`, 'play_domains');
    await expectInvalid(`${HC}?play_domains=${'a.com,'.repeat(2000)}b.com&play_domains=${'c'.repeat(300)}`, 'play_domains');
    await expectInvalid(`${HC}?play_domains=a.com&code=${'%00'.repeat(100)}`, 'code');
    await expectInvalid(`${HC}?play_domains=%00a.com`, 'play_domains');
    expect((await app.request(`${HC}?play_domains=a.com&&&=&x=%&=y`)).status).toBe(200);
    expect((await app.request('/healthz')).status).toBe(200);
  });
});
