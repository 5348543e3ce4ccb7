import type Database from 'better-sqlite3';
import type { Isp, Region } from '../../contract/values.js';
import {
  ORIGIN_SLOT_MS, type HistoryFilter, type LiveStreamsFilter, type OriginBatch, type PlaySession, type PublishSession,
  type SessionPage, type StreamCountFilter, type UpBandwidthFilter,
} from '../origin.js';
import { coveredSeconds, streamCountSeries } from '../origin-counts.js';
import { cachedStatement } from '../blocks/table.js';
import { historyPageQueries, livePageQueries, type PageQueries } from './origin-pages.js';
import { applyOriginSlots, deleteOriginSlotsBefore, readCountsFromSlots, readUpBytes } from './origin-slots.js';

/** SQLite migration 8 (issue 23): publish sessions, input bytes per 5-minute slot, RTMP play sessions. */
export function createOriginTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS origin_sessions (
      project TEXT NOT NULL, id TEXT NOT NULL, domain TEXT NOT NULL, app TEXT NOT NULL, stream TEXT NOT NULL,
      client_ip TEXT NOT NULL, type INTEGER NOT NULL, region TEXT NOT NULL, isp TEXT NOT NULL,
      video_codec TEXT NOT NULL, audio_codec TEXT NOT NULL,
      frame_rate INTEGER NOT NULL, bitrate INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
      start_ms INTEGER NOT NULL, end_ms INTEGER, origin TEXT NOT NULL, bytes_in INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      PRIMARY KEY (project, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS origin_sessions_by_start ON origin_sessions (project, domain, start_ms);
    CREATE INDEX IF NOT EXISTS origin_sessions_open ON origin_sessions (project, domain, start_ms) WHERE end_ms IS NULL;
    -- slot: epoch 5-minute slot (epoch seconds / 300).
    CREATE TABLE IF NOT EXISTS origin_up_bytes (
      project TEXT NOT NULL, domain TEXT NOT NULL, slot INTEGER NOT NULL, app TEXT NOT NULL, stream TEXT NOT NULL,
      region TEXT NOT NULL, isp TEXT NOT NULL, type INTEGER NOT NULL, bytes INTEGER NOT NULL,
      PRIMARY KEY (project, domain, slot, app, stream, region, isp, type)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS origin_plays (
      project TEXT NOT NULL, id TEXT NOT NULL, domain TEXT NOT NULL, app TEXT NOT NULL, stream TEXT NOT NULL,
      client_ip TEXT NOT NULL, region TEXT NOT NULL, isp TEXT NOT NULL,
      start_ms INTEGER NOT NULL, end_ms INTEGER, updated_at INTEGER NOT NULL,
      PRIMARY KEY (project, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS origin_plays_by_start ON origin_plays (project, start_ms);
    CREATE INDEX IF NOT EXISTS origin_plays_open ON origin_plays (project, start_ms) WHERE end_ms IS NULL;
  `);
}

/** Applies one intake flush inside the caller's transaction: sessions replace an older write of the same id, bytes add. */
export function applyOrigin(db: Database.Database, batch: OriginBatch): void {
  applyOriginSlots(db, batch);
  const session = cachedStatement(db, `INSERT INTO origin_sessions (project, id, domain, app, stream, client_ip, type, region, isp,
      video_codec, audio_codec, frame_rate, bitrate, width, height, start_ms, end_ms, origin, bytes_in, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (project, id) DO UPDATE SET domain = excluded.domain, app = excluded.app, stream = excluded.stream,
      client_ip = excluded.client_ip, type = excluded.type, region = excluded.region, isp = excluded.isp,
      video_codec = excluded.video_codec, audio_codec = excluded.audio_codec, frame_rate = excluded.frame_rate,
      bitrate = excluded.bitrate, width = excluded.width, height = excluded.height, start_ms = excluded.start_ms,
      end_ms = excluded.end_ms, origin = excluded.origin, bytes_in = excluded.bytes_in, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= origin_sessions.updated_at`);
  const bytes = cachedStatement(db, `INSERT INTO origin_up_bytes (project, domain, slot, app, stream, region, isp, type, bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (project, domain, slot, app, stream, region, isp, type) DO UPDATE SET bytes = bytes + excluded.bytes`);
  const play = cachedStatement(db, `INSERT INTO origin_plays (project, id, domain, app, stream, client_ip, region, isp, start_ms, end_ms, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (project, id) DO UPDATE SET end_ms = excluded.end_ms, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= origin_plays.updated_at`);
  {
    for (const s of batch.sessions) {
      session.run(s.project, s.id, s.domain, s.app, s.stream, s.clientIp, s.type, s.region, s.isp, s.videoCodec, s.audioCodec,
        Math.round(s.frameRate), Math.round(s.bitrate), Math.round(s.width), Math.round(s.height), s.start, s.end, s.origin, Math.round(s.bytesIn), s.updatedAt);
    }
    for (const b of batch.upBytes) {
      if (b.bytes <= 0) continue;
      bytes.run(b.project, b.domain, Math.floor(b.slot / ORIGIN_SLOT_MS), b.app, b.stream, b.region, b.isp, b.type, Math.round(b.bytes));
    }
    for (const p of batch.plays ?? []) {
      play.run(p.project, p.id, p.domain, p.app, p.stream, p.clientIp, p.region, p.isp, p.start, p.end, p.updatedAt);
    }
  }
}

type SessionRecord = [string, string, string, string, string, string, number, string, string, string, string, number, number, number, number, number, number | null, string, number, number];
const SESSION_COLUMNS = `project, id, domain, app, stream, client_ip, type, region, isp, video_codec, audio_codec,
  frame_rate, bitrate, width, height, start_ms, end_ms, origin, bytes_in, updated_at`;

function toSession(r: SessionRecord): PublishSession {
  return {
    project: r[0], id: r[1], domain: r[2], app: r[3], stream: r[4], clientIp: r[5], type: r[6] === 1 ? 1 : 0,
    region: r[7] as Region, isp: r[8] as Isp, videoCodec: r[9], audioCodec: r[10], frameRate: r[11], bitrate: r[12],
    width: r[13], height: r[14], start: r[15], end: r[16], origin: r[17], bytesIn: r[18], updatedAt: r[19],
  };
}

const PLAY_COLUMNS = 'project, id, domain, app, stream, client_ip, region, isp, start_ms, end_ms, updated_at';
const marks = (n: number): string => new Array(n).fill('?').join(', ');

/** The read requests of the publish side (run in a read worker, or inline). */
export type OriginRead =
  | { op: 'live'; filter: LiveStreamsFilter }
  | { op: 'history'; filter: HistoryFilter }
  | { op: 'counts'; filter: StreamCountFilter; now: number }
  | { op: 'up'; filter: UpBandwidthFilter }
  | { op: 'open' }
  | { op: 'plays'; project: string; from: number; to: number }
  | { op: 'open-plays' }
  | { op: 'push'; project: string; stream: string; day: number; now: number };

export function runOriginRead(db: Database.Database, r: OriginRead): unknown {
  switch (r.op) {
    case 'live': return readLive(db, r.filter);
    case 'history': return readHistory(db, r.filter);
    case 'counts': return readCounts(db, r.filter, r.now);
    case 'up': return readUpBytes(db, r.filter);
    case 'push': {
      // push_duration of a portrait: sessions of the stream name on any publish domain and app of the project.
      const spans = (cachedStatement(db, `SELECT start_ms, end_ms FROM origin_sessions
        WHERE project = ? AND stream = ? AND start_ms < ? AND (end_ms IS NULL OR end_ms > ?)`).raw()
        .all(r.project, r.stream, r.day + 86_400_000, r.day) as Array<[number, number | null]>).map(([start, end]) => ({ start, end }));
      return coveredSeconds(spans, r.day, r.now);
    }
    case 'open':
      return (db.prepare(`SELECT ${SESSION_COLUMNS} FROM origin_sessions WHERE end_ms IS NULL ORDER BY project, start_ms, id`).raw().all() as SessionRecord[]).map(toSession);
    case 'plays':
    case 'open-plays': {
      const rows = (r.op === 'plays'
        ? db.prepare(`SELECT ${PLAY_COLUMNS} FROM origin_plays WHERE project = ? AND start_ms < ? AND (end_ms IS NULL OR end_ms > ?) ORDER BY start_ms, id`)
          .raw().all(r.project, r.to, r.from)
        : db.prepare(`SELECT ${PLAY_COLUMNS} FROM origin_plays WHERE end_ms IS NULL ORDER BY project, start_ms, id`).raw().all()) as Array<
        [string, string, string, string, string, string, string, string, number, number | null, number]>;
      return rows.map((p): PlaySession => ({
        project: p[0], id: p[1], domain: p[2], app: p[3], stream: p[4], clientIp: p[5], region: p[6] as Region, isp: p[7] as Isp,
        start: p[8], end: p[9], updatedAt: p[10],
      }));
    }
  }
}

function readLive(db: Database.Database, f: LiveStreamsFilter): SessionPage {
  return page(db, livePageQueries(f, SESSION_COLUMNS));
}

function readHistory(db: Database.Database, f: HistoryFilter): SessionPage {
  if (f.domains.length === 0 || f.to <= f.from) return { total: 0, sessions: [] };
  return page(db, historyPageQueries(f, SESSION_COLUMNS));
}

function page(db: Database.Database, q: PageQueries): SessionPage {
  const total = db.prepare(q.count.sql).pluck().get(...q.count.args) as number;
  const rows = db.prepare(q.rows.sql).raw().all(...q.rows.args) as SessionRecord[];
  return { total, sessions: rows.map(toSession) };
}

function readCounts(db: Database.Database, f: StreamCountFilter, now: number): Float64Array {
  return readCountsFromSlots(db, f, now);
}

/** The stream count swept from every session of the window (before migration 11; the pre-aggregate's reference in tests). */
export function readCountsFromSessions(db: Database.Database, f: StreamCountFilter, now: number): Float64Array {
  if (f.domains.length === 0 || f.to <= f.from) return new Float64Array(Math.max(0, Math.floor((f.to - f.from) / ORIGIN_SLOT_MS)));
  const rows = db.prepare(`SELECT domain, start_ms, end_ms FROM origin_sessions
    WHERE project = ? AND domain IN (${marks(f.domains.length)}) AND start_ms < ? AND (end_ms IS NULL OR end_ms > ?)`)
    .raw().all(f.project, ...f.domains, f.to, f.from) as Array<[string, number, number | null]>;
  return streamCountSeries(rows.map(([domain, start, end]) => ({ domain, start, end })), f.from, f.to, now);
}

/** Rows deleted per short transaction by the publish side's retention. */
const DELETE_SLICE = 500;
const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The (project, domain) pairs of a table, one index seek each (no scan of the table). */
function* pairs(db: Database.Database, from: string): Generator<[string, string]> {
  const next = db.prepare(`SELECT project, domain FROM ${from} WHERE (project, domain) > (?, ?) ORDER BY project, domain LIMIT 1`).raw();
  const first = db.prepare(`SELECT project, domain FROM ${from} ORDER BY project, domain LIMIT 1`).raw().get() as [string, string] | undefined;
  if (!first) return;
  let at = first;
  for (;;) {
    yield at;
    const n = next.get(at[0], at[1]) as [string, string] | undefined;
    if (!n) return;
    at = n;
  }
}

/**
 * Deletes sessions and plays that ended before the cutoff and input bytes of slots before it, in
 * short transactions (at most DELETE_SLICE rows, or one 5-minute slot of one domain) along the
 * indexes, yielding to the event loop between them: the server keeps answering while a year of
 * rows goes.
 */
export async function deleteOriginBefore(db: Database.Database, cutoff: number, pause: () => Promise<void> = nextTick): Promise<void> {
  const cutSlot = Math.floor(cutoff / ORIGIN_SLOT_MS);
  const minSlot = db.prepare('SELECT min(slot) FROM origin_up_bytes WHERE project = ? AND domain = ?').pluck();
  const delSlot = db.prepare('DELETE FROM origin_up_bytes WHERE project = ? AND domain = ? AND slot = ?');
  for (const [project, domain] of [...pairs(db, 'origin_up_bytes')]) {
    for (;;) {
      const slot = minSlot.get(project, domain) as number | null;
      if (slot === null || slot >= cutSlot) break;
      delSlot.run(project, domain, slot);
      await pause();
    }
  }
  const delSessions = db.prepare(`DELETE FROM origin_sessions WHERE project = ? AND id IN (SELECT id FROM origin_sessions INDEXED BY origin_sessions_by_start
    WHERE project = ? AND domain = ? AND start_ms < ? AND end_ms IS NOT NULL AND end_ms < ? LIMIT ${DELETE_SLICE})`);
  for (const [project, domain] of [...pairs(db, 'origin_sessions INDEXED BY origin_sessions_by_start')]) {
    while (delSessions.run(project, project, domain, cutoff, cutoff).changes >= DELETE_SLICE) await pause();
    await pause();
  }
  const nextProject = db.prepare('SELECT project FROM origin_plays INDEXED BY origin_plays_by_start WHERE project > ? ORDER BY project LIMIT 1').pluck();
  const projects: string[] = [];
  for (let p = nextProject.get('') as string | undefined; p !== undefined; p = nextProject.get(p) as string | undefined) projects.push(p);
  const delPlays = db.prepare(`DELETE FROM origin_plays WHERE project = ? AND id IN (SELECT id FROM origin_plays INDEXED BY origin_plays_by_start
    WHERE project = ? AND start_ms < ? AND end_ms IS NOT NULL AND end_ms < ? LIMIT ${DELETE_SLICE})`);
  for (const project of projects) {
    while (delPlays.run(project, project, cutoff, cutoff).changes >= DELETE_SLICE) await pause();
    await pause();
  }
  await deleteOriginSlotsBefore(db, cutoff, pause);
}
