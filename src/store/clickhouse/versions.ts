/**
 * The versions of the rows a node writes into the ReplacingMergeTree tables (carousel samples, stream
 * quality, checkpoints, meta): the newest version of a key wins, at read time (argMax) and when parts
 * merge. Two rows of one key with the same version would be a tie that a read and a merge may settle
 * differently: the answer would change when the parts merge, and a node's carousel block, built
 * before, would disagree with SQL after. So a version is never shared by two writes:
 * - version = epoch ms x 1000 + the clock's residue (1..999), increasing per clock (a clock asked twice in
 *   one millisecond steps on by 1000, keeping its residue);
 * - the clocks of one process have different residues (up to 999 of them); two processes share one with
 *   a chance of 1 in 999 (then a tie needs both to write one key in the same millisecond too);
 * - the rows of one batch share its version, so a batch holds each key once (`lastPerKey`).
 * Same scale as before (ms x 1000): versions written by older nodes compare by time as they did.
 */
let nextResidue = 1 + Math.floor(Math.random() * 999);

export class VersionClock {
  readonly residue: number;
  private last = 0n;

  constructor() {
    this.residue = nextResidue;
    nextResidue = (nextResidue % 999) + 1;
  }

  next(now = Date.now()): bigint {
    const v = BigInt(now) * 1000n + BigInt(this.residue);
    this.last = v > this.last ? v : this.last + 1000n;
    return this.last;
  }
}

/** The rows with one of each key, the last one where a key repeats (a later row of a batch wins, as on SQLite), in the order of their last occurrence. */
export function lastPerKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    seen.delete(k);
    seen.set(k, r);
  }
  return [...seen.values()];
}
