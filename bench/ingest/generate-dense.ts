import { buildIpv4Index } from '../../src/ingest/geo/ip2region-data.js';
import { regionOfCode } from '../../src/ingest/geo/names.js';
import { LineFile } from '../lib/line-file.js';
import { seeded } from '../lib/rng.js';
import { ipText, timeLocal } from './generate.js';

/**
 * The dense ingest file: the density of a real platform's access logs. 10 busy play domains; in
 * every minute each of them has traffic from every (province, carrier) pair the ip2region data
 * knows (~130 pairs) with ~6 status codes, so a domain-minute holds 300+ (province, carrier, code)
 * cells; URIs are FLV streams and HLS playlists and segments of a few hundred streams per domain
 * (Zipf popularity: the traffic cube gets realistic per-stream sparsity); $bytes_sent per request.
 */
export const DENSE_FORMAT =
  `'$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent "$http_referer" "$http_user_agent" $host'`;

export const DENSE_DOMAINS = 10;
/** Streams per domain (Zipf popularity, exponent ~1). */
const STREAMS = 300;
const APPS = ['live', 'live', 'live', 'live', 'game', 'show'];
/** Status codes per (province, carrier) with their shares (per 10,000): 6 common ones and a rare tail. */
const STATUS_WEIGHTS: Array<[number, number]> = [
  [200, 8150], [206, 700], [304, 450], [404, 300], [499, 220], [502, 120], [403, 30], [500, 15], [503, 15],
];
const STATUSES = STATUS_WEIGHTS.flatMap(([code, w]) => new Array<number>(w).fill(code));
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X; zh_cn)',
  'Lavf/60.3.100',
  'okhttp/4.11.0',
];

/** Client addresses per (province, carrier) pair of the ip2region data: `perPair` each, drawn from that pair's ranges. */
export function pairPools(perPair: number, rand: () => number): string[][] {
  const index = buildIpv4Index();
  const ranges = new Map<number, number[]>();
  for (let i = 0; i + 1 < index.starts.length; i++) {
    const code = index.codes[i] as number;
    if (regionOfCode(code) === 'OT') continue;
    let list = ranges.get(code);
    if (!list) ranges.set(code, (list = []));
    list.push(i);
  }
  const pools: string[][] = [];
  for (const code of [...ranges.keys()].sort((a, b) => a - b)) {
    const list = ranges.get(code) as number[];
    const pool: string[] = [];
    for (let k = 0; k < perPair; k++) {
      const r = list[Math.floor(rand() * list.length)] as number;
      const lo = index.starts[r] as number;
      const hi = index.starts[r + 1] as number;
      pool.push(ipText(lo + Math.floor(rand() * (hi - lo))));
    }
    pools.push(pool);
  }
  return pools;
}

/** Zipf(1) ranks 0..n-1 as a cumulative table. */
function zipfTable(n: number): Float64Array {
  const c = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) c[i] = s += 1 / (i + 1);
  for (let i = 0; i < n; i++) c[i] = (c[i] as number) / s;
  return c;
}

function pickCumulative(c: Float64Array, u: number): number {
  let lo = 0;
  let hi = c.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((c[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const hex = (rand: () => number): string => Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0');

/**
 * Writes `lines` lines over `spanMs` ending at `endMs` in DENSE_FORMAT; resolves with the file size.
 * Deterministic for a seed (times are relative to endMs).
 */
export async function writeDenseLog(file: string, lines: number, endMs: number, spanMs: number, seed = 7): Promise<number> {
  const rand = seeded(seed);
  const pools = pairPools(64, rand);
  // Pair popularity between 1x and 6x, fixed per pair: every pair stays present every minute.
  const pairWeights = new Float64Array(pools.length);
  let sum = 0;
  for (let i = 0; i < pools.length; i++) pairWeights[i] = sum += 1 + 5 * rand();
  for (let i = 0; i < pools.length; i++) pairWeights[i] = (pairWeights[i] as number) / sum;
  const v6Pool = Array.from({ length: 500 }, () => `240e:${hex(rand).slice(0, 4)}:${hex(rand).slice(0, 4)}::${hex(rand).slice(0, 4)}`);
  const streamRank = zipfTable(STREAMS);
  const domains = Array.from({ length: DENSE_DOMAINS }, (_, i) => `play${i}.dense.example.com`);
  const streamApp = Array.from({ length: STREAMS }, (_, i) => APPS[i % APPS.length] as string);
  const out = new LineFile(file);
  const start = endMs - spanMs;
  for (let i = 0; i < lines; i++) {
    const t = start + Math.floor((i / lines) * spanMs);
    const domain = domains[i % DENSE_DOMAINS] as string;
    const ip = rand() < 0.06 ? (v6Pool[Math.floor(rand() * v6Pool.length)] as string)
      : ((pools[pickCumulative(pairWeights, rand())] as string[])[Math.floor(rand() * 64)] as string);
    const status = STATUSES[Math.floor(rand() * STATUSES.length)] as number;
    const s = pickCumulative(streamRank, rand());
    const app = streamApp[s] as string;
    const kind = rand();
    const seq = Math.floor(t / 6000) + s * 7;
    let uri: string;
    let size: number;
    if (kind < 0.4) {
      uri = `/${app}/room${s}.flv?auth_key=${Math.floor(t / 1000)}-0-0-${hex(rand)}`;
      size = 200_000 + Math.floor(rand() * 40_000_000);
    } else if (kind < 0.47) {
      uri = `/${app}/room${s}.m3u8?auth_key=${Math.floor(t / 1000)}-0-0-${hex(rand)}`;
      size = 400 + Math.floor(rand() * 300);
    } else if (kind < 0.75) {
      uri = `/${app}/room${s}/${seq}.ts`;
      size = 300_000 + Math.floor(rand() * 1_200_000);
    } else if (kind < 0.99) {
      uri = `/${app}/room${s}-${seq}.ts`;
      size = 300_000 + Math.floor(rand() * 1_200_000);
    } else {
      uri = rand() < 0.5 ? '/crossdomain.xml' : '/favicon.ico';
      size = 300 + Math.floor(rand() * 200);
    }
    if (status >= 400) size = 150 + Math.floor(rand() * 400);
    else if (status === 304) size = 180 + Math.floor(rand() * 60);
    else if (status === 206) size = Math.floor(size / 4);
    const agent = AGENTS[Math.floor(rand() * AGENTS.length)] as string;
    await out.add(`${ip} - - [${timeLocal(t)}] "GET ${uri} HTTP/1.1" ${status} ${size} "-" "${agent}" ${domain}\n`);
  }
  return out.close();
}
