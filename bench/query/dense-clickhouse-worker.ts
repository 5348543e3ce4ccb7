// Runs the dense generator (bench/query/dense.ts, unchanged: same seed, same cells) in a worker
// thread and turns every hour it writes into the VALUES text of the ClickHouse bulk path, posted
// to the main thread, which inserts it. At most MAX_IN_FLIGHT hours wait (the generator blocks).
import { parentPort, workerData } from 'node:worker_threads';
import { ISPS, REGIONS } from '../../src/contract/values.js';
import { IP_TYPE_CODES, PROTOCOL_CODES } from '../../src/store/packed.js';
import type { TrafficBlockCells } from '../../src/store/sqlite/traffic-bulk.js';
import { TRAFFIC_BLOCK_SLOTS, TRAFFIC_SLOT_MS, ipTypeOfKey, protocolOfKey } from '../../src/store/sqlite/traffic-layout.js';
import { bulkCountsValues, bulkSamplesValues } from '../../src/store/clickhouse/bulk.js';
import { SAMPLE_BLOCK_SECONDS } from '../../src/store/sqlite/layout.js';
import { DENSE, generateDense, type DenseSink, type DenseTrafficSink } from './dense.js';

export interface DenseHour {
  counts: string;
  samples: string;
  /** Traffic mode: TabSeparated rows of TRAFFIC_DOMAIN_COLUMNS and TRAFFIC_STREAM_COLUMNS (dense-clickhouse-traffic.ts). */
  trafficDomains?: string;
  trafficStreams?: string;
}

export interface DenseWorkerDone {
  done: ReturnType<typeof generateDense>;
  /** project NUL task -> newest sample second. */
  lastSample: Array<[string, number]>;
}

const MAX_IN_FLIGHT = 2;
const port = parentPort;
if (!port) throw new Error('dense-clickhouse-worker runs as a worker thread');
/**
 * trafficFrom: traffic mode inserts only cells from this time on (epoch ms; the generator still makes every day, so the cells
 * are the same); trafficStreams false: no per-stream cells (see BENCH_CH_TRAFFIC_DAYS in dense-clickhouse.ts).
 */
const { anchor, gate, traffic, trafficFrom = 0, withStreams = true } = workerData as {
  anchor: number; gate: SharedArrayBuffer; traffic?: boolean; trafficFrom?: number; withStreams?: boolean;
};
const fromSlot = Math.ceil(trafficFrom / TRAFFIC_SLOT_MS);
const inFlight = new Int32Array(gate);
let counts: string[] = [];
let samples: string[] = [];
let trafficDomains: string[] = [];
let trafficStreams: string[] = [];
const lastSample = new Map<string, number>();

function post(): void {
  port?.postMessage({ counts: counts.join(', '), samples: samples.join(', '),
    ...(traffic ? { trafficDomains: trafficDomains.join(''), trafficStreams: trafficStreams.join('') } : {}) } satisfies DenseHour);
  counts = [];
  samples = [];
  trafficDomains = [];
  trafficStreams = [];
  Atomics.add(inFlight, 0, 1);
  for (;;) {
    const n = Atomics.load(inFlight, 0);
    if (n < MAX_IN_FLIGHT) break;
    Atomics.wait(inFlight, 0, n, 1000);
  }
}

/** Names in the TabSeparated rows are the generator's own (letters, digits, dots, dashes): nothing to escape. */
const plain = (v: string): string => {
  if (!/^[\w.-]*$/.test(v)) throw new Error(`dense traffic: unexpected name ${JSON.stringify(v)}`);
  return v;
};

/** The traffic cube's cells of one (series, 6-hour block) as TabSeparated rows (no markers: a bulk load). */
function trafficRows(tuple: readonly string[], block: number, cells: TrafficBlockCells): string {
  const head = tuple.map(plain).join('\t');
  let out = '';
  for (let i = 0; i < cells.count; i++) {
    const key = cells.key[i] as number;
    const slot = block * TRAFFIC_BLOCK_SLOTS + (cells.slot[i] as number);
    if (slot < fromSlot) continue;
    out += `${head}\t${slot}\t${PROTOCOL_CODES[protocolOfKey(key)]}\t` +
      `${REGIONS[cells.region[i] as number]}\t${ISPS[cells.isp[i] as number]}\t${IP_TYPE_CODES[ipTypeOfKey(key)]}\t\t` +
      `${cells.requests[i]}\t${cells.bytes[i]}\t0\n`;
  }
  return out;
}

/** Traffic mode: the traffic cube only (the counts and samples are loaded already; the generator makes them again, unchanged). */
const trafficSink: DenseTrafficSink = {
  bulk(fn) {
    fn();
    post();
  },
  bulkHour() {},
  bulkSamples() {},
  bulkTraffic(tuple, block, cells) {
    if (tuple.length === 2) trafficDomains.push(trafficRows(tuple, block, cells));
    else if (withStreams) trafficStreams.push(trafficRows(tuple, block, cells));
  },
};

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

const stats = generateDense(traffic ? trafficSink : sink, DENSE, anchor, (msg) => port.postMessage({ log: msg }));
port.postMessage({ done: stats, lastSample: [...lastSample] } satisfies DenseWorkerDone);
