import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, carouselSamples, FIXTURE_NOW, fixtureQueries } from './fixtures/traffic.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { originQuality, originQueries, originSessions, originUpBytes } from './fixtures/origin.js';
import { startNode, type Node } from './harness/nodes.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/** The same ingest through the SQLite and the ClickHouse store gives byte-identical API responses. */
describe('SQLite / ClickHouse parity', () => {
  let ch: ClickHouseServer;
  let sqlite: Node;
  let clickhouse: Node;

  beforeAll(async () => {
    ch = await startClickHouse();
    sqlite = await startNode({}, FIXTURE_NOW);
    clickhouse = await startNode({ store: 'clickhouse', 'clickhouse-url': ch.url('parity') }, FIXTURE_NOW);
    const log = accessLog(30_000);
    const samples = carouselSamples();
    for (const node of [sqlite, clickhouse]) {
      // Several flushes, so cells are added across batches, late data included.
      for (let i = 0; i < log.length; i += 7_500) {
        for (const r of log.slice(i, i + 7_500)) node.aggregator.add(r);
        for (const s of samples.slice(i / 10, (i + 7_500) / 10)) node.aggregator.addSample(s);
        await node.aggregator.flush();
      }
      for (const s of samples.slice(3_000)) node.aggregator.addSample(s);
      await node.aggregator.flush();
      // The publish side (issue 23): sessions and input bytes in two writes (bytes added across them), probe quality.
      const up = originUpBytes();
      await node.store.writeOrigin({ sessions: originSessions(), upBytes: up.slice(0, 2) });
      await node.store.writeOrigin({ sessions: [], upBytes: up.slice(2) });
      const quality = originQuality();
      await node.store.writeQuality(quality.slice(0, 50));
      await node.store.writeQuality(quality.slice(50));
    }
  });
  afterAll(async () => {
    await sqlite?.close();
    await clickhouse?.close();
    await ch?.destroy();
  });

  it.each(fixtureQueries())('%s', async (path) => {
    const a = await sqlite.get(path);
    const b = await clickhouse.get(path);
    expect(b.status).toBe(a.status);
    expect(b.body === a.body, 'byte-identical bodies').toBe(true);
    // The fixture really produced data for these queries (so equality is not trivially of empty answers).
    const hasData = /"count":[1-9]|_list":\[[^\]]*[1-9]/.test(a.body);
    expect(hasData).toBe(!path.includes('missing') && !path.includes('nothing'));
  });

  it.each(originQueries())('publish side: %s', async (path) => {
    const a = await sqlite.get(path);
    const b = await clickhouse.get(path);
    expect(a.status).toBe(200);
    expect(b.status).toBe(a.status);
    // ListLiveStreamsOnline echoes each answer's own request id: compared without it.
    const strip = (body: string): string => body.replace(/"request_id":"[0-9a-f]{32}"/, '"request_id":""');
    expect(strip(b.body) === strip(a.body), 'byte-identical bodies').toBe(true);
    expect(/"(total_num|total)":[1-9]|"value":[1-9]|"data_list":\[[1-9]|"fps":[1-9]/.test(a.body), 'the fixture has data for this query').toBe(true);
  });
});
