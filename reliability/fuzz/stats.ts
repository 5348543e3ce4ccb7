/** Counts of one fuzz run (a chunk, or a whole target once chunks are merged). */
export interface FuzzStats {
  inputs: number;
  accepted: number;
  dropped: Record<string, number>;
  crashes: number;
  hangs: number;
  undecided: number;
  wrong: number;
  /** Slowest single input, ms. */
  maxMs: number;
  /** Wall time spent in the code under test, ms. */
  busyMs: number;
}

export interface FuzzFailure {
  target: string;
  kind: 'crash' | 'hang' | 'undecided' | 'wrong';
  detail: string;
  /** fast-check's shrunk counterexample, printed. */
  counterexample: string;
  /** Replays it: --target T --seed S --path P. */
  seed: number;
  path: string;
}

export const emptyStats = (): FuzzStats => ({
  inputs: 0, accepted: 0, dropped: {}, crashes: 0, hangs: 0, undecided: 0, wrong: 0, maxMs: 0, busyMs: 0,
});

export function mergeStats(into: FuzzStats, from: FuzzStats): void {
  into.inputs += from.inputs;
  into.accepted += from.accepted;
  for (const [k, v] of Object.entries(from.dropped)) into.dropped[k] = (into.dropped[k] ?? 0) + v;
  into.crashes += from.crashes;
  into.hangs += from.hangs;
  into.undecided += from.undecided;
  into.wrong += from.wrong;
  into.maxMs = Math.max(into.maxMs, from.maxMs);
  into.busyMs += from.busyMs;
}

export const failures = (s: FuzzStats): number => s.crashes + s.hangs + s.undecided + s.wrong;
