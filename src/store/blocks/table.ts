import type Database from 'better-sqlite3';
import { BlockBuilder } from './builder.js';

/**
 * One SQLite table of blocks: a row per (series, grp, block) holding one encoded block.
 * `series` is an interned id, `grp` a packed group (0 when the table has none) and `block`
 * the time block's index (epoch slot / slots per block). Rows are rewritten whole
 * (read, merge, write) inside the caller's transaction.
 */
export class BlockTable {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly name: string, readonly slots: number, readonly measures: number, readonly mode: 'sum' | 'replace') {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad block table name ${name}`);
  }

  /** DDL: the blob lives in a rowid table; a unique index finds a block, a second one serves retention. */
  ddl(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.name} (
  id     INTEGER PRIMARY KEY,
  series INTEGER NOT NULL,
  grp    INTEGER NOT NULL,
  block  INTEGER NOT NULL,
  data   BLOB    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ${this.name}_key ON ${this.name} (series, grp, block);
CREATE INDEX IF NOT EXISTS ${this.name}_block ON ${this.name} (block);`;
  }

  private stmt(db: Database.Database, sql: string): Database.Statement {
    // Statements belong to one connection: key by the connection too.
    let perDb = statementCache.get(db);
    if (!perDb) statementCache.set(db, (perDb = new Map()));
    let s = perDb.get(sql);
    if (!s) perDb.set(sql, (s = db.prepare(sql)));
    return s;
  }

  newBuilder(): BlockBuilder {
    return new BlockBuilder(this.slots, this.measures, this.mode);
  }

  /** Merges a builder into the stored block (sum or replace per the table's mode) and writes it back. */
  merge(db: Database.Database, series: number, grp: number, block: number, cells: BlockBuilder): void {
    const old = this.stmt(db, `SELECT data FROM ${this.name} WHERE series = ? AND grp = ? AND block = ?`).pluck()
      .get(series, grp, block) as Buffer | undefined;
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
    this.stmt(db, `INSERT INTO ${this.name} (series, grp, block, data) VALUES (?, ?, ?, ?)
      ON CONFLICT (series, grp, block) DO UPDATE SET data = excluded.data`).run(series, grp, block, data);
  }

  /** Writes a block as is (bulk loads that built it completely). */
  put(db: Database.Database, series: number, grp: number, block: number, data: Uint8Array): void {
    this.stmt(db, `INSERT INTO ${this.name} (series, grp, block, data) VALUES (?, ?, ?, ?)
      ON CONFLICT (series, grp, block) DO UPDATE SET data = excluded.data`).run(series, grp, block, data);
  }

  /** Calls fn for every stored block of the given series and groups with fromBlock <= block < toBlock. */
  scan(
    db: Database.Database, series: readonly number[], groups: readonly number[], fromBlock: number, toBlock: number,
    fn: (block: number, data: Uint8Array) => void,
  ): void {
    if (series.length === 0 || groups.length === 0 || toBlock <= fromBlock) return;
    const sql = `SELECT block, data FROM ${this.name} WHERE series IN (${marks(series.length)}) AND grp IN (${marks(groups.length)})
      AND block >= ? AND block < ?`;
    for (const row of this.stmt(db, sql).raw().iterate(...series, ...groups, fromBlock, toBlock)) {
      const [block, data] = row as [number, Buffer];
      fn(block, data);
    }
  }

  /** Deletes up to `limit` blocks older than `beforeBlock`; returns how many were deleted. */
  deleteSlice(db: Database.Database, beforeBlock: number, limit: number): number {
    return this.stmt(db, `DELETE FROM ${this.name} WHERE id IN (SELECT id FROM ${this.name} WHERE block < ? LIMIT ?)`)
      .run(beforeBlock, limit).changes;
  }
}

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
const marks = (n: number): string => new Array<string>(n).fill('?').join(',');
