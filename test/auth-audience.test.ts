import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthApp, type AuthApp } from './helpers/auth-app.js';
import { refusesMissingAndForeignCredentials } from './helpers/auth-cases.js';
import { sdkClient, sdkGet, type Query } from './helpers/huawei-sdk.js';

/**
 * The three audience endpoints behind the same authentication as the others: the official Huawei
 * Cloud SDK core (npm) signs calls to each (arrays as repeated keys, sorted by the SDK) and gets
 * 200s in the contract's shapes; missing or foreign credentials get the same 401s, before any
 * parameter is looked at.
 */
let t: AuthApp;
const yesterday = (): string => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
const lastMinute = (): string => `${new Date(Date.now() - 60_000).toISOString().slice(0, 16)}:00Z`;

const ENDPOINTS: Array<[string, string, () => Query]> = [
  ['ListUsersOfStream', '/v2/{project_id}/stats/user', () => ({
    play_domain: 'play.example.com', app: 'live', stream: 'cam 1', region: ['GD', 'BJ'], isp: ['CTCC', 'CMCC'], protocol: 'flv', interval: '300',
    service_type: 'ALL',
  })],
  ['ListPlayDomainStreamInfo', '/v2/{project_id}/stats/stream/play-info', () => ({ play_domains: ['play.example.com', 'hls.example.com'], time: lastMinute() })],
  ['ShowStreamPortrait', '/v2/{project_id}/stats/stream-portraits', () => ({ play_domain: 'play.example.com', stream: 'cam 1', time: yesterday() })],
];

beforeAll(async () => {
  t = await startAuthApp();
});
afterAll(async () => t.close());

describe('official SDK client (HcClient) against the audience endpoints', () => {
  it.each(ENDPOINTS)('%s: a signed call with repeated-key arrays answers 200 in the contract shape', async (name, url, query) => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' });
    const res = await sdkGet(client, url, query());
    expect(res.status).toBe(200);
    if (name === 'ListUsersOfStream') {
      const list = res.body.data_list as Array<{ value: number; time: string }>;
      expect(list.length).toBeGreaterThanOrEqual(7 * 288);
      expect(list.every((e) => e.value === 0 && /^\d{4}-\d\d-\d\dT\d\d:\d[05]:00Z$/.test(e.time))).toBe(true);
    } else if (name === 'ListPlayDomainStreamInfo') {
      expect(res.body).toMatchObject({ time: query().time, data_list: [] });
    } else {
      expect(res.body.stream_portraits).toEqual([{
        time: yesterday(), flow: 0, play_duration: 0, request_count: 0, user_count: 0, peak_user_count: 0, peak_bandwidth: 0, push_duration: 0,
      }]);
    }
  });

  it.each(ENDPOINTS)('%s: a bad parameter through the SDK gets the contract error naming it', async (_name, url, query) => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' });
    const bad: Query = url.endsWith('/user') ? { ...query(), interval: '120' } : { ...query(), time: '2020-01-01T00:00:30Z' };
    const res = await sdkGet(client, url, bad);
    expect([res.status, res.errorCode, res.body.error_msg])
      .toEqual([400, 'LIVE.100011001', `Invalid request parameter: ${url.endsWith('/user') ? 'interval' : 'time'}`]);
  });
});

describe('same auth as the other endpoints, before the parameters', () => {
  const paths = ENDPOINTS.map(([, url]) => url.replace('{project_id}', 'proj-a'));
  refusesMissingAndForeignCredentials(() => t, paths, '?interval=120&time=x');
});
