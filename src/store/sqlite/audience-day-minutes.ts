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

/** Minutes of one peak window of aud_domain_days5 (the 300 s users slot), and windows in a day. */
export const PEAK_MINUTES = 5;
export const DAY_PEAKS = DAY_MINUTES / PEAK_MINUTES;

/**
 * Schema v19: per row of aud_domain_days, the largest of each 5 minutes of the day's minutes (288
 * unsigned varints), written with the minutes whenever the row is (patchDayRanges; a minute still
 * growing as FLV sessions end rewrites both): a domain's users series on whole 5-minute slots (300 s,
 * 1 h...) decodes 288 numbers per day instead of 1,440. A table of its own, so a range read of it
 * does not step over the minutes' larger rows.
 */
export const AUDIENCE_DAY_PEAKS_DDL = `CREATE TABLE IF NOT EXISTS aud_domain_days5 (
  sid INTEGER NOT NULL, day INTEGER NOT NULL, v5 BLOB NOT NULL,
  PRIMARY KEY (sid, day)) WITHOUT ROWID;`;

const UPSERT_PEAKS = 'INSERT INTO aud_domain_days5 (sid, day, v5) VALUES (?, ?, ?) ON CONFLICT (sid, day) DO UPDATE SET v5 = excluded.v5';

/** A day's minutes as stored (each a whole number, at least 0). */
export function encodeDay(minutes: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter(2 * DAY_MINUTES);
  for (let i = 0; i < DAY_MINUTES; i++) w.uint(Math.max(0, minutes[i] ?? 0));
  return w.finish();
}

/** A day's 5-minute peaks as stored: the largest of each PEAK_MINUTES of `minutes` (a decoded day, each at least 0). */
export function encodePeaks(minutes: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter(2 * DAY_PEAKS);
  for (let i = 0; i < DAY_MINUTES; i += PEAK_MINUTES) {
    let peak = 0;
    for (let k = i; k < i + PEAK_MINUTES; k++) peak = Math.max(peak, minutes[k] ?? 0);
    w.uint(peak);
  }
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
 * Decodes one stored day of `count` values (minutes or 5-minute peaks: `table` names it in errors) from
 * buf[at..end) and folds them into slots of `per` values: value i of the day is value `offset + i` of the
 * range, in slot floor((offset + i) / per); out[slot] becomes the largest of itself and the value (values
 * before the range, past its `values` or past the last slot are decoded and skipped). Returns the
 * position after the day.
 */
function foldDay(buf: Uint8Array, at: number, end: number, count: number, offset: number, per: number, out: Float64Array, values: number, table: string): number {
  let p = at;
  // Slot and place in it of the day's first value (the range may start or end inside the day).
  let j = Math.floor(offset / per);
  let k = offset - j * per;
  // Range values folded: 0 <= offset + i < last (in a slot, and before the range's end).
  const last = Math.min(out.length * per, values);
  for (let i = 0; i < count; i++) {
    if (p >= end) throw new BlockFormatError(`${table}: a day holds fewer than ${count} values`);
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
        if (p >= end || n > 7) throw new BlockFormatError(`${table}: a value is not a varint`);
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
  cachedStatement(db, UPSERT_PEAKS).run(sid, day, encodePeaks(patched));
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
 * fromMinute + j x per + k, 0 <= k < per; days not stored add nothing). Slots of whole 5-minute
 * windows (from and the range's folded end on a 5-minute boundary, `per` a multiple of 5: 300 s, 1 h)
 * fold the days' 5-minute peaks (aud_domain_days5, schema v19), the largest of a slot's windows being
 * the largest of its minutes; other slots the days' minutes (aud_domain_days). One range read, the
 * days' numbers and their varints each packed into one value by group_concat (which steps both over
 * the same rows in the same order; each row is one whole day); each day is folded into the slots as
 * it is decoded (foldDay), so a month at 300 s is not a 44,640-minute array first.
 */
export function domainDaySlots(db: Database.Database, sid: number, fromMinute: number, toMinute: number, per: number, out: Float64Array): void {
  if (toMinute <= fromMinute) return;
  const minutes = Math.min(out.length * per, toMinute - fromMinute);
  if (fromMinute % PEAK_MINUTES === 0 && per % PEAK_MINUTES === 0 && minutes % PEAK_MINUTES === 0) {
    foldDays(db, 'aud_domain_days5', 'v5', DAY_PEAKS, sid, fromMinute, toMinute, fromMinute / PEAK_MINUTES, per / PEAK_MINUTES, out, minutes / PEAK_MINUTES);
  } else {
    foldDays(db, 'aud_domain_days', 'vm', DAY_MINUTES, sid, fromMinute, toMinute, fromMinute, per, out, toMinute - fromMinute);
  }
}

/**
 * domainDaySlots over one of the day tables (`count` values a day, the range's first value `from` in
 * the table's units, `values` of them folded in slots of `per`): the days holding fromMinute..toMinute.
 */
function foldDays(
  db: Database.Database, table: string, column: string, count: number, sid: number, fromMinute: number, toMinute: number,
  from: number, per: number, out: Float64Array, values: number,
): void {
  const firstDay = Math.floor(fromMinute / DAY_MINUTES);
  const endDay = Math.ceil(toMinute / DAY_MINUTES);
  const [days, packed] = cachedStatement(db, `SELECT group_concat(day), CAST(group_concat(${column}, '') AS BLOB) FROM ${table} WHERE sid = ? AND day >= ? AND day < ?`)
    .raw().get(sid, firstDay, endDay) as [string | null, Buffer | null];
  if (days === null || packed === null) return;
  let p = 0;
  let day = 0;
  for (let i = 0; i <= days.length; i++) {
    const c = i < days.length ? days.charCodeAt(i) : 44;
    if (c !== 44) {
      if (c < 48 || c > 57) throw new Error(`${table}: a stored day is not a whole number`);
      day = day * 10 + (c - 48);
      continue;
    }
    if (day < firstDay || day >= endDay) throw new Error(`${table}: day ${day} outside the range read`);
    p = foldDay(packed, p, packed.length, count, day * count - from, per, out, values, table);
    day = 0;
  }
  if (p !== packed.length) throw new BlockFormatError(`${table}: packed days do not split into days of ${count} values`);
}

/**
 * Retention: the days (minutes and peaks) of the given series before block `beforeBlock`'s day are
 * deleted, and in that day the minutes of the blocks before it are set to 0 (as their blocks are deleted).
 */
export function deleteDayMinutesBefore(db: Database.Database, sids: readonly number[], beforeBlock: number): void {
  const day = Math.floor(beforeBlock / BLOCKS_PER_DAY);
  const del = cachedStatement(db, 'DELETE FROM aud_domain_days WHERE sid = ? AND day < ?');
  const delPeaks = cachedStatement(db, 'DELETE FROM aud_domain_days5 WHERE sid = ? AND day < ?');
  for (const s of sids) {
    del.run(s, day);
    delPeaks.run(s, day);
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
  // The peaks' table too (filled by v19 from these rows): a later migration patching days (patchDayRanges) finds it.
  db.exec(AUDIENCE_DAY_PEAKS_DDL);
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

/**
 * Schema v19: the 5-minute peaks (aud_domain_days5) of every row of aud_domain_days, from its minutes
 * (in the migration's transaction; a page of rows at a time, a statement cannot write while another iterates).
 */
export function buildDayPeaks(db: Database.Database): void {
  db.exec(AUDIENCE_DAY_PEAKS_DDL);
  const upsert = db.prepare(UPSERT_PEAKS);
  const page = db.prepare('SELECT sid, day, vm FROM aud_domain_days WHERE (sid, day) > (?, ?) ORDER BY sid, day LIMIT 500').raw();
  const minutes = new Float64Array(DAY_MINUTES);
  for (let sid = -1, day = -1; ;) {
    const rows = page.all(sid, day) as Array<[number, number, Buffer]>;
    for (const [s, d, vm] of rows) {
      if (decodeDay(vm, 0, vm.length, minutes, 0) !== vm.length) throw new BlockFormatError('aud_domain_days: a day holds more than 1,440 minutes');
      upsert.run(s, d, encodePeaks(minutes));
      sid = s;
      day = d;
    }
    if (rows.length < 500) return;
  }
}
