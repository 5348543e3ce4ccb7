import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { emptyStats, mergeStats, type FuzzFailure, type FuzzStats } from './stats.js';
import type { FuzzTarget, Verdict } from './target.js';

export interface ChunkOptions {
  seed: number;
  numRuns: number;
  /** fast-check replay path of a reported counterexample (with its seed). */
  path?: string;
  /** Called before each input (the watchdog's heartbeat). */
  beat?: () => void;
}

export interface ChunkResult {
  stats: FuzzStats;
  failure?: FuzzFailure;
}

type Judged = { kind: 'ok'; verdict: Verdict } | { kind: 'fail'; failure: Omit<FuzzFailure, 'target' | 'counterexample' | 'seed' | 'path'> };

function judge<T>(target: FuzzTarget<T>, verdict: Verdict, ms: number): Judged {
  if (ms > target.limitMs) return { kind: 'fail', failure: { kind: 'hang', detail: `took ${ms.toFixed(1)} ms (limit ${target.limitMs} ms)` } };
  if (verdict.outcome === 'wrong') return { kind: 'fail', failure: { kind: 'wrong', detail: verdict.detail } };
  if (verdict.outcome === 'dropped' && !target.reasons.includes(verdict.reason)) {
    return { kind: 'fail', failure: { kind: 'undecided', detail: `reason "${verdict.reason}" is not one of ${target.reasons.join(', ')}` } };
  }
  return { kind: 'ok', verdict };
}

const crashOf = (err: unknown): Judged => ({
  kind: 'fail', failure: { kind: 'crash', detail: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) },
});

/** Counts one judged input unless a failure was already seen (fast-check then shrinks, which is not new input). */
class Tally {
  readonly stats = emptyStats();
  last: Judged | undefined;
  private failed = false;

  record(j: Judged, ms: number): boolean {
    if (j.kind === 'fail') this.last = j;
    if (this.failed) return j.kind === 'ok';
    const s = this.stats;
    s.inputs++;
    s.busyMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
    if (j.kind === 'fail') {
      this.failed = true;
      s[j.failure.kind === 'crash' ? 'crashes' : j.failure.kind === 'hang' ? 'hangs' : j.failure.kind]++;
      return false;
    }
    if (j.verdict.outcome === 'accepted') s.accepted++;
    else if (j.verdict.outcome === 'dropped') s.dropped[j.verdict.reason] = (s.dropped[j.verdict.reason] ?? 0) + 1;
    return true;
  }
}

function result<T>(target: FuzzTarget<T>, tally: Tally, details: fc.RunDetails<[T]>): ChunkResult {
  if (!details.failed || !tally.last || tally.last.kind !== 'fail') return { stats: tally.stats };
  return {
    stats: tally.stats,
    failure: {
      target: target.name, ...tally.last.failure,
      counterexample: details.counterexample ? fc.stringify(details.counterexample[0]) : '(none)',
      seed: details.seed, path: details.counterexamplePath ?? '',
    },
  };
}

// No time limit on the run: fast-check would stop a slow chunk early (fewer inputs than claimed) and,
// for an asynchronous target, abandon a request still in flight.
const params = (o: ChunkOptions): fc.Parameters<[unknown]> => ({ seed: o.seed, numRuns: o.numRuns, ...(o.path ? { path: o.path } : {}) });

/** Runs `numRuns` inputs of a synchronous target from `seed`. */
export function runChunk<T>(target: FuzzTarget<T>, o: ChunkOptions): ChunkResult {
  void target.prepare?.();
  const tally = new Tally();
  const once = (input: T): { v: Verdict; ms: number } => {
    const t0 = performance.now();
    const v = target.run(input);
    if (v instanceof Promise) throw new Error(`${target.name} is asynchronous: use runChunkAsync`);
    return { v, ms: performance.now() - t0 };
  };
  const prop = fc.property(target.arbitrary, (input) => {
    o.beat?.();
    let j: Judged;
    let ms = 0;
    try {
      let r = once(input);
      // Over the limit: run it again (up to twice) and keep the fastest, so a scheduling stall on a
      // shared machine is not taken for a slow input; a genuinely slow input is slow every time.
      for (let k = 0; k < 2 && r.ms > target.limitMs; k++) {
        const again = once(input);
        if (again.ms < r.ms) r = again;
      }
      ms = r.ms;
      j = judge(target, r.v, ms);
    } catch (err) {
      j = crashOf(err);
    }
    return tally.record(j, ms);
  });
  return result(target, tally, fc.check(prop, params(o) as fc.Parameters<[T]>));
}

/**
 * Runs an asynchronous target (a real server): `lanes` independent fast-check runs at once,
 * lane i from seed + i, each over its own share of the inputs.
 */
export async function runChunkAsync<T>(target: FuzzTarget<T>, o: ChunkOptions, lanes = 1): Promise<ChunkResult> {
  await target.prepare?.();
  const one = async (seed: number, numRuns: number, path?: string): Promise<ChunkResult> => {
    const tally = new Tally();
    const prop = fc.asyncProperty(target.arbitrary, async (input) => {
      o.beat?.();
      const t0 = performance.now();
      let j: Judged;
      try {
        j = judge(target, await target.run(input), performance.now() - t0);
      } catch (err) {
        j = crashOf(err);
      }
      return tally.record(j, performance.now() - t0);
    });
    return result(target, tally, await fc.check(prop, params({ ...o, seed, numRuns, path }) as fc.Parameters<[T]>));
  };
  if (o.path) return one(o.seed, o.numRuns, o.path);
  const share = Math.ceil(o.numRuns / lanes);
  const runs: Array<Promise<ChunkResult>> = [];
  for (let i = 0; i * share < o.numRuns; i++) runs.push(one((o.seed + i) >>> 0, Math.min(share, o.numRuns - i * share)));
  const results = await Promise.all(runs);
  const stats = emptyStats();
  for (const r of results) mergeStats(stats, r.stats);
  return { stats, failure: results.find((r) => r.failure)?.failure };
}
