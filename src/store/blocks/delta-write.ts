import type Database from 'better-sqlite3';
import { encodeBlockTo } from './codec.js';
import { accumulator, checkLevelCells, CHUNK, groupByBlock, MERGE_LIMIT, scratchOut, sql, type LevelCells } from './level-write.js';
import { cachedStatement, type BlockTable } from './table.js';

/**
 * A delta is folded into its block once the delta's stored bytes reach this fraction of the
 * block's: the block is re-encoded about every log(1 + DELTA_FOLD) of its growth, and a flush
 * re-encodes at most this fraction of the block's cells (the delta) instead of the whole block.
 */
export const DELTA_FOLD = 0.5;

/**
 * Adds a write's cells to a level kept as a block plus a delta per (series, time block): the row id
 * + `deltaStep` (the level's spare group, BlockTable.id(series, grp + groups, block)) holds the
 * cells written since the block was last re-encoded, and a read sums both rows as it sums any two
 * blocks (every read of a sum table adds a block's cells into its answer). What a flush costs is
 * then the delta's re-encoding, not the whole block's: a quarter-hour block of a busy stream is
 * rewritten a few times while it fills instead of at every flush, and an older block that a late
 * line reaches keeps a delta of a few cells.
 * Per touched block: no block stored yet -> the cells are the block (and the series' previous time
 * block, now closed, gets its delta folded: foldClosed); else the cells go into the delta, unless the
 * delta already weighs DELTA_FOLD of the block, in which case block, delta and cells are summed into
 * the block and the delta row is deleted. Which row holds which cells depends on the batches; their
 * sums never do. In the caller's transaction, as writeLevel.
 */
export function writeDeltaLevel(db: Database.Database, table: BlockTable, cells: LevelCells, deltaStep: number, mergeLimit = MERGE_LIMIT): void {
  const n = cells.count;
  if (n === 0) return;
  const slots = table.slots;
  checkLevelCells(cells, slots);
  const { groups, sorted, start, order } = groupByBlock(cells);
  const acc = accumulator(slots, table.measures);
  const merger = acc.merger;
  const out = scratchOut;
  const rowIds: number[] = [];
  const ends: number[] = [];
  const dropped: number[] = [];
  // Blocks whose next time block this write starts: their deltas are folded after the writes.
  const closed: number[] = [];
  for (let at = 0; at < groups; ) {
    let size = CHUNK;
    while (size > groups - at) size >>= 1;
    const stored = storedPairs(db, table, sorted, at, size, deltaStep);
    out.reset();
    rowIds.length = 0;
    ends.length = 0;
    dropped.length = 0;
    for (let r = at; r < at + size; r++) {
      const id = sorted[r] as number;
      const block = stored.get(id);
      const delta = stored.get(id + deltaStep);
      const from = start[r] as number;
      const to = start[r + 1] as number;
      const fresh = { key: cells.key, slots: cells.slots, measures: cells.measures, order, from, to };
      if (block !== undefined && (delta === undefined || delta.length < DELTA_FOLD * block.length)) {
        // Into the delta (few cells: a sorted merge beside its stored ones).
        if (to - from <= mergeLimit) encodeBlockTo(slots, merger.merge(delta === undefined ? undefined : acc.decode(delta), fresh), out);
        else {
          if (delta !== undefined) acc.addBlock(delta);
          for (let j = from; j < to; j++) acc.add(cells.key[order[j] as number] as number, cells.slots[order[j] as number] as number, cells.measures, order[j] as number);
          encodeBlockTo(slots, acc.take(), out);
        }
        rowIds.push(id + deltaStep);
      } else {
        // A new block, or the delta folded: block, delta and new cells summed into the block.
        if (block === undefined && delta === undefined && id >= table.blockUnit) closed.push(id - table.blockUnit);
        if (block === undefined && delta === undefined && to - from <= mergeLimit) encodeBlockTo(slots, merger.merge(undefined, fresh), out);
        else {
          if (block !== undefined) acc.addBlock(block);
          if (delta !== undefined) {
            acc.addBlock(delta);
            dropped.push(id + deltaStep);
          }
          for (let j = from; j < to; j++) acc.add(cells.key[order[j] as number] as number, cells.slots[order[j] as number] as number, cells.measures, order[j] as number);
          encodeBlockTo(slots, acc.take(), out);
        }
        rowIds.push(id);
      }
      ends.push(out.length);
    }
    const params: Array<number | Uint8Array> = [];
    for (let r = 0; r < size; r++) params.push(rowIds[r] as number, out.view(r === 0 ? 0 : (ends[r - 1] as number), ends[r] as number));
    cachedStatement(db, sql('insert', table.name, size)).run(...params);
    if (dropped.length > 0) deleteRows(db, table, dropped);
    at += size;
  }
  if (closed.length > 0) foldClosed(db, table, Float64Array.from(closed).sort(), deltaStep);
}

/**
 * Folds the deltas of the given blocks (ascending ids) into them: a series' block is folded once when
 * a write starts its next time block, so a closed quarter-hour is left as one row (and a later line
 * reaching it starts a small delta of its own), not a block and a delta of up to DELTA_FOLD of it.
 */
function foldClosed(db: Database.Database, table: BlockTable, ids: Float64Array, deltaStep: number): void {
  const acc = accumulator(table.slots, table.measures);
  const out = scratchOut;
  for (let at = 0; at < ids.length; ) {
    let size = CHUNK;
    while (size > ids.length - at) size >>= 1;
    const stored = storedPairs(db, table, ids, at, size, deltaStep);
    out.reset();
    const rowIds: number[] = [];
    const ends: number[] = [];
    const dropped: number[] = [];
    for (let r = at; r < at + size; r++) {
      const id = ids[r] as number;
      const delta = stored.get(id + deltaStep);
      if (delta === undefined) continue;
      const block = stored.get(id);
      if (block !== undefined) acc.addBlock(block);
      acc.addBlock(delta);
      encodeBlockTo(table.slots, acc.take(), out);
      rowIds.push(id);
      ends.push(out.length);
      dropped.push(id + deltaStep);
    }
    // Upserts in power-of-two pieces (a few statement shapes).
    for (let r = 0; r < rowIds.length; ) {
      let piece = CHUNK;
      while (piece > rowIds.length - r) piece >>= 1;
      const params: Array<number | Uint8Array> = [];
      for (let q = r; q < r + piece; q++) params.push(rowIds[q] as number, out.view(q === 0 ? 0 : (ends[q - 1] as number), ends[q] as number));
      cachedStatement(db, sql('insert', table.name, piece)).run(...params);
      r += piece;
    }
    if (dropped.length > 0) deleteRows(db, table, dropped);
    at += size;
  }
}

/** The stored blocks and deltas of sorted[at .. at+size) (one statement, ids padded to a few fixed counts). */
function storedPairs(db: Database.Database, table: BlockTable, sorted: Float64Array, at: number, size: number, deltaStep: number): Map<number, Uint8Array> {
  let padded = 8;
  while (padded < 2 * size) padded *= 2;
  const ids: number[] = new Array<number>(padded).fill(-1);
  for (let r = 0; r < size; r++) {
    ids[2 * r] = sorted[at + r] as number;
    ids[2 * r + 1] = (sorted[at + r] as number) + deltaStep;
  }
  const rows = cachedStatement(db, sql('select', table.name, padded)).raw().all(...ids) as Array<[number, Uint8Array]>;
  return new Map(rows);
}

function deleteRows(db: Database.Database, table: BlockTable, ids: readonly number[]): void {
  let padded = 8;
  while (padded < ids.length) padded *= 2;
  const params: number[] = new Array<number>(padded).fill(-1);
  for (let i = 0; i < ids.length; i++) params[i] = ids[i] as number;
  cachedStatement(db, `DELETE FROM ${table.name} WHERE id IN (${new Array<string>(padded).fill('?').join(',')})`).run(...params);
}
