import { join } from 'node:path';
import { buildApp, type AppOptions } from '../../src/api/app.js';
import { Aggregator, type AccessRecord } from '../../src/ingest/aggregator.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { SampleRow } from '../../src/store/types.js';
import { tempDir } from './tmp.js';

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface TestApp {
  url: string;
  store: SqliteStore;
  aggregator: Aggregator;
  /** Feeds records (and samples) through the real aggregator and flushes them to the SQLite file. */
  feed(records: Array<AccessRecord & { n?: number }>, samples?: SampleRow[]): Promise<void>;
  request(path: string, init?: RequestInit): Promise<HttpResult>;
  close(): Promise<void>;
}

/** The real app on a real SQLite file in a temp dir, listening on a free loopback port. */
export async function startTestApp(options: Partial<AppOptions> = {}): Promise<TestApp> {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'livestats.db'));
  await store.init();
  const aggregator = new Aggregator(store);
  const app = buildApp({ store, aggregator, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url, store, aggregator,
    async feed(records, samples = []) {
      for (const r of records) aggregator.add(r, r.n ?? 1);
      for (const s of samples) aggregator.addSample(s);
      await aggregator.flush();
    },
    async request(path, init) {
      const res = await fetch(url + path, init);
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async close() {
      await app.close();
      await aggregator.stop();
      await store.close();
      tmp.remove();
    },
  };
}
