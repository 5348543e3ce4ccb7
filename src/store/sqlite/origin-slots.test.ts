import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublishSession, UpBandwidthFilter, UpBytesRow } from '../origin.js';
import { applyOrigin, readCountsFromSessions, runOriginRead } from './origin.js';
import { createOriginSlotTables, readCountsFromSlots, readUpBytes } from './origin-slots.js';
import { migrateSqlite } from './migrate.js';
import { rng } from '../../../test/helpers/rng.js';

/**
 * The publish side's per-slot pre-aggregates (migration 11) on a real SQLite file: the stream count
 * read from origin_count_slots/events plus the open sessions equals the sweep over every session
 * (the code before migration 11), for random sessions rewritten, reopened, moved and closed in random
 * batches, for many windows and clocks; the per-domain input bytes equal the per-stream rows' sums;
 * and migration 11 backfills both from what a file already holds.
 */
const SLOT = 300_000;
const T0 = Date.UTC(2027, 2, 1);
const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-slots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const session = (id: string, domain: string, start: number, end: number | null, updatedAt: number): PublishSession => ({
  project: 'p', id, domain, app: 'live', stream: id, clientIp: '', type: 0, region: 'GD', isp: 'CTCC', videoCodec: '', audioCodec: '',
  frameRate: 0, bitrate: 0, width: 0, height: 0, start, end, origin: 'o1', bytesIn: 0, updatedAt,
});

function openDb(name: string): Database.Database {
  const db = new Database(join(dir, name));
  migrateSqlite(db);
  return db;
}

function randomWrites(db: Database.Database, seed: number): void {
  const r = rng(seed);
  const domains = ['a.com', 'b.com', 'c.com'];
  let clock = 1;
  for (let batch = 0; batch < 40; batch++) {
    const sessions: PublishSession[] = [];
    for (let k = 0; k < 12; k++) {
      const id = `s${Math.floor(r() * 60)}`;
      // Times on slot boundaries, on the same instant as others, and anywhere.
      const pick = (): number => r() < 0.3 ? T0 + Math.floor(r() * 40) * SLOT : r() < 0.3 ? T0 + Math.floor(r() * 40) * 60_000 : T0 + Math.floor(r() * 40 * SLOT);
      const start = pick();
      const end = r() < 0.25 ? null : r() < 0.05 ? start : start + Math.floor(r() * 6 * SLOT) + 1;
      // Now and then an older write that must lose (its updatedAt is behind).
      const updatedAt = r() < 0.1 ? 0 : clock++;
      sessions.push(session(id, domains[Math.floor(r() * domains.length)] as string, start, end, updatedAt));
    }
    db.transaction(() => applyOrigin(db, { sessions, upBytes: [] }))();
  }
}

function expectSameCounts(db: Database.Database, seed: number): void {
  const r = rng(seed + 1);
  for (let q = 0; q < 60; q++) {
    const from = T0 + Math.floor(r() * 30 - 5) * SLOT;
    const to = from + Math.floor(r() * 30 + 1) * SLOT;
    const now = r() < 0.2 ? T0 + 100 * SLOT : T0 + Math.floor(r() * 45 * SLOT);
    const domains = r() < 0.5 ? ['a.com', 'b.com', 'c.com', 'a.com'] : ['b.com'];
    const f = { project: 'p', domains, from, to };
    expect([...readCountsFromSlots(db, f, now)], JSON.stringify({ from, to, now, domains })).toEqual([...readCountsFromSessions(db, f, now)]);
  }
}

describe('origin slot pre-aggregates', () => {
  it('count the same streams as the sweep over every session, whatever the writes', () => {
    for (const seed of [1, 2]) {
      const db = openDb(`counts-${seed}.db`);
      randomWrites(db, seed);
      expect(db.prepare('SELECT count(*) FROM origin_count_slots').pluck().get()).toBeGreaterThan(0);
      expectSameCounts(db, seed);
      // Through the read request the workers run.
      const f = { project: 'p', domains: ['a.com'], from: T0, to: T0 + 30 * SLOT };
      expect(runOriginRead(db, { op: 'counts', filter: f, now: T0 + 45 * SLOT })).toEqual(readCountsFromSessions(db, f, T0 + 45 * SLOT));
      db.close();
    }
  });

  it('sum the input bytes per domain as the per-stream rows do', () => {
    const db = openDb('up.db');
    const r = rng(9);
    for (let batch = 0; batch < 10; batch++) {
      const up: UpBytesRow[] = [];
      for (let k = 0; k < 200; k++) {
        up.push({
          project: 'p', domain: r() < 0.5 ? 'a.com' : 'b.com', app: r() < 0.5 ? 'live' : 'tv', stream: `s${Math.floor(r() * 8)}`,
          region: r() < 0.5 ? 'GD' : 'BJ', isp: r() < 0.5 ? 'CTCC' : 'CMCC', type: r() < 0.8 ? 0 : 1,
          slot: T0 + Math.floor(r() * 48) * SLOT, bytes: Math.floor(r() * 1e9),
        });
      }
      db.transaction(() => applyOrigin(db, { sessions: [], upBytes: up }))();
    }
    for (const slotMs of [300_000, 3_600_000]) {
      for (const [regions, isps] of [[[], []], [['GD'], []], [['BJ'], ['CMCC', 'CTCC']]] as Array<[UpBandwidthFilter['regions'], UpBandwidthFilter['isps']]>) {
        for (const type of [0, 1] as const) {
          const f: UpBandwidthFilter = { project: 'p', domains: ['a.com', 'b.com'], regions, isps, type, slotMs, from: T0, to: T0 + 4 * 3_600_000 };
          const got = readUpBytes(db, f) as Float64Array;
          const exact = new Float64Array(got.length);
          const ofApp = new Float64Array(got.length);
          const cells = db.prepare('SELECT slot, region, isp, app, stream, bytes FROM origin_up_bytes WHERE project = ? AND type = ?').raw()
            .all('p', type) as Array<[number, string, string, string, string, number]>;
          for (const [slot, region, isp, app, stream, b] of cells) {
            if (regions.length > 0 && !(regions as string[]).includes(region)) continue;
            if (isps.length > 0 && !(isps as string[]).includes(isp)) continue;
            const i = Math.floor((slot * SLOT - T0) / slotMs);
            if (i < 0 || i >= exact.length) continue;
            exact[i] = (exact[i] as number) + b;
            if (app === 'tv' && stream === 's3') ofApp[i] = (ofApp[i] as number) + b;
          }
          // One stream: the per-stream rows.
          expect([...readUpBytes(db, { ...f, app: 'tv', stream: 's3' })]).toEqual([...ofApp]);
          expect([...got]).toEqual([...exact]);
          expect(exact.some((x) => x > 0)).toBe(true);
          // The read request the workers run.
          expect(runOriginRead(db, { op: 'up', filter: f })).toEqual(exact);
        }
      }
    }
    db.close();
  });

  it('are backfilled by migration 11 from the rows a file already holds', () => {
    const db = openDb('backfill.db');
    randomWrites(db, 7);
    db.transaction(() => applyOrigin(db, { sessions: [], upBytes: [
      { project: 'p', domain: 'a.com', app: 'live', stream: 's1', region: 'GD', isp: 'CTCC', type: 0, slot: T0, bytes: 5 },
      { project: 'p', domain: 'a.com', app: 'live', stream: 's2', region: 'GD', isp: 'CTCC', type: 0, slot: T0, bytes: 7 },
    ] }))();
    const before = db.prepare('SELECT * FROM origin_count_slots ORDER BY 1, 2, 3').raw().all();
    const events = db.prepare('SELECT * FROM origin_count_events ORDER BY 1, 2, 3').raw().all();
    // A file at version 10: the tables of migration 11 did not exist.
    db.exec('DROP TABLE origin_count_slots; DROP TABLE origin_count_events; DROP TABLE origin_up_domain; DROP INDEX origin_up_bytes_by_stream');
    createOriginSlotTables(db);
    expect(db.prepare('SELECT * FROM origin_count_slots ORDER BY 1, 2, 3').raw().all()).toEqual(before);
    expect(db.prepare('SELECT * FROM origin_count_events ORDER BY 1, 2, 3').raw().all()).toEqual(events);
    expect(db.prepare('SELECT bytes FROM origin_up_domain WHERE domain = ? AND slot = ?').pluck().get('a.com', T0 / SLOT)).toBe(12);
    expectSameCounts(db, 7);
    db.close();
  });
});
