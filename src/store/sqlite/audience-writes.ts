import type Database from 'better-sqlite3';
import { AUDIENCE_PROTOCOLS, audienceIp, type ProjectAudience } from '../audience.js';
import type { Cube, CubeCells } from '../blocks/cube.js';
import { sumDuplicateCells } from '../blocks/reduce.js';
import { cachedStatement } from '../blocks/table.js';
import { GEO_CODE_LIMIT } from '../packed.js';
import { parseIpv4 } from '../../ingest/geo/ipv4.js';
import { CommittedIds } from './series-cache.js';
import { GroupCounts, HLS_SETS, SetEntries, USER_CHUNK_SHIFT, USER_CHUNKS, USER_SETS } from './audience-sets.js';
import { refreshDomainSums } from './audience-sums.js';
import { audienceDdl, AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, AUDIENCE_SLOT_MS, AUDIENCE_STREAMS, userKey } from './audience-layout.js';

const DAY_MS = 86_400_000;
const HLS = AUDIENCE_PROTOCOLS.indexOf('hls');
/** Set entries remembered as stored (about 100 bytes each); past this the cache starts anew. */
const KNOWN_LIMIT = 2_000_000;
/** Cells per write whose columns the writer keeps for the next batch (12 columns of 8 bytes or less: 12 MiB at most per cube). */
const KEEP_CELLS = 1 << 17;

/** Schema v7: the audience cube's tables (empty; filled by ingest from then on). */
export function createAudienceTables(db: Database.Database): void {
  db.exec(audienceDdl());
}

/** A client IP as stored in the exact sets: IPv4 as an integer, anything else as its text. */
export const storedIp = (ip: string): number | string => {
  const v4 = parseIpv4(ip);
  return v4 >= 0 ? v4 : ip;
};

type Cells = CubeCells & { count: number; series: Float64Array; slot: Float64Array; key: Int32Array };

function newAudienceCells(capacity: number): Cells {
  return {
    count: 0, series: new Float64Array(capacity), slot: new Float64Array(capacity),
    dims: [new Int32Array(capacity), new Int32Array(capacity)], key: new Int32Array(capacity),
    measures: [new Float64Array(capacity), new Float64Array(capacity), new Float64Array(capacity), new Float64Array(capacity), new Float64Array(capacity), new Float64Array(capacity)],
  };
}

function append(
  c: Cells, series: number, slot: number, geo: number, key: number, viewers: number, bytes: number, requests: number, playMs: number, opens = 0, closes = 0,
): void {
  const n = c.count++;
  c.series[n] = series;
  c.slot[n] = slot;
  (c.dims[0] as Int32Array)[n] = geo >> 2;
  (c.dims[1] as Int32Array)[n] = geo & 3;
  c.key[n] = key;
  (c.measures[0] as Float64Array)[n] = viewers;
  (c.measures[1] as Float64Array)[n] = bytes;
  (c.measures[2] as Float64Array)[n] = requests;
  (c.measures[3] as Float64Array)[n] = playMs;
  (c.measures[4] as Float64Array)[n] = opens;
  (c.measures[5] as Float64Array)[n] = closes;
}

/**
 * Writes a batch's audience cells inside the caller's write transaction (with the other cubes and the
 * checkpoints). HLS viewers and daily users go through their exact sets first: only rows new to the
 * set count, so whatever the batch boundaries, processes or retries, each (IP, stream, minute) adds one
 * viewer and each (IP, domain [, stream], day) one user. New series ids are cached on commit only.
 */
export class AudienceWriter {
  private readonly ids = new CommittedIds();
  /** Cells or set entries skipped because their cube had no series id left. */
  skipped = 0;
  /**
   * Set entries known to be stored (committed by this writer), so the entries a viewer repeats in
   * every batch of a minute or day cost a hash lookup, not a statement. Only a cache: an entry not
   * in it is looked up in the table as before. Entries added by a transaction join on commit only.
   */
  private known = new Set<string>();
  private freshKnown: string[] = [];
  /**
   * The same for IPv4 entries, without strings: group (HLS: slot x 2^26 + series; user: -(day x 2^32
   * + uid) - 1) -> IPs | 0. Entries whose numbers do not fit go through `known`.
   */
  private knownV4 = new Map<number, Set<number>>();
  private knownV4Size = 0;
  private freshGroups: number[] = [];
  private freshIps: number[] = [];

  /**
   * True when (group, ip) is known stored (`set`: knownV4's set of the group, looked up by the
   * caller); else notes it to be known on commit.
   */
  private seenV4(set: Set<number> | undefined, group: number, ip: number): boolean {
    if (set !== undefined && set.has(ip | 0)) return true;
    this.freshGroups.push(group);
    this.freshIps.push(ip | 0);
    return false;
  }

  private seenText(mark: string): boolean {
    if (this.known.has(mark)) return true;
    this.freshKnown.push(mark);
    return false;
  }

  /** The per-domain [0] and per-stream [1] cells of a write: kept and grown, not made anew per batch (count reset). */
  private readonly columns: Cells[] = [newAudienceCells(0), newAudienceCells(0)];

  private cellColumns(which: 0 | 1, capacity: number): Cells {
    // A big batch (an import) gets columns of its own, not kept afterwards.
    if (capacity > KEEP_CELLS) return newAudienceCells(capacity);
    let c = this.columns[which] as Cells;
    if (c.series.length < capacity) {
      c = newAudienceCells(Math.max(capacity, c.series.length * 2));
      this.columns[which] = c;
    }
    c.count = 0;
    return c;
  }

  private seriesId(db: Database.Database, cube: Cube, tuple: string[]): number {
    return this.ids.series(db, cube, tuple);
  }

  private userId(db: Database.Database, key: string): number {
    return this.ids.id(`u\u0000${key}`, () => {
      cachedStatement(db, 'INSERT OR IGNORE INTO aud_user_keys (key) VALUES (?)').run(key);
      return cachedStatement(db, 'SELECT id FROM aud_user_keys WHERE key = ?').pluck().get(key) as number;
    }) as number;
  }

  write(db: Database.Database, batches: readonly ProjectAudience[]): void {
    let total = 0;
    for (const p of batches) total += p.cells.tuple.length + p.cells.hlsTuple.length;
    const domains = this.cellColumns(0, total);
    const streams = this.cellColumns(1, total);
    const seen = cachedStatement(db, 'INSERT OR IGNORE INTO aud_hls (minute, sid, ip) VALUES (?, ?, ?)');
    const addUser = cachedStatement(db, 'INSERT OR IGNORE INTO aud_users (day, uid, ip) VALUES (?, ?, ?)');
    const viewers = new SetEntries();
    const users = new SetEntries();
    const newUsers = new GroupCounts();
    for (const { project, cells: c } of batches) {
      const n = c.domains.length;
      const dSeries = new Float64Array(n);
      const sSeries = new Float64Array(n);
      const uStream = new Float64Array(n);
      const uDomain = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const domain = c.domains[k] as string;
        const app = c.apps[k] as string;
        const stream = c.streams[k] as string;
        const named = app !== '' && stream !== '';
        dSeries[k] = named ? this.seriesId(db, AUDIENCE_DOMAINS, [project, domain]) : -1;
        sSeries[k] = named && (dSeries[k] as number) >= 0 ? this.seriesId(db, AUDIENCE_STREAMS, [project, domain, app, stream]) : -1;
        uStream[k] = named ? this.userId(db, userKey(project, domain, stream)) : -1;
        uDomain[k] = named ? this.userId(db, userKey(project, domain)) : -1;
      }
      // knownV4's set of each tuple's last (minute, stream) / (day, key) group: a batch's entries of one
      // tuple share a minute or a day, so most entries skip the Map lookup of a double key (knownV4
      // only changes on commit). [0]: HLS, [1]: users of the stream, [2]: users of the domain.
      const lastGroup = [new Float64Array(n).fill(NaN), new Float64Array(n).fill(NaN), new Float64Array(n).fill(NaN)];
      const lastSet: Array<Array<Set<number> | undefined>> = [new Array<Set<number> | undefined>(n), new Array<Set<number> | undefined>(n), new Array<Set<number> | undefined>(n)];
      const knownSet = (which: number, k: number, group: number): Set<number> | undefined => {
        const groups = lastGroup[which] as Float64Array;
        const sets = lastSet[which] as Array<Set<number> | undefined>;
        if (groups[k] !== group) {
          groups[k] = group;
          sets[k] = this.knownV4.get(group);
        }
        return sets[k];
      };
      const check = (k: number, geo: number, what: string): void => {
        if (!(k >= 0 && k < n) || !(geo < GEO_CODE_LIMIT)) throw new Error(`audience ${what} outside its batch`);
      };
      for (let i = 0; i < c.tuple.length; i++) {
        const k = c.tuple[i] as number;
        const geo = c.geo[i] as number;
        check(k, geo, 'cell');
        const protocol = c.protocol[i] as number;
        if (protocol >= AUDIENCE_PROTOCOLS.length) throw new Error('audience cell protocol out of range');
        const d = dSeries[k] as number;
        const s = sSeries[k] as number;
        if (d < 0 || s < 0) {
          this.skipped++;
          continue;
        }
        const slot = Math.floor((c.minute[i] as number) / AUDIENCE_SLOT_MS);
        const viewers = c.sessions[i] as number;
        const bytes = c.bytes[i] as number;
        const requests = c.requests[i] as number;
        const playMs = c.playMs[i] as number;
        const opens = c.opens?.[i] ?? 0;
        const closes = c.closes?.[i] ?? 0;
        append(domains, d, slot, geo, protocol, viewers, bytes, requests, playMs, opens, closes);
        append(streams, s, slot, geo, protocol, viewers, bytes, requests, playMs, opens, closes);
      }
      for (let i = 0; i < c.hlsTuple.length; i++) {
        const k = c.hlsTuple[i] as number;
        const geo = c.hlsGeo[i] as number;
        check(k, geo, 'viewer');
        const d = dSeries[k] as number;
        const s = sSeries[k] as number;
        if (d < 0 || s < 0) {
          this.skipped++;
          continue;
        }
        const slot = Math.floor((c.hlsMinute[i] as number) / AUDIENCE_SLOT_MS);
        const v4 = c.hlsV4?.[i] ?? -1;
        let ip: number | string;
        if (v4 >= 0) ip = v4;
        else {
          const text = audienceIp(c, 'hls', i);
          ip = storedIp(text);
          if (typeof ip === 'string') {
            // Not IPv4: a row of aud_hls (rare; no set to merge into).
            if (this.seenText(`h${slot}|${s}|${text}`)) continue;
            if (seen.run(slot, s, ip).changes === 0) continue;
            append(domains, d, slot, geo, HLS, 1, 0, 0, AUDIENCE_SLOT_MS);
            append(streams, s, slot, geo, HLS, 1, 0, 0, AUDIENCE_SLOT_MS);
            continue;
          }
        }
        if (s < 2 ** 26) {
          const group = slot * 2 ** 26 + s;
          if (this.seenV4(knownSet(0, k, group), group, ip)) continue;
        }
        viewers.add(slot, s, ip, d, geo);
      }
      for (let i = 0; i < c.userTuple.length; i++) {
        const k = c.userTuple[i] as number;
        check(k, 0, 'user');
        const us = uStream[k] as number;
        if (us < 0) continue;
        const day = Math.floor((c.userDay[i] as number) / DAY_MS);
        const ud = uDomain[k] as number;
        const v4 = c.userV4?.[i] ?? -1;
        const text = v4 >= 0 ? '' : (c.userIp[i] as string);
        const ip = v4 >= 0 ? v4 : storedIp(text);
        for (let j = 0; j < 2; j++) {
          const uid = j === 0 ? us : ud;
          if (typeof ip === 'string') {
            if (this.seenText(`u${day}|${uid}|${text}`)) continue;
            if (addUser.run(day, uid, ip).changes === 1) newUsers.bump(day, uid, 1);
            continue;
          }
          if (uid < 2 ** 32) {
            const group = -(day * 2 ** 32 + uid) - 1;
            if (this.seenV4(knownSet(1 + j, k, group), group, ip)) continue;
          }
          users.add(day, uid * USER_CHUNKS + Math.floor(ip / 2 ** USER_CHUNK_SHIFT), ip, 0, 0);
        }
      }
    }
    // The IPv4 sets: one read and one write per touched (minute, stream) or (day, key, chunk); only
    // addresses new to the stored set count.
    viewers.merge(db, HLS_SETS, (slot, s, d, geo) => {
      append(domains, d, slot, geo, HLS, 1, 0, 0, AUDIENCE_SLOT_MS);
      append(streams, s, slot, geo, HLS, 1, 0, 0, AUDIENCE_SLOT_MS);
    });
    users.merge(db, USER_SETS, (day, key) => newUsers.bump(day, Math.floor(key / USER_CHUNKS), 1));
    const bump = cachedStatement(db, 'INSERT INTO aud_user_counts (day, uid, n) VALUES (?, ?, ?) ON CONFLICT (day, uid) DO UPDATE SET n = n + excluded.n');
    newUsers.each((day, uid, n) => bump.run(day, uid, n));
    const dimSizes = AUDIENCE_DOMAINS.spec.dims.map((d) => d.values.length);
    if (domains.count > 0) {
      AUDIENCE_DOMAINS.write(db, sumDuplicateCells(domains, dimSizes));
      // The touched blocks' sums (schema v16), from the blocks as now stored.
      const blocks = new Float64Array(domains.count);
      for (let i = 0; i < domains.count; i++) blocks[i] = Math.floor((domains.slot[i] as number) / AUDIENCE_BLOCK_SLOTS);
      refreshDomainSums(db, domains.series.subarray(0, domains.count), blocks);
    }
    if (streams.count > 0) AUDIENCE_STREAMS.write(db, sumDuplicateCells(streams, dimSizes));
  }

  commit(): void {
    this.ids.commit();
    if (this.known.size + this.freshKnown.length > KNOWN_LIMIT) this.known = new Set();
    for (const m of this.freshKnown) this.known.add(m);
    this.freshKnown = [];
    if (this.knownV4Size + this.freshGroups.length > KNOWN_LIMIT) this.forgetV4();
    for (let i = 0; i < this.freshGroups.length; i++) {
      const g = this.freshGroups[i] as number;
      let set = this.knownV4.get(g);
      if (set === undefined) {
        set = new Set();
        this.knownV4.set(g, set);
      }
      const before = set.size;
      set.add(this.freshIps[i] as number);
      this.knownV4Size += set.size - before;
    }
    this.freshGroups = [];
    this.freshIps = [];
  }

  rollback(): void {
    this.ids.rollback();
    this.freshKnown = [];
    this.freshGroups = [];
    this.freshIps = [];
  }

  private forgetV4(): void {
    this.knownV4 = new Map();
    this.knownV4Size = 0;
  }

  /** Retention deleted set entries: forget what is known (a late line of a deleted minute or day is stored anew). */
  forgetKnown(): void {
    this.known = new Set();
    this.forgetV4();
  }
}
