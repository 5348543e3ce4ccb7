import { parentPort, workerData } from 'node:worker_threads';
import { runChunk, runChunkAsync, type ChunkResult } from './runner.js';
import { parserTargets } from './targets/index.js';
import { httpIntakeTarget, type IntakeLedger, type IntakeServer } from './targets/http-intake.js';
import type { FuzzTarget } from './target.js';

/** One unit of work: `numRuns` inputs of one target from one seed. */
export interface Job {
  target: string;
  seed: number;
  numRuns: number;
  path?: string;
  /** For the HTTP intake: the server and how many requests in flight. */
  server?: IntakeServer;
  lanes?: number;
}

export interface JobResult extends ChunkResult {
  job: Job;
  ledger?: IntakeLedger;
}

const heartbeat = new Int32Array(workerData.heartbeat as SharedArrayBuffer);
const slot = workerData.slot as number;
const beat = (): void => {
  Atomics.add(heartbeat, slot, 1);
};

const targets = new Map<string, FuzzTarget<unknown>>(parserTargets().map((t) => [t.name, t]));

async function run(job: Job): Promise<JobResult> {
  if (job.server) {
    const ledger: IntakeLedger = { accepted: 0, requests: 0, duplicates: 0 };
    const target = httpIntakeTarget(job.server, ledger, job.lanes ?? 16) as FuzzTarget<unknown>;
    const r = await runChunkAsync(target, { seed: job.seed, numRuns: job.numRuns, path: job.path, beat }, job.lanes ?? 16);
    return { ...r, job, ledger };
  }
  const target = targets.get(job.target);
  if (!target) throw new Error(`unknown fuzz target ${job.target}`);
  return { ...runChunk(target, { seed: job.seed, numRuns: job.numRuns, path: job.path, beat }), job };
}

parentPort?.on('message', (job: Job) => {
  run(job).then(
    (r) => parentPort?.postMessage(r),
    (err: unknown) => parentPort?.postMessage({ job, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
