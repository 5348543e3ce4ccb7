import type fc from 'fast-check';

/**
 * What one fuzz input came to. `accepted`: parsed and counted (or, for a validator, taken);
 * `dropped`: refused with a reason the code under test gave. `wrong`: a generated input whose
 * expected outcome the model knows came out otherwise (a bug as real as a crash).
 */
export type Verdict = { outcome: 'accepted' } | { outcome: 'dropped'; reason: string } | { outcome: 'wrong'; detail: string };

export const accepted: Verdict = { outcome: 'accepted' };
export const dropped = (reason: string): Verdict => ({ outcome: 'dropped', reason });
export const wrong = (detail: string): Verdict => ({ outcome: 'wrong', detail });

/** A parser (or a whole path) under fuzz: how to generate inputs and how to judge one. */
export interface FuzzTarget<T> {
  /** Stable id, used in reports and for --target. */
  name: string;
  /** What it covers, for RELIABILITY.md. */
  title: string;
  arbitrary: fc.Arbitrary<T>;
  /** Every drop reason the code under test may give; anything else is "undecided". */
  reasons: readonly string[];
  /** Longest one input may take (ms) before it counts as a hang. */
  limitMs: number;
  /**
   * At most this many inputs per run, whatever --inputs says (and `npm test` runs at most a tenth of it):
   * for a target that writes a real store per input, a thousand times the cost of a parser's.
   */
  maxInputs?: number;
  /** Builds what inputs share (parsers, geo index), outside the per-input time limit. */
  prepare?(): void | Promise<void>;
  /** Judges one input; a throw is a crash. */
  run(input: T): Verdict | Promise<Verdict>;
}
