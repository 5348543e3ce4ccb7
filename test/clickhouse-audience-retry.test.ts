import { describe, expect, it } from 'vitest';
import { CHUNK_ROWS } from '../src/store/clickhouse/batch.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import type { AudienceCells } from '../src/store/audience.js';
import type { WriteBatch } from '../src/store/types.js';
import { useClickHouseBehindProxy } from './helpers/clickhouse-proxy.js';
import { markUnacknowledged } from './helpers/block-stores.js';
import { batch } from './store-conformance.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const M = 60_000;
const DAY = 86_400_000;
const D = Date.UTC(2026, 10, 20);

/**
 * An audience batch of more than two chunks in each table (its rows are written as bytes a chunk at
 * a time: src/store/clickhouse/audience-rows.ts), over two UTC days (two marker groups per chunk),
 * two projects, IPv4 and IPv6 viewers, names that need escaping.
 */
function bigAudience(n: number, project: string, seed: number): { project: string; cells: AudienceCells } {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const tuples: Array<[string, string, string]> = [['a.example', 'live', 's0'], ['a.example', 'live', "s'1\t"], ['b.example', 'app', 's2'], ['b.example', '', '']];
  const c = { tuple: [] as number[], minute: [] as number[], protocol: [] as number[], geo: [] as number[], sessions: [] as number[], opens: [] as number[],
    closes: [] as number[], playMs: [] as number[], bytes: [] as number[], requests: [] as number[] };
  const v = { tuple: [] as number[], minute: [] as number[], geo: [] as number[], ip: [] as string[], v4: [] as number[] };
  const u = { tuple: [] as number[], day: [] as number[], ip: [] as string[], v4: [] as number[] };
  for (let i = 0; i < n; i++) {
    const t = Math.floor(rnd() * tuples.length);
    const minute = D - DAY / 2 + Math.floor(rnd() * 24 * 60) * M;
    const geo = Math.floor(rnd() * 120);
    c.tuple.push(t); c.minute.push(minute); c.protocol.push(i % 3); c.geo.push(geo);
    c.sessions.push(i % 4 === 0 ? 0 : 1 + (i % 5)); c.opens.push(i % 3 === 0 ? 1 : 0); c.closes.push(i % 7 === 0 ? 1 : 0);
    c.playMs.push(i % 4 === 0 ? 0 : i * 13); c.bytes.push(i % 4 === 0 ? 0 : 1 + Math.floor(rnd() * 1e9)); c.requests.push(i % 4 === 0 ? 0 : 1 + (i % 3));
    const ipv6 = i % 10 === 0;
    v.tuple.push(t); v.minute.push(minute); v.geo.push(geo);
    v.ip.push(ipv6 ? `2001:db8::${i.toString(16)}` : ''); v.v4.push(ipv6 ? -1 : 167772160 + (i % 60_000));
    u.tuple.push(t); u.day.push(Math.floor(minute / DAY) * DAY);
    u.ip.push(ipv6 ? `2001:db8::${i.toString(16)}` : ''); u.v4.push(ipv6 ? -1 : 167772160 + (i % 60_000));
  }
  return {
    project,
    cells: {
      domains: tuples.map((x) => x[0]), apps: tuples.map((x) => x[1]), streams: tuples.map((x) => x[2]),
      tuple: Int32Array.from(c.tuple), minute: Float64Array.from(c.minute), protocol: Uint8Array.from(c.protocol), geo: Uint8Array.from(c.geo),
      sessions: Float64Array.from(c.sessions), opens: Float64Array.from(c.opens), closes: Float64Array.from(c.closes), playMs: Float64Array.from(c.playMs),
      bytes: Float64Array.from(c.bytes), requests: Float64Array.from(c.requests),
      hlsTuple: Int32Array.from(v.tuple), hlsMinute: Float64Array.from(v.minute), hlsGeo: Uint8Array.from(v.geo), hlsIp: v.ip, hlsV4: Float64Array.from(v.v4),
      userTuple: Int32Array.from(u.tuple), userDay: Float64Array.from(u.day), userIp: u.ip, userV4: Float64Array.from(u.v4),
    },
  };
}

/** What a database holds of the audience tables, markers left out: sums per key, distinct viewers and users. */
const CONTENT = {
  audience_cells: 'SELECT project, domain, minute, app, stream, protocol, region, isp, sum(viewers), sum(bytes), sum(requests), sum(play_ms) FROM {db}.audience_cells WHERE markers = 0 GROUP BY project, domain, minute, app, stream, protocol, region, isp',
  audience_sessions: 'SELECT project, domain, minute, app, stream, protocol, region, isp, sum(opens), sum(closes) FROM {db}.audience_sessions WHERE markers = 0 GROUP BY project, domain, minute, app, stream, protocol, region, isp',
  audience_hls: 'SELECT DISTINCT project, domain, minute, app, stream, region, isp, ip FROM {db}.audience_hls',
  audience_users: 'SELECT DISTINCT project, domain, day, stream, ip FROM {db}.audience_users',
};

/** The audience write's retries (issue 24: its rows now travel as bytes, a chunk at a time) stay exact. */
describe('ClickHouse audience write retries', () => {
  const env = useClickHouseBehindProxy();

  const content = async (db: string): Promise<Record<string, { rows: number; hash: string }>> => {
    const out: Record<string, { rows: number; hash: string }> = {};
    for (const [name, sql] of Object.entries(CONTENT)) {
      const [rows, hash] = (await env.ch.sql(`SELECT count(), groupBitXor(cityHash64(*)) FROM (${sql.replace('{db}', db)}) FORMAT TSV`)).trim().split('\t');
      out[name] = { rows: Number(rows), hash: hash as string };
    }
    return out;
  };

  it('a write whose audience inserts landed, lost their answer or never arrived ends, once retried, exactly as one fault-free write', async () => {
    const n = 4 * CHUNK_ROWS + 7_000; // 3/4 named tuples, 3/4 of cells with values: three chunks of cells
    const b: WriteBatch = batch({ audience: [bigAudience(n, 'p1', 7), bigAudience(3_000, "p'2", 8)] });

    const reference = new ClickHouseStore({ url: `http://default:@127.0.0.1:${env.ch.httpPort}/aud_reference`, hourBlocks: false });
    await reference.init();
    await reference.write(b);
    await reference.close();

    const store = new ClickHouseStore({ url: env.url('aud_retry'), hourBlocks: false });
    env.proxy.policy = () => 'pass';
    await store.init();
    // Per additive table: the first chunk lands and is answered, the second lands but its answer is lost, the rest never arrives;
    // the first HLS and users chunks land, their second is refused.
    const seen = new Map<string, number>();
    env.proxy.policy = (sql) => {
      const table = /^INSERT INTO \S*?(audience_cells|audience_sessions|audience_hls|audience_users)\b/.exec(sql)?.[1];
      if (table === undefined) return 'pass';
      const k = (seen.get(table) ?? 0) + 1;
      seen.set(table, k);
      if (k === 1) return 'pass';
      return k === 2 && (table === 'audience_cells' || table === 'audience_sessions') ? 'drop-response' : 'refuse';
    };
    await expect(store.write(b)).rejects.toThrow();
    expect(seen.get('audience_cells')).toBeGreaterThanOrEqual(2);
    expect(seen.get('audience_users')).toBeGreaterThanOrEqual(2);
    // Part of it landed: fewer cells than the reference, more than none.
    const partial = await content('aud_retry');
    const want = await content('aud_reference');
    expect(partial.audience_cells?.rows).toBeGreaterThan(0);
    expect(partial.audience_cells?.rows).toBeLessThan(want.audience_cells?.rows as number);

    env.proxy.policy = () => 'pass';
    await store.write(b);
    expect(await content('aud_retry')).toEqual(want);
    // And once more (a retry of an acknowledged batch that the writer was not told about): nothing counted twice.
    const again = new ClickHouseStore({ url: env.url('aud_retry'), hourBlocks: false });
    await again.init();
    markUnacknowledged(again, b.id);
    await again.write(b);
    expect(await content('aud_retry')).toEqual(want);
    await again.close();
    await store.close();
    expect(want.audience_cells?.rows).toBeGreaterThan(2 * CHUNK_ROWS);
  }, 180_000);
});
