import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorTo } from '../src/contract/time.js';
import { startAuthApp, type AuthApp } from './helpers/auth-app.js';
import { refusesMissingAndForeignCredentials } from './helpers/auth-cases.js';
import { sdkClient, sdkGet } from './helpers/huawei-sdk.js';
import { InMemoryTrafficStandIn, recordOf } from './helpers/traffic-stand-in.js';

/**
 * The four traffic/bandwidth endpoints behind the same authentication as the others: the official
 * Huawei Cloud SDK core (npm) signs calls to each (arrays as repeated keys, sorted by the SDK) and
 * gets 200s; missing or foreign credentials get the same 401s. The data comes from
 * InMemoryTrafficStandIn, a test-only stand-in for the traffic cube until it lands (it proves the
 * routes and auth, not storage).
 */
const M5 = 300_000;
let t: AuthApp;
const slot = floorTo(Date.now(), M5) - 2 * M5;
const standIn = new InMemoryTrafficStandIn().add(
  recordOf({ project: 'proj-a', domain: 'play.example.com', uri: '/live/s1.flv', ip: '203.0.113.1', time: slot + 1000, bytes: 37_500, region: 'GD', isp: 'CTCC' }),
  recordOf({ project: 'proj-a', domain: 'hls.example.com', uri: '/live/s1-3.ts', ip: '2001:db8::5', time: slot + 2000, bytes: 75_000, region: 'BJ', isp: 'CMCC' }),
  recordOf({ project: 'proj-b', domain: 'play.example.com', uri: '/live/s1.flv', ip: '203.0.113.1', time: slot + 1000, bytes: 1, region: 'GD', isp: 'CTCC' }),
);
const ENDPOINTS = [
  ['ListDomainTrafficDetail', '/v2/{project_id}/stats/traffic/detail'],
  ['ListBandwidthDetail', '/v2/{project_id}/stats/bandwidth/detail'],
  ['ListDomainTrafficSummary', '/v2/{project_id}/stats/traffic/summary'],
  ['ListDomainBandwidthPeak', '/v2/{project_id}/stats/bandwidth/peak'],
] as const;

beforeAll(async () => {
  t = await startAuthApp({ traffic: standIn });
});
afterAll(async () => t.close());

/** The sum of a list answer's values (data_list, traffic_list or bandwidth_list). */
const total = (body: Record<string, unknown>): number => {
  const list = (body.data_list ?? body.traffic_list ?? body.bandwidth_list) as Array<{ value: number }>;
  return list.reduce((s, e) => s + e.value, 0);
};

describe('official SDK client (HcClient) against the traffic endpoints', () => {
  const expected: Record<string, number> = {
    ListDomainTrafficDetail: 112_500, // bytes of the one slot with traffic
    ListBandwidthDetail: 3000, // 112500 x 8 / 300
    ListDomainTrafficSummary: 112_500, // 37500 + 75000 over both domains
    ListDomainBandwidthPeak: 3000, // 1000 + 2000: each domain's peak
  };
  it.each(ENDPOINTS)('%s: signed call with repeated-key arrays answers 200 with the right values', async (name, url) => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' });
    const res = await sdkGet(client, url, {
      play_domains: ['play.example.com', 'hls.example.com'],
      region: ['GD', 'BJ'],
      isp: ['CTCC', 'CMCC'],
      service_type: 'ALL',
    });
    expect(res.status).toBe(200);
    expect(total(res.body)).toBe(expected[name]);
  });

  it.each(ENDPOINTS)('%s: a bad parameter through the SDK gets the contract error', async (_name, url) => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' });
    const res = await sdkGet(client, url, { protocol: 'rtmp' });
    expect([res.status, res.errorCode, res.body.error_msg]).toEqual([400, 'LIVE.100011001', 'Invalid request parameter: protocol']);
  });
});

describe('same auth as the other endpoints', () => {
  const paths = ENDPOINTS.map(([, url]) => url.replace('{project_id}', 'proj-a'));
  refusesMissingAndForeignCredentials(() => t, paths);
  it.each(paths)("%s: project A's token answers 200 with only project A's traffic", async (path) => {
    const res = await fetch(`${t.url}${path}?play_domains=play.example.com`, { headers: { 'x-auth-token': t.a.token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(total(body)).toBe(path.includes('bandwidth') ? 1000 : 37_500);
  });
});
