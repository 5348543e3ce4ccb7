import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import type { PlaySession, PublishSession, UpBytesRow } from '../origin.js';
import { applyOrigin, createOriginTables, deleteOriginBefore } from './origin.js';
import { createOriginSlotTables } from './origin-slots.js';

/**
 * The publish side's retention on a real SQLite file: exactly the rows that ended (or whose slot is)
 * before the cutoff go, and the work is cut into short transactions with a pause between them (the
 * old code deleted everything in three statements on the calling thread, without yielding).
 */
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const T = Date.UTC(2027, 0, 10);
const session = (id: string, domain: string, start: number, end: number | null): PublishSession => ({
  project: 'p1', id, domain, app: 'live', stream: id, clientIp: '', type: 0, region: 'GD', isp: 'CTCC', videoCodec: '', audioCodec: '',
  frameRate: 0, bitrate: 0, width: 0, height: 0, start, end, origin: 'o1', bytesIn: 0, updatedAt: T,
});
const play = (id: string, project: string, start: number, end: number | null): PlaySession => ({
  project, id, domain: 'play.example.com', app: 'live', stream: 's', clientIp: '', region: 'GD', isp: 'CTCC', start, end, updatedAt: T,
});

it('deletes what ended before the cutoff, a slice at a time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-retention-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'x.db'));
  createOriginTables(db);
  createOriginSlotTables(db);
  const up: UpBytesRow[] = [];
  for (const domain of ['a.com', 'b.com']) {
    for (let i = -10; i < 10; i++) up.push({ project: 'p1', domain, app: 'live', stream: 's', region: 'GD', isp: 'CTCC', type: 0, slot: T + i * 300_000, bytes: 1000 });
  }
  const sessions: PublishSession[] = [];
  for (let i = 0; i < 1200; i++) sessions.push(session(`old${i}`, i % 2 === 0 ? 'a.com' : 'b.com', T - 3_600_000, T - 1000));
  sessions.push(session('spans', 'a.com', T - 3_600_000, T + 1000), session('open', 'b.com', T - 7_200_000, null), session('new', 'a.com', T, T + 5000));
  const plays = [play('x1', 'p1', T - 5000, T - 1), play('x2', 'p2', T - 5000, T - 1), play('x3', 'p2', T - 5000, null), play('x4', 'p2', T - 5000, T)];
  db.transaction(() => applyOrigin(db, { sessions, upBytes: up, plays }))();

  let pauses = 0;
  await deleteOriginBefore(db, T, async () => { pauses++; });
  expect(db.prepare('SELECT domain, slot FROM origin_up_bytes ORDER BY domain, slot').raw().all())
    .toEqual(['a.com', 'b.com'].flatMap((d) => Array.from({ length: 10 }, (_, i) => [d, T / 300_000 + i])));
  expect(db.prepare('SELECT id FROM origin_sessions ORDER BY id').pluck().all()).toEqual(['new', 'open', 'spans']);
  expect(db.prepare('SELECT id FROM origin_plays ORDER BY id').pluck().all()).toEqual(['x3', 'x4']);
  // The pre-aggregates (migration 11) keep the same slots.
  expect(db.prepare('SELECT domain, slot FROM origin_up_domain ORDER BY domain, slot').raw().all())
    .toEqual(['a.com', 'b.com'].flatMap((d) => Array.from({ length: 10 }, (_, i) => [d, T / 300_000 + i])));
  expect(db.prepare('SELECT count(*) FROM origin_count_slots WHERE slot < ?').pluck().get(T / 300_000)).toBe(0);
  expect(db.prepare('SELECT count(*) FROM origin_count_events WHERE at_ms < ?').pluck().get(T)).toBe(0);
  expect(db.prepare('SELECT count(*) FROM origin_count_slots').pluck().get()).toBeGreaterThan(0);
  // 20 slots (one each), 1200 sessions in slices of at most 500 over two domains, two projects of plays.
  expect(pauses).toBeGreaterThanOrEqual(24);
  db.close();
});
