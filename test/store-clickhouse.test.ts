import { afterAll, beforeAll } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { runStoreConformance } from './store-conformance.js';

let server: ClickHouseServer;
let n = 0;
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
});

runStoreConformance('clickhouse', async () => {
  const store = new ClickHouseStore({ url: server.url(`conformance_${++n}`) });
  await store.init();
  return store;
});
