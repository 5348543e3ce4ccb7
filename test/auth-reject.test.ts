import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthApp, type AuthApp } from './helpers/auth-app.js';
import { rawRequest, sdkClient, sdkGet, sdkQueryString, signWithSdk, type Answer, type Query } from './helpers/huawei-sdk.js';

/** Every altered variant of a request the official SDK signed is refused with 401. */
let t: AuthApp;
const PATH_A = '/v2/proj-a/stats/httpcodes';
const QUERY: Query = { play_domains: ['play.example.com', 'bücher.example'] };
const HTTPCODES = '/v2/{project_id}/stats/httpcodes';

beforeAll(async () => {
  t = await startAuthApp();
});

afterAll(async () => {
  await t.close();
});

function expectAuthFailed(res: Answer): void {
  expect(res.status).toBe(401);
  expect(res.errorCode).toBe('LIVE.100011002');
  // The same words whatever was wrong: no hint for the caller.
  expect(res.body.error_msg).toBe('Authentication failed');
}

const signedGet = (query: Query = QUERY, path = PATH_A, headers?: Record<string, string>) =>
  signWithSdk(t.a, { method: 'GET', baseUrl: t.url, path, query, headers });

const sdkDate = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString().replace(/[-:]|\.\d{3}/g, '');

describe('AK/SK rejections (401 LIVE.100011002)', () => {
  it('control: the unaltered signed request is accepted', async () => {
    const res = await rawRequest(t.url, { method: 'GET', target: `${PATH_A}?${sdkQueryString(QUERY)}`, headers: signedGet() });
    expect(res.status).toBe(200);
  });

  it('wrong SK and unknown AK, through the SDK client', async () => {
    expectAuthFailed(await sdkGet(sdkClient(t.url, { ak: t.a.ak, sk: t.b.sk, projectId: 'proj-a' }), HTTPCODES, QUERY));
    expectAuthFailed(await sdkGet(sdkClient(t.url, { ak: 'UNKNOWNAK00000000000', sk: t.a.sk, projectId: 'proj-a' }), HTTPCODES, QUERY));
  });

  it('a query value changed after signing', async () => {
    const headers = signedGet();
    const target = `${PATH_A}?${sdkQueryString({ play_domains: ['play.example.com', 'bucher.example'] })}`;
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target, headers }));
  });

  it('a parameter added after signing', async () => {
    const target = `${PATH_A}?${sdkQueryString(QUERY)}&region=GD`;
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target, headers: signedGet() }));
  });

  it('a repeated value dropped after signing', async () => {
    const target = `${PATH_A}?${sdkQueryString({ play_domains: 'play.example.com' })}`;
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target, headers: signedGet() }));
  });

  it('the path changed after signing (other endpoint; other project)', async () => {
    const headers = signedGet({ carousel_task_id: 't1' }, '/v2/proj-a/stats/carousel-task/detail');
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target: `${PATH_A}?carousel_task_id=t1`, headers }));
    const headers2 = signedGet();
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target: `/v2/proj-b/stats/httpcodes?${sdkQueryString(QUERY)}`, headers: headers2 }));
  });

  it('a signed header changed after signing (X-Project-Id, Host)', async () => {
    const headers = signedGet(QUERY, PATH_A, { 'X-Project-Id': 'proj-a' });
    const target = `${PATH_A}?${sdkQueryString(QUERY)}`;
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target, headers: { ...headers, 'X-Project-Id': 'proj-b' } }));
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target, headers: { ...headers, host: 'localhost:1' } }));
  });

  it('the body changed after signing (POST route), and UNSIGNED-PAYLOAD with a body', async () => {
    const path = '/ingest/proj-a/echo';
    const data = { lines: ['GET /a 200'] };
    const headers = signWithSdk(t.a, { method: 'POST', baseUrl: t.url, path, data });
    expect((await rawRequest(t.url, { method: 'POST', target: path, headers, body: JSON.stringify(data) })).status).toBe(200);
    expectAuthFailed(await rawRequest(t.url, { method: 'POST', target: path, headers, body: JSON.stringify({ lines: ['GET /a 500'] }) }));
    expectAuthFailed(await rawRequest(t.url, { method: 'POST', target: path, headers, body: '' }));
    // The SDK marks non-JSON bodies UNSIGNED-PAYLOAD: refused, as the body would not be covered.
    const unsigned = signWithSdk(t.a, { method: 'POST', baseUrl: t.url, path, headers: { 'content-type': 'text/plain', 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' } });
    expectAuthFailed(await rawRequest(t.url, { method: 'POST', target: path, headers: unsigned, body: 'x' }));
    const declared = createHash('sha256').update('one').digest('hex');
    const lying = signWithSdk(t.a, { method: 'POST', baseUrl: t.url, path, headers: { 'content-type': 'text/plain', 'X-Sdk-Content-Sha256': declared } });
    expectAuthFailed(await rawRequest(t.url, { method: 'POST', target: path, headers: lying, body: 'two' }));
  });

  it('X-Sdk-Date 16 minutes off either way is refused; 14 minutes off is not', async () => {
    const target = `${PATH_A}?${sdkQueryString(QUERY)}`;
    for (const minutes of [16, -16]) {
      const headers = signedGet(QUERY, PATH_A, { 'X-Sdk-Date': sdkDate(minutes * 60_000) });
      expectAuthFailed(await rawRequest(t.url, { method: 'GET', target, headers }));
    }
    for (const minutes of [14, -14]) {
      const headers = signedGet(QUERY, PATH_A, { 'X-Sdk-Date': sdkDate(minutes * 60_000) });
      expect((await rawRequest(t.url, { method: 'GET', target, headers })).status).toBe(200);
    }
  });

  it('no credentials at all', async () => {
    expectAuthFailed(await rawRequest(t.url, { method: 'GET', target: `${PATH_A}?${sdkQueryString(QUERY)}`, headers: {} }));
  });
});

/** A small deterministic PRNG so the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function malformedAuthorizations(valid: string): string[] {
  const rnd = prng(20261123);
  const out = new Set<string>([
    '', ' ', 'SDK-HMAC-SHA256', 'Bearer abc', 'Basic dXNlcjpwYXNz', valid.toLowerCase(), valid.replace('SDK-HMAC-SHA256', 'SDK-HMAC-SHA1'),
    valid.replace(/Access=[^,]+/, 'Access='), valid.replace(/SignedHeaders=[^,]+/, 'SignedHeaders='), valid.replace(/Signature=.*/, 'Signature='),
    valid.replace('host;', ''), valid.replace(';x-sdk-date', ''), valid.replace('content-type;', 'content-type;content-type;'),
    valid.replace(/Signature=(.*)/, (_m, s: string) => `Signature=${s.toUpperCase()}`), valid + ', Extra=1', valid + 'a',
    valid.replace(', ', ',,'), valid.replace(/Signature=(.)/, 'Signature=g'), valid.replace(' Access', '\tAccess'), valid.replace(/Access=/, 'Access=A%20B'),
    valid.replace('SignedHeaders=', 'SignedHeaders=' + 'x;'.repeat(2000)), 'SDK-HMAC-SHA256 ' + 'A'.repeat(7000),
  ]);
  for (let i = 0; i < 60; i++) out.add(valid.slice(0, Math.floor(rnd() * valid.length)));
  for (let i = 0; i < 60; i++) {
    const chars = [...valid];
    const at = Math.floor(rnd() * chars.length);
    chars[at] = String.fromCharCode(0x21 + Math.floor(rnd() * 94));
    out.add(chars.join(''));
  }
  out.delete(valid);
  return [...out];
}

describe('malformed Authorization headers (fuzzed)', () => {
  it('every variant gets 401 LIVE.100011002, never a 5xx or a crash', async () => {
    const headers = signedGet();
    const valid = headers.Authorization ?? '';
    const target = `${PATH_A}?${sdkQueryString(QUERY)}`;
    const variants = malformedAuthorizations(valid);
    expect(variants.length).toBeGreaterThan(100);
    for (const authorization of variants) {
      const res = await rawRequest(t.url, { method: 'GET', target, headers: { ...headers, Authorization: authorization } });
      expect.soft(res.status, JSON.stringify(authorization.slice(0, 120))).toBe(401);
      expect.soft(res.errorCode).toBe('LIVE.100011002');
    }
    // The server is still answering normally afterwards.
    expect((await rawRequest(t.url, { method: 'GET', target, headers: signedGet() })).status).toBe(200);
  });
});

describe('tenant rules (401 LIVE.100011015)', () => {
  it('a valid credential for project A on project B\'s path', async () => {
    const res = await sdkGet(sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk }), HTTPCODES, QUERY, { pathParams: { project_id: 'proj-b' } });
    expect(res.status).toBe(401);
    expect(res.errorCode).toBe('LIVE.100011015');
  });

  it('X-Project-Id (signed) that differs from the path', async () => {
    const res = await sdkGet(sdkClient(t.url, { ak: t.a.ak, sk: t.a.sk, projectId: 'proj-a' }), HTTPCODES, QUERY, { headers: { 'X-Project-Id': 'proj-b' } });
    expect(res.status).toBe(401);
    expect(res.errorCode).toBe('LIVE.100011015');
  });
});

describe('failed attempts are logged with the request id, never with secrets', () => {
  it('log lines name the request id and reason and contain no SK or token', async () => {
    const res = await sdkGet(sdkClient(t.url, { ak: t.a.ak, sk: t.b.sk, projectId: 'proj-a' }), HTTPCODES, QUERY);
    expect(res.status).toBe(401);
    const bad = await rawRequest(t.url, { method: 'GET', target: PATH_A, headers: { 'X-Auth-Token': t.b.token.slice(0, -2) + 'xx' } });
    expect(bad.status).toBe(401);
    const failures = t.logLines.filter((l) => l.includes('authentication failed')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(failures.some((f) => f.reason === 'bad-signature' && f.ak === t.a.ak)).toBe(true);
    expect(failures.some((f) => f.reason === 'unknown-token')).toBe(true);
    for (const f of failures) expect(typeof f.request_id).toBe('string');
    const all = t.logLines.join('\n');
    for (const secret of [t.a.sk, t.b.sk, t.a.token, t.b.token, t.b.token.slice(0, -2) + 'xx']) expect(all).not.toContain(secret);
  });
});
