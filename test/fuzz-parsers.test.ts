import { describe, expect, it } from 'vitest';
import { runChunk } from '../reliability/fuzz/runner.js';
import { failures } from '../reliability/fuzz/stats.js';
import { parserTargets } from '../reliability/fuzz/targets/index.js';

/**
 * The short version of `npm run fuzz` (which runs 1,000,000 inputs per target on worker threads):
 * 5,000 generated and mutated inputs per parser in `npm test` (20,000 in `npm run test:long`, via
 * LIVESTATS_FUZZ_INPUTS), same seed every run, each judged by the target's model. The per-input
 * limit is raised here (a loaded CI machine is not a hang).
 */
const SEED = 20261201;
const INPUTS = Number(process.env.LIVESTATS_FUZZ_INPUTS ?? 5000);

describe(`fuzz (${INPUTS.toLocaleString('en-US')} inputs per parser)`, () => {
  for (const target of parserTargets()) {
    it(`${target.name}: no crash, hang, undecided or wrong outcome`, () => {
      // A target with its own cap per run (batch_store writes a store per input) runs the same share
      // of it as the others run of 200,000: 125 of 5,000 in `npm test`, 500 in `npm run test:long`.
      const inputs = Math.min(INPUTS, Math.ceil(((target.maxInputs ?? Infinity) * INPUTS) / 200_000));
      const r = runChunk({ ...target, limitMs: 5000 }, { seed: SEED, numRuns: inputs });
      expect(r.failure).toBeUndefined();
      expect(failures(r.stats)).toBe(0);
      expect(r.stats.inputs).toBe(inputs);
      // Both sides are exercised: inputs that are taken and inputs that are refused with a reason.
      expect(r.stats.accepted).toBeGreaterThan(0);
      expect(Object.values(r.stats.dropped).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }, 60_000 + INPUTS * 30); // a hang catcher, in proportion to the inputs
  }
});
