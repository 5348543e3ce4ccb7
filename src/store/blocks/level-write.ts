import type Database from 'better-sqlite3';
import { BlockFormatError, decodeBlockInto, encodeBlockTo, MAX_KEY, newCellColumns, type CellColumns } from './codec.js';
import { CellMerger } from './cell-merge.js';
import { BlockIdIndex } from './id-index.js';
import { cachedStatement, type BlockTable } from './table.js';
import { ByteWriter } from './varint.js';

/** Cells of one level of a write: row id and position in the block per cell; keys and measures as given. */
export interface LevelCells {
  count: number;
  /** Row id of the cell's block (BlockTable.id, already checked). */
  ids: Float64Array;
  /** Slot inside the block. */
  slots: Int32Array;
  key: ArrayLike<number>;
  measures: ReadonlyArray<ArrayLike<number>>;
}

/** The encodings of a chunk's blocks (reused by every write: a statement copies its parameters when run). */
export const scratchOut = new ByteWriter(1 << 16);
/** Blocks looked up and written per statement. */
export const CHUNK = 256;
/** (key, slot) pairs summed in a dense scratch table when key x slots + slot stays below this. */
const DENSE_LIMIT = 1 << 16;
/**
 * A block with at most this many new cells is summed by a sorted merge with its stored cells
 * (CellMerger: no scratch table to fill, sort and clear); more (a migration's whole blocks) go
 * through the table. Both give the same cells. writeLevel's last parameter (tests: 0 forces the
 * table, Infinity the merge).
 */
export const MERGE_LIMIT = 1024;

const marks = (n: number, each: string): string => new Array<string>(n).fill(each).join(',');
const sqlCache = new Map<string, string>();
/** The SQL of a statement shape (built once: a chunk's statement is found without making its text). */
export function sql(kind: 'insert' | 'select', table: string, n: number): string {
  const k = `${kind}/${table}/${n}`;
  let s = sqlCache.get(k);
  if (s === undefined) {
    s = kind === 'insert'
      ? `INSERT INTO ${table} (id, data) VALUES ${marks(n, '(?, ?)')} ON CONFLICT (id) DO UPDATE SET data = excluded.data`
      : `SELECT id, data FROM ${table} WHERE id IN (${marks(n, '?')})`;
    sqlCache.set(k, s);
  }
  return s;
}

/**
 * Adds a whole batch's cells of one level to its table in one pass: cells are grouped by block
 * (ascending row id), each touched block is read once (chunks of ids per SELECT), its stored
 * cells and the new ones are summed (a sorted merge when the block has few new cells, the usual
 * flush; a dense scratch table otherwise), the sum is encoded once and written back (chunks of
 * rows per upsert). Nothing is allocated per cell; per block only its
 * encoding (into one reused buffer) and, when one was stored, the decoded old block.
 */
export function writeLevel(db: Database.Database, table: BlockTable, cells: LevelCells, mergeLimit = MERGE_LIMIT): void {
  const n = cells.count;
  if (n === 0) return;
  const slots = table.slots;
  const m = table.measures;
  checkLevelCells(cells, slots);
  const { groups, sorted, start, order } = groupByBlock(cells);

  const acc = accumulator(slots, m);
  const merger = acc.merger;
  const out = scratchOut;
  const ends = new Int32Array(CHUNK);
  for (let at = 0; at < groups; ) {
    // Chunks of CHUNK blocks, the rest in powers of two: a handful of statement shapes per table.
    let size = CHUNK;
    while (size > groups - at) size >>= 1;
    const old = storedBlocks(db, table, sorted, at, size);
    out.reset();
    for (let r = at; r < at + size; r++) {
      const id = sorted[r] as number;
      const stored = old.get(id);
      const from = start[r] as number;
      const to = start[r + 1] as number;
      if (to - from <= mergeLimit) {
        // A few new cells (a flush's minute of a block): merged beside the stored ones, which are in order.
        const before = stored === undefined ? undefined : acc.decode(stored);
        encodeBlockTo(slots, merger.merge(before, { key: cells.key, slots: cells.slots, measures: cells.measures, order, from, to }), out);
      } else {
        if (stored !== undefined) acc.addBlock(stored);
        for (let j = from; j < to; j++) {
          const i = order[j] as number;
          acc.add(cells.key[i] as number, cells.slots[i] as number, cells.measures, i);
        }
        encodeBlockTo(slots, acc.take(), out);
      }
      ends[r - at] = out.length;
    }
    const params: Array<number | Uint8Array> = [];
    for (let r = 0; r < size; r++) params.push(sorted[at + r] as number, out.view(r === 0 ? 0 : ends[r - 1], ends[r]));
    cachedStatement(db, sql('insert', table.name, size)).run(...params);
    at += size;
  }
}

/** The stored blocks among sorted[at .. at+size) (one statement, ids padded to a few fixed counts). */
export function storedBlocks(db: Database.Database, table: BlockTable, sorted: Float64Array, at: number, size: number): Map<number, Uint8Array> {
  let padded = 8;
  while (padded < size) padded *= 2;
  const ids: number[] = new Array<number>(padded).fill(-1);
  for (let r = 0; r < size; r++) ids[r] = sorted[at + r] as number;
  const rows = cachedStatement(db, sql('select', table.name, padded)).raw().all(...ids) as Array<[number, Uint8Array]>;
  return new Map(rows);
}

/**
 * Sums the cells of one block: (key, slot) pairs with key x slots + slot below DENSE_LIMIT in a
 * dense table with a list of the touched entries (sorted when taken), any others in a map.
 * Kept per (slots, measures) and reused: the table is left all zero after every take.
 */
export class Accumulator {
  private readonly sums: Float64Array[];
  private readonly present = new Uint8Array(DENSE_LIMIT);
  private touched = new Int32Array(4096);
  private nTouched = 0;
  private readonly sparse = new Map<number, Float64Array>();
  private out: CellColumns;
  /** Columns a stored block is decoded into (reused). */
  private stored: CellColumns = newCellColumns(1);

  /** The sorted merge for blocks with few new cells (the same slots and measures). */
  readonly merger: CellMerger;

  constructor(private readonly slots: number, private readonly measures: number) {
    this.merger = new CellMerger(slots, measures);
    this.sums = Array.from({ length: measures }, () => new Float64Array(DENSE_LIMIT));
    this.out = this.columns(256);
  }

  private columns(cap: number): CellColumns {
    return { count: 0, keys: new Int32Array(cap), slots: new Uint16Array(cap), values: Array.from({ length: this.measures }, () => new Float64Array(cap)) };
  }

  /** Adds measures[*][i] to the cell (key, slot). */
  add(key: number, slot: number, measures: ReadonlyArray<ArrayLike<number>>, i: number): void {
    const at = key * this.slots + slot;
    if (at >= DENSE_LIMIT) {
      let v = this.sparse.get(at);
      if (v === undefined) this.sparse.set(at, (v = new Float64Array(this.measures)));
      for (let mm = 0; mm < this.measures; mm++) v[mm] = (v[mm] as number) + ((measures[mm] as ArrayLike<number>)[i] as number);
      return;
    }
    if (this.present[at] === 0) {
      this.present[at] = 1;
      if (this.nTouched === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.nTouched++] = at;
    }
    for (let mm = 0; mm < this.measures; mm++) {
      const col = this.sums[mm] as Float64Array;
      col[at] = (col[at] as number) + ((measures[mm] as ArrayLike<number>)[i] as number);
    }
  }

  /** A stored block's cells (its slot count and measures must be the table's), in reused columns. */
  decode(buf: Uint8Array): CellColumns {
    const { slots, cells } = decodeBlockInto(buf, this.stored);
    this.stored = cells;
    if (slots !== this.slots || cells.values.length !== this.measures) {
      throw new BlockFormatError(`block has ${slots} slots and ${cells.values.length} measures, expected ${this.slots} and ${this.measures}`);
    }
    return cells;
  }

  /** Adds a stored block's cells (its slot count and measures must be the table's). */
  addBlock(buf: Uint8Array): void {
    const cells = this.decode(buf);
    for (let i = 0; i < cells.count; i++) this.add(cells.keys[i] as number, cells.slots[i] as number, cells.values, i);
  }

  /** Sorts the touched entries in place (few per block: without a typed-array sort call). */
  private sortTouched(): void {
    const t = this.touched;
    const n = this.nTouched;
    if (n > 32) {
      t.subarray(0, n).sort();
      return;
    }
    for (let i = 1; i < n; i++) {
      const v = t[i] as number;
      let j = i - 1;
      while (j >= 0 && (t[j] as number) > v) {
        t[j + 1] = t[j] as number;
        j--;
      }
      t[j + 1] = v;
    }
  }

  /** The summed cells in (key, slot) order; the accumulator is empty again (the columns are reused until the next take). */
  take(): CellColumns {
    this.sortTouched();
    const list = this.touched;
    const count = this.nTouched;
    const extra = this.sparse.size > 0 ? [...this.sparse].sort((a, b) => a[0] - b[0]) : [];
    const n = count + extra.length;
    if (this.out.keys.length < n) this.out = this.columns(Math.max(n, this.out.keys.length * 2));
    const out = this.out;
    for (let j = 0; j < count; j++) {
      const at = list[j] as number;
      const slot = at % this.slots;
      out.keys[j] = (at - slot) / this.slots;
      out.slots[j] = slot;
      for (let mm = 0; mm < this.measures; mm++) {
        const col = this.sums[mm] as Float64Array;
        (out.values[mm] as Float64Array)[j] = col[at] as number;
        col[at] = 0;
      }
      this.present[at] = 0;
    }
    // Map entries have larger (key, slot) than every dense one: they follow in order.
    for (let e = 0; e < extra.length; e++) {
      const [at, v] = extra[e] as [number, Float64Array];
      const j = count + e;
      const slot = at % this.slots;
      out.keys[j] = (at - slot) / this.slots;
      out.slots[j] = slot;
      for (let mm = 0; mm < this.measures; mm++) (out.values[mm] as Float64Array)[j] = v[mm] as number;
    }
    this.nTouched = 0;
    this.sparse.clear();
    out.count = n;
    return out;
  }
}

const accumulators = new Map<string, Accumulator>();

export function accumulator(slots: number, measures: number): Accumulator {
  const k = `${slots}/${measures}`;
  let a = accumulators.get(k);
  if (!a) accumulators.set(k, (a = new Accumulator(slots, measures)));
  return a;
}

/** Throws a RangeError for a cell whose key or slot the table cannot hold. */
export function checkLevelCells(cells: LevelCells, slots: number): void {
  const n = cells.count;
  for (let i = 0; i < n; i++) {
    const k = cells.key[i] as number;
    if (!(Number.isInteger(k) && k >= 0 && k <= MAX_KEY)) throw new RangeError(`key out of range: ${k}`);
    const s = cells.slots[i] as number;
    if (!(s >= 0 && s < slots)) throw new RangeError(`slot out of range: ${s}`);
  }
}

/** A write's cells grouped by block: `sorted` the distinct row ids ascending, cells order[start[r] .. start[r+1]) those of sorted[r]. */
export interface BlockGroups {
  groups: number;
  sorted: Float64Array;
  start: Int32Array;
  order: Int32Array;
}

/** Groups a write's cells by block (a dense group number per distinct id, then the groups in id order); stable within a block. */
export function groupByBlock(cells: LevelCells): BlockGroups {
  const n = cells.count;
  // Group cells by block: a dense group number per distinct id, then the groups in id order.
  const index = new BlockIdIndex(Math.min(n, 1 << 20));
  const groupOf = new Int32Array(n);
  // Cells mostly come in runs of one block (pre-aggregated in key order): a run costs one lookup.
  let lastId = -1;
  let lastGroup = -1;
  for (let i = 0; i < n; i++) {
    const id = cells.ids[i] as number;
    if (id !== lastId) {
      lastId = id;
      lastGroup = index.add(id);
    }
    groupOf[i] = lastGroup;
  }
  const groups = index.size;
  const groupIds = index.ids();
  const sorted = Float64Array.from(groupIds).sort();
  const rank = new Int32Array(groups);
  for (let r = 0; r < groups; r++) rank[index.get(sorted[r] as number)] = r;
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < n; i++) (start[(rank[groupOf[i] as number] as number) + 1] as number)++;
  for (let r = 0; r < groups; r++) start[r + 1] = (start[r + 1] as number) + (start[r] as number);
  const fill = start.slice(0, groups);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[(fill[rank[groupOf[i] as number] as number] as number)++] = i;

  return { groups, sorted, start, order };
}
