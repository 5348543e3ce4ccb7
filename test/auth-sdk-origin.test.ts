import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtcSecond } from '../src/contract/time.js';
import { startAuthApp, type AuthApp } from './helpers/auth-app.js';
import { sdkClient, sdkGet, type Query } from './helpers/huawei-sdk.js';
import { ORIGIN_NOW, originQuality, originSessions, originUpBytes, PUSH } from './fixtures/origin.js';

/**
 * The official Huawei Cloud SDK core (npm) signs and sends calls to all eight publish-side operations,
 * ListLiveStreamsOnline on its v1 path, array parameters as the SDK sends them (repeated keys, sorted).
 * The fixture is moved to the last hour (whole hours, so its slots keep their shape), as the server's clock is real.
 */
const H = 3_600_000;
const M = 60_000;
let t: AuthApp;
let now0 = 0;

beforeAll(async () => {
  t = await startAuthApp();
  const shift = Math.floor((Date.now() - ORIGIN_NOW) / H) * H;
  now0 = ORIGIN_NOW + shift;
  await t.store.writeOrigin({
    sessions: originSessions().map((s) => ({ ...s, project: s.project === 'p1' ? 'proj-a' : s.project, start: s.start + shift, end: s.end === null ? null : s.end + shift })),
    upBytes: originUpBytes().map((b) => ({ ...b, project: b.project === 'p1' ? 'proj-a' : b.project, slot: b.slot + shift })),
  });
  await t.store.writeQuality(originQuality().map((q) => ({ ...q, project: 'proj-a', second: q.second + shift })));
});
afterAll(async () => t.close());

describe('official SDK client (HcClient) against the publish-side operations', () => {
  const series = (domainKey: string): Query => ({
    [domainKey]: PUSH, app: 'live', stream: 'cam1', start_time: formatUtcSecond(now0 - 11 * M), end_time: formatUtcSecond(now0 - 7 * M),
  });
  const calls: Array<[string, string, () => Query, (body: Record<string, unknown>) => unknown]> = [
    ['ListLiveStreamsOnline', '/v1/{project_id}/realtime/streams', () => ({ publish_domain: PUSH, offset: 0, limit: 1 }), (b) => [b.total_num, b.total_page, (b.streams as unknown[]).length]],
    ['ListHistoryStreams', '/v2/{project_id}/stats/history/streams', () => ({ domain: ['other.example.com', PUSH], limit: 100 }), (b) => b.total],
    ['ShowStreamCount', '/v2/{project_id}/stats/stream-count', () => ({ publish_domains: [PUSH, 'b.example.com'] }), (b) => Math.max(...(b.data_list as Array<{ value: number }>).map((e) => e.value))],
    ['ShowUpBandwidth', '/v2/{project_id}/stats/up-bandwidth/detail', () => ({ publish_domains: [PUSH], region: ['GD', 'BJ'], isp: ['CUCC', 'CTCC'] }), (b) => Math.max(...(b.data_list as Array<{ value: number }>).map((e) => e.value))],
    ['ListSingleStreamBitrate', '/v2/{project_id}/stats/stream/bitrate', () => ({ ...series('domain'), type: 'VIDEO' }), (b) => (b.bitrate_info_list as unknown[]).length],
    ['ListSingleStreamFramerate', '/v2/{project_id}/stats/stream/framerate', () => series('domain'), (b) => (b.framerate_info_list as unknown[]).length],
    ['ListSingleStreamDetail', '/v2/{project_id}/stats/stream-detail', () => series('publish_domain'), (b) => (b.video_bitrate as unknown[]).length],
    ['ListUpStreamDetail', '/v2/{project_id}/stats/up-stream/detail', () => series('publish_domain'), (b) => (b.data as unknown[]).length],
  ];
  const expected: Record<string, unknown> = {
    ListLiveStreamsOnline: [2, 2, 1], ListHistoryStreams: 4, ShowStreamCount: 3, ShowUpBandwidth: 2_320_000,
    ListSingleStreamBitrate: 2, ListSingleStreamFramerate: 2, ListSingleStreamDetail: 2, ListUpStreamDetail: 2,
  };
  it.each(calls)('%s: signed by the SDK, 200 with the data', async (op, path, query, pick) => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' });
    const res = await sdkGet(client, path, query());
    expect({ op, status: res.status }).toEqual({ op, status: 200 });
    expect(pick(res.body)).toEqual(expected[op]);
  });
  it('the other project\'s key is refused on the v1 path too (LIVE.100011015)', async () => {
    const client = sdkClient(t.url, { ak: t.b.ak, sk: t.b.sk });
    const res = await sdkGet(client, '/v1/{project_id}/realtime/streams', { publish_domain: PUSH }, { pathParams: { project_id: 'proj-a' } });
    expect({ status: res.status, code: res.errorCode, msg: res.body.error_msg }).toEqual({ status: 401, code: 'LIVE.100011015', msg: 'Project id check failed' });
  });
});
