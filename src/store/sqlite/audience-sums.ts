import type Database from 'better-sqlite3';
import { sumMeasure } from '../blocks/codec.js';
import { buildDayMinutes, deleteDayMinutesBefore, patchDayBlocks } from './audience-day-minutes.js';
import { cachedStatement } from '../blocks/table.js';
import { addSessionViewers } from '../audience-flv.js';
import { AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, M_BYTES, M_CLOSES, M_OPENS, M_PLAY_MS, M_REQUESTS, M_VIEWERS } from './audience-layout.js';

/** Minutes of one 5-minute peak window (the 300 s users slot and the portrait's peak bandwidth). */
export const SUM_WINDOW_MINUTES = 5;
/** 5-minute windows in one block of the audience cube (15 minutes). */
export const SUM_WINDOWS = AUDIENCE_BLOCK_SLOTS / SUM_WINDOW_MINUTES;
if (!Number.isInteger(SUM_WINDOWS)) throw new Error('audience blocks are not whole 5-minute windows');

/** The domain cube's total level (every protocol, province and carrier): what the sums summarise. */
export const DOMAIN_TOTALS = AUDIENCE_DOMAINS.levelFor([[], []]);

/**
 * Schema v16: per (domain series, quarter-hour block) of the domain cube's total level, what the two
 * heaviest domain-wide answers need, kept beside the block in the same transaction (refreshed from
 * the block as written):
 * - v0..v2: the online viewers' peak (every protocol, FLV/RTMP sessions included; at least 0) of each
 *   of the block's three 5-minute windows: a users series at 300 s is one value per window;
 * - bytes, requests, playms: the block's sums; b5: its largest 5-minute byte sum: a domain's portrait.
 * Keyed by (series, block), so a domain's 31 days are one range of the table (2,976 rows next to each
 * other) where the blocks are 2,976 point lookups interleaved with every other domain's.
 */
export const AUDIENCE_SUMS_DDL = `CREATE TABLE IF NOT EXISTS aud_domain_sums (
  sid INTEGER NOT NULL, block INTEGER NOT NULL,
  v0 INTEGER NOT NULL, v1 INTEGER NOT NULL, v2 INTEGER NOT NULL,
  bytes INTEGER NOT NULL, requests INTEGER NOT NULL, playms INTEGER NOT NULL, b5 INTEGER NOT NULL,
  PRIMARY KEY (sid, block)) WITHOUT ROWID;`;

/**
 * The summary row of one block: [v0, v1, v2, bytes, requests, playms, b5]; with `minutes` (the
 * block's length), also its online viewers per minute, at least 0 (aud_domain_days).
 */
export function summarizeBlock(data: Uint8Array, minutes?: Float64Array): number[] {
  const bs = AUDIENCE_BLOCK_SLOTS;
  const cols = [M_VIEWERS, M_BYTES, M_REQUESTS, M_PLAY_MS, M_OPENS, M_CLOSES].map(() => new Float64Array(bs));
  [M_VIEWERS, M_BYTES, M_REQUESTS, M_PLAY_MS, M_OPENS, M_CLOSES].forEach((m, j) => sumMeasure(data, m, 0, () => cols[j]));
  const [viewers, bytes, requests, playMs, opens, closes] = cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  addSessionViewers(viewers, opens, closes, 0);
  if (minutes) for (let i = 0; i < bs; i++) minutes[i] = Math.max(0, viewers[i] as number);
  const out = [0, 0, 0, 0, 0, 0, 0];
  let b5 = 0;
  for (let w = 0; w < SUM_WINDOWS; w++) {
    let peak = 0;
    let b = 0;
    for (let i = w * SUM_WINDOW_MINUTES; i < (w + 1) * SUM_WINDOW_MINUTES; i++) {
      peak = Math.max(peak, viewers[i] as number);
      b += bytes[i] as number;
    }
    out[w] = peak;
    b5 = Math.max(b5, b);
  }
  for (let i = 0; i < bs; i++) {
    out[3] = (out[3] as number) + (bytes[i] as number);
    out[4] = (out[4] as number) + (requests[i] as number);
    out[5] = (out[5] as number) + (playMs[i] as number);
  }
  out[6] = b5;
  return out;
}

const UPSERT = 'INSERT INTO aud_domain_sums (sid, block, v0, v1, v2, bytes, requests, playms, b5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) '
  + 'ON CONFLICT (sid, block) DO UPDATE SET v0 = excluded.v0, v1 = excluded.v1, v2 = excluded.v2, bytes = excluded.bytes, '
  + 'requests = excluded.requests, playms = excluded.playms, b5 = excluded.b5';

/**
 * Refreshes the sums (and the minute viewers) of the given (domain series, block) pairs from their blocks as stored now (inside
 * the caller's write transaction, after the domain cube's write): one read and one upsert per pair.
 */
export function refreshDomainSums(db: Database.Database, series: ArrayLike<number>, blocks: ArrayLike<number>): void {
  const table = DOMAIN_TOTALS.table;
  const read = cachedStatement(db, `SELECT data FROM ${table.name} WHERE id = ?`).pluck();
  const upsert = cachedStatement(db, UPSERT);
  const drop = cachedStatement(db, 'DELETE FROM aud_domain_sums WHERE sid = ? AND block = ?');
  const done = new Set<number>();
  // Per series, its blocks' minute viewers: each day's row is patched once for all of them.
  const days = new Map<number, Array<{ block: number; minutes: Float64Array | undefined }>>();
  for (let i = 0; i < series.length; i++) {
    const s = series[i] as number;
    const b = blocks[i] as number;
    const id = table.id(s, 0, b);
    if (done.has(id)) continue;
    done.add(id);
    const data = read.get(id) as Buffer | undefined;
    let minutes: Float64Array | undefined;
    if (data === undefined) drop.run(s, b);
    else {
      minutes = new Float64Array(AUDIENCE_BLOCK_SLOTS);
      upsert.run(s, b, ...summarizeBlock(data, minutes));
    }
    let list = days.get(s);
    if (list === undefined) days.set(s, (list = []));
    list.push({ block: b, minutes });
  }
  for (const [s, list] of days) patchDayBlocks(db, s, list);
}

/** Schema v16: the sums of every stored block of the domain cube's total level (in the migration's transaction). */
export function migrateDomainSums(db: Database.Database): void {
  db.exec(AUDIENCE_SUMS_DDL);
  const upsert = db.prepare(UPSERT);
  const table = DOMAIN_TOTALS.table;
  // A page of blocks at a time (a statement cannot write while another iterates).
  const page = db.prepare(`SELECT id, data FROM ${table.name} WHERE id > ? ORDER BY id LIMIT 2000`).raw();
  for (let after = -1; ;) {
    const rows = page.all(after) as Array<[number, Buffer]>;
    for (const [id, data] of rows) {
      const { series, block } = table.parts(id);
      upsert.run(series, block, ...summarizeBlock(data));
      after = id;
    }
    if (rows.length < 2000) return;
  }
}

/** Schema v17: the day minutes (aud_domain_days) of every stored block of the domain cube's total level (in the migration's transaction). */
export function migrateDomainMinutes(db: Database.Database): void {
  const table = DOMAIN_TOTALS.table;
  const page = db.prepare(`SELECT id, data FROM ${table.name} WHERE id > ? ORDER BY id LIMIT 2000`).raw();
  // Read a page ahead of the writes (a statement cannot write while another iterates).
  function* blocks(): Generator<[number, number, Float64Array]> {
    for (let after = -1; ;) {
      const rows = page.all(after) as Array<[number, Buffer]>;
      for (const [id, data] of rows) {
        const { series, block } = table.parts(id);
        const minutes = new Float64Array(AUDIENCE_BLOCK_SLOTS);
        summarizeBlock(data, minutes);
        yield [series, block, minutes];
        after = id;
      }
      if (rows.length < 2000) return;
    }
  }
  buildDayMinutes(db, blocks());
}

/** A domain series' day (or any block range) from its block sums: flow, lines, play ms, peak viewers, peak 5-minute bytes. */
export function domainDaySums(db: Database.Database, sid: number, fromBlock: number, toBlock: number): { bytes: number; requests: number; playMs: number; peakViewers: number; peakBytes5m: number } {
  const row = cachedStatement(db, 'SELECT sum(bytes), sum(requests), sum(playms), max(max(v0, v1, v2)), max(b5) FROM aud_domain_sums WHERE sid = ? AND block >= ? AND block < ?')
    .raw().get(sid, fromBlock, toBlock) as Array<number | null>;
  return { bytes: row[0] ?? 0, requests: row[1] ?? 0, playMs: row[2] ?? 0, peakViewers: row[3] ?? 0, peakBytes5m: row[4] ?? 0 };
}

/** The domain series ids (retention deletes the sums a series at a time: each is one range of the table). */
export const domainSumSeries = (db: Database.Database): number[] =>
  db.prepare(`SELECT id FROM ${AUDIENCE_DOMAINS.seriesTable} ORDER BY id`).pluck().all() as number[];

/** Deletes the sums and minute viewers of blocks before `beforeBlock` of the given domain series (retention). */
export function deleteDomainSumsBefore(db: Database.Database, sids: readonly number[], beforeBlock: number): void {
  const del = cachedStatement(db, 'DELETE FROM aud_domain_sums WHERE sid = ? AND block < ?');
  for (const s of sids) del.run(s, beforeBlock);
  deleteDayMinutesBefore(db, sids, beforeBlock);
}
