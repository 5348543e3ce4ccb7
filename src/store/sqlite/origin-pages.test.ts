import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryFilter, PublishSession, SessionPage } from '../origin.js';
import { applyOrigin, runOriginRead } from './origin.js';
import { historyPageQueries, livePageQueries, type Sql } from './origin-pages.js';
import { migrateSqlite } from './migrate.js';
import { rng } from '../../../test/helpers/rng.js';

/**
 * The publish side's pages of sessions (ListLiveStreamsOnline, ListHistoryStreams) on a real SQLite
 * file migrated to the current schema: every statement reads along an index (no SCAN, no search of
 * the whole project by its key: what the live count did, and the history read walking every session
 * since the first), and the history page equals the overlap condition
 * `start < to AND (end IS NULL OR end > from)` in (start DESC, id) order, with its total, for random
 * sessions (open, closed, zero-length, on the window's edges) and windows.
 */
const H = 3_600_000;
const T0 = Date.UTC(2027, 2, 1);
const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const session = (id: string, domain: string, stream: string, start: number, end: number | null): PublishSession => ({
  project: 'p', id, domain, app: stream === 's0' ? 'other' : 'live', stream, clientIp: '', type: 0, region: 'GD', isp: 'CTCC',
  videoCodec: '', audioCodec: '', frameRate: 0, bitrate: 0, width: 0, height: 0, start, end, origin: 'o1', bytesIn: 0, updatedAt: 1,
});

function openDb(name: string): Database.Database {
  const db = new Database(join(dir, name));
  migrateSqlite(db);
  return db;
}

/** The lines of the statement's query plan that read origin_sessions. */
const plan = (db: Database.Database, q: Sql): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as Array<{ detail: string }>).map((r) => r.detail).filter((d) => d.includes('origin_sessions'));

function expectIndexed(db: Database.Database, q: Sql): void {
  const lines = plan(db, q);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    // Only the two range indexes, or the page's rows fetched by their full key.
    expect(line).toMatch(/^SEARCH origin_sessions USING (COVERING )?INDEX origin_sessions_(open|by_end) |^SEARCH origin_sessions USING PRIMARY KEY \(project=\? AND id=\?\)$/);
  }
}

describe('pages of publish sessions (SQLite)', () => {
  it('read along the indexes, never the whole project or every session since the first', () => {
    const db = openDb('plan.db');
    const ss: PublishSession[] = [];
    for (let i = 0; i < 2000; i++) ss.push(session(`x${i}`, `d${i % 4}`, `s${i % 7}`, T0 + i * 60_000, i % 50 === 0 ? null : T0 + i * 60_000 + H));
    db.transaction(() => applyOrigin(db, { sessions: ss, upBytes: [] }))();
    const live = { project: 'p', domain: 'd1', offset: 1, limit: 10 };
    for (const q of Object.values(livePageQueries(live, '*'))) expectIndexed(db, q);
    for (const q of Object.values(livePageQueries({ ...live, app: 'live', stream: 's1' }, '*'))) expectIndexed(db, q);
    const history: HistoryFilter = { project: 'p', domains: ['d0', 'd2'], from: T0 + 10 * H, to: T0 + 11 * H, offset: 2, limit: 5 };
    for (const q of Object.values(historyPageQueries(history, '*'))) expectIndexed(db, q);
    for (const q of Object.values(historyPageQueries({ ...history, app: 'live', stream: 's2' }, '*'))) expectIndexed(db, q);
    db.close();
  });

  it('answer the history page and total of the overlap condition, in (start DESC, id) order', () => {
    const db = openDb('history.db');
    const next = rng(23);
    const pick = (n: number): number => Math.floor(next() * n);
    const all: PublishSession[] = [];
    for (let i = 0; i < 600; i++) {
      const start = T0 + pick(48) * H + pick(4) * 900_000;
      const r = next();
      // Open, zero-length, ending on a quarter hour (the windows' edges) or anywhere.
      const end = r < 0.1 ? null : r < 0.15 ? start : start + pick(12) * 900_000 + (r < 0.5 ? 0 : pick(900_000));
      all.push(session(`id${pick(1000)}-${i}`, `d${pick(3)}`, `s${pick(3)}`, start, end));
    }
    db.transaction(() => applyOrigin(db, { sessions: all, upBytes: [] }))();
    for (let k = 0; k < 200; k++) {
      const from = T0 + pick(50) * 900_000 * 4 - 2 * H;
      const f: HistoryFilter = {
        project: k % 17 === 0 ? 'q' : 'p', domains: k % 3 === 0 ? ['d0', 'd1', 'd2'] : [`d${pick(3)}`], from, to: from + (1 + pick(24)) * 900_000,
        offset: pick(4), limit: 1 + pick(60),
        ...(k % 5 === 0 ? { app: 'live' } : {}), ...(k % 7 === 0 ? { stream: `s${pick(3)}` } : {}),
      };
      const match = all.filter((s) => s.project === f.project && f.domains.includes(s.domain) && s.start < f.to && (s.end === null || s.end > f.from)
        && (f.app === undefined || s.app === f.app) && (f.stream === undefined || s.stream === f.stream))
        .sort((a, b) => b.start - a.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const got = runOriginRead(db, { op: 'history', filter: f }) as SessionPage;
      expect(got.total).toBe(match.length);
      expect(got.sessions).toEqual(match.slice(f.offset * f.limit, (f.offset + 1) * f.limit));
    }
    db.close();
  });
});
