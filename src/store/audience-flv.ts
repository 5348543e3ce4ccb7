/**
 * FLV/RTMP viewers as the audience cube stores them (schema v12 / ClickHouse 010, docs/storage.md
 * "The audience cube"): a session is not a cell per minute it covers but, per (cell, minute),
 * - `opens`: at a block start (every AUDIENCE_BLOCK_MINUTES-th epoch minute), the sessions open in
 *   that minute (the block's base: those begun before it plus those begun in it); at any other
 *   minute, the sessions begun in it;
 * - `closes`: at a minute that is not a block start, the sessions whose last minute was the one before.
 * Viewers of minute m = opens - closes summed from m's block start to m, so a read never needs an
 * earlier block, and a session of hours costs two cells plus one per block start it spans. Both
 * measures are whole numbers >= 0 (unsigned in the block codec and ClickHouse). Pure: the stores'
 * reads call it where they decode cells or rows.
 */
export const AUDIENCE_BLOCK_MINUTES = 15;

/** The block start at or before epoch minute `minute`. */
export const blockStart = (minute: number): number => Math.floor(minute / AUDIENCE_BLOCK_MINUTES) * AUDIENCE_BLOCK_MINUTES;

/**
 * Adds the FLV/RTMP viewers of each minute to `viewers`: index i is epoch minute `firstMinute + i`,
 * as in `opens` and `closes` (the same length). `firstMinute` must be a block start, so every
 * block's prefix sum begins at its own start.
 */
export function addSessionViewers(viewers: Float64Array, opens: Float64Array, closes: Float64Array, firstMinute: number): void {
  if (firstMinute % AUDIENCE_BLOCK_MINUTES !== 0) throw new RangeError('session viewers must be read from a block start');
  let open = 0;
  const n = Math.min(viewers.length, opens.length, closes.length);
  for (let i = 0; i < n; i++) {
    if (i % AUDIENCE_BLOCK_MINUTES === 0) open = 0;
    open += (opens[i] as number) - (closes[i] as number);
    viewers[i] = (viewers[i] as number) + open;
  }
}

/**
 * The sessions open at minute `slot` of a block from the per-slot sums of its opens and closes
 * (index = slot in the block): the play-info read of one minute.
 */
export function sessionViewersAt(opens: ArrayLike<number>, closes: ArrayLike<number>, slot: number): number {
  let open = 0;
  for (let i = 0; i <= slot && i < opens.length; i++) open += (opens[i] as number) - ((closes[i] as number | undefined) ?? 0);
  return open;
}
