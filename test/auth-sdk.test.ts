import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeDomain } from '../src/contract/domain.js';
import { startAuthApp, totalCount, type AuthApp } from './helpers/auth-app.js';
import { rawRequest, sdkClient, sdkGet, sdkQueryString, signWithSdk, type Query } from './helpers/huawei-sdk.js';

/**
 * The official Huawei Cloud SDK core (npm) as the client: its own signer and HTTP client get
 * 200s from livestats, with arrays, values that need percent-encoding, with and without
 * X-Project-Id, and comma-separated arrays as the Python/Java SDKs send them.
 */
let t: AuthApp;
const HTTPCODES = '/v2/{project_id}/stats/httpcodes';
const CAROUSEL = '/v2/{project_id}/stats/carousel-task/detail';
const TASK = 'task~1:cam@east';
const IDN = 'bücher.example';

beforeAll(async () => {
  t = await startAuthApp();
  const time = Date.now() - 10 * 60_000;
  const idn = normalizeDomain(IDN) ?? '';
  t.aggregator.add({ project: 'proj-a', domain: 'play.example.com', time, region: 'GD', isp: 'CTCC', code: 200 }, 3);
  t.aggregator.add({ project: 'proj-a', domain: idn, time, region: 'BJ', isp: 'CMCC', code: 404 }, 2);
  t.aggregator.registerTask('proj-a', TASK);
  t.aggregator.addSample({ project: 'proj-a', taskId: TASK, second: Date.now() - 60_000, videoFps: 25, videoKbps: 2000, audioFps: 44, audioKbps: 128 });
  await t.aggregator.flush();
});

afterAll(async () => {
  await t.close();
});

describe('official SDK client (HcClient) against livestats', () => {
  it('signs repeated-key arrays, IDN domains and values needing encoding: 200 with the right counts', async () => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' });
    const query: Query = {
      play_domains: ['play.example.com', IDN, ' Other.Example.COM '],
      // Not a contract parameter (the handler ignores it) but signed and sent like one.
      note: ['a b', 'c+d', 'e~f*g', "h'(i)!", 'ü/ß?&=#%'],
      code: [200, 404].map(String),
    };
    const res = await sdkGet(client, HTTPCODES, query);
    expect(res.status).toBe(200);
    expect(totalCount(res.body)).toBe(5);
  });

  it('carousel detail with a task id containing ~ : @, without X-Project-Id (project only in the path)', async () => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk });
    const res = await sdkGet(client, CAROUSEL, { carousel_task_id: TASK }, { pathParams: { project_id: 'proj-a' } });
    expect(res.status).toBe(200);
    expect(res.body.video_framerate_list as number[]).toContain(25);
  });

  it('sends what the SDK signs: * ~ \' ( ) ! raw, space as %20, + as %2B, arrays sorted and repeated', () => {
    const q: Query = { k: ['b c', 'a+b', 't~*', "q'(!)"] };
    signWithSdk({ ak: 'X', sk: 'Y' }, { method: 'GET', baseUrl: t.url, path: '/v2/p/x', query: q });
    expect(sdkQueryString(q)).toBe("k=a%2Bb&k=b%20c&k=q'(!)&k=t~*");
  });

  it('X-Project-Id sent explicitly and matching the path is accepted', async () => {
    const client = sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk });
    const res = await sdkGet(client, HTTPCODES, { play_domains: 'play.example.com' }, {
      pathParams: { project_id: 'proj-a' }, headers: { 'X-Project-Id': 'proj-a' },
    });
    expect(res.status).toBe(200);
    expect(totalCount(res.body)).toBe(3);
  });

  it('a comma-separated array signed as one value (Python/Java SDK style) verifies with , and %2C on the wire', async () => {
    const query = { play_domains: `play.example.com,${IDN}` };
    const path = '/v2/proj-a/stats/httpcodes';
    const idnEncoded = encodeURIComponent(IDN);
    for (const wire of [`play.example.com,${idnEncoded}`, `play.example.com%2C${idnEncoded}`]) {
      const headers = signWithSdk(t.a, { method: 'GET', baseUrl: t.url, path, query });
      const res = await rawRequest(t.url, { method: 'GET', target: `${path}?play_domains=${wire}`, headers });
      expect(res.status).toBe(200);
      expect(totalCount(res.body)).toBe(5);
    }
    // Through the SDK's own client too (a string value: it sends the comma as %2C).
    const res = await sdkGet(sdkClient(t.url, { ...t.a, projectId: 'proj-a' }), HTTPCODES, query);
    expect(res.status).toBe(200);
    expect(totalCount(res.body)).toBe(5);
  });

  it('repeated values that arrive in another order than signed still verify (clients need not sort the wire)', async () => {
    const query = { play_domains: ['play.example.com', IDN] };
    const path = '/v2/proj-a/stats/httpcodes';
    const headers = signWithSdk(t.a, { method: 'GET', baseUrl: t.url, path, query });
    // The signer sorted them to [bücher.example, play.example.com]; send the other order.
    const target = `${path}?play_domains=play.example.com&play_domains=${encodeURIComponent(IDN)}`;
    const res = await rawRequest(t.url, { method: 'GET', target, headers });
    expect(res.status).toBe(200);
    expect(totalCount(res.body)).toBe(5);
  });

  it('a signed JSON body to a POST route verifies (the body bytes are hashed)', async () => {
    const path = '/ingest/proj-a/echo';
    const data = { lines: ['x', 'ü'] };
    const headers = signWithSdk(t.a, { method: 'POST', baseUrl: t.url, path, data });
    const res = await rawRequest(t.url, { method: 'POST', target: path, headers, body: JSON.stringify(data) });
    expect(res.status).toBe(200);
    expect(res.body.bytes).toBe(Buffer.byteLength(JSON.stringify(data)));
  });

  it('a body declared by X-Sdk-Content-Sha256 with its real hash verifies', async () => {
    const path = '/ingest/proj-a/echo';
    const body = 'line one\nline two\n';
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(body).digest('hex');
    const headers = signWithSdk(t.a, { method: 'POST', baseUrl: t.url, path, headers: { 'content-type': 'text/plain', 'X-Sdk-Content-Sha256': hash } });
    const res = await rawRequest(t.url, { method: 'POST', target: path, headers, body });
    expect(res.status).toBe(200);
  });
});
