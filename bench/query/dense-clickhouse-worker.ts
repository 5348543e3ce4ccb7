// Runs the dense generator (bench/query/dense.ts, unchanged: same seed, same cells) in a worker
// thread and turns every hour it writes into the VALUES text of the ClickHouse bulk path, posted
// to the main thread, which inserts it. At most MAX_IN_FLIGHT hours wait (the generator blocks).
import { parentPort, workerData } from 'node:worker_threads';
import { bulkCountsValues, bulkSamplesValues } from '../../src/store/clickhouse/bulk.js';
import { SAMPLE_BLOCK_SECONDS } from '../../src/store/sqlite/layout.js';
import { DENSE, generateDense, type DenseSink } from './dense.js';

export interface DenseHour {
  counts: string;
  samples: string;
}

export interface DenseWorkerDone {
  done: ReturnType<typeof generateDense>;
  /** project NUL task -> newest sample second. */
  lastSample: Array<[string, number]>;
}

const MAX_IN_FLIGHT = 2;
const port = parentPort;
if (!port) throw new Error('dense-clickhouse-worker runs as a worker thread');
const { anchor, gate } = workerData as { anchor: number; gate: SharedArrayBuffer };
const inFlight = new Int32Array(gate);
let counts: string[] = [];
let samples: string[] = [];
const lastSample = new Map<string, number>();

function post(): void {
  port?.postMessage({ counts: counts.join(', '), samples: samples.join(', ') } satisfies DenseHour);
  counts = [];
  samples = [];
  Atomics.add(inFlight, 0, 1);
  for (;;) {
    const n = Atomics.load(inFlight, 0);
    if (n < MAX_IN_FLIGHT) break;
    Atomics.wait(inFlight, 0, n, 1000);
  }
}

const sink: DenseSink = {
  bulk(fn) {
    fn();
    post();
  },
  bulkHour(project, domain, _hour, cells) {
    const [region, isp] = cells.dims;
    const [requests, bytes] = cells.measures;
    if (!region || !isp || !requests || !bytes) throw new Error('dense cells need region, isp, requests and bytes');
    counts.push(bulkCountsValues(project, domain, { count: cells.count, slot: cells.slot, dims: [region, isp], key: cells.key, measures: [requests, bytes] }));
  },
  bulkSamples(project, taskId, block, present, values) {
    const first = block * SAMPLE_BLOCK_SECONDS;
    samples.push(bulkSamplesValues(project, taskId, first, present, values, 1));
    const last = present.lastIndexOf(1);
    const key = `${project}\u0000${taskId}`;
    if (last >= 0) lastSample.set(key, Math.max(lastSample.get(key) ?? 0, first + last));
  },
};

const stats = generateDense(sink, DENSE, anchor, (msg) => port.postMessage({ log: msg }));
port.postMessage({ done: stats, lastSample: [...lastSample] } satisfies DenseWorkerDone);
