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

it('answers 500 LIVE.100011007 when too many queries are in flight, then recovers', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const base = await startTestApp();
  let held = 0;
  const store = wrapStore(base.store, async (f) => {
    held++;
    await gate;
    return base.store.queryHttpCodes(f);
  });
  app = await startTestApp({ store, maxConcurrentQueries: 2 });
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
