import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, carouselSamples, FIXTURE_NOW, fixtureQueries } from './fixtures/traffic.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { originQuality, originQueries, originSessions, originUpBytes } from './fixtures/origin.js';
import { startNode, type Node } from './harness/nodes.js';
import { requireTools } from './helpers/system-tools.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UsersFilter } from '../src/store/audience.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { TrafficRow } from '../src/store/traffic.js';
import type { Store } from '../src/store/types.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { seeded } from '../bench/lib/rng.js';
import { audienceOf, D, DOMAIN, FORMAT } from './fixtures/audience-log.js';
import { batch } from './store-conformance.js';
import { untilFromBlocks } from './helpers/block-stores.js';

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

  /**
   * Each path's ClickHouse answer must be byte-identical to the SQLite one (which has data), asked again
   * until `answered()` (a counter of answers from the blocks named `what`) went up during an ask, for 60 s at most.
   */
  async function sameUntil(paths: readonly string[], answered: () => number, what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (const path of paths) {
      const a = await sqlite.get(path);
      expect(a.status, path).toBe(200);
      expect(/"value":[1-9]/.test(a.body), `${path}: the data selects something`).toBe(true);
      for (;;) {
        const before = answered();
        const b = await clickhouse.get(path);
        expect(b.status, path).toBe(a.status);
        expect(b.body === a.body, `${path}: byte-identical bodies`).toBe(true);
        if (answered() > before) break;
        expect(Date.now() < deadline, `${path}: answered from ${what} within 60 s`).toBe(true);
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  }

  it('traffic and bandwidth with app, stream, region, isp, protocol or address family: identical also once answered from traffic cells', async () => {
    // Per-stream traffic of 5 closed hours (the fixture log has none), in two batches on both stores.
    const r = seeded(24);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const hour0 = FIXTURE_NOW - 6 * 3_600_000;
    // One row per cell, as ingest writes them (a batch never holds the same cell twice).
    const byCell = new Map<string, TrafficRow>();
    for (let i = 0; i < 4000; i++) {
      const row: TrafficRow = {
        project: 'proj-t', domain: pick(['play.example.com', 'hls.example.com']), app: pick(['live', 'edu']), stream: pick(['room-1', 'room-2', 'room-3']),
        protocol: pick(['flv', 'hls', 'other'] as const), region: pick(['GD', 'SH', 'BJ', 'ZJ'] as const), isp: pick(['CMCC', 'CTCC', 'OTHER'] as const),
        ipType: pick(['v4', 'v6', 'other'] as const), slot: hour0 + Math.floor(r() * 60) * 300_000,
        requests: 1 + Math.floor(r() * 20), bytes: 1 + Math.floor(r() * 5e8),
      };
      // A request whose URI names no stream is counted with protocol 'other' and no app or stream (TrafficRow).
      if (row.protocol === 'other') Object.assign(row, { app: '', stream: '' });
      byCell.set([row.domain, row.app, row.stream, row.protocol, row.region, row.isp, row.ipType, row.slot].join('/'), row);
    }
    const traffic = [...byCell.values()];
    for (const node of [sqlite, clickhouse]) {
      await node.store.write(batch({ traffic: traffic.slice(0, 2500) }));
      await node.store.write(batch({ traffic: traffic.slice(2500) }));
    }
    const base = '/v2/proj-t/stats';
    const w = `start_time=${formatUtcSecond(hour0)}&end_time=${formatUtcSecond(FIXTURE_NOW)}`;
    const paths = [
      `${base}/traffic/detail?play_domains=play.example.com&app=live&stream=room-1&region=GD,SH&isp=CMCC&${w}`,
      `${base}/bandwidth/detail?play_domains=play.example.com,hls.example.com&app=edu&stream=room-2&protocol=flv&interval=300&${w}`,
      `${base}/traffic/detail?play_domains=hls.example.com&app=live&stream=room-3&ip_type=v6&interval=3600&${w}`,
      `${base}/traffic/detail?play_domains=play.example.com,hls.example.com&region=BJ&isp=CTCC,OTHER&${w}`,
      `${base}/traffic/summary?play_domains=play.example.com,hls.example.com&app=live&stream=room-1&${w}`,
      `${base}/bandwidth/peak?play_domains=play.example.com,hls.example.com&region=SH&${w}`,
    ];
    const cells = (clickhouse.store as ClickHouseStore).trafficCells?.stats;
    expect(cells, 'the ClickHouse node keeps traffic cells').toBeDefined();
    // Asked until the ClickHouse answer came from the cells (built in the background after the first ask).
    await sameUntil(paths, () => cells?.fromBlocks ?? 0, 'traffic cells');
  }, 120_000);

  it('traffic and bandwidth totals of many domains: identical also once answered from traffic blocks (rendered by their worker)', async () => {
    // Per-domain traffic of 3 closed days and the hours since, on both stores, in two batches.
    const r = seeded(2424);
    const hour0 = Math.floor(FIXTURE_NOW / 86_400_000) * 86_400_000 - 3 * 86_400_000;
    const hours = (FIXTURE_NOW - hour0) / 3_600_000 - 1;
    const domains = Array.from({ length: 12 }, (_, i) => `d${i}.example.com`);
    const byCell = new Map<string, TrafficRow>();
    for (let i = 0; i < 6000; i++) {
      const row: TrafficRow = {
        project: 'proj-w', domain: domains[Math.floor(r() * domains.length)] as string, app: '', stream: '', protocol: 'other',
        region: 'GD', isp: 'CMCC', ipType: 'v4', slot: hour0 + Math.floor(r() * hours * 12) * 300_000,
        requests: 1 + Math.floor(r() * 20), bytes: 1 + Math.floor(r() * 5e9),
      };
      byCell.set(`${row.domain}/${row.slot}`, row);
    }
    const traffic = [...byCell.values()];
    for (const node of [sqlite, clickhouse]) {
      await node.store.write(batch({ traffic: traffic.slice(0, 3000) }));
      await node.store.write(batch({ traffic: traffic.slice(3000) }));
    }
    const base = '/v2/proj-w/stats';
    const w = `start_time=${formatUtcSecond(hour0)}&end_time=${formatUtcSecond(FIXTURE_NOW)}`;
    const inside = `start_time=${formatUtcSecond(hour0 + 7 * 300_000)}&end_time=${formatUtcSecond(FIXTURE_NOW - 3_600_000 - 300_000)}`;
    const all = domains.join(',');
    const paths = [
      `${base}/bandwidth/detail?play_domains=${all}&interval=300&${w}`,
      `${base}/traffic/detail?play_domains=${all}&interval=3600&${w}`,
      `${base}/traffic/detail?play_domains=${all}&interval=86400&${w}`,
      `${base}/bandwidth/detail?play_domains=${domains.slice(0, 3).join(',')}&interval=300&${inside}`,
      `${base}/traffic/detail?play_domains=${all}&interval=300&${inside}`,
    ];
    const blocks = (clickhouse.store as ClickHouseStore).trafficBlocks;
    expect(blocks, 'the ClickHouse node keeps traffic blocks').toBeDefined();
    // Asked until the ClickHouse answer was rendered by the traffic blocks' worker (built in the background after the first ask).
    await sameUntil(paths, () => blocks?.workerAnswers ?? 0, 'traffic blocks');
  }, 120_000);

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

/**
 * The audience cube's store reads: the same random log (FLV sessions of up to 2 hours across UTC
 * midnight, HLS viewers repeating across batches) written in the same batches to a SQLite and a
 * ClickHouse store answers every users/play-info/portrait read identically.
 */
describe('SQLite / ClickHouse parity: the audience cube', () => {
  let ch: ClickHouseServer;
  let dir: string;
  const stores: Store[] = [];
  const rand = seeded(2121);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  const domains = ['a.example.com', 'b.example.com', DOMAIN];
  const uris = ['/live/s1', '/live/s2', '/game/s1', '/game/x', '/show/y'];
  const H = 3_600_000;
  const start = D + 22 * H;

  beforeAll(async () => {
    ch = await startClickHouse();
    dir = mkdtempSync(join(tmpdir(), 'livestats-audience-parity-'));
    const sqlite = new SqliteStore(join(dir, 'a.db'));
    const clickhouse = new ClickHouseStore({ url: ch.url('audience_parity') });
    for (const s of [sqlite, clickhouse]) {
      await s.init();
      stores.push(s);
    }
    const ips = ['1.1.1.1', '5.5.5.5', '2.2.2.2', ...Array.from({ length: 40 }, (_, i) => `10.1.${i % 7}.${i}`), '2001:db8::1'];
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const end = start + Math.floor(rand() * 3 * H);
      const flv = rand() < 0.3;
      const uri = pick(uris) + (flv ? '.flv' : rand() < 0.5 ? '.m3u8' : `/${i}.ts`);
      const rt = flv ? (rand() * 2 * H) / 1000 : rand();
      lines.push(`${pick(ips)} ${(end / 1000).toFixed(3)} ${rt.toFixed(3)} 200 ${Math.floor(rand() * 5000)} ${pick(domains)} "GET ${uri} HTTP/1.1"`);
    }
    // Batches of random size, and a fifth of the HLS lines again in a later batch (another process, say).
    const again = lines.filter((l) => !l.includes('.flv') && rand() < 0.2);
    const all = [...lines, ...again];
    for (let i = 0; i < all.length;) {
      const n = 1 + Math.floor(rand() * 400);
      const audience = audienceOf(FORMAT, all.slice(i, i + n)).audience;
      for (const s of stores) await s.write(batch({ audience }));
      i += n;
    }
  }, 240_000);
  afterAll(async () => {
    for (const s of stores) await s.close();
    await ch?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers every read the same', async () => {
    const [a, b] = stores as [Store, Store];
    let nonZero = 0;
    for (let i = 0; i < 60; i++) {
      const slotMs = pick([60_000, 300_000]);
      const from = start + Math.floor(rand() * 3 * H / slotMs) * slotMs;
      const f: UsersFilter = {
        project: 'p1', domain: pick(domains), app: rand() < 0.3 ? pick(['live', 'game', 'show']) : undefined,
        stream: rand() < 0.3 ? pick(['s1', 's2', 'x']) : undefined, protocol: rand() < 0.4 ? pick(['flv', 'hls', 'rtmp'] as const) : undefined,
        regions: rand() < 0.3 ? [pick(['GD', 'BJ', 'OT'] as const)] : [], isps: rand() < 0.3 ? [pick(['CTCC', 'CMCC', 'OTHER'] as const)] : [],
        slotMs, from, to: from + slotMs * (1 + Math.floor(rand() * 40)),
      };
      const want = [...await a.usersSeries(f)];
      if (want.some((v) => v > 0)) nonZero++;
      expect([...await b.usersSeries(f)], JSON.stringify(f)).toEqual(want);
    }
    expect(nonZero).toBeGreaterThan(20);
    for (let m = 0; m < 3 * 60; m += 7) {
      const f = { project: 'p1', domains: m % 2 === 0 ? [] : [DOMAIN, 'a.example.com'], minute: start + m * 60_000 };
      expect(await b.playInfo(f)).toEqual(await a.playInfo(f));
    }
    for (const day of [D, D + 24 * H]) {
      for (const domain of domains) {
        for (const stream of [undefined, 's1', 'x', 'none']) {
          const f = { project: 'p1', domain, stream, day };
          expect(await b.streamPortrait(f), JSON.stringify(f)).toEqual(await a.streamPortrait(f));
        }
      }
    }
    expect(await b.audienceDomains('p1')).toEqual(await a.audienceDomains('p1'));
  });

  it('answers whole-domain viewers, portraits and play-info from the ClickHouse audience blocks as SQLite does', async () => {
    const [a, b] = stores as [Store, ClickHouseStore];
    const M = 60_000;
    // Closed hours from the node's blocks (src/store/clickhouse/audience-blocks.ts), the edges inside hours by SQL.
    const windows: Array<[number, number, number]> = [[M, start - 3 * H + 7 * M, start + 5 * H + 13 * M], [5 * M, start - 2 * H, start + 6 * H]];
    for (const domain of domains) {
      for (const [slotMs, from, to] of windows) {
        const f: UsersFilter = { project: 'p1', domain, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs, from, to };
        const want = [...await a.usersSeries(f)];
        expect(await untilFromBlocks(b.audienceBlocks?.stats, async () => [...await b.usersSeries(f)], 'audience blocks'), JSON.stringify(f)).toEqual(want);
      }
      for (const day of [D, D + 24 * H]) {
        const f = { project: 'p1', domain, stream: undefined, day };
        // A closed day's whole-domain portrait ends up kept in the node's memory (portrait-days.ts), made from the blocks or SQL;
        // made from the blocks every time: test/clickhouse-audience-blocks.test.ts.
        expect(await untilFromBlocks(b.portraitDays?.stats, () => b.streamPortrait(f), 'portrait days'), JSON.stringify(f)).toEqual(await a.streamPortrait(f));
      }
    }
    for (let m = 0; m < 3 * 60; m += 13) {
      const f = { project: 'p1', domains: m % 2 === 0 ? domains : [DOMAIN], minute: start + m * M };
      expect(await untilFromBlocks(b.playInfoBlocks?.stats, () => b.playInfo(f), 'play-info blocks'), JSON.stringify(f)).toEqual(await a.playInfo(f));
    }
  }, 120_000);
});
