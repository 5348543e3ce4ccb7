import type Database from 'better-sqlite3';
import { BlockBuilder } from './builder.js';

/** How a table's row id packs (block, series, group): block in the high bits, so time order is id order. */
export interface BlockKeyBits {
  /** Bits of the time block index (epoch slot / slots per block). */
  block: number;
  /** Bits of the group number. */
  grp: number;
}

/** Integers up to 2^53 are exact in JavaScript: the id space. */
const ID_BITS = 53;
const IN_CHUNK = 512;
/** Fewer series than this are read by point lookups. */
const RANGE_MIN_SERIES = 32;

/**
 * One SQLite table of blocks: a row per (series, grp, block) holding one encoded block, keyed by
 * a single integer id = block x 2^(53 - blockBits) + series x 2^grpBits + grp (the rowid: no index
 * besides the table's own b-tree). `series` is an interned id, `grp` a packed group (0 when the
 * table has none) and `block` the time block's index. Blocks of one hour sit together and in time
 * order, so retention deletes a rowid range and a write of recent data touches the b-tree's end.
 * Rows are rewritten whole (read, merge, write) inside the caller's transaction.
 */
export class BlockTable {
  /** 2^(53 - blockBits): the id step of one block. */
  readonly blockUnit: number;
  /** 2^grpBits: the id step of one series. */
  readonly grpUnit: number;
  readonly maxSeries: number;

  constructor(
    readonly name: string, readonly slots: number, readonly measures: number, readonly mode: 'sum' | 'replace',
    readonly bits: BlockKeyBits = { block: 23, grp: 8 },
  ) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad block table name ${name}`);
    const seriesBits = ID_BITS - bits.block - bits.grp;
    if (bits.block < 1 || bits.grp < 0 || seriesBits < 16) throw new Error(`block table ${name}: bad key bits`);
    this.blockUnit = 2 ** (ID_BITS - bits.block);
    this.grpUnit = 2 ** bits.grp;
    this.maxSeries = 2 ** seriesBits - 1;
  }

  /** The row id of (series, grp, block); RangeError outside the key space (docs/storage.md). */
  id(series: number, grp: number, block: number): number {
    if (!(Number.isInteger(block) && block >= 0 && block < 2 ** this.bits.block)) throw new RangeError(`${this.name}: block ${block} outside the key space`);
    if (!(Number.isInteger(grp) && grp >= 0 && grp < this.grpUnit)) throw new RangeError(`${this.name}: group ${grp} outside the key space`);
    if (!(Number.isInteger(series) && series >= 0 && series <= this.maxSeries)) throw new RangeError(`${this.name}: series id ${series} beyond ${this.maxSeries}`);
    return block * this.blockUnit + series * this.grpUnit + grp;
  }

  /** (series, grp, block) of a row id. */
  parts(id: number): { series: number; grp: number; block: number } {
    const block = Math.floor(id / this.blockUnit);
    const rest = id - block * this.blockUnit;
    const series = Math.floor(rest / this.grpUnit);
    return { series, grp: rest - series * this.grpUnit, block };
  }

  /** SQL for the series part of a row id column (integer arithmetic on the packed id). */
  seriesSql(idColumn: string): string {
    return `((${idColumn} % ${this.blockUnit}) / ${this.grpUnit})`;
  }

  /** DDL: the blob keyed by the packed id (the rowid). */
  ddl(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.name} (id INTEGER PRIMARY KEY, data BLOB NOT NULL);`;
  }

  private stmt(db: Database.Database, sql: string): Database.Statement {
    return cachedStatement(db, sql);
  }

  newBuilder(): BlockBuilder {
    return new BlockBuilder(this.slots, this.measures, this.mode);
  }

  /** Merges a builder into the stored block (sum or replace per the table's mode) and writes it back. */
  merge(db: Database.Database, series: number, grp: number, block: number, cells: BlockBuilder): void {
    const id = this.id(series, grp, block);
    const old = this.stmt(db, `SELECT data FROM ${this.name} WHERE id = ?`).pluck().get(id) as Buffer | undefined;
    let data: Uint8Array;
    if (old === undefined) {
      data = cells.encode();
    } else {
      // Stored cells first, so in replace mode the new ones win.
      const merged = this.newBuilder();
      merged.addBlock(old);
      const c = cells.cells();
      const row = new Float64Array(this.measures);
      for (let i = 0; i < c.count; i++) {
        for (let m = 0; m < this.measures; m++) row[m] = (c.values[m] as Float64Array)[i] as number;
        merged.add(c.keys[i] as number, c.slots[i] as number, row);
      }
      data = merged.encode();
    }
    this.write(db, id, data);
  }

  private write(db: Database.Database, id: number, data: Uint8Array): void {
    this.stmt(db, `INSERT INTO ${this.name} (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data`).run(id, data);
  }

  /** Writes a block as is (bulk loads that built it completely). */
  put(db: Database.Database, series: number, grp: number, block: number, data: Uint8Array): void {
    this.write(db, this.id(series, grp, block), data);
  }

  /**
   * Calls fn for every stored block of the given series and groups with fromBlock <= block < toBlock
   * (in no set order), with the block's series id.
   */
  scan(
    db: Database.Database, series: readonly number[], groups: readonly number[], fromBlock: number, toBlock: number,
    fn: (block: number, data: Uint8Array, series: number) => void,
  ): void {
    if (series.length === 0 || groups.length === 0 || toBlock <= fromBlock) return;
    const from = Math.max(0, fromBlock);
    const to = Math.min(toBlock, 2 ** this.bits.block);
    if (this.scanRanges(db, series, groups, from, to, fn)) return;
    // Point lookups on the rowid, a chunk of ids per statement (padded with -1 to a few fixed sizes).
    const ids: number[] = [];
    for (let b = from; b < to; b++) for (const s of series) for (const g of groups) ids.push(this.id(s, g, b));
    for (let at = 0; at < ids.length; at += IN_CHUNK) {
      const chunk = ids.slice(at, at + IN_CHUNK);
      let size = 8;
      while (size < chunk.length) size *= 4;
      while (chunk.length < size) chunk.push(-1);
      this.fetch(db, `WHERE id IN (${marks(size)})`, chunk, (id, data) => {
        const block = Math.floor(id / this.blockUnit);
        fn(block, data, Math.floor((id - block * this.blockUnit) / this.grpUnit));
      });
    }
  }

  /**
   * Calls fn(id, data) for every row `where` selects. The rows come back packed in one result row
   * (their ids, their lengths and their blocks concatenated by SQLite's group_concat): handing
   * over a row costs better-sqlite3 far more than SQLite's reading it (a Buffer and an array per
   * row), so a read of thousands of small blocks (31 days of quarter-hour blocks) costs a few
   * allocations instead of thousands. group_concat keeps a blob's bytes as they are (it appends
   * by byte length, in a UTF-8 database) and steps its three columns over the same rows in the
   * same order. A result too big for one SQLite value is read row by row instead.
   */
  private fetch(db: Database.Database, where: string, params: readonly number[], fn: (id: number, data: Buffer) => void): void {
    let packed: [string | null, string | null, Buffer | null];
    try {
      packed = this.stmt(db, `SELECT group_concat(id), group_concat(length(data)), CAST(group_concat(data, '') AS BLOB) FROM ${this.name} ${where}`)
        .raw().get(...params) as typeof packed;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_TOOBIG') throw err;
      for (const [id, data] of this.stmt(db, `SELECT id, data FROM ${this.name} ${where}`).raw().all(...params) as Array<[number, Buffer]>) fn(id, data);
      return;
    }
    const [ids, lengths, blob] = packed;
    if (ids === null || lengths === null || blob === null) return;
    let at = 0;
    let li = 0;
    let ii = 0;
    while (ii < ids.length) {
      // Whole numbers below 2^53 in decimal, comma-separated: exact when summed digit by digit.
      let id = 0;
      for (let c = ids.charCodeAt(ii); ii < ids.length && c !== 44; c = ids.charCodeAt(++ii)) id = id * 10 + (c - 48);
      ii++;
      let length = 0;
      for (let c = lengths.charCodeAt(li); li < lengths.length && c !== 44; c = lengths.charCodeAt(++li)) length = length * 10 + (c - 48);
      li++;
      fn(id, blob.subarray(at, at + length));
      at += length;
    }
    if (at !== blob.length || li < lengths.length) throw new Error(`${this.name}: packed read lengths do not match its bytes`);
  }

  /**
   * Many series whose ids lie close together (a domain's streams, interned one after another) with
   * most of their groups: each block's rows are one id range (block, lowest series .. highest
   * series), read by one range statement instead of hundreds of point lookups; rows of series or
   * groups not asked for are skipped. False (nothing read) when the ids are too spread out for it.
   */
  private scanRanges(
    db: Database.Database, series: readonly number[], groups: readonly number[], from: number, to: number,
    fn: (block: number, data: Uint8Array, series: number) => void,
  ): boolean {
    if (series.length < RANGE_MIN_SERIES || groups.length * 8 < this.grpUnit) return false;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series) {
      if (!(Number.isInteger(s) && s >= 0 && s <= this.maxSeries)) return false;
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    if (hi - lo + 1 > 4 * series.length) return false;
    for (const g of groups) if (!(Number.isInteger(g) && g >= 0 && g < this.grpUnit)) return false;
    const wantSeries = new Set(series);
    const wantGroups = new Set(groups);
    for (let b = from; b < to; b++) {
      const base = b * this.blockUnit;
      this.fetch(db, 'WHERE id >= ? AND id < ?', [base + lo * this.grpUnit, base + (hi + 1) * this.grpUnit], (id, data) => {
        const s = Math.floor((id - base) / this.grpUnit);
        if (wantSeries.has(s) && wantGroups.has(id - base - s * this.grpUnit)) fn(b, data, s);
      });
    }
    return true;
  }

  /** Every stored row (tools and tests): id parts and data. */
  *all(db: Database.Database): IterableIterator<{ series: number; grp: number; block: number; data: Buffer }> {
    for (const row of db.prepare(`SELECT id, data FROM ${this.name} ORDER BY id`).raw().iterate()) {
      const [id, data] = row as [number, Buffer];
      yield { ...this.parts(id), data };
    }
  }

  /** Deletes up to `limit` blocks older than `beforeBlock` (the lowest ids); returns how many were deleted. */
  deleteSlice(db: Database.Database, beforeBlock: number, limit: number): number {
    const below = Math.max(0, Math.min(beforeBlock, 2 ** this.bits.block)) * this.blockUnit;
    return this.stmt(db, `DELETE FROM ${this.name} WHERE id IN (SELECT id FROM ${this.name} WHERE id < ? ORDER BY id LIMIT ?)`)
      .run(below, limit).changes;
  }
}

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** A prepared statement kept per connection (statements belong to one connection). */
export function cachedStatement(db: Database.Database, sql: string): Database.Statement {
  let perDb = statementCache.get(db);
  if (!perDb) statementCache.set(db, (perDb = new Map()));
  let s = perDb.get(sql);
  if (!s) perDb.set(sql, (s = db.prepare(sql)));
  return s;
}
const marks = (n: number): string => new Array<string>(n).fill('?').join(',');
