import type Database from 'better-sqlite3';
import { sumMeasure } from './codec.js';
import { writeDeltaLevel } from './delta-write.js';
import { writeLevel } from './level-write.js';
import { BlockTable, cachedStatement, type BlockKeyBits } from './table.js';

/** A group dimension with its enumerated values (append-only: a value's index is stored). */
export interface CubeDim {
  name: string;
  values: readonly string[];
}

/**
 * A level that keeps some dims in the cell key instead of the row id: one block per (series, `dims`
 * group, time block) holding every value of the `inKey` dims, a cell's stored key being
 * (its group over `inKey`, mixed radix as for row ids) x spec.keyRadix + its key. Fewer, larger
 * blocks: a write that touches a few cells of many groups re-encodes one block instead of one per
 * group (the per-stream audience level, schema v14), at the price of reading every group's cells.
 */
export interface CubeKeyLevel {
  dims: readonly string[];
  inKey: readonly string[];
  /**
   * Written as a block plus a delta (src/store/blocks/delta-write.ts): the delta of group g is stored
   * as group g + the level's group count (the spare half of its group bits); reads get both.
   */
  deltas?: boolean;
}

/**
 * A cube: cells keyed by (series, group dims, time slot, key) holding whole-number measures.
 * `series` is any tuple of strings (interned to an id), group dims are small enumerations,
 * `key` is a small integer per cell (a status code; 0 when the cube has none). Every level
 * (a subset of the group dims) is a rollup table of its own, written in the same transaction,
 * so a query filtering on exactly those dims reads one block per (series, group value, block).
 */
export interface CubeSpec {
  name: string;
  dims: readonly CubeDim[];
  /** Each level lists the dims it keeps; the full set (detail) and [] (total) are usual. */
  levels: ReadonlyArray<readonly string[] | CubeKeyLevel>;
  /** Levels with `inKey` dims: every key given to write must be below this (the stored key's radix). */
  keyRadix?: number;
  measures: readonly string[];
  /** Slot width in ms (60 000 for per-minute cells) and slots per block (60: an hour). */
  slotMs: number;
  blockSlots: number;
}

/** Where one level of a cube lives and how its group numbers are formed. */
export interface CubeLevel {
  /** The dims kept in the row id (the group number). */
  dims: readonly string[];
  /** Index into spec.dims of each dim kept in the row id, in order. */
  dimIndex: readonly number[];
  /** Index into spec.dims of each dim kept in the cell key (CubeKeyLevel), in order; empty for most levels. */
  keyDimIndex: readonly number[];
  table: BlockTable;
  /** Levels written with deltas (CubeKeyLevel.deltas): the group (and row id) step from a block to its delta. */
  deltaStep?: number;
}

/** The cells of one write: parallel arrays, `dims[d][i]` is the index of cell i's value of dim d. */
export interface CubeCells {
  count: number;
  series: ArrayLike<number>;
  /** Epoch slot (time / slotMs). */
  slot: ArrayLike<number>;
  dims: ReadonlyArray<ArrayLike<number>>;
  key: ArrayLike<number>;
  measures: ReadonlyArray<ArrayLike<number>>;
}

export interface CubeSumQuery {
  series: readonly number[];
  /** Per dim: the value indexes to keep; an empty list means every value (no filter). */
  filter: ReadonlyArray<readonly number[]>;
  fromSlot: number;
  toSlot: number;
  measure: number;
  /** Column a key's sums go to (index = slot - fromSlot), or undefined to skip that key. */
  column: (key: number) => Float64Array | undefined;
}

/** Blocks are numbered from the epoch; the key space reaches at least this far (2200-01-01). */
const KEY_SPACE_END_MS = 7_258_118_400_000;

/**
 * Row id layout of a level: enough block bits to reach 2200, and group bits for twice the
 * level's current group count (dim values are append-only). The rest of 53 bits numbers series.
 */
export function keyBits(spec: CubeSpec, groups: number): BlockKeyBits {
  const blocks = KEY_SPACE_END_MS / (spec.slotMs * spec.blockSlots);
  return { block: Math.ceil(Math.log2(blocks)), grp: Math.ceil(Math.log2(Math.max(1, groups) * 2)) };
}

export class Cube {
  readonly levels: CubeLevel[];
  readonly seriesTable: string;
  /** Indexes of the dims some level keeps: only those are stored, so only those a write must give. */
  private readonly keptDims: readonly number[];

  constructor(readonly spec: CubeSpec) {
    const names = spec.dims.map((d) => d.name);
    const indexOf = (n: string): number => {
      const i = names.indexOf(n);
      if (i < 0) throw new Error(`cube ${spec.name}: level uses unknown dim ${n}`);
      return i;
    };
    this.levels = spec.levels.map((l) => {
      const dims = 'inKey' in l ? l.dims : l;
      const inKey = 'inKey' in l ? l.inKey : [];
      const dimIndex = dims.map(indexOf);
      const keyDimIndex = inKey.map(indexOf);
      if (inKey.length > 0 && !(Number.isInteger(spec.keyRadix) && (spec.keyRadix as number) >= 1)) throw new Error(`cube ${spec.name}: a level with dims in the key needs keyRadix`);
      let suffix = dims.length === 0 ? 'all' : dims.join('_');
      if (inKey.length > 0) suffix = `${dims.length === 0 ? 'key' : `${dims.join('_')}_key`}_${inKey.join('_')}`;
      const groups = dimIndex.reduce((n, d) => n * (spec.dims[d] as CubeDim).values.length, 1);
      const table = new BlockTable(`cube_${spec.name}_${suffix}`, spec.blockSlots, spec.measures.length, 'sum', keyBits(spec, groups));
      if (!('inKey' in l && l.deltas === true)) return { dims, dimIndex, keyDimIndex, table };
      // Row-id dims may gain values (their spare group bits); a level without any never does.
      if (dims.length > 0 || table.grpUnit < 2 * groups) throw new Error(`cube ${spec.name}: deltas need a level without row-id dims`);
      return { dims, dimIndex, keyDimIndex, table, deltaStep: groups };
    });
    this.seriesTable = `cube_${spec.name}_series`;
    this.keptDims = [...new Set(this.levels.flatMap((l) => [...l.dimIndex, ...l.keyDimIndex]))].sort((a, b) => a - b);
  }

  ddl(): string {
    return [
      `CREATE TABLE IF NOT EXISTS ${this.seriesTable} (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);`,
      ...this.levels.map((l) => l.table.ddl()),
    ].join('\n');
  }

  /** Interned series id of a tuple; created when `create` (inside the caller's write transaction). */
  seriesId(db: Database.Database, tuple: readonly string[], create: boolean): number | undefined {
    const key = JSON.stringify(tuple);
    if (create) cachedStatement(db, `INSERT OR IGNORE INTO ${this.seriesTable} (key) VALUES (?)`).run(key);
    return cachedStatement(db, `SELECT id FROM ${this.seriesTable} WHERE key = ?`).pluck().get(key) as number | undefined;
  }

  /** Group number of a cell at a level: mixed radix over the kept dims. */
  private groupOf(level: CubeLevel, cells: CubeCells, i: number): number {
    let g = 0;
    for (const d of level.dimIndex) g = g * (this.spec.dims[d] as CubeDim).values.length + ((cells.dims[d] as ArrayLike<number>)[i] as number);
    return g;
  }

  /** Group of a cell over a level's in-key dims (mixed radix, as groupOf). */
  private keyGroupOf(level: CubeLevel, cells: CubeCells, i: number): number {
    let g = 0;
    for (const d of level.keyDimIndex) g = g * (this.spec.dims[d] as CubeDim).values.length + ((cells.dims[d] as ArrayLike<number>)[i] as number);
    return g;
  }

  /** Adds the cells to every level (inside the caller's transaction): each touched block is read, summed and written once. */
  write(db: Database.Database, cells: CubeCells): void {
    const spec = this.spec;
    const n = cells.count;
    if (n === 0) return;
    const bs = spec.blockSlots;
    const blocks = new Float64Array(n);
    const inBlock = new Int32Array(n);
    // Checked once per cell here, so each level forms its row ids without checks (the same RangeErrors as BlockTable.id).
    let maxSeries = Infinity;
    let maxBlock = Infinity;
    for (const l of this.levels) {
      maxSeries = Math.min(maxSeries, l.table.maxSeries);
      maxBlock = Math.min(maxBlock, 2 ** l.table.bits.block - 1);
    }
    const name = this.levels[0]?.table.name ?? spec.name;
    for (let i = 0; i < n; i++) {
      const slot = cells.slot[i] as number;
      if (!Number.isInteger(slot)) throw new RangeError(`slot out of range: ${slot}`);
      const block = Math.floor(slot / bs);
      if (!(block >= 0 && block <= maxBlock)) throw new RangeError(`${name}: block ${block} outside the key space`);
      const series = cells.series[i] as number;
      if (!(Number.isInteger(series) && series >= 0 && series <= maxSeries)) throw new RangeError(`${name}: series id ${series} beyond ${maxSeries}`);
      blocks[i] = block;
      inBlock[i] = slot - block * bs;
    }
    for (const di of this.keptDims) {
      const d = spec.dims[di] as CubeDim;
      const col = cells.dims[di] as ArrayLike<number>;
      for (let i = 0; i < n; i++) {
        const v = col[i] as number;
        if (!(Number.isInteger(v) && v >= 0 && v < d.values.length)) throw new RangeError(`${name}: ${d.name} index ${v} out of range`);
      }
    }
    const radix = spec.keyRadix ?? Infinity;
    if (this.levels.some((l) => l.keyDimIndex.length > 0)) {
      for (let i = 0; i < n; i++) {
        const k = cells.key[i] as number;
        if (!(Number.isInteger(k) && k >= 0 && k < radix)) throw new RangeError(`${name}: key ${k} outside 0..${radix - 1}`);
      }
    }
    const ids = new Float64Array(n);
    let keys: Int32Array | undefined;
    for (const level of this.levels) {
      const { blockUnit, grpUnit } = level.table;
      const dims = level.dimIndex.map((d) => cells.dims[d] as ArrayLike<number>);
      const sizes = level.dimIndex.map((d) => (spec.dims[d] as CubeDim).values.length);
      if (dims.length === 2) {
        const [a, b] = dims as [ArrayLike<number>, ArrayLike<number>];
        const nb = sizes[1] as number;
        for (let i = 0; i < n; i++) {
          ids[i] = (blocks[i] as number) * blockUnit + (cells.series[i] as number) * grpUnit + (a[i] as number) * nb + (b[i] as number);
        }
      } else {
        for (let i = 0; i < n; i++) ids[i] = (blocks[i] as number) * blockUnit + (cells.series[i] as number) * grpUnit + this.groupOf(level, cells, i);
      }
      let key: ArrayLike<number> = cells.key;
      if (level.keyDimIndex.length > 0) {
        keys ??= new Int32Array(n);
        for (let i = 0; i < n; i++) keys[i] = this.keyGroupOf(level, cells, i) * radix + (cells.key[i] as number);
        key = keys;
      }
      const levelCells = { count: n, ids, slots: inBlock, key, measures: cells.measures };
      if (level.deltaStep !== undefined) writeDeltaLevel(db, level.table, levelCells, level.deltaStep);
      else writeLevel(db, level.table, levelCells);
    }
  }

  /** The level a filter reads: the smallest one keeping every filtered dim. */
  levelFor(filter: ReadonlyArray<readonly number[]>): CubeLevel {
    const filtered = new Set<number>();
    filter.forEach((values, d) => {
      if (values.length > 0) filtered.add(d);
    });
    let best: CubeLevel | undefined;
    for (const l of this.levels) {
      if (![...filtered].every((d) => l.dimIndex.includes(d) || l.keyDimIndex.includes(d))) continue;
      if (!best || this.groupCount(l) < this.groupCount(best)) best = l;
    }
    if (!best) throw new Error(`cube ${this.spec.name}: no level covers the filter`);
    return best;
  }

  /** Value combinations a level keeps (row-id and in-key dims): the smallest covering level is read. */
  private groupCount(l: CubeLevel): number {
    return [...l.dimIndex, ...l.keyDimIndex].reduce((n, d) => n * (this.spec.dims[d] as CubeDim).values.length, 1);
  }

  /**
   * A column callback over a level's stored keys: for a level with in-key dims, each stored key is
   * split into its group and cell key, cells of groups the filter leaves out are skipped (undefined)
   * and the others go to column(cell key); any other level gets `column` itself.
   */
  keyColumns<T>(level: CubeLevel, filter: ReadonlyArray<readonly number[]>, column: (key: number) => T | undefined): (key: number) => T | undefined {
    if (level.keyDimIndex.length === 0) return column;
    const radix = this.spec.keyRadix as number;
    const wanted = new Uint8Array(level.keyDimIndex.reduce((n, d) => n * (this.spec.dims[d] as CubeDim).values.length, 1));
    for (const g of this.groupsOver(level.keyDimIndex, filter)) wanted[g] = 1;
    return (key) => {
      const g = Math.floor(key / radix);
      return g < wanted.length && wanted[g] === 1 ? column(key - g * radix) : undefined;
    };
  }

  /**
   * Group numbers a filter selects at a level (unfiltered kept dims: every value): what a read
   * scans, so with each group's delta group on a level written with deltas.
   */
  groupsFor(level: CubeLevel, filter: ReadonlyArray<readonly number[]>): number[] {
    const groups = this.groupsOver(level.dimIndex, filter);
    const step = level.deltaStep;
    return step === undefined ? groups : [...groups, ...groups.map((g) => g + step)];
  }

  private groupsOver(dimIndex: readonly number[], filter: ReadonlyArray<readonly number[]>): number[] {
    let groups = [0];
    for (const d of dimIndex) {
      const size = (this.spec.dims[d] as CubeDim).values.length;
      const f = filter[d] ?? [];
      const values = f.length > 0 ? f : Array.from({ length: size }, (_, i) => i);
      const next: number[] = [];
      for (const g of groups) for (const v of values) next.push(g * size + v);
      groups = next;
    }
    return groups;
  }

  /** Sums one measure over the filter into per-key columns (see CubeSumQuery). */
  sum(db: Database.Database, q: CubeSumQuery): void {
    if (q.toSlot <= q.fromSlot || q.series.length === 0) return;
    const level = this.levelFor(q.filter);
    const groups = [...new Set(this.groupsFor(level, q.filter))];
    const bs = this.spec.blockSlots;
    const fromBlock = Math.floor(q.fromSlot / bs);
    const toBlock = Math.ceil(q.toSlot / bs);
    const column = this.keyColumns(level, q.filter, q.column);
    level.table.scan(db, q.series, groups, fromBlock, toBlock, (block, data) => {
      sumMeasure(data, q.measure, block * bs - q.fromSlot, column);
    });
  }
}
