import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { batch, cell, runStoreConformance, sample } from './store-conformance.js';
import { runTrafficConformance } from './traffic-conformance.js';
import { runQualityConformance } from './quality-conformance.js';
import { runOriginConformance } from './origin-conformance.js';
import { runAudienceConformance } from './audience-conformance.js';
import { audienceOf, D, DOMAIN, FORMAT, LINES } from './fixtures/audience-log.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

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

runTrafficConformance('clickhouse', async () => {
  const store = new ClickHouseStore({ url: server.url(`traffic_conformance_${++n}`) });
  await store.init();
  return store;
});

runOriginConformance('clickhouse', async () => {
  const store = new ClickHouseStore({ url: server.url(`origin_conformance_${++n}`) });
  await store.init();
  return store;
});

runAudienceConformance('clickhouse', async () => {
  const store = new ClickHouseStore({ url: server.url(`audience_conformance_${++n}`) });
  await store.init();
  return store;
});

runQualityConformance('clickhouse', async () => {
  const store = new ClickHouseStore({ url: server.url(`quality_conformance_${++n}`) });
  await store.init();
  return store;
});

describe('ClickHouse specifics', () => {
  it('applies a retried audience batch once (markers for cells; HLS viewers and users counted distinct)', async () => {
    const store = new ClickHouseStore({ url: server.url(`audience_retry_${++n}`) });
    await store.init();
    try {
      const b = batch({ audience: audienceOf(FORMAT, LINES).audience });
      await store.write(b);
      const before = await store.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D });
      // The same batch again as a retry (an attempt in doubt): nothing may count twice.
      await store['audience'].write(b.id, b.audience ?? [], true);
      expect(await store.streamPortrait({ project: 'p1', domain: DOMAIN, stream: undefined, day: D })).toEqual(before);
      // The known log without its line lacking $request_time (hand-computed in the fixture): 8,000 bytes, 8 - 1 lines.
      expect(before).toMatchObject({ flow: 8000, requests: 7, peakUsers: 4, users: 5 });
    } finally {
      await store.close();
    }
  });

  it('answers the same before and after background merges (sum/argMax at read time)', async () => {
    const db = `merges_${++n}`;
    const store = new ClickHouseStore({ url: server.url(db) });
    await store.init();
    const T0 = Date.UTC(2026, 10, 20);
    for (let i = 0; i < 5; i++) {
      await store.write(batch({
        counts: [cell(T0, 200, i + 1, { bytes: (i + 1) * 100 }), cell(T0 + 60_000, 404, 1, { bytes: 100 })],
        samples: [sample(T0, 10 + i), sample(T0 + 1000, 20)],
      }));
    }
    const filter = { project: 'p1', domains: ['a.example.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 120_000 };
    const counts = await store.queryHttpCodes(filter);
    const samples = await store.querySamples({ project: 'p1', taskId: 'task-1', from: T0, to: T0 + 2000 });
    expect(counts).toEqual([{ minute: T0, code: 200, count: 15 }, { minute: T0 + 60_000, code: 404, count: 5 }]);
    expect(samples.map((s) => s.videoFps)).toEqual([14, 20]);
    const rowsBefore = Number(await server.sql(`SELECT count() FROM ${db}.http_counts_bytes WHERE code > 0`));
    for (const t of ['http_counts_bytes', 'carousel_samples', 'carousel_tasks']) await server.sql(`OPTIMIZE TABLE ${db}.${t} FINAL`);
    const rowsAfter = Number(await server.sql(`SELECT count() FROM ${db}.http_counts_bytes WHERE code > 0`));
    expect([rowsBefore, rowsAfter]).toEqual([10, 2]);
    // The write markers survive merges (a retry must still find them), and bytes are summed by them.
    expect(Number(await server.sql(`SELECT sum(markers) FROM ${db}.http_counts_bytes WHERE batch != ''`))).toBe(5);
    expect(await server.sql(`SELECT code, count, bytes FROM ${db}.http_counts_bytes WHERE code > 0 ORDER BY code FORMAT CSV`))
      .toBe('200,15,1500\n404,5,500\n');
    expect(await store.queryHttpCodes(filter)).toEqual(counts);
    expect(await store.querySamples({ project: 'p1', taskId: 'task-1', from: T0, to: T0 + 2000 })).toEqual(samples);
    expect((await store.listTasks('p1'))[0]?.lastSampleAt).toBe(T0 + 1000);
    await store.close();
  });

  it('lets many nodes initialise the same fresh database at once', async () => {
    const url = server.url(`concurrent_${++n}`);
    const stores = Array.from({ length: 6 }, () => new ClickHouseStore({ url }));
    await Promise.all(stores.map((s) => s.init()));
    await stores[0]?.write(batch({ counts: [cell(Date.UTC(2026, 10, 20), 200, 1)] }));
    expect(Number(await server.sql(`SELECT sum(count) FROM concurrent_${n}.http_counts_bytes`))).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a cluster name the server does not know, with a clear error', async () => {
    const store = new ClickHouseStore({ url: server.url(`nocluster_${++n}`), cluster: 'missing_cluster' });
    await expect(store.init()).rejects.toThrow(/cluster "missing_cluster" is not in remote_servers/);
    await store.close();
  });
});
