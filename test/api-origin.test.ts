import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  bitrateSpec, framerateSpec, historySpec, onlineSpec, streamCountSpec, streamDetailSpec, upBandwidthSpec, upStreamDetailSpec,
} from '../src/api/routes/origin-spec.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { ORIGIN_NOW, originQuality, originQueries, originSessions, originUpBytes, PUSH } from './fixtures/origin.js';

/**
 * The eight publish-side operations over real HTTP on a real SQLite file: exact answers (windows, paging,
 * slots, runs split at breaks), contract edges with exact error JSON. The expected numbers are worked out
 * by hand from test/fixtures/origin.ts.
 */
const M = 60_000;
const H = 3_600_000;
const ts = formatUtcSecond;
const w = (from: number, to: number): string => `start_time=${ts(from)}&end_time=${ts(to)}`;
const invalid = (name: string) => ({ error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${name}` });

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => ORIGIN_NOW + 250 });
  await app.store.writeOrigin({ sessions: originSessions(), upBytes: originUpBytes() });
  await app.store.writeQuality(originQuality());
});
afterAll(async () => app.close());

async function ok(path: string): Promise<unknown> {
  const r = await app.request(path);
  expect({ path, status: r.status, body: r.status === 200 ? 'ok' : r.json }).toEqual({ path, status: 200, body: 'ok' });
  expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return r.json;
}

describe('exact answers', () => {
  it('ListLiveStreamsOnline (v1 path): open sessions, newest first, paged; request_id is the X-Request-Id', async () => {
    const r = await app.request(`/v1/p1/realtime/streams?publish_domain=${PUSH.toUpperCase()}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      total_page: 1, total_num: 2, offset: 0, limit: 10, request_id: r.headers.get('x-request-id'),
      streams: [
        { publish_domain: PUSH, app: 'live', stream: 'cam1', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500, resolution: '1280x720', client_ip: '203.0.113.5', start_time: '2026-11-20T10:00:00Z' },
        { publish_domain: PUSH, app: 'live', stream: 'cam2', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 30, bitrate: 820, resolution: '640x360', client_ip: '203.0.113.5', start_time: '2026-11-20T09:31:00Z' },
      ],
    });
    expect(await ok(`/v1/p1/realtime/streams?publish_domain=${PUSH}&offset=1&limit=1`)).toMatchObject({ total_page: 2, total_num: 2, offset: 1, limit: 1, streams: [{ stream: 'cam2' }] });
    expect(await ok(`/v1/p1/realtime/streams?publish_domain=${PUSH}&offset=2&limit=1`)).toMatchObject({ total_page: 2, total_num: 2, streams: [] });
    expect(await ok(`/v1/p2/realtime/streams?publish_domain=${PUSH}`)).toMatchObject({ total_num: 1 });
  });

  it('ListHistoryStreams: sessions overlapping the default day, newest first; open ones end at now', async () => {
    expect(await ok(`/v2/p1/stats/history/streams?domain=${PUSH}`)).toEqual({
      history_stream_list: [
        { domain: PUSH, app: 'live', stream: 'relay1', type: 1, video_codec: 'HEVC', audio_codec: '', client_ip: '198.51.100.7', start_time: '2026-11-20T10:30:00Z', end_time: '2026-11-20T11:30:00Z' },
        { domain: PUSH, app: 'live', stream: 'cam1', type: 0, video_codec: 'H264', audio_codec: 'AAC', client_ip: '203.0.113.5', start_time: '2026-11-20T10:00:00Z', end_time: '2026-11-20T12:00:00Z' },
        { domain: PUSH, app: 'live', stream: 'cam2', type: 0, video_codec: 'H264', audio_codec: 'AAC', client_ip: '203.0.113.5', start_time: '2026-11-20T09:31:00Z', end_time: '2026-11-20T12:00:00Z' },
        { domain: PUSH, app: 'live', stream: 'cam2', type: 0, video_codec: 'H264', audio_codec: 'AAC', client_ip: '203.0.113.5', start_time: '2026-11-20T09:00:00Z', end_time: '2026-11-20T09:30:00Z' },
      ],
      total: 4,
    });
    // [NOW - 26 h, NOW - 2 h): s5 (other domain) overlaps; s4 starts after the end; s1 starts at the end (half-open)
    const page = await ok(`/v2/p1/stats/history/streams?domain=${PUSH},other.example.com&limit=2&offset=1&${w(ORIGIN_NOW - 26 * H, ORIGIN_NOW - 2 * H)}`) as { total: number; history_stream_list: Array<{ stream: string }> };
    expect([page.total, page.history_stream_list.map((s) => s.stream)]).toEqual([3, ['x']]);
  });

  it('ShowStreamCount: per 5-minute slot the most streams at once (a stream ending as another starts is not at once)', async () => {
    const body = await ok(`/v2/p1/stats/stream-count?publish_domains=${PUSH}&${w(ORIGIN_NOW - 4 * H, ORIGIN_NOW)}`) as { data_list: Array<{ value: number; time: string }> };
    const expected = [...Array(12).fill(0), ...Array(12).fill(1), ...Array(6).fill(2), ...Array(12).fill(3), ...Array(6).fill(2)];
    expect(body.data_list).toEqual(expected.map((value, i) => ({ value, time: ts(ORIGIN_NOW - 4 * H + i * 300_000) })));
  });

  it('ShowUpBandwidth: input bytes x 8 / slot seconds, by type, region and isp', async () => {
    const v = async (qs: string): Promise<number[]> =>
      ((await ok(`/v2/p1/stats/up-bandwidth/detail?publish_domains=${PUSH}&${qs}`)) as { data_list: Array<{ value: number }> }).data_list.map((e) => e.value);
    expect(await v(w(ORIGIN_NOW - H, ORIGIN_NOW))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1_500_000, 2_320_000, 0, 0]);
    expect(await v(`region=BJ&isp=CUCC&${w(ORIGIN_NOW - H, ORIGIN_NOW)}`)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 820_000, 0, 0]);
    expect(await v(`type=RELAY&interval=3600&${w(ORIGIN_NOW - 2 * H, ORIGIN_NOW)}`)).toEqual([0, 83_333]);
  });

  const qs = `app=live&stream=cam1&${w(ORIGIN_NOW - 11 * M, ORIGIN_NOW - 7 * M)}`;
  const runs = (pick: (i: number) => number) => [
    { start_time: '2026-11-20T11:50:00Z', end_time: '2026-11-20T11:51:00Z', data_list: Array.from({ length: 60 }, (_, i) => pick(i)) },
    { start_time: '2026-11-20T11:51:05Z', end_time: '2026-11-20T11:52:00Z', data_list: Array.from({ length: 55 }, (_, i) => pick(i + 65)) },
  ];
  const id = { publish_domain: PUSH, app: 'live', stream: 'cam1' };

  it('ListSingleStreamBitrate and ListSingleStreamFramerate: one entry per unbroken run', async () => {
    expect(await ok(`/v2/p1/stats/stream/bitrate?domain=${PUSH}&${qs}`)).toEqual({ bitrate_info_list: runs((i) => 1400 + i).map((r) => ({ ...id, ...r })) });
    expect(await ok(`/v2/p1/stats/stream/bitrate?domain=${PUSH}&${qs}&type=AUDIO`)).toEqual({ bitrate_info_list: runs(() => 128).map((r) => ({ ...id, ...r })) });
    expect(await ok(`/v2/p1/stats/stream/framerate?domain=${PUSH}&${qs}`)).toEqual({ framerate_info_list: runs((i) => 24 + (i % 3)).map((r) => ({ ...id, ...r })) });
    expect(await ok(`/v2/p1/stats/stream/framerate?domain=${PUSH}&app=live&stream=nothing`)).toEqual({ framerate_info_list: [] });
  });

  it('ListSingleStreamDetail and ListUpStreamDetail', async () => {
    expect(await ok(`/v2/p1/stats/stream-detail?publish_domain=${PUSH}&${qs}`)).toEqual({
      ...id, video_framerate: runs((i) => 24 + (i % 3)), video_bitrate: runs((i) => 1400 + i),
    });
    expect(await ok(`/v2/p1/stats/up-stream/detail?publish_domain=${PUSH}&${qs}`)).toEqual({
      ...id,
      data: [
        { time: '2026-11-20T11:50:00Z', fps: 25, rate: 1558, delay: 33, gop_duration: 2000, last_video_pts: 659_000, last_audio_pts: 658_990, last_video_audio_pts_diff: 10 },
        { time: '2026-11-20T11:51:00Z', fps: 25, rate: 1620, delay: 30, gop_duration: 2000, last_video_pts: 719_000, last_audio_pts: 718_990, last_video_audio_pts_diff: 10 },
      ],
    });
  });

  it('every parity query answers 200 with a body the OpenAPI response schema accepts', async () => {
    const specs = [onlineSpec, historySpec, streamCountSpec, upBandwidthSpec, bitrateSpec, framerateSpec, streamDetailSpec, upStreamDetailSpec].map((f) => f('x'));
    const ajv = new Ajv2020({ strict: true });
    const byPath: Array<[string, ReturnType<typeof ajv.compile>]> = [
      ['/realtime/streams', 0], ['/history/streams', 1], ['/stream-count', 2], ['/up-bandwidth/detail', 3], ['/stream/bitrate', 4],
      ['/stream/framerate', 5], ['/stream-detail', 6], ['/up-stream/detail', 7],
    ].map(([p, i]) => [p as string, ajv.compile(specs[i as number]?.responses[200]?.content?.['application/json']?.schema ?? {})]);
    for (const path of originQueries()) {
      const body = await ok(path);
      const validate = byPath.find(([p]) => path.split('?')[0]?.endsWith(p))?.[1];
      expect(validate, path).toBeDefined();
      expect(validate?.(body) ? [] : validate?.errors, path).toEqual([]);
    }
  });
});

describe('contract edges, exact error JSON', () => {
  const cases: Array<[string, string]> = [
    ['/v1/p1/realtime/streams', 'publish_domain'],
    ['/v1/p1/realtime/streams?publish_domain=a.com&limit=101', 'limit'],
    ['/v1/p1/realtime/streams?publish_domain=a.com&offset=-1', 'offset'],
    ['/v2/p1/stats/history/streams', 'domain'],
    [`/v2/p1/stats/history/streams?domain=a.com&${w(ORIGIN_NOW - 24 * H - 1000, ORIGIN_NOW)}`, 'start_time'],
    [`/v2/p1/stats/history/streams?domain=${Array.from({ length: 101 }, (_, i) => `d${i}.com`).join(',')}`, 'domain'],
    ['/v2/p1/stats/stream-count?publish_domains=a.com&end_time=2026-11-20T12:00:00', 'end_time'],
    [`/v2/p1/stats/stream-count?publish_domains=a.com&${w(ORIGIN_NOW - 31 * 24 * H - 1000, ORIGIN_NOW)}`, 'start_time'],
    ['/v2/p1/stats/up-bandwidth/detail?publish_domains=a.com&type=PUSH', 'type'],
    ['/v2/p1/stats/up-bandwidth/detail?publish_domains=a.com&interval=600', 'interval'],
    ['/v2/p1/stats/up-bandwidth/detail?publish_domains=a.com&region=ZZ', 'region'],
    ['/v2/p1/stats/stream/bitrate?domain=a.com&app=live', 'stream'],
    ['/v2/p1/stats/stream/bitrate?domain=a.com&app=live&stream=s&type=video', 'type'],
    ['/v2/p1/stats/stream/framerate?publish_domain=a.com&app=live&stream=s', 'domain'],
    [`/v2/p1/stats/stream-detail?publish_domain=a.com&app=live&stream=s&${w(ORIGIN_NOW - 9 * 24 * H, ORIGIN_NOW - 9 * 24 * H + H)}`, 'start_time'],
    ['/v2/p1/stats/up-stream/detail?publish_domain=a.com&app=a%2Fb&stream=s', 'app'],
  ];
  it.each(cases)('%s -> 400 %s', async (path, name) => {
    const r = await app.request(path);
    expect({ status: r.status, body: r.json }).toEqual({ status: 400, body: invalid(name) });
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });
  it('another method on the v1 path is LIVE.100011011', async () => {
    const r = await app.request(`/v1/p1/realtime/streams?publish_domain=${PUSH}`, { method: 'POST' });
    expect({ status: r.status, body: r.json }).toEqual({ status: 400, body: { error_code: 'LIVE.100011011', error_msg: 'The HTTP method is not supported for this API' } });
  });
});
