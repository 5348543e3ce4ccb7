/**
 * The largest value a stored cell keeps (a request count, bytes sent, traffic requests or bytes): 2^53 − 1,
 * exact in JavaScript numbers, in the block codec's varints and in ClickHouse UInt64 as JSON. Sums past it
 * saturate there instead of failing the write (docs/storage.md, "Value bounds"): such a cell reads as
 * "at least" this much. Ingest bounds every line far below it (MAX_LINE_BYTES), so only thousands of
 * extreme lines in one cell reach it.
 */
export const MAX_CELL_VALUE = Number.MAX_SAFE_INTEGER;

/** A cell value as stored: a whole number in 0..MAX_CELL_VALUE (a sum past it saturates; anything not a number > 0 is 0). */
export function cellValue(n: number): number {
  if (n > MAX_CELL_VALUE) return MAX_CELL_VALUE;
  return n > 0 ? Math.round(n) : 0;
}
