import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { allowAll } from '../src/api/auth.js';
import { startServer, type RunningServer } from '../src/server.js';
import { accessLine, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

const dir = tempDir('http');
let server: RunningServer;
const data = join(dir, 'data');

beforeAll(async () => {
  writeFileSync(join(dir, 'geo.csv'), '127.0.0.1/32,SH,CTCC\n');
  const config = resolveServeConfig({
    port: '0', data, 'log-level': 'silent', 'max-body-bytes': String(64 * 1024), 'geo-overrides': join(dir, 'geo.csv'),
  }, {});
  // Auth is tested below with the server's real credentials; these tests are about ingest.
  server = await startServer(config, { authenticate: allowAll });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (project: string, body: string | Buffer, headers: Record<string, string> = {}, query = '?format=combined_host'): Promise<Response> =>
  fetch(`${server.url}/ingest/v1/${project}/access-logs${query}`, {
    method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers },
  });

const now = (): number => Date.now() - 60_000;

async function codes(project: string, domain: string, extra = ''): Promise<Record<number, number>> {
  const res = await fetch(`${server.url}/v2/${project}/stats/httpcodes?play_domains=${domain}${extra}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ code: number; count: number }> }> };
  const out: Record<number, number> = {};
  for (const s of body.data_series) for (const c of s.http_codes) out[c.code] = (out[c.code] ?? 0) + c.count;
  return out;
}

describe('POST /ingest/v1/{project_id}/access-logs', () => {
  it('counts text lines, reports malformed ones with line numbers', async () => {
    const body = [
      accessLine(now(), { status: 200, host: 'A.example.com:8080' }),
      'this is not a log line',
      accessLine(now(), { status: 404, host: 'a.example.com' }),
      accessLine(now(), { status: 700, host: 'a.example.com' }),
      '',
      accessLine(now() - 30 * 86_400_000, { host: 'a.example.com' }),
    ].join('\n');
    const res = await post('p1', body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      accepted: 2, dropped: { parse: 1, bad_status: 1, too_old: 1 },
      errors: [{ line: 2, reason: 'parse' }, { line: 4, reason: 'bad_status' }, { line: 6, reason: 'too_old' }],
    });
    // Answered after the commit: the stats API sees it at once.
    expect(await codes('p1', 'a.example.com')).toEqual({ 200: 1, 404: 1 });
    expect(await codes('p1', 'a.example.com', '&region=SH&isp=CTCC')).toEqual({ 200: 1, 404: 1 });
  });

  it('lists at most the first 20 dropped lines', async () => {
    const body = [accessLine(now(), { host: 'cap.example.com' }), ...Array.from({ length: 25 }, (_, i) => `junk ${i}`)].join('\n');
    const res = await post('p8', body);
    const answer = (await res.json()) as { accepted: number; dropped: { parse: number }; errors: Array<{ line: number }> };
    expect(answer.accepted).toBe(1);
    expect(answer.dropped.parse).toBe(25);
    expect(answer.errors.map((e) => e.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  });

  it('accepts gzip bodies and JSON lines with a field mapping', async () => {
    const lines = [
      JSON.stringify({ c: { ip: '127.0.0.1' }, ts: now(), h: 'json.example.com', s: 503 }),
      JSON.stringify({ c: { ip: '127.0.0.1' }, ts: Math.floor(now() / 1000), h: 'json.example.com', s: '200' }),
      '{"broken":',
    ].join('\n');
    const res = await post('p2', gzipSync(lines), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      '?field=ip%3Dc.ip&field=time%3Dts&field=domain%3Dh&field=status%3Ds');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, dropped: { parse: 1 }, errors: [{ line: 3, reason: 'parse' }] });
    expect(await codes('p2', 'json.example.com')).toEqual({ 200: 1, 503: 1 });
  });

  it('413 for oversized bodies (raw or gunzipped) and nothing is counted', async () => {
    const line = accessLine(now(), { host: 'big.example.com' }) + '\n';
    const big = line.repeat(Math.ceil((70 * 1024) / line.length));
    const before = storedTotal(data, 'p3');
    const raw = await post('p3', big);
    expect(raw.status).toBe(413);
    expect(((await raw.json()) as { error_code: string }).error_code).toBe('LIVE.100011001');
    const bomb = await post('p3', gzipSync(big), { 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    expect(storedTotal(data, 'p3')).toBe(before);
  });

  it('X-Batch-Id: a retried batch is acknowledged but counted once', async () => {
    const body = [accessLine(now(), { host: 'batch.example.com' }), accessLine(now(), { host: 'batch.example.com', status: 302 })].join('\n');
    const first = await post('p4', body, { 'x-batch-id': 'b-0001' });
    expect(await first.json()).toMatchObject({ accepted: 2 });
    const again = await Promise.all([1, 2, 3].map(() => post('p4', body, { 'x-batch-id': 'b-0001' })));
    for (const r of again) expect(await r.json()).toMatchObject({ accepted: 2, duplicate: true });
    const other = await post('p4', body, { 'x-batch-id': 'b-0002' });
    expect(await other.json()).toMatchObject({ accepted: 2 });
    // The same id in another project is another batch.
    await post('p5', body, { 'x-batch-id': 'b-0001' });
    expect(await codes('p4', 'batch.example.com')).toEqual({ 200: 2, 302: 2 });
    expect(await codes('p5', 'batch.example.com')).toEqual({ 200: 1, 302: 1 });
  });

  it('concurrent first attempts of one batch count once', async () => {
    const body = accessLine(now(), { host: 'race.example.com' });
    const all = await Promise.all([1, 2, 3, 4].map(() => post('p6', body, { 'x-batch-id': 'race' })));
    const answers = await Promise.all(all.map((r) => r.json() as Promise<{ duplicate?: boolean }>));
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(await codes('p6', 'race.example.com')).toEqual({ 200: 1 });
  });

  it('rejects bad parameters, methods and encodings with contract errors', async () => {
    const bad = async (res: Promise<Response>, status: number, code: string, msg?: string): Promise<void> => {
      const r = await res;
      expect(r.status).toBe(status);
      const b = (await r.json()) as { error_code: string; error_msg: string };
      expect(b.error_code).toBe(code);
      if (msg) expect(b.error_msg).toBe(msg);
      expect(r.headers.get('x-request-id')).toBeTruthy();
    };
    await bad(post('p7', 'x', {}, ''), 400, 'LIVE.100011001', 'Invalid request parameter: format');
    await bad(post('p7', 'x', {}, '?format=nosuch'), 400, 'LIVE.100011001', 'Invalid request parameter: format');
    await bad(post('p7', 'x', { 'x-batch-id': 'bad id!' }), 400, 'LIVE.100011001', 'Invalid request parameter: X-Batch-Id');
    await bad(post('p7', 'not gzip', { 'content-encoding': 'gzip' }), 400, 'LIVE.100011001', 'Invalid request parameter: body');
    await bad(post('p7', 'x', { 'content-encoding': 'br' }), 400, 'LIVE.100011001', 'Invalid request parameter: Content-Encoding');
    await bad(post('bad project!', 'x'), 400, 'LIVE.100011001');
    await bad(fetch(`${server.url}/ingest/v1/p7/access-logs`), 400, 'LIVE.100011011');
    expect(storedTotal(data, 'p7')).toBe(0);
  });
});

describe('ingest goes through the auth hook', () => {
  it('with the real credentials: no or wrong token or another project gets 401, nothing counted', async () => {
    const d = tempDir('http-auth');
    const s = await startServer(resolveServeConfig({ port: '0', data: join(d, 'data'), 'log-level': 'silent' }, {}));
    try {
      const issued = s.auth.issued;
      expect(issued?.project_id).toBe('default');
      const body = accessLine(now(), { host: 'auth.example.com' });
      const send = (project: string, headers: Record<string, string>): Promise<Response> =>
        fetch(`${s.url}/ingest/v1/${project}/access-logs?format=combined_host`, { method: 'POST', body, headers });
      for (const [project, headers] of [['default', {}], ['default', { 'x-auth-token': 'nope' }], ['other', { 'x-auth-token': issued?.token ?? '' }]] as const) {
        const denied = await send(project, headers);
        expect(denied.status).toBe(401);
        expect(((await denied.json()) as { error_code: string }).error_code).toMatch(/^LIVE\.1000110(02|15)$/);
      }
      const ok = await send('default', { 'x-auth-token': issued?.token ?? '' });
      expect(ok.status).toBe(200);
      expect(storedTotal(join(d, 'data'), 'other')).toBe(0);
      expect(storedTotal(join(d, 'data'), 'default')).toBe(1);
    } finally {
      await s.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('ingest when the store fails a commit', () => {
  it('answers 503 and counts nothing of a refused batch; its retries (same X-Batch-Id or none) are counted once', async () => {
    const d = tempDir('http-fail');
    const { SqliteStore } = await import('../src/store/sqlite/store.js');
    const { Aggregator } = await import('../src/ingest/aggregator.js');
    const { buildApp } = await import('../src/api/app.js');
    const store = new SqliteStore(join(d, 'data', 'livestats.db'));
    await store.init();
    let failing = true;
    const realWrite = store.write.bind(store);
    // Fault injection on the real store: commits fail like a full disk would (the real one: faults-disk-full).
    store.write = async (batch) => {
      if (failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return realWrite(batch);
    };
    const aggregator = new Aggregator(store, { flushIntervalMs: 20 });
    aggregator.start();
    const app = buildApp({ store, aggregator, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/ingest/v1/pf/access-logs?format=combined_host`;
    try {
      const body = accessLine(now(), { host: 'fail.example.com' });
      // The first attempt and a concurrent retry with the same id share the refusal.
      const [first, concurrent] = await Promise.all([
        fetch(url, { method: 'POST', body, headers: { 'x-batch-id': 'f1' } }),
        fetch(url, { method: 'POST', body, headers: { 'x-batch-id': 'f1' } }),
      ]);
      for (const res of [first, concurrent]) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect(await res.json()).toEqual({
          error_code: 'LIVE.100011005',
          error_msg: 'Service unavailable: the store cannot accept writes (disk_full); nothing of this request was counted, retry later',
        });
      }
      const plain = await fetch(url, { method: 'POST', body });
      expect(plain.status).toBe(503);
      expect(storedTotal(join(d, 'data'), 'pf')).toBe(0);
      const health = await fetch(url.replace(/\/ingest.*/, '/healthz'));
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'degraded', reason: 'disk_full' });
      failing = false;
      expect(await waitFor(async () => (await fetch(url.replace(/\/ingest.*/, '/healthz'))).status === 200, 10_000)).toBe(true);
      const retry = await fetch(url, { method: 'POST', body, headers: { 'x-batch-id': 'f1' } });
      expect(retry.status).toBe(200);
      expect(await retry.json()).toEqual({ accepted: 1, dropped: {}, errors: [] });
      const again = await fetch(url, { method: 'POST', body, headers: { 'x-batch-id': 'f1' } });
      expect(await again.json()).toMatchObject({ accepted: 1, duplicate: true });
      const plainRetry = await fetch(url, { method: 'POST', body });
      expect(plainRetry.status).toBe(200);
      expect(storedTotal(join(d, 'data'), 'pf')).toBe(2);
      expect((await fetch(url.replace(/\/ingest.*/, '/healthz'))).status).toBe(200);
    } finally {
      await app.close();
      await aggregator.stop();
      await store.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
