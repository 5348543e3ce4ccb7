import type Database from 'better-sqlite3';
import { decodeIpSet, encodeIpSet, mergeIpSet } from '../blocks/ip-set.js';
import { cachedStatement } from '../blocks/table.js';

/**
 * Schema v10: the IPv4 entries of the audience cube's exact sets as blobs (src/store/blocks/ip-set.ts),
 * one row per set part instead of one per address:
 * - aud_hls_v4: the HLS viewers counted of (minute, stream series);
 * - aud_users_v4: the users of (day, user key), split in USER_CHUNKS parts by the address's top
 *   bits (`part` = uid x USER_CHUNKS + (ip >>> USER_CHUNK_SHIFT)), so that a batch rewrites the parts
 *   its new addresses fall in, not a whole day's set.
 * Addresses that are not IPv4 stay rows of aud_hls / aud_users (schema v7). Keys lead with the time,
 * so retention deletes a range.
 */
export const USER_CHUNK_SHIFT = 20;
export const USER_CHUNKS = 2 ** (32 - USER_CHUNK_SHIFT);

const DDL = [
  'CREATE TABLE IF NOT EXISTS aud_hls_v4 (minute INTEGER NOT NULL, sid INTEGER NOT NULL, ips BLOB NOT NULL, PRIMARY KEY (minute, sid)) WITHOUT ROWID;',
  'CREATE TABLE IF NOT EXISTS aud_users_v4 (day INTEGER NOT NULL, part INTEGER NOT NULL, ips BLOB NOT NULL, PRIMARY KEY (day, part)) WITHOUT ROWID;',
].join('\n');

export interface SetTable {
  name: 'aud_hls_v4' | 'aud_users_v4';
  time: 'minute' | 'day';
  key: 'sid' | 'part';
}
export const HLS_SETS: SetTable = { name: 'aud_hls_v4', time: 'minute', key: 'sid' };
export const USER_SETS: SetTable = { name: 'aud_users_v4', time: 'day', key: 'part' };

/** Schema v10: the set tables, and the IPv4 rows of a v9 file's aud_hls / aud_users moved into them. */
export function migrateAudienceSets(db: Database.Database): void {
  db.exec(DDL);
  const move = (to: SetTable, from: string, keyExpr: string, where: string): void => {
    const write = db.prepare(`INSERT INTO ${to.name} (${to.time}, ${to.key}, ips) VALUES (?, ?, ?)`);
    const times = db.prepare(`SELECT DISTINCT ${to.time} FROM ${from} WHERE ${where} ORDER BY 1`).pluck().all() as number[];
    // One minute or day at a time (a statement cannot write while another reads), ordered by the set
    // key, then the address: each set's addresses arrive together and ascending.
    const read = db.prepare(`SELECT ${keyExpr} AS k, ip FROM ${from} WHERE ${to.time} = ? AND ${where} ORDER BY k, ip`).raw();
    for (const time of times) {
      let key = -1;
      let ips: number[] = [];
      const flush = (): void => {
        if (ips.length > 0) write.run(time, key, encodeIpSet(ips));
        ips = [];
      };
      for (const [k, ip] of read.all(time) as Array<[number, number]>) {
        if (k !== key) {
          flush();
          key = k;
        }
        ips.push(ip);
      }
      flush();
    }
    db.exec(`DELETE FROM ${from} WHERE ${where}`);
  };
  // v9 bound JS numbers, so its IPv4 entries are REAL values (whole numbers); IPv6 ones are text.
  const v4 = "typeof(ip) IN ('integer', 'real') AND ip >= 0 AND ip <= 4294967295 AND ip = CAST(ip AS INTEGER)";
  move(HLS_SETS, 'aud_hls', 'sid', v4);
  move(USER_SETS, 'aud_users', `uid * ${USER_CHUNKS} + (CAST(ip AS INTEGER) >> ${USER_CHUNK_SHIFT})`, v4);
}

interface Group {
  ips: number[];
  a: number[];
  b: number[];
}

/**
 * IPv4 entries of a write for the sets of one table, grouped by set (time, key), each with two
 * numbers handed back when the entry is new (the viewer's domain series and geo code).
 */
export class SetEntries {
  private readonly groups = new Map<number, Map<number, Group>>();

  add(time: number, key: number, ip: number, a: number, b: number): void {
    let byKey = this.groups.get(time);
    if (byKey === undefined) this.groups.set(time, (byKey = new Map()));
    let g = byKey.get(key);
    if (g === undefined) byKey.set(key, (g = { ips: [], a: [], b: [] }));
    g.ips.push(ip);
    g.a.push(a);
    g.b.push(b);
  }

  /**
   * Merges every group into its stored set (read and written in the caller's transaction, so sets
   * stay exact across batches, processes and retries); calls `fresh` once per address new to its
   * set (the first of its entries in this write).
   */
  merge(db: Database.Database, t: SetTable, fresh: (time: number, key: number, a: number, b: number) => void): void {
    for (const [time, byKey] of this.groups) {
      // The stored sets of this time's keys: a statement per chunk of keys, not one per set.
      const stored = readSets(db, t, time, [...byKey.keys()]);
      const writes: Array<[number, Uint8Array]> = [];
      for (const [key, g] of byKey) {
        const n = g.ips.length;
        // Entry order by address, first entry first: address x 2^21 + index (exact below 2^53).
        const order = new Float64Array(n);
        const wide = n >= 2 ** 21;
        for (let i = 0; i < n; i++) order[i] = wide ? i : (g.ips[i] as number) * 2 ** 21 + i;
        if (wide) order.sort((x, y) => (g.ips[x] as number) - (g.ips[y] as number) || x - y);
        else order.sort();
        const add = new Float64Array(n);
        const first = new Float64Array(n);
        let m = 0;
        for (let i = 0; i < n; i++) {
          const o = order[i] as number;
          // The index part of address x 2^21 + index (without a floating-point remainder).
          const at = wide ? o : o - Math.floor(o / 2 ** 21) * 2 ** 21;
          const ip = g.ips[at] as number;
          if (m > 0 && add[m - 1] === ip) continue;
          add[m] = ip;
          first[m++] = at;
        }
        const blob = stored.get(key);
        const { merged, fresh: isNew } = mergeIpSet(blob === undefined ? new Float64Array(0) : decodeIpSet(blob), add.subarray(0, m));
        let added = 0;
        for (let i = 0; i < m; i++) {
          if (isNew[i] !== 1) continue;
          added++;
          const at = first[i] as number;
          fresh(time, key, g.a[at] as number, g.b[at] as number);
        }
        if (added > 0) writes.push([key, encodeIpSet(merged)]);
      }
      writeSets(db, t, time, writes);
    }
    this.groups.clear();
  }
}

/** Keys per read or write statement; fewer go in padded or smaller statements (a few shapes per table). */
const SET_CHUNK = 64;

/** The stored blobs of (time, key) for the given keys (absent keys are not in the map). */
function readSets(db: Database.Database, t: SetTable, time: number, keys: number[]): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (let at = 0; at < keys.length; at += SET_CHUNK) {
    const chunk = keys.slice(at, at + SET_CHUNK);
    let size = 1;
    while (size < chunk.length) size *= 4;
    // Padded with a key already asked for (the same row again: read once, no row of its own).
    while (chunk.length < size) chunk.push(chunk[0] as number);
    const rows = cachedStatement(db, `SELECT ${t.key}, ips FROM ${t.name} WHERE ${t.time} = ? AND ${t.key} IN (${new Array<string>(size).fill('?').join(',')})`)
      .raw().all(time, ...chunk) as Array<[number, Uint8Array]>;
    for (const [k, ips] of rows) out.set(k, ips);
  }
  return out;
}

/** Writes the sets of one time (distinct keys), a chunk of rows per statement. */
function writeSets(db: Database.Database, t: SetTable, time: number, rows: ReadonlyArray<[number, Uint8Array]>): void {
  for (let at = 0; at < rows.length; ) {
    let size = SET_CHUNK;
    while (size > rows.length - at) size >>= 1;
    const params: Array<number | Uint8Array> = [];
    for (let r = at; r < at + size; r++) {
      const [key, ips] = rows[r] as [number, Uint8Array];
      params.push(time, key, ips);
    }
    cachedStatement(db, `INSERT OR REPLACE INTO ${t.name} (${t.time}, ${t.key}, ips) VALUES ${new Array<string>(size).fill('(?, ?, ?)').join(', ')}`).run(...params);
    at += size;
  }
}

/** Counts per (time, id), summed. */
export class GroupCounts {
  private readonly counts = new Map<number, Map<number, number>>();

  bump(time: number, id: number, n: number): void {
    let byId = this.counts.get(time);
    if (byId === undefined) this.counts.set(time, (byId = new Map()));
    byId.set(id, (byId.get(id) ?? 0) + n);
  }

  each(f: (time: number, id: number, n: number) => void): void {
    for (const [time, byId] of this.counts) for (const [id, n] of byId) f(time, id, n);
  }
}
