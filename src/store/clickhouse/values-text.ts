/**
 * The VALUES text of a big INSERT, built a slice of rows at a time with a turn of the event loop
 * between slices: the tuples of an origin batch of 317,000 plays (~52 MB of text) took seconds in one
 * synchronous step (docs/origin.md, "A huge statistics page"). The text is the same as
 * `rows.map(tupleOf).join(', ')`.
 */

/** Rows turned into text per step (~1-3 ms of a busy core). */
export const TEXT_SLICE = 2048;

export async function valuesText<T>(rows: readonly T[], tupleOf: (row: T) => string, slice = TEXT_SLICE): Promise<string> {
  if (rows.length <= slice) return rows.map(tupleOf).join(', ');
  const parts: string[] = [];
  for (let i = 0; i < rows.length; i += slice) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const texts: string[] = [];
    for (let j = i; j < Math.min(rows.length, i + slice); j++) texts.push(tupleOf(rows[j] as T));
    parts.push(texts.join(', '));
  }
  return parts.join(', ');
}
