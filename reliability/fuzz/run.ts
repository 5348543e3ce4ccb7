import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { writeSection } from '../report.js';
import { createKeys, startServe, storedCount, tempData, type ServerProcess } from '../lib/server.js';
import { fuzzMarkdown, type FuzzRun } from './report.js';
import { emptyStats, mergeStats, type FuzzFailure, type FuzzStats } from './stats.js';
import { HTTP_TARGET, parserTargets } from './targets/index.js';
import type { IntakeLedger } from './targets/http-intake.js';
import type { Job, JobResult } from './worker.js';

const HELP = `Usage: npm run fuzz -- [--inputs N] [--target NAME]... [--seed S] [--path P] [--workers N] [--no-report]

Fuzzes every parser with N generated and mutated inputs each (default 1,000,000), on worker threads,
and writes the figures into RELIABILITY.md (full runs only). Targets: ${[...parserTargets().map((t) => t.name), HTTP_TARGET].join(', ')}.
--seed/--path replay a reported counterexample of one --target.`;

/** A seed per (target, chunk), derived from the run's seed: chunks are independent and reproducible. */
function chunkSeed(seed: number, target: string, chunk: number): number {
  let h = seed | 0;
  for (const c of target) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h + Math.imul(chunk, 7919)) >>> 1;
}

interface Pool {
  run(queues: Job[][]): Promise<JobResult[]>;
}

/** Worker threads taking jobs from their own queue first, then from the others; a worker that stops beating is replaced. */
function pool(size: number, stallMs: number, onResult: (r: JobResult) => void): Pool {
  const heartbeat = new SharedArrayBuffer(4 * size);
  const beats = new Int32Array(heartbeat);
  const script = join(import.meta.dirname, 'worker.js');
  return {
    run(queues) {
      const results: JobResult[] = [];
      return new Promise((resolve, reject) => {
        let active = 0;
        const next = (slot: number): Job | undefined => {
          for (let k = 0; k < queues.length; k++) {
            const q = queues[(slot + k) % queues.length] as Job[];
            const job = q.shift();
            if (job) return job;
          }
          return undefined;
        };
        const start = (slot: number): void => {
          const job = next(slot);
          if (!job) {
            if (active === 0) resolve(results);
            return;
          }
          active++;
          const worker = new Worker(script, { workerData: { heartbeat, slot } });
          let current = job;
          let last = Atomics.load(beats, slot);
          let lastChange = Date.now();
          const watchdog = setInterval(() => {
            const now = Atomics.load(beats, slot);
            if (now !== last) {
              last = now;
              lastChange = Date.now();
            } else if (Date.now() - lastChange > stallMs) {
              clearInterval(watchdog);
              const failure: FuzzFailure = {
                target: current.target, kind: 'hang', detail: `no progress for ${stallMs / 1000} s (worker stopped)`,
                counterexample: '(input still running)', seed: current.seed, path: '',
              };
              const stats = { ...emptyStats(), inputs: 1, hangs: 1 };
              const r: JobResult = { job: current, stats, failure };
              results.push(r);
              onResult(r);
              void worker.terminate();
            }
          }, 1000);
          const give = (): void => {
            const j = next(slot);
            if (!j) {
              clearInterval(watchdog);
              void worker.terminate();
              return;
            }
            current = j;
            worker.postMessage(j);
          };
          worker.on('message', (msg: JobResult & { error?: string }) => {
            if (msg.error) {
              clearInterval(watchdog);
              void worker.terminate();
              reject(new Error(`fuzz worker failed on ${msg.job.target}: ${msg.error}`));
              return;
            }
            results.push(msg);
            onResult(msg);
            give();
          });
          worker.on('error', (err) => reject(err));
          worker.on('exit', () => {
            clearInterval(watchdog);
            active--;
            start(slot);
          });
          worker.postMessage(current);
        };
        for (let i = 0; i < size; i++) start(i);
      });
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      inputs: { type: 'string' }, target: { type: 'string', multiple: true }, seed: { type: 'string' }, path: { type: 'string' },
      workers: { type: 'string' }, chunk: { type: 'string' }, 'no-report': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const inputs = Number(values.inputs ?? 1_000_000);
  const seed = Number(values.seed ?? 20261201);
  const workers = Number(values.workers ?? 2);
  const chunk = Number(values.chunk ?? 50_000);
  const all = [...parserTargets().map((t) => ({ name: t.name, title: t.title, limitMs: t.limitMs, maxInputs: t.maxInputs })), { name: HTTP_TARGET, title: '', limitMs: 20_000, maxInputs: undefined }];
  const inputsOf = (t: { maxInputs: number | undefined }): number => Math.min(inputs, t.maxInputs ?? inputs);
  const chosen = values.target ? all.filter((t) => values.target?.includes(t.name)) : all;
  if (chosen.length === 0 || (values.target && chosen.length !== values.target.length)) {
    console.error(`unknown --target; choose from ${all.map((t) => t.name).join(', ')}`);
    return 2;
  }
  const replay = values.path !== undefined;
  if (replay && (chosen.length !== 1 || values.seed === undefined)) {
    console.error('--path needs exactly one --target and its --seed');
    return 2;
  }
  const startedAt = new Date();
  const t0 = Date.now();
  let server: ServerProcess | undefined;
  const data = tempData('fuzz');
  const project = 'fuzz';
  const queues: Job[][] = [[], []];
  try {
    if (chosen.some((t) => t.name === HTTP_TARGET)) {
      const keys = await createKeys(data.dir, project);
      server = await startServe(['--data', data.dir, '--log-level', 'warn']);
      const httpChunk = Math.min(chunk, 25_000);
      for (let c = 0; c * httpChunk < inputs; c++) {
        queues[0]?.push({
          target: HTTP_TARGET, seed: replay ? seed : chunkSeed(seed, HTTP_TARGET, c), numRuns: Math.min(httpChunk, inputs - c * httpChunk),
          path: values.path, server: { url: server.url, project, token: keys.token }, lanes: 16,
        });
        if (replay) break;
      }
    }
    for (const t of chosen.filter((x) => x.name !== HTTP_TARGET)) {
      const n = inputsOf(t);
      for (let c = 0; c * chunk < n; c++) {
        queues[1]?.push({ target: t.name, seed: replay ? seed : chunkSeed(seed, t.name, c), numRuns: Math.min(chunk, n - c * chunk), path: values.path });
        if (replay) break;
      }
    }
    const totals = new Map<string, FuzzStats>(chosen.map((t) => [t.name, emptyStats()]));
    const failures: FuzzFailure[] = [];
    const ledger: IntakeLedger = { accepted: 0, requests: 0, duplicates: 0 };
    let lastPrint = Date.now();
    const results = pool(workers, 90_000, (r) => {
      mergeStats(totals.get(r.job.target) as FuzzStats, r.stats);
      if (r.failure) {
        failures.push(r.failure);
        console.error(`FAIL ${r.failure.target} ${r.failure.kind}: ${r.failure.detail}\n  counterexample: ${r.failure.counterexample.slice(0, 2000)}\n  replay: npm run fuzz -- --target ${r.failure.target} --seed ${r.failure.seed} --path ${r.failure.path}`);
      }
      if (r.ledger) {
        ledger.accepted += r.ledger.accepted;
        ledger.requests += r.ledger.requests;
        ledger.duplicates += r.ledger.duplicates;
      }
      if (Date.now() - lastPrint > 20_000) {
        lastPrint = Date.now();
        console.log(`[${Math.round((Date.now() - t0) / 1000)} s] ${[...totals].map(([n, s]) => `${n} ${s.inputs}`).join(', ')}`);
      }
    });
    await results.run(queues);
    for (const [name, s] of totals) {
      const want = inputsOf(chosen.find((t) => t.name === name) ?? { maxInputs: undefined });
      if (!replay && s.inputs < want && !failures.some((f) => f.target === name)) {
        failures.push({ target: name, kind: 'wrong', detail: `only ${s.inputs} of ${want} inputs ran`, counterexample: '', seed, path: '' });
      }
    }
    let http: FuzzRun['http'];
    if (server) {
      const exit = await server.stop();
      server = undefined;
      http = { ledger, stored: storedCount(data.dir, project), serverExit: exit };
      if (http.stored !== ledger.accepted || exit !== 0) {
        failures.push({ target: HTTP_TARGET, kind: 'wrong', detail: `store holds ${http.stored}, acknowledged ${ledger.accepted}, server exit ${exit}`, counterexample: '', seed, path: '' });
      }
    }
    const run: FuzzRun = {
      startedAt, seconds: (Date.now() - t0) / 1000, seed, inputsPerTarget: inputs, workers, failures, http,
      targets: chosen.map((t) => ({ ...t, title: t.name === HTTP_TARGET ? HTTP_TITLE : t.title, stats: totals.get(t.name) as FuzzStats })),
    };
    const md = fuzzMarkdown(run);
    console.log(`\n${md}\n`);
    const full = !replay && !values['no-report'] && chosen.length === all.length && inputs >= 1_000_000;
    if (full) {
      writeSection('fuzz', md);
      console.log('RELIABILITY.md: fuzz section written');
    }
    return failures.length === 0 ? 0 : 1;
  } finally {
    await server?.stop();
    data.remove();
  }
}

const HTTP_TITLE = 'HTTP intake end to end (real `livestats serve` process over a socket): formats, edited lines and bodies, gzip (also corrupt), content types, batch-id retries, credentials';

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
