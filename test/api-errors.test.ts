import { connect } from 'node:net';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { QueryTimeoutError, type Store } from '../src/store/types.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { waitFor } from './ingest-helpers.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The real SQLite store with one query made to fail or wait (no real part can fail on demand). */
function wrapStore(store: Store, queryHttpCodes: Store['queryHttpCodes']): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'queryHttpCodes') return queryHttpCodes;
      // Without its rendered-body shortcut, so the route goes through the faulty queryHttpCodes.
      if (prop === 'httpCodesBody') return undefined;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

it('answers 500 LIVE.100011005 without leaking the cause', async () => {
  app = await startTestApp();
  const inner = app.store;
  const failing = await startTestApp({
    store: wrapStore(inner, async () => {
      throw new Error('SQLITE_CORRUPT: /secret/path/livestats.db');
    }),
  });
  try {
    const r = await failing.request('/v2/p/stats/httpcodes?play_domains=a.com');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error_code: 'LIVE.100011005', error_msg: 'Internal error' });
    expect(r.text).not.toMatch(/secret|SQLITE/);
  } finally {
    await failing.close();
  }
});

it('answers 500 LIVE.100011005 when the store fails rendering the body, without leaking the cause', async () => {
  app = await startTestApp();
  const failing = await startTestApp({
    store: new Proxy(app.store, {
      get(target, prop, receiver) {
        if (prop === 'httpCodesBody') return async () => { throw new Error('SQLITE_IOERR: /secret/path/livestats.db'); };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }),
  });
  try {
    const r = await failing.request('/v2/p/stats/httpcodes?play_domains=a.com');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error_code: 'LIVE.100011005', error_msg: 'Internal error' });
    expect(r.text).not.toMatch(/secret|SQLITE/);
  } finally {
    await failing.close();
  }
});

it('answers 500 LIVE.100011007 with Retry-After when too many queries are in flight, logged at info (not as an error), then recovers', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const base = await startTestApp();
  const lines: string[] = [];
  let held = 0;
  const store = wrapStore(base.store, async (f) => {
    held++;
    await gate;
    return base.store.queryHttpCodes(f);
  });
  app = await startTestApp({ store, maxConcurrentQueries: 2, logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }) });
  const slow = [app.request('/v2/p/stats/httpcodes?play_domains=a.com'), app.request('/v2/p/stats/httpcodes?play_domains=b.com')];
  // Both hold their slot (they reached the store) before the third is asked: a condition, not a sleep.
  expect(await waitFor(() => held === 2, 30_000, 5)).toBe(true);
  const rejected = await app.request('/v2/p/stats/httpcodes?play_domains=c.com');
  expect(rejected.status).toBe(500);
  expect(rejected.json).toEqual({ error_code: 'LIVE.100011007', error_msg: 'Too many concurrent requests, retry later' });
  expect((await app.request('/healthz')).status).toBe(200);
  release();
  expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
  expect((await app.request('/v2/p/stats/httpcodes?play_domains=c.com')).status).toBe(200);
  // Checked once the held queries are released, so a failure here cannot hang the test.
  expect(rejected.headers.get('retry-after')).toBe('1');
  const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
  expect(logged.filter((l) => l.level >= 40)).toEqual([]);
  expect(logged.filter((l) => l.msg === 'query refused: every query slot busy')).toHaveLength(1);
  await base.close();
});

it('answers a store query timeout (the read pool\'s QueryTimeoutError, see read-pool.test) with a clear 500', async () => {
  const base = await startTestApp();
  app = await startTestApp({ store: wrapStore(base.store, async () => {
    throw new QueryTimeoutError(300);
  }) });
  const r = await app.request('/v2/p/stats/httpcodes?play_domains=a.com');
  expect(r.status).toBe(500);
  expect(r.json).toEqual({ error_code: 'LIVE.100011005', error_msg: 'Query timed out after 300 ms, retry later or narrow the query' });
  await base.close();
});

/** Sends raw bytes and returns status, headers (lower-case) and the parsed body of the answer. */
function rawHttp(url: string, text: string): Promise<{ status: number; headers: Record<string, string>; json: unknown }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => s.write(text));
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const end = out.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(out);
      if (end >= 0 && len && out.length >= end + 4 + Number(len[1])) {
        const [statusLine = '', ...lines] = out.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        resolve({ status: Number(statusLine.split(' ')[1]), headers, json: JSON.parse(out.slice(end + 4)) as unknown });
        s.destroy();
      }
    });
    s.on('error', reject);
  });
}

it('a path parameter longer than 200 characters: 400 LIVE.100011001 in the envelope, not a 500 or an error log', async () => {
  const lines: string[] = [];
  app = await startTestApp({ logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }) });
  for (const path of [`/v2/${'x'.repeat(250)}/stats/httpcodes?play_domains=a.com`, `/ingest/v1/p/carousel-tasks/${'t'.repeat(300)}/samples`]) {
    const r = await app.request(path, path.startsWith('/ingest') ? { method: 'POST', body: '[]' } : undefined);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error_code: 'LIVE.100011001', error_msg: 'Invalid request parameter: path' });
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  }
  expect(lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
});

it('a request without Host gets 400 in the envelope with a request id (not Node\'s bare 400)', async () => {
  app = await startTestApp();
  const r = await rawHttp(app.url, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
  expect(r.status).toBe(400);
  expect(r.json).toEqual({ error_code: 'LIVE.100011001', error_msg: 'Invalid request parameter: Host' });
  expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
});

it('TRACE, PROPFIND and other methods the router does not know, on a known path: 400 LIVE.100011011', async () => {
  app = await startTestApp();
  for (const [method, path] of [['TRACE', '/healthz'], ['PROPFIND', '/v2/p/stats/httpcodes'], ['MKCOL', '/ingest/v1/p/access-logs'],
    ['TRACE', '/v2/p/stats/carousel-task/detail?carousel_task_id=t']]) {
    const r = await rawHttp(app.url, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(r.status, `${method} ${path}`).toBe(400);
    expect(r.json).toEqual({ error_code: 'LIVE.100011011', error_msg: 'The HTTP method is not supported for this API' });
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  }
  // An unknown path stays an unknown API, whatever the method.
  const r = await rawHttp(app.url, 'PROPFIND /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  expect(r.status).toBe(404);
  expect(r.json).toEqual({ error_code: 'APIGW.0101', error_msg: 'The API does not exist or has not been published in the environment' });
});
