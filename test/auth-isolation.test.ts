import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeCredential } from '../src/auth/credentials.js';
import { startAuthApp, totalCount, type AuthApp } from './helpers/auth-app.js';
import { rawRequest, sdkClient, sdkGet, type Answer } from './helpers/huawei-sdk.js';

/** Two projects with the same domain and the same task id: each sees only its own data. */
let t: AuthApp;
const DOMAIN = 'shared.example.com';
const TASK = 'shared-task';
const HTTPCODES = '/v2/{project_id}/stats/httpcodes';
const CAROUSEL = '/v2/{project_id}/stats/carousel-task/detail';

beforeAll(async () => {
  t = await startAuthApp();
  const time = Date.now() - 5 * 60_000;
  const second = Date.now() - 30_000;
  t.aggregator.add({ project: 'proj-a', domain: DOMAIN, time, region: 'SH', isp: 'CUCC', code: 200 }, 11);
  t.aggregator.add({ project: 'proj-b', domain: DOMAIN, time, region: 'SH', isp: 'CUCC', code: 200 }, 40);
  t.aggregator.add({ project: 'proj-b', domain: DOMAIN, time, region: 'SH', isp: 'CUCC', code: 502 }, 2);
  for (const [project, fps] of [['proj-a', 24], ['proj-b', 60]] as const) {
    t.aggregator.registerTask(project, TASK);
    t.aggregator.addSample({ project, taskId: TASK, second, videoFps: fps, videoKbps: fps * 100, audioFps: 43, audioKbps: 96 });
  }
  t.aggregator.registerTask('proj-a', 'only-in-a');
  await t.aggregator.flush();
});

afterAll(async () => {
  await t.close();
});

const fpsOf = (res: Answer): number[] => (res.body.video_framerate_list as number[]).filter((v) => v > 0);

describe('tenant isolation', () => {
  it('ListQueryHttpCode: each project counts only its own requests for the same domain', async () => {
    const a = await sdkGet(sdkClient(t.url, { ...t.a, projectId: 'proj-a' }), HTTPCODES, { play_domains: DOMAIN });
    const b = await sdkGet(sdkClient(t.url, { ...t.b, projectId: 'proj-b' }), HTTPCODES, { play_domains: DOMAIN });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(totalCount(a.body)).toBe(11);
    expect(totalCount(b.body)).toBe(42);
  });

  it('ListCarouselTaskDetail: the same task id shows each project its own samples', async () => {
    const a = await sdkGet(sdkClient(t.url, { ...t.a, projectId: 'proj-a' }), CAROUSEL, { carousel_task_id: TASK });
    const b = await sdkGet(sdkClient(t.url, { ...t.b, projectId: 'proj-b' }), CAROUSEL, { carousel_task_id: TASK });
    expect(fpsOf(a)).toEqual([24]);
    expect(fpsOf(b)).toEqual([60]);
  });

  it('a task of project A does not exist for project B', async () => {
    const b = await sdkGet(sdkClient(t.url, { ...t.b, projectId: 'proj-b' }), CAROUSEL, { carousel_task_id: 'only-in-a' });
    expect(b.status).toBe(404);
    expect(b.errorCode).toBe('LIVE.103011019');
  });

  it('the same isolation holds with tokens', async () => {
    const path = (p: string) => `/v2/${p}/stats/httpcodes?play_domains=${DOMAIN}`;
    const a = await rawRequest(t.url, { method: 'GET', target: path('proj-a'), headers: { 'X-Auth-Token': t.a.token } });
    const b = await rawRequest(t.url, { method: 'GET', target: path('proj-b'), headers: { 'X-Auth-Token': t.b.token } });
    expect([totalCount(a.body), totalCount(b.body)]).toEqual([11, 42]);
  });
});

describe('X-Auth-Token', () => {
  const get = (project: string, token: string, endpoint = 'httpcodes?play_domains=' + DOMAIN) =>
    rawRequest(t.url, { method: 'GET', target: `/v2/${project}/stats/${endpoint}`, headers: { 'X-Auth-Token': token } });

  it('valid on both endpoints', async () => {
    expect((await get('proj-a', t.a.token)).status).toBe(200);
    expect((await get('proj-a', t.a.token, `carousel-task/detail?carousel_task_id=${TASK}`)).status).toBe(200);
  });

  it('unknown or malformed: 401 LIVE.100011002', async () => {
    for (const token of ['lst_' + 'A'.repeat(43), t.a.token + 'x', 'x'.repeat(600), 'spaces in token', '']) {
      const res = await get('proj-a', token);
      expect(res.status).toBe(401);
      expect(res.errorCode).toBe('LIVE.100011002');
    }
  });

  it('valid for another project: 401 LIVE.100011015; X-Project-Id mismatch too', async () => {
    const res = await get('proj-b', t.a.token);
    expect([res.status, res.errorCode]).toEqual([401, 'LIVE.100011015']);
    const res2 = await rawRequest(t.url, {
      method: 'GET', target: `/v2/proj-a/stats/httpcodes?play_domains=${DOMAIN}`, headers: { 'X-Auth-Token': t.a.token, 'X-Project-Id': 'proj-b' },
    });
    expect([res2.status, res2.errorCode]).toEqual([401, 'LIVE.100011015']);
  });

  it('an invalid token next to a valid signature refuses the request', async () => {
    const client = sdkClient(t.url, { ...t.a, projectId: 'proj-a' });
    const res = await sdkGet(client, HTTPCODES, { play_domains: DOMAIN }, { headers: { 'X-Auth-Token': 'lst_nope' } });
    expect([res.status, res.errorCode]).toEqual([401, 'LIVE.100011002']);
  });

  it('revoked while the server runs: refused without a restart (AK and token)', async () => {
    expect((await get('proj-b', t.b.token)).status).toBe(200);
    expect(revokeCredential(t.dir, t.b.token_id)).toBe(true);
    expect(revokeCredential(t.dir, t.b.ak)).toBe(true);
    // Picked up within about a second; the deadline only catches a server that never sees the change.
    let status = 200;
    for (const end = Date.now() + 20_000; Date.now() < end && status === 200;) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await get('proj-b', t.b.token)).status;
    }
    expect(status).toBe(401);
    const sdk = await sdkGet(sdkClient(t.url, { ...t.b, projectId: 'proj-b' }), HTTPCODES, { play_domains: DOMAIN });
    expect([sdk.status, sdk.errorCode]).toEqual([401, 'LIVE.100011002']);
    // Project A's credentials are untouched.
    expect((await get('proj-a', t.a.token)).status).toBe(200);
  });
});
