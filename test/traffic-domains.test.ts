import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { readTrafficDomains } from '../src/store/sqlite/traffic-reads.js';
import { TRAFFIC_DOMAINS } from '../src/store/sqlite/traffic-layout.js';
import type { TrafficRow } from '../src/store/traffic.js';
import { tempDir } from './ingest-helpers.js';

/**
 * readTrafficDomains reads the newest blocks first and stops once every domain of the project is
 * seen; it must answer exactly what one scan of the whole total level answers (the former code,
 * kept here as the reference), whatever the age of each domain's traffic.
 */
const D = 86_400_000;
const NOW = Math.floor(Date.now() / D) * D;
const dir = tempDir('traffic-domains');
let store: SqliteStore;
const db = (): import('better-sqlite3').Database => store['db'];

function reference(project: string): string[] {
  const total = TRAFFIC_DOMAINS.levels.find((l) => l.dims.length === 0);
  if (!total) throw new Error('no total level');
  const prefix = JSON.stringify([project]).slice(0, -1) + ',';
  const rows = db().prepare(`SELECT id, key FROM ${TRAFFIC_DOMAINS.seriesTable} WHERE substr(key, 1, ?) = ?`).raw().all(prefix.length, prefix) as Array<[number, string]>;
  const stored = new Set(db().prepare(`SELECT DISTINCT ${total.table.seriesSql('id')} FROM ${total.table.name}`).pluck().all() as number[]);
  return rows.filter(([id]) => stored.has(id)).map(([, k]) => (JSON.parse(k) as string[])[1] as string).sort();
}

const row = (project: string, domain: string, slot: number): TrafficRow => ({
  project, domain, app: 'live', stream: 's', protocol: 'flv', region: 'GD', isp: 'CMCC', ipType: 'v4', slot, requests: 1, bytes: 100,
});
const write = (rows: TrafficRow[]): Promise<void> => store.write({ id: `b${Math.random()}`, counts: [], samples: [], tasks: [], checkpoints: [], traffic: rows });

beforeAll(async () => {
  store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('answers the same as a scan of the whole total level, for recent, old, deleted and other-project traffic', async () => {
  expect(readTrafficDomains(db(), 'p1')).toEqual([]);
  await write([row('p1', 'recent.com', NOW - 3_600_000), row('p2', 'other.com', NOW - 3_600_000)]);
  expect(readTrafficDomains(db(), 'p1')).toEqual(['recent.com']);
  // Only old traffic (found in a later, longer window), traffic at several ages, a project name that is a prefix of another.
  await write([
    row('p1', 'old.com', NOW - 300 * D), row('p1', 'both.com', NOW - 2 * D), row('p1', 'both.com', NOW - 90 * D),
    row('p1', 'a"quoted,domain', NOW - 10 * D), row('p10', 'p10.com', NOW - D), row('p1', 'gone.com', NOW - 390 * D),
  ]);
  for (const p of ['p1', 'p2', 'p10', 'p']) expect(readTrafficDomains(db(), p)).toEqual(reference(p));
  expect(readTrafficDomains(db(), 'p1')).toEqual(['a"quoted,domain', 'both.com', 'gone.com', 'old.com', 'recent.com']);
  // Retention deletes gone.com's only blocks: its series row stays, the domain is no longer listed.
  await store.deleteTrafficBefore(NOW - 350 * D);
  expect(readTrafficDomains(db(), 'p1')).toEqual(reference('p1'));
  expect(readTrafficDomains(db(), 'p1')).toEqual(['a"quoted,domain', 'both.com', 'old.com', 'recent.com']);
});
