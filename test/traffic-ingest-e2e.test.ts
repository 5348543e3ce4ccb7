import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtcSecond } from '../src/contract/time.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { projectRoot } from '../src/paths.js';
import { ReadPool } from '../src/store/sqlite/read-pool.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { Store } from '../src/store/types.js';
import { TRAFFIC_LOG } from './fixtures/traffic-log.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { requireTools } from './helpers/system-tools.js';
import { runCli, tempDir } from './ingest-helpers.js';

requireTools('clickhouse-server');

/**
 * The known log of test/fixtures/traffic-log.ts as real nginx lines, shifted to yesterday, through
 * `livestats ingest` into SQLite (read inline and through the read-worker pool) and into a real
 * clickhouse-server, then the four endpoints over HTTP on each store: the hand-computed answers (the same as test/api-traffic.test.ts, README),
 * identical on both stores. Half the lines log only $body_bytes_sent (combined_host), the other half
 * $bytes_sent next to a different $body_bytes_sent (the former must win); HLS segments of the three
 * shapes, query strings, an absolute-form request line and an IPv4-mapped IPv6 client are among them.
 */
const D = 86_400_000;
const FIXTURE_BASE = Date.parse('2028-03-01T10:00:00Z');
const BASE = Math.floor(Date.now() / D) * D - D + 10 * 3_600_000; // yesterday 10:00 UTC
const shift = (t: number): number => t - FIXTURE_BASE + BASE;
const dir = tempDir('traffic-e2e');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');
const local = (ms: number): string => {
  const d = new Date(ms);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
};
const CUSTOM = "'$remote_addr [$time_iso8601] \"$request\" $status $bytes_sent $body_bytes_sent $host'";

let server: ClickHouseServer;
const apps: Record<string, TestApp> = {};
const opened: Store[] = [];
/** The compiled read worker (`npm run build`), as `livestats serve` runs it. */
const workerUrl = new URL(`file://${join(projectRoot(), 'dist', 'src', 'store', 'sqlite', 'read-worker.js')}`);

async function ingest(store: string[], project: string, format: string, file: string): Promise<void> {
  const res = await runCli(['ingest', '--project', project, '--format', format, '--retention-days', '30',
    '--geo-overrides', join(dir, 'geo.csv'), ...store, '--json', file]);
  expect(res.code, res.stderr).toBe(0);
}

beforeAll(async () => {
  server = await startClickHouse();
  // Every client address of the log gets the province/carrier the fixture names.
  writeFileSync(join(dir, 'geo.csv'), TRAFFIC_LOG.map((r) => `${r.ip.replace(/^::ffff:/, '')}/${r.ip.includes(':') && !r.ip.startsWith('::ffff:') ? 128 : 32},${r.region ?? 'OT'},${r.isp ?? 'OTHER'}`).join('\n') + '\n');
  const files: Record<string, { combined: string[]; custom: string[] }> = {};
  TRAFFIC_LOG.forEach((r, i) => {
    const project = r.project ?? 'p1';
    const f = (files[project] ??= { combined: [], custom: [] });
    const time = shift(r.time);
    const request = `GET ${r.uri} HTTP/1.1`;
    if (i % 2 === 0) f.combined.push(`${r.ip} - - [${local(time)}] "${request}" 200 ${r.bytes} "-" "test" ${r.domain}`);
    else f.custom.push(`${r.ip} [${formatUtcSecond(time).replace('Z', '+00:00')}] "${request}" 200 ${r.bytes} ${Math.floor(r.bytes / 2)} ${r.domain}`);
  });
  const stores: Record<string, { args: string[]; open: () => Store }> = {
    sqlite: { args: ['--data', join(dir, 'data')], open: () => new SqliteStore(join(dir, 'data', 'livestats.db')) },
    'sqlite-read-pool': { args: ['--data', join(dir, 'data-pool')], open: () => new SqliteStore(join(dir, 'data-pool', 'livestats.db'), { reader: (file) => new ReadPool(file, { size: 2, workerUrl }) }) },
    clickhouse: { args: ['--store', 'clickhouse', '--clickhouse-url', server.url('traffic_e2e')], open: () => new ClickHouseStore({ url: server.url('traffic_e2e') }) },
  };
  for (const [name, s] of Object.entries(stores)) {
    for (const [project, f] of Object.entries(files)) {
      for (const [format, lines] of [['combined_host', f.combined], [CUSTOM, f.custom]] as const) {
        if (lines.length === 0) continue;
        const file = join(dir, `${project}-${lines === f.combined ? 'combined' : 'custom'}.log`);
        writeFileSync(file, lines.join('\n') + '\n');
        await ingest(s.args, project, format, file);
      }
    }
    const store = s.open();
    await store.init();
    opened.push(store);
    apps[name] = await startTestApp({ store });
  }
}, 120_000);
afterAll(async () => {
  for (const a of Object.values(apps)) await a.close();
  for (const s of opened) await s.close();
  await server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const W = `start_time=${formatUtcSecond(BASE)}&end_time=${formatUtcSecond(BASE + 15 * 60_000)}`;
const at = (min: number): string => formatUtcSecond(BASE + min * 60_000);

describe.each(['sqlite', 'sqlite-read-pool', 'clickhouse'])('known log through livestats ingest, %s store', (name) => {
  const get = async (path: string): Promise<unknown> => {
    const r = await (apps[name] as TestApp).request(path);
    expect([path, r.status]).toEqual([path, 200]);
    return r.json;
  };
  const values = async (path: string): Promise<number[]> => {
    const body = (await get(path)) as Record<string, Array<{ value: number }>>;
    return (body.data_list ?? body.traffic_list ?? body.bandwidth_list ?? []).map((e) => e.value);
  };

  it('traffic and bandwidth detail, intervals, filters', async () => {
    expect(await get(`/v2/p1/stats/traffic/detail?${W}`)).toEqual({
      data_list: [{ value: 412_500, time: at(0) }, { value: 16_500, time: at(5) }, { value: 120_019, time: at(10) }],
    });
    expect(await values(`/v2/p1/stats/bandwidth/detail?${W}`)).toEqual([11_000, 440, 3201]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&interval=3600`)).toEqual([549_019]);
    expect(await values(`/v2/p1/stats/bandwidth/detail?${W}&interval=86400`)).toEqual([51]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&play_domains=a.com&app=live&stream=room1`)).toEqual([112_500, 15_000, 0]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&play_domains=a.com&app=live&stream=room1&protocol=hls`)).toEqual([75_000, 15_000, 0]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&play_domains=a.com&stream=room2`)).toEqual([0, 1_500, 112_500]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&protocol=hls`)).toEqual([75_000, 16_500, 112_500]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&play_domains=b.com&app=live`)).toEqual([300_000, 0, 0]);
    expect(await values(`/v2/p1/stats/traffic/detail?${W}&region=GD&isp=CMCC`)).toEqual([337_500, 0, 7_500]);
    expect(await values(`/v2/p1/stats/bandwidth/detail?${W}&ip_type=v6`)).toEqual([2000, 400, 200]);
    expect(await values(`/v2/p1/stats/bandwidth/detail?${W}&ip_type=v4`)).toEqual([9000, 40, 3001]);
  });

  it('summary and peak per domain', async () => {
    expect(await get(`/v2/p1/stats/traffic/summary?${W}`)).toEqual({
      traffic_list: [{ value: 241_519, domain: 'a.com' }, { value: 307_500, domain: 'b.com' }, { value: 0, domain: 'c.com' }],
    });
    expect(await get(`/v2/p1/stats/bandwidth/peak?${W}&play_domains=b.com,a.com`)).toEqual({
      bandwidth_list: [{ value: 8000, domain: 'b.com' }, { value: 3001, domain: 'a.com' }],
    });
    expect(await values(`/v2/p2/stats/traffic/summary?${W}`)).toEqual([999_999]);
  });
});
