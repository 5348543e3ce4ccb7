import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { NOT_BUILT_MESSAGE } from '../src/api/routes/dashboard.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { tempDir } from './helpers/tmp.js';

let app: TestApp | undefined;
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const d of dirs.splice(0)) d.remove();
});

/** A built dashboard on disk: index.html, a hashed script and stylesheet. */
function fakeBuild(): string {
  const d = tempDir('livestats-web-');
  dirs.push(d);
  mkdirSync(join(d.dir, 'assets'));
  writeFileSync(join(d.dir, 'index.html'), '<!doctype html><title>livestats</title><script src="/assets/index-abc.js"></script>');
  writeFileSync(join(d.dir, 'assets', 'index-abc.js'), `console.log(${JSON.stringify('x'.repeat(5000))});`);
  writeFileSync(join(d.dir, 'assets', 'index-abc.css'), 'body{margin:0}');
  return d.dir;
}

/** A raw GET whose path is sent exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url + '/', { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('serves index.html at / and the built assets, gzip when asked, immutable caching for hashed files', async () => {
  app = await startTestApp({ dashboardDir: fakeBuild() });
  const index = await app.request('/');
  expect(index.status).toBe(200);
  expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect(index.headers.get('x-content-type-options')).toBe('nosniff');
  expect(index.text).toContain('<title>livestats</title>');
  expect(index.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);

  const js = await fetch(`${app.url}/assets/index-abc.js`, { headers: { 'accept-encoding': 'identity' } });
  expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(js.headers.get('cache-control')).toContain('immutable');
  expect(js.headers.get('content-encoding')).toBeNull();
  expect((await js.text()).length).toBe(5000 + 16);

  const gz = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
    httpRequest(`${app?.url}/assets/index-abc.js`, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
  expect(gz.encoding).toBe('gzip');
  expect(gz.body.length).toBeLessThan(500);
  expect(gunzipSync(gz.body).toString()).toContain('xxxx');

  expect((await app.request('/assets/index-abc.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  expect((await app.request('/', { method: 'HEAD' })).status).toBe(200);
});

it('the API, health and the APIGW.0101 404 are untouched; nothing outside the bundle is reachable', async () => {
  app = await startTestApp({ dashboardDir: fakeBuild() });
  expect((await app.request('/healthz')).json).toMatchObject({ status: 'ok' });
  expect((await app.request('/v2/p/stats/httpcodes?play_domains=a.com')).status).toBe(200);
  const notFound = { error_code: 'APIGW.0101', error_msg: expect.any(String) as unknown };
  for (const path of ['/nope', '/assets/', '/assets/missing.js', '/index.html/x', '/v2/p/stats', '/dashboard', '/dashboard/config.jsonx']) {
    const r = await app.request(path);
    expect(r.status, path).toBe(404);
    expect(r.json, path).toEqual(notFound);
  }
  for (const path of ['/assets/../../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '/assets//index-abc.js/..']) {
    const r = await rawGet(app.url, path);
    expect(r.status, path).toBe(404);
    expect(r.body, path).not.toContain('"name": "livestats"');
  }
  const long = await app.request('/' + 'a'.repeat(10_000));
  expect(long.status).toBe(404);
  const post = await app.request('/', { method: 'POST', body: 'x' });
  expect(post.status).toBe(400);
  expect(post.json).toMatchObject({ error_code: 'LIVE.100011011' });
});

it('config.json: demo signs in by itself (with the token when one is set); otherwise not demo', async () => {
  app = await startTestApp({ dashboardDir: fakeBuild(), dashboard: { demo: true, project: 'demo', token: 'tok' } });
  const demo = await app.request('/dashboard/config.json');
  expect(demo.json).toEqual({ demo: true, project_id: 'demo', token: 'tok' });
  expect(demo.headers.get('cache-control')).toBe('no-store');
  await app.close();
  app = await startTestApp({ dashboardDir: fakeBuild(), dashboard: { demo: true } });
  expect((await app.request('/dashboard/config.json')).json).toEqual({ demo: true, project_id: 'demo', token: null });
  await app.close();
  app = await startTestApp({ dashboardDir: fakeBuild() });
  expect((await app.request('/dashboard/config.json')).json).toEqual({ demo: false });
});

it('a missing bundle: the server starts, logs one line, / explains, the API works', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const d = tempDir();
  dirs.push(d);
  app = await startTestApp({ dashboardDir: join(d.dir, 'dist'), logger });
  const r = await app.request('/');
  expect(r.status).toBe(503);
  expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(r.text).toBe(NOT_BUILT_MESSAGE);
  expect(r.text).toContain('npm run build');
  expect((await app.request('/v2/p/stats/httpcodes?play_domains=a.com')).status).toBe(200);
  expect((await app.request('/assets/index-abc.js')).json).toMatchObject({ error_code: 'APIGW.0101' });
  const warnings = lines.filter((l) => l.includes('dashboard not built'));
  expect(warnings).toHaveLength(1);
});
