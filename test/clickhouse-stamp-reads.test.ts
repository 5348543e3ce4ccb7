import { afterAll, beforeAll, expect, it } from 'vitest';
import { readStamps } from '../src/store/clickhouse/block-cache.js';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { quote } from '../src/store/clickhouse/sql.js';
import { stampKey, StampReads } from '../src/store/clickhouse/stamp-reads.js';
import { parseClickHouseUrls, type Endpoint } from '../src/store/clickhouse/url.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/**
 * The shared stamps read (StampReads: TabSeparated, one thread) against a real clickhouse-server: the same
 * stamps as a build's own read (readStamps, JSON rows), for names with every character TabSeparated escapes
 * and tags sums past 2^53, from unmerged parts (sums over the rows of a (project, domain, hour)).
 */
let server: ClickHouseServer;
let ch: ChEndpoint;
beforeAll(async () => {
  server = await startClickHouse();
  ch = new ChEndpoint(parseClickHouseUrls(server.url('default')).endpoints[0] as Endpoint);
  await ch.exec(`CREATE TABLE default.stamps (project String, domain String, hour UInt32, rows UInt64, tags UInt64)
    ENGINE = SummingMergeTree((rows, tags)) PARTITION BY intDiv(hour, 24) ORDER BY (project, domain, hour)`);
});
afterAll(async () => {
  await ch?.close();
  await server?.destroy();
});

const NAMES = ['plain.example', 'tab\there', 'new\nline', 'back\\slash', 'quote\'s', 'nul\0byte', 'ünï.example'];

it('reads the stamps a build reads, byte for byte, for escaped names and 64-bit sums', async () => {
  const big = 2n ** 63n + 12345n;
  // Two inserts: two parts, so the read sums rows of the same (project, domain, hour).
  for (const part of [0, 1]) {
    const values = NAMES.flatMap((d, i) => [`(${quote('p\t1')}, ${quote(d)}, ${100 + i}, ${1 + part}, ${String(big + BigInt(i))})`,
      `(${quote('p2')}, ${quote(d)}, 101, 1, ${7 + part})`]);
    await ch.exec(`INSERT INTO default.stamps VALUES ${values.join(', ')}`);
  }
  const reads = new StampReads(ch, 'default.stamps');
  const [shared, p2] = await Promise.all([reads.read('p\t1', NAMES, 100, 110), reads.read('p2', NAMES, 101, 102)]);
  // One read served both queries (they arrived together).
  expect(shared).toBe(p2);
  expect(reads.stats).toEqual({ reads: 1, queries: 2 });
  const own = new Map([...await readStamps(ch, 'default.stamps', 'p\t1', NAMES, 100, 110), ...await readStamps(ch, 'default.stamps', 'p2', NAMES, 101, 102)]);
  expect(own.size).toBe(2 * NAMES.length);
  expect(new Map([...shared].sort())).toEqual(new Map([...own].sort()));
  // 2 x (2^63 + 12345 + i) wraps mod 2^64, as ClickHouse's UInt64 sum does.
  expect(shared.get(stampKey('p\t1', 'back\\slash', 103))).toBe(`3:${String((2n * (big + 3n)) % 2n ** 64n)}`);
  expect(shared.get(stampKey('p2', 'nul\0byte', 101))).toBe('2:15');
});

it('reads one project and one key (the read by equality, stampsSql) as a build does, for every escaped name', async () => {
  for (const d of NAMES) {
    const reads = new StampReads(ch, 'default.stamps');
    const one = await reads.read('p\t1', [d], 100, 110);
    const own = await readStamps(ch, 'default.stamps', 'p\t1', [d], 100, 110);
    expect(one.size).toBe(1);
    expect(new Map([...one].sort())).toEqual(new Map([...own].sort()));
  }
});
