import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seeded } from '../bench/lib/rng.js';
import { AudienceCounter } from '../src/ingest/audience/audience-counter.js';
import { packGeo } from '../src/ingest/geo/names.js';
import type { AudienceCells, PortraitFilter, UsersFilter } from '../src/store/audience.js';
import { readPortrait, readUsersSeries } from '../src/store/sqlite/audience-reads.js';
import { DOMAIN_TOTALS } from '../src/store/sqlite/audience-sums.js';
import { sqliteMigrationVersions } from '../src/store/sqlite/migrate.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { D, DOMAIN, GEOS, H, M, STREAMS } from './helpers/audience-naive.js';
import { tempDir } from './ingest-helpers.js';
import { batch } from './store-conformance.js';

/**
 * Schema v16: the domain cube's total-level blocks carry sums beside them (aud_domain_sums: per
 * quarter-hour the three 5-minute viewer peaks, bytes, requests, play ms and the largest 5-minute
 * bytes), refreshed in the write's transaction; a whole domain's users series at 300 s and its
 * portrait read them instead of the blocks. Schema v17 adds the minute viewers of each domain's UTC
 * day (aud_domain_days, patched from each block written), which answer the whole domain's series on
 * whole minutes (60 s, 300 s, 1 h); schema v19 their 5-minute peaks (aud_domain_days5, written with
 * them), which answer it on whole 5-minute slots (300 s, 1 h). Here the sums' answers against the same reads from the
 * blocks (`sums: false`) on one file: random FLV/RTMP sessions, HLS viewers and lines over three days
 * in random batches from two stores (two processes), late writes into closed quarter-hours, the
 * migration building the sums of a file written before them, and retention.
 */
const dir = tempDir('audience-sums');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 24 * H;

/** One batch of random cells: sessions ending anywhere from D - 1 day to D + 2 days, HLS viewers and lines. */
function randomCells(rand: () => number, n: number): AudienceCells {
  const c = new AudienceCounter();
  for (let i = 0; i < n; i++) {
    const [region, isp] = GEOS[Math.floor(rand() * GEOS.length)] as [Parameters<typeof packGeo>[0], Parameters<typeof packGeo>[1]];
    const geo = packGeo(region, isp);
    const stream = Math.floor(rand() * STREAMS.length);
    let end = D - DAY + Math.floor(rand() * 3 * DAY);
    if (rand() < 0.3) end = Math.floor(end / (5 * M)) * 5 * M;
    const kind = rand();
    if (kind < 0.5) c.session(stream, rand() < 0.5 ? 0 : 2, geo, end, Math.floor(rand() * rand() * 6 * H), 1000 + Math.floor(rand() * 5000));
    else if (kind < 0.8) c.viewer(stream, Math.floor(end / M), `10.0.${Math.floor(rand() * 4)}.${Math.floor(rand() * 50)}`, geo);
    else c.line(stream, 1, geo, Math.floor(end / M), 100 + Math.floor(rand() * 900));
  }
  return c.drain(STREAMS.map(() => DOMAIN), STREAMS.map(() => 'live'), STREAMS);
}

const users = (f: Partial<UsersFilter>): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], slotMs: 5 * M, from: D - DAY, to: D + 2 * DAY, ...f,
});

/** (domain series, UTC day) pairs with a stored block of the domain cube's total level (row id: block x blockUnit + series x grpUnit). */
const daysWithBlocks = (store: SqliteStore): number => {
  const { name, blockUnit, grpUnit } = DOMAIN_TOTALS.table;
  return store['db'].prepare(`SELECT count(*) FROM (SELECT DISTINCT (id % ${blockUnit}) / ${grpUnit}, (id / ${blockUnit}) / 96 FROM ${name})`).pluck().get() as number;
};

/** Every read the sums answer, from the sums and from the blocks: the same. */
function expectSameAsBlocks(store: SqliteStore): void {
  const db = store['db'];
  const windows: Array<Partial<UsersFilter>> = [
    {}, { from: D - DAY + 5 * M, to: D + 3 * H }, { from: D + 10 * M, to: D + 25 * M }, { from: D + 2 * DAY, to: D + 3 * DAY }, { from: D - 3 * DAY, to: D - 2 * DAY },
  ];
  // On whole minutes the days' minute viewers answer (v17).
  for (const slotMs of [5 * M, M, 15 * M, H]) {
    for (const w of windows) {
      const f = users({ ...w, slotMs });
      const sums = readUsersSeries(db, f);
      expect([...sums], `${slotMs} ${JSON.stringify(w)}`).toEqual([...readUsersSeries(db, f, false)]);
    }
  }
  for (const day of [D - 2 * DAY, D - DAY, D, D + DAY, D + 2 * DAY]) {
    const f: PortraitFilter = { project: 'p1', domain: DOMAIN, stream: undefined, day };
    expect(readPortrait(db, f), `portrait ${day}`).toEqual(readPortrait(db, f, false));
  }
  // Another domain and another project: nothing.
  expect([...readUsersSeries(db, users({ domain: 'other.example.com' }))].every((v) => v === 0)).toBe(true);
  expect(readPortrait(db, { project: 'p2', domain: DOMAIN, stream: undefined, day: D }).flow).toBe(0);
}

describe('audience domain block sums (schema v16), day minute viewers (v17) and their 5-minute peaks (v19)', () => {
  it('answer as the blocks: random batches from two stores on one file, late writes, the migration, retention', async () => {
    const file = join(dir, 'sums.db');
    const rand = seeded(16);
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    await a.init();
    await b.init();
    try {
      for (let i = 0; i < 30; i++) await (rand() < 0.5 ? a : b).write(batch({ audience: [{ project: 'p1', cells: randomCells(rand, 1 + Math.floor(rand() * 60)) }] }));
      expectSameAsBlocks(a);
      // The sums are not all zero: the reads above compared something.
      expect(readPortrait(a['db'], { project: 'p1', domain: DOMAIN, stream: undefined, day: D }).peakUsers).toBeGreaterThan(0);
      expect(Math.max(...readUsersSeries(a['db'], users({})))).toBeGreaterThan(0);
      // A day row for every (domain, day) with a stored block: a missing one would read as zeros. The same for the peaks (v19).
      expect(a['db'].prepare('SELECT count(*) FROM aud_domain_days').pluck().get()).toBe(daysWithBlocks(a));
      expect(a['db'].prepare('SELECT count(*) FROM aud_domain_days5').pluck().get()).toBe(daysWithBlocks(a));
    } finally {
      await a.close();
      await b.close();
    }

    // A file as schema v14/v15 left it (no sums, no minutes, no peaks): the migrations build them from the blocks.
    const raw = new SqliteStore(file);
    await raw.init();
    raw['db'].exec('DROP TABLE aud_domain_sums');
    raw['db'].exec('DROP TABLE aud_domain_days');
    raw['db'].exec('DROP TABLE aud_domain_days5');
    raw['db'].prepare('DELETE FROM schema_migrations WHERE version IN (16, 17, 19)').run();
    await raw.close();
    const migrated = new SqliteStore(file);
    await migrated.init();
    try {
      expect(migrated['db'].prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(sqliteMigrationVersions());
      expect(migrated['db'].prepare('SELECT count(*) FROM aud_domain_sums').pluck().get()).toBeGreaterThan(0);
      expect(migrated['db'].prepare('SELECT count(*) FROM aud_domain_days').pluck().get()).toBe(daysWithBlocks(migrated));
      expect(migrated['db'].prepare('SELECT count(*) FROM aud_domain_days5').pluck().get()).toBe(daysWithBlocks(migrated));
      expectSameAsBlocks(migrated);
      // Writes after it keep the sums exact.
      for (let i = 0; i < 5; i++) await migrated.write(batch({ audience: [{ project: 'p1', cells: randomCells(rand, 40) }] }));
      expectSameAsBlocks(migrated);
      // Retention: the sums of deleted blocks go with them.
      await migrated.deleteAudienceBefore(D);
      const firstBlock = migrated['db'].prepare('SELECT min(block) FROM aud_domain_sums').pluck().get() as number;
      expect(firstBlock * 15 * M).toBeGreaterThanOrEqual(D);
      expect((migrated['db'].prepare('SELECT min(day) FROM aud_domain_days').pluck().get() as number) * DAY).toBeGreaterThanOrEqual(D);
      expect((migrated['db'].prepare('SELECT min(day) FROM aud_domain_days5').pluck().get() as number) * DAY).toBeGreaterThanOrEqual(D);
      expectSameAsBlocks(migrated);
      // A cutoff inside a day: its minutes before the cutoff go with their blocks, the rest stay.
      await migrated.deleteAudienceBefore(D + 5 * H + 15 * M);
      expectSameAsBlocks(migrated);
      expect(Math.max(...readUsersSeries(migrated['db'], users({ slotMs: M, from: D, to: D + DAY })).subarray(0, 5 * 60 + 15))).toBe(0);
      expect(Math.max(...readUsersSeries(migrated['db'], users({ slotMs: M, from: D, to: D + DAY })))).toBeGreaterThan(0);
    } finally {
      await migrated.close();
    }
  }, 120_000);
});
