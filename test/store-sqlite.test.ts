import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { runStoreConformance } from './store-conformance.js';
import { runTrafficConformance } from './traffic-conformance.js';
import { runQualityConformance } from './quality-conformance.js';
import { runOriginConformance } from './origin-conformance.js';
import { runAudienceConformance } from './audience-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'livestats-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance('sqlite', async () => {
  const store = new SqliteStore(join(dir, `s${++n}.db`));
  await store.init();
  return store;
});

runTrafficConformance('sqlite', async () => {
  const store = new SqliteStore(join(dir, `t${++n}.db`));
  await store.init();
  return store;
});

runOriginConformance('sqlite', async () => {
  const store = new SqliteStore(join(dir, `o${++n}.db`));
  await store.init();
  return store;
});

runAudienceConformance('sqlite', async () => {
  const store = new SqliteStore(join(dir, `a${++n}.db`));
  await store.init();
  return store;
});

runQualityConformance('sqlite', async () => {
  const store = new SqliteStore(join(dir, `q${++n}.db`));
  await store.init();
  return store;
});
