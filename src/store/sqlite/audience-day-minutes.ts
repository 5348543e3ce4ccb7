import type Database from 'better-sqlite3';
import { cachedStatement } from '../blocks/table.js';
import { BlockFormatError, ByteWriter } from '../blocks/varint.js';
import { AUDIENCE_BLOCK_SLOTS } from './audience-layout.js';

/** Minutes of a UTC day, and quarter-hour blocks of the audience cube in one. */
export const DAY_MINUTES = 1440;
export const BLOCKS_PER_DAY = DAY_MINUTES / AUDIENCE_BLOCK_SLOTS;
if (!Number.isInteger(BLOCKS_PER_DAY)) throw new Error('audience blocks do not divide a day');

/**
 * Schema v17: per (domain series, UTC day) of the domain cube's total level, the online viewers of
 * each of the day's 1,440 minutes (every protocol, FLV/RTMP sessions included; at least 0; 0 where no
 * block is stored) as 1,440 unsigned varints, kept beside the block sums and patched from each block
 * the write refreshes, in the same transaction. A whole domain's users series on whole minutes
 * (60 s, 300 s, 1 h...) reads one row per day instead of a block (or a sums row) per quarter-hour:
 * 7 days are 8 rows, 31 days 32.
 */
export const AUDIENCE_DAY_MINUTES_DDL = `CREATE TABLE IF NOT EXISTS aud_domain_days (
  sid INTEGER NOT NULL, day INTEGER NOT NULL, vm BLOB NOT NULL,
  PRIMARY KEY (sid, day)) WITHOUT ROWID;`;

const UPSERT = 'INSERT INTO aud_domain_days (sid, day, vm) VALUES (?, ?, ?) ON CONFLICT (sid, day) DO UPDATE SET vm = excluded.vm';

/** A day's minutes as stored (each a whole number, at least 0). */
export function encodeDay(minutes: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter(2 * DAY_MINUTES);
  for (let i = 0; i < DAY_MINUTES; i++) w.uint(Math.max(0, minutes[i] ?? 0));
  return w.finish();
}

/**
 * Decodes one stored day (DAY_MINUTES unsigned varints) from buf[at..end) into out[o..]; returns the
 * position after it. The one- and two-byte varints of most minutes are read in place.
 */
function decodeDay(buf: Uint8Array, at: number, end: number, out: Float64Array, o: number): number {
  let p = at;
  for (let i = 0; i < DAY_MINUTES; i++) {
    if (p >= end) throw new BlockFormatError('aud_domain_days: a day holds fewer than 1,440 minutes');
    let b = buf[p++] as number;
    if (b < 0x80) {
      out[o + i] = b;
      continue;
    }
    // Two bytes: most minutes of a busy domain (128 to 16,383 viewers).
    if (p < end && (buf[p] as number) < 0x80) {
      out[o + i] = (b & 0x7f) + (buf[p++] as number) * 0x80;
      continue;
    }
    let v = b & 0x7f;
    let scale = 0x80;
    for (let k = 1; ; k++) {
      if (p >= end || k > 7) throw new BlockFormatError('aud_domain_days: a minute is not a varint');
      b = buf[p++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    out[o + i] = v;
  }
  return p;
}

/**
 * Decodes one stored day (as decodeDay) from buf[at..end) and folds its minutes into slots of `per`
 * minutes: minute i of the day is minute `offset + i` of the range, in slot floor((offset + i) / per);
 * out[slot] becomes the largest of itself and the minute (minutes before the range, past its
 * `minutes` or past the last slot are decoded and skipped). Returns the position after the day.
 */
function foldDay(buf: Uint8Array, at: number, end: number, offset: number, per: number, out: Float64Array, minutes: number): number {
  let p = at;
  // Slot and place in it of the day's first minute (the range may start or end inside the day).
  let j = Math.floor(offset / per);
  let k = offset - j * per;
  // Range minutes folded: 0 <= offset + i < last (in a slot, and before the range's end).
  const last = Math.min(out.length * per, minutes);
  for (let i = 0; i < DAY_MINUTES; i++) {
    if (p >= end) throw new BlockFormatError('aud_domain_days: a day holds fewer than 1,440 minutes');
    let b = buf[p++] as number;
    let v: number;
    if (b < 0x80) v = b;
    else if (p < end && (buf[p] as number) < 0x80) {
      // Two bytes: most minutes of a busy domain (128 to 16,383 viewers).
      v = (b & 0x7f) + (buf[p++] as number) * 0x80;
    } else {
      v = b & 0x7f;
      let scale = 0x80;
      for (let n = 1; ; n++) {
        if (p >= end || n > 7) throw new BlockFormatError('aud_domain_days: a minute is not a varint');
        b = buf[p++] as number;
        v += (b & 0x7f) * scale;
        if (b < 0x80) break;
        scale *= 0x80;
      }
    }
    const r = offset + i;
    if (r >= 0 && r < last && v > (out[j] as number)) out[j] = v;
    if (++k === per) {
      k = 0;
      j++;
    }
  }
  return p;
}

/** One day decoded while its row is patched (writes run one at a time on a connection's thread). */
const patched = new Float64Array(DAY_MINUTES);

/** Sets `count` minutes of a day's row from minute `at` of the day (undefined: zeros; a missing row stays missing then). */
function patchDay(db: Database.Database, sid: number, day: number, at: number, count: number, minutes: ArrayLike<number> | undefined): void {
  patchDayRanges(db, sid, day, [{ at, count, minutes }]);
}

/** A run of minutes of a day to set (undefined: zeros). */
interface DayPatch {
  at: number;
  count: number;
  minutes: ArrayLike<number> | undefined;
}

/** patchDay for several runs of one day, in order: the row is read, patched and written once (a missing row stays missing when every run is zeros). */
function patchDayRanges(db: Database.Database, sid: number, day: number, runs: readonly DayPatch[]): void {
  const old = cachedStatement(db, 'SELECT vm FROM aud_domain_days WHERE sid = ? AND day = ?').pluck().get(sid, day) as Buffer | undefined;
  if (old === undefined) {
    if (runs.every((r) => r.minutes === undefined)) return;
    patched.fill(0);
  } else if (decodeDay(old, 0, old.length, patched, 0) !== old.length) {
    throw new BlockFormatError('aud_domain_days: a day holds more than 1,440 minutes');
  }
  for (const { at, count, minutes } of runs) {
    for (let i = 0; i < count; i++) patched[at + i] = minutes === undefined ? 0 : Math.max(0, minutes[i] as number);
  }
  cachedStatement(db, UPSERT).run(sid, day, encodeDay(patched));
}

/**
 * Sets the minutes of the given blocks of series `sid` in their days' rows (`minutes`: a block's 15
 * minutes; undefined: zeros, the block is gone), each day's row read, patched and written once for
 * all its blocks (a write's blocks of one domain are mostly of one day).
 */
export function patchDayBlocks(db: Database.Database, sid: number, blocks: ReadonlyArray<{ block: number; minutes: ArrayLike<number> | undefined }>): void {
  const days = new Map<number, DayPatch[]>();
  for (const { block, minutes } of blocks) {
    const day = Math.floor(block / BLOCKS_PER_DAY);
    let runs = days.get(day);
    if (runs === undefined) days.set(day, (runs = []));
    runs.push({ at: (block - day * BLOCKS_PER_DAY) * AUDIENCE_BLOCK_SLOTS, count: AUDIENCE_BLOCK_SLOTS, minutes });
  }
  for (const [day, runs] of days) patchDayRanges(db, sid, day, runs);
}

/**
 * The online viewers of a domain series over fromMinute <= minute < toMinute folded into slots of
 * `per` minutes: out[j] becomes the largest of its value and the minutes of slot j (minute
 * fromMinute + j x per + k, 0 <= k < per; days not stored add nothing). One range read, the days'
 * numbers and their varints each packed into one value by group_concat (which steps both over the
 * same rows in the same order; each row is one whole day); each day's minutes are folded into the
 * slots as they are decoded (foldDay), so a month at 300 s is not a 44,640-minute array first.
 */
export function domainDaySlots(db: Database.Database, sid: number, fromMinute: number, toMinute: number, per: number, out: Float64Array): void {
  if (toMinute <= fromMinute) return;
  const firstDay = Math.floor(fromMinute / DAY_MINUTES);
  const endDay = Math.ceil(toMinute / DAY_MINUTES);
  const [days, packed] = cachedStatement(db, "SELECT group_concat(day), CAST(group_concat(vm, '') AS BLOB) FROM aud_domain_days WHERE sid = ? AND day >= ? AND day < ?")
    .raw().get(sid, firstDay, endDay) as [string | null, Buffer | null];
  if (days === null || packed === null) return;
  let p = 0;
  let day = 0;
  for (let i = 0; i <= days.length; i++) {
    const c = i < days.length ? days.charCodeAt(i) : 44;
    if (c !== 44) {
      if (c < 48 || c > 57) throw new Error('aud_domain_days: a stored day is not a whole number');
      day = day * 10 + (c - 48);
      continue;
    }
    if (day < firstDay || day >= endDay) throw new Error(`aud_domain_days: day ${day} outside the range read`);
    p = foldDay(packed, p, packed.length, day * DAY_MINUTES - fromMinute, per, out, toMinute - fromMinute);
    day = 0;
  }
  if (p !== packed.length) throw new BlockFormatError('aud_domain_days: packed days do not split into days of 1,440 minutes');
}

/**
 * Retention: the days of the given series before block `beforeBlock`'s day are deleted, and in that
 * day the minutes of the blocks before it are set to 0 (as their blocks are deleted).
 */
export function deleteDayMinutesBefore(db: Database.Database, sids: readonly number[], beforeBlock: number): void {
  const day = Math.floor(beforeBlock / BLOCKS_PER_DAY);
  const del = cachedStatement(db, 'DELETE FROM aud_domain_days WHERE sid = ? AND day < ?');
  for (const s of sids) {
    del.run(s, day);
    const cut = (beforeBlock - day * BLOCKS_PER_DAY) * AUDIENCE_BLOCK_SLOTS;
    if (cut > 0) patchDay(db, s, day, 0, cut, undefined);
  }
}

/**
 * Schema v17: the rows of every stored block of the domain cube's total level (in the migration's
 * transaction). `blocks` yields (series, block, the block's 15 minutes) in row id order, which is
 * block-major: a day's blocks come together, so only the current day's rows are held.
 */
export function buildDayMinutes(db: Database.Database, blocks: Iterable<[number, number, Float64Array]>): void {
  db.exec(AUDIENCE_DAY_MINUTES_DDL);
  const upsert = db.prepare(UPSERT);
  const open = new Map<number, Float64Array>();
  let day = NaN;
  const flush = (): void => {
    for (const [sid, m] of open) upsert.run(sid, day, encodeDay(m));
    open.clear();
  };
  for (const [series, block, minutes] of blocks) {
    const d = Math.floor(block / BLOCKS_PER_DAY);
    if (d !== day) {
      flush();
      day = d;
    }
    let m = open.get(series);
    if (m === undefined) open.set(series, (m = new Float64Array(DAY_MINUTES)));
    m.set(minutes, (block - d * BLOCKS_PER_DAY) * AUDIENCE_BLOCK_SLOTS);
  }
  flush();
}
