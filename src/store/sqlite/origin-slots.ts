import type Database from 'better-sqlite3';
import { ORIGIN_SLOT_MS, type OriginBatch, type StreamCountFilter, type UpBandwidthFilter } from '../origin.js';
import { cachedStatement } from '../blocks/table.js';

/**
 * Per-slot pre-aggregates of the publish side (SQLite migration 11), kept at ingest time in the
 * transaction that writes the sessions and input bytes (applyOrigin), so ShowStreamCount and
 * ShowUpBandwidth read one row per (domain, slot) instead of every session or every stream's bytes.
 *
 * - origin_up_domain: input bytes per (domain, type, 5-minute slot, region, isp), without app and
 *   stream: what ShowUpBandwidth sums when no app/stream is asked (region/isp stay, they filter).
 * - origin_count_slots + origin_count_events: the stream count of CLOSED sessions. For a slot
 *   [S, E): `base` = closed sessions with start <= S < end (running at the slot's start), `peak` =
 *   the highest rise of the running count inside the slot above base (>= 0), from the starts and
 *   ends strictly inside the slot (origin_count_events: net change per instant, 0 rows removed).
 *   base is additive (a session adds 1 to every slot start it covers); peak is recomputed for the two
 *   slots whose events a session changes. Open sessions (end null: they run to "now") are few and
 *   added at read time from the sessions table's open index.
 *
 * The answer equals streamCountSeries (origin-counts.ts) over the sessions: test/origin-slots.test.ts.
 */

export function createOriginSlotTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS origin_up_domain (
      project TEXT NOT NULL, domain TEXT NOT NULL, type INTEGER NOT NULL, slot INTEGER NOT NULL, region TEXT NOT NULL, isp TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      PRIMARY KEY (project, domain, type, slot, region, isp)
    ) WITHOUT ROWID;
    -- A stream's bytes without walking the domain's other streams (ShowUpBandwidth with app/stream), covering.
    CREATE INDEX IF NOT EXISTS origin_up_bytes_by_stream ON origin_up_bytes (project, domain, app, stream, type, slot, bytes);
    CREATE TABLE IF NOT EXISTS origin_count_slots (
      project TEXT NOT NULL, domain TEXT NOT NULL, slot INTEGER NOT NULL, base INTEGER NOT NULL, peak INTEGER NOT NULL,
      PRIMARY KEY (project, domain, slot)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS origin_count_events (
      project TEXT NOT NULL, domain TEXT NOT NULL, at_ms INTEGER NOT NULL, delta INTEGER NOT NULL,
      PRIMARY KEY (project, domain, at_ms)
    ) WITHOUT ROWID;
  `);
  // Backfill from what is stored (a file at version 8..10).
  db.exec(`INSERT INTO origin_up_domain (project, domain, type, slot, region, isp, bytes)
    SELECT project, domain, type, slot, region, isp, sum(bytes) FROM origin_up_bytes GROUP BY project, domain, type, slot, region, isp`);
  const closed = db.prepare('SELECT project, domain, start_ms, end_ms FROM origin_sessions WHERE end_ms IS NOT NULL').raw().iterate() as
    IterableIterator<[string, string, number, number]>;
  const counts = new CountChanges();
  for (const [project, domain, start, end] of closed) counts.add(project, domain, start, end, 1);
  counts.apply(db);
}

const SLOT = ORIGIN_SLOT_MS;
const key = (project: string, domain: string): string => `${project}\u0000${domain}`;

/** The count pre-aggregate's changes of one batch, summed in memory, then applied once per row. */
class CountChanges {
  private readonly base = new Map<string, { project: string; domain: string; slots: Map<number, number> }>();
  private readonly events = new Map<string, { project: string; domain: string; at: Map<number, number> }>();

  /** A closed session [start, end) added (sign 1) or taken away (-1). */
  add(project: string, domain: string, start: number, end: number, sign: 1 | -1): void {
    if (!(end > start)) return;
    const k = key(project, domain);
    let b = this.base.get(k);
    if (!b) this.base.set(k, (b = { project, domain, slots: new Map() }));
    for (let slot = Math.ceil(start / SLOT); slot * SLOT < end; slot++) b.slots.set(slot, (b.slots.get(slot) ?? 0) + sign);
    let e = this.events.get(k);
    if (!e) this.events.set(k, (e = { project, domain, at: new Map() }));
    if (start % SLOT !== 0) e.at.set(start, (e.at.get(start) ?? 0) + sign);
    if (end % SLOT !== 0) e.at.set(end, (e.at.get(end) ?? 0) - sign);
  }

  apply(db: Database.Database): void {
    const upBase = cachedStatement(db, `INSERT INTO origin_count_slots (project, domain, slot, base, peak) VALUES (?, ?, ?, ?, 0)
      ON CONFLICT (project, domain, slot) DO UPDATE SET base = base + excluded.base`);
    const upEvent = cachedStatement(db, `INSERT INTO origin_count_events (project, domain, at_ms, delta) VALUES (?, ?, ?, ?)
      ON CONFLICT (project, domain, at_ms) DO UPDATE SET delta = delta + excluded.delta`);
    const dropEvent = cachedStatement(db, 'DELETE FROM origin_count_events WHERE project = ? AND domain = ? AND at_ms = ? AND delta = 0');
    const slotEvents = cachedStatement(db, 'SELECT delta FROM origin_count_events WHERE project = ? AND domain = ? AND at_ms > ? AND at_ms < ? ORDER BY at_ms').pluck();
    const setPeak = cachedStatement(db, `INSERT INTO origin_count_slots (project, domain, slot, base, peak) VALUES (?, ?, ?, 0, ?)
      ON CONFLICT (project, domain, slot) DO UPDATE SET peak = excluded.peak`);
    const dropEmpty = cachedStatement(db, 'DELETE FROM origin_count_slots WHERE project = ? AND domain = ? AND slot = ? AND base = 0 AND peak = 0');
    for (const b of this.base.values()) {
      for (const [slot, n] of b.slots) {
        if (n === 0) continue;
        upBase.run(b.project, b.domain, slot, n);
        dropEmpty.run(b.project, b.domain, slot);
      }
    }
    for (const e of this.events.values()) {
      const dirty = new Set<number>();
      for (const [at, d] of e.at) {
        if (d === 0) continue;
        upEvent.run(e.project, e.domain, at, d);
        dropEvent.run(e.project, e.domain, at);
        dirty.add(Math.floor(at / SLOT));
      }
      for (const slot of dirty) {
        const deltas = slotEvents.all(e.project, e.domain, slot * SLOT, (slot + 1) * SLOT) as number[];
        setPeak.run(e.project, e.domain, slot, highestRise(deltas));
        dropEmpty.run(e.project, e.domain, slot);
      }
    }
  }
}

/** The highest running sum of the deltas (in time order) above 0, at least 0. */
function highestRise(deltas: readonly number[]): number {
  let cur = 0;
  let max = 0;
  for (const d of deltas) {
    cur += d;
    if (cur > max) max = cur;
  }
  return max;
}

/**
 * Keeps the pre-aggregates in step with one intake flush; call BEFORE the batch's sessions replace
 * the stored ones (the old row of a session is taken away) and inside the same transaction.
 */
export function applyOriginSlots(db: Database.Database, batch: OriginBatch): void {
  if (batch.sessions.length > 0) {
    const old = cachedStatement(db, 'SELECT domain, start_ms, end_ms, updated_at FROM origin_sessions WHERE project = ? AND id = ?').raw();
    const counts = new CountChanges();
    // The newest write of an id wins, also inside one batch: the latest state of each id so far.
    const seen = new Map<string, { domain: string; start: number; end: number | null; updatedAt: number }>();
    for (const s of batch.sessions) {
      const id = `${s.project}\u0000${s.id}`;
      let before = seen.get(id);
      if (!before) {
        const r = old.get(s.project, s.id) as [string, number, number | null, number] | undefined;
        if (r) before = { domain: r[0], start: r[1], end: r[2], updatedAt: r[3] };
      }
      if (before && s.updatedAt < before.updatedAt) continue;
      if (before?.end === s.end && before.start === s.start && before.domain === s.domain) {
        seen.set(id, { ...before, updatedAt: s.updatedAt });
        continue;
      }
      if (before && before.end !== null) counts.add(s.project, before.domain, before.start, before.end, -1);
      if (s.end !== null) counts.add(s.project, s.domain, s.start, s.end, 1);
      seen.set(id, { domain: s.domain, start: s.start, end: s.end, updatedAt: s.updatedAt });
    }
    counts.apply(db);
  }
  const up = cachedStatement(db, `INSERT INTO origin_up_domain (project, domain, type, slot, region, isp, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (project, domain, type, slot, region, isp) DO UPDATE SET bytes = bytes + excluded.bytes`);
  const sums = new Map<string, [string, string, number, number, string, string, number]>();
  for (const b of batch.upBytes) {
    if (b.bytes <= 0) continue;
    const slot = Math.floor(b.slot / SLOT);
    const k = JSON.stringify([b.project, b.domain, b.type, slot, b.region, b.isp]);
    const row = sums.get(k);
    if (row) row[6] += Math.round(b.bytes);
    else sums.set(k, [b.project, b.domain, b.type, slot, b.region, b.isp, Math.round(b.bytes)]);
  }
  for (const r of sums.values()) up.run(...r);
}

const marks = (n: number): string => new Array(n).fill('?').join(', ');

/** ShowStreamCount from the pre-aggregate plus the open sessions (see the top of this file). */
export function readCountsFromSlots(db: Database.Database, f: StreamCountFilter, now: number): Float64Array {
  const slots = Math.max(0, Math.floor((f.to - f.from) / SLOT));
  const out = new Float64Array(slots);
  if (slots === 0 || f.domains.length === 0) return out;
  const first = f.from / SLOT;
  const stored = cachedStatement(db, `SELECT slot, base, peak FROM origin_count_slots
    WHERE project = ? AND domain = ? AND slot >= ? AND slot < ?`).raw();
  const open = cachedStatement(db, `SELECT start_ms FROM origin_sessions INDEXED BY origin_sessions_open
    WHERE project = ? AND domain = ? AND end_ms IS NULL AND start_ms < ?`).pluck();
  const events = cachedStatement(db, 'SELECT at_ms, delta FROM origin_count_events WHERE project = ? AND domain = ? AND at_ms > ? AND at_ms < ?').raw();
  const stop = Math.min(now, f.to);
  for (const domain of new Set(f.domains)) {
    const value = new Float64Array(slots);
    const base = new Float64Array(slots);
    for (const [slot, b, peak] of stored.all(f.project, domain, first, first + slots) as Array<[number, number, number]>) {
      base[slot - first] = b;
      value[slot - first] = b + peak;
    }
    const starts = (open.all(f.project, domain, stop) as number[]).sort((a, b) => a - b);
    if (starts.length > 0) {
      // Slots an open session covers whole ([S, E) inside [start, now)) gain 1 each; the slots where
      // one starts or where now falls are recomputed from their events.
      const exact = new Set<number>();
      const cover = new Float64Array(slots + 1);
      for (const start of starts) {
        const a = Math.max(0, Math.ceil((start - f.from) / SLOT));
        const b = Math.min(slots, Math.floor((stop - f.from) / SLOT));
        if (a < b) { cover[a] = (cover[a] as number) + 1; cover[b] = (cover[b] as number) - 1; }
        const i = Math.floor((start - f.from) / SLOT);
        if (i >= 0 && i < slots && start >= f.from + i * SLOT) exact.add(i);
      }
      const nowAt = Math.floor((stop - f.from) / SLOT);
      if (nowAt >= 0 && nowAt < slots && stop > f.from + nowAt * SLOT) exact.add(nowAt);
      let run = 0;
      for (let i = 0; i < slots; i++) { run += cover[i] as number; value[i] = (value[i] as number) + run; }
      for (const i of exact) {
        const S = f.from + i * SLOT;
        const E = S + SLOT;
        const change = new Map<number, number>();
        for (const [at, d] of events.all(f.project, domain, S, E) as Array<[number, number]>) change.set(at, d);
        let cur = base[i] as number;
        for (const start of starts) {
          if (start <= S) { if (S < stop) cur++; } else if (start < E && start < stop) change.set(start, (change.get(start) ?? 0) + 1);
        }
        // Every open session (all started before stop) ends at stop.
        if (stop > S && stop < E) change.set(stop, (change.get(stop) ?? 0) - starts.length);
        let max = cur;
        for (const at of [...change.keys()].sort((a, b) => a - b)) {
          cur += change.get(at) as number;
          if (cur > max) max = cur;
        }
        value[i] = max;
      }
    }
    for (let i = 0; i < slots; i++) out[i] = (out[i] as number) + (value[i] as number);
  }
  return out;
}

/**
 * ShowUpBandwidth: input bytes per slot of the filter. Without app/stream from the per-domain
 * pre-aggregate, else from the per-stream rows along origin_up_bytes_by_stream. One query per domain,
 * grouped by the raw 5-minute slot in the key's order, so SQLite sums as it walks the key.
 */
export function readUpBytes(db: Database.Database, f: UpBandwidthFilter): Float64Array {
  const count = Math.max(0, Math.floor((f.to - f.from) / f.slotMs));
  const out = new Float64Array(count);
  if (count === 0 || f.domains.length === 0) return out;
  const perStream = f.app !== undefined || f.stream !== undefined;
  const c = ['project = ?', 'domain = ?', 'type = ?', 'slot >= ?', 'slot < ?'];
  const rest: Array<string | number> = [];
  if (f.app !== undefined) { c.push('app = ?'); rest.push(f.app); }
  if (f.stream !== undefined) { c.push('stream = ?'); rest.push(f.stream); }
  if (f.regions.length > 0) { c.push(`region IN (${marks(f.regions.length)})`); rest.push(...f.regions); }
  if (f.isps.length > 0) { c.push(`isp IN (${marks(f.isps.length)})`); rest.push(...f.isps); }
  const per = f.slotMs / SLOT;
  const first = f.from / f.slotMs;
  const sum = cachedStatement(db, `SELECT slot, sum(bytes) FROM ${perStream ? 'origin_up_bytes' : 'origin_up_domain'}
    WHERE ${c.join(' AND ')} GROUP BY slot`).raw();
  for (const domain of new Set(f.domains)) {
    const rows = sum.all(f.project, domain, f.type, Math.floor(f.from / SLOT), Math.ceil(f.to / SLOT), ...rest) as Array<[number, number]>;
    for (const [slot, b] of rows) {
      const i = Math.floor(slot / per) - first;
      if (i >= 0 && i < count) out[i] = (out[i] as number) + b;
    }
  }
  return out;
}

/** Retention of the pre-aggregates: rows of slots (and instants) before the cutoff, in short slices. */
export async function deleteOriginSlotsBefore(db: Database.Database, cutoff: number, pause: () => Promise<void>): Promise<void> {
  const cutSlot = Math.floor(cutoff / SLOT);
  const pairsOf = (table: string): Array<[string, string]> =>
    db.prepare(`SELECT DISTINCT project, domain FROM ${table}`).raw().all() as Array<[string, string]>;
  for (const [project, domain] of pairsOf('origin_count_slots')) {
    const del = db.prepare('DELETE FROM origin_count_slots WHERE project = ? AND domain = ? AND slot < ?');
    del.run(project, domain, cutSlot);
    await pause();
  }
  for (const [project, domain] of pairsOf('origin_count_events')) {
    db.prepare('DELETE FROM origin_count_events WHERE project = ? AND domain = ? AND at_ms < ?').run(project, domain, cutSlot * SLOT);
    await pause();
  }
  for (const [project, domain] of pairsOf('origin_up_domain')) {
    for (const type of [0, 1]) {
      db.prepare('DELETE FROM origin_up_domain WHERE project = ? AND domain = ? AND type = ? AND slot < ?').run(project, domain, type, cutSlot);
      await pause();
    }
  }
}
