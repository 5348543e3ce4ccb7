import { buildIpv4Index } from '../../src/ingest/geo/ip2region-data.js';
import { regionOfCode } from '../../src/ingest/geo/names.js';

import { LineFile } from '../lib/line-file.js';
import { seeded } from '../lib/rng.js';

/** A small deterministic PRNG, so every run writes the same file. */
export const prng = seeded;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** nginx $time_local for an epoch ms, in UTC+0800 like a server in China. */
export function timeLocal(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0800`;
}

export const ipText = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** ~n client addresses, 90% inside Chinese ranges of the ip2region data, the rest anywhere public. */
export function clientPool(n: number, rand: () => number): string[] {
  const index = buildIpv4Index();
  const cn: number[] = [];
  for (let i = 0; i + 1 < index.starts.length; i++) {
    if (regionOfCode(index.codes[i] as number) !== 'OT') cn.push(i);
  }
  const pool: string[] = [];
  while (pool.length < n) {
    if (rand() < 0.9) {
      const r = cn[Math.floor(rand() * cn.length)] as number;
      const lo = index.starts[r] as number;
      const hi = index.starts[r + 1] as number;
      pool.push(ipText(lo + Math.floor(rand() * (hi - lo))));
    } else {
      pool.push(ipText(((1 + Math.floor(rand() * 222)) << 24 >>> 0) + Math.floor(rand() * 0xffffff)));
    }
  }
  return pool;
}

/** Status codes with weights (per 1000) like a live-streaming edge: mostly 200/206/304, a few errors. */
const STATUS_WEIGHTS: Array<[number, number]> = [
  [200, 850], [206, 70], [304, 30], [302, 15], [404, 15], [499, 10], [403, 4], [502, 3], [503, 2], [500, 1],
];
const STATUSES = STATUS_WEIGHTS.flatMap(([code, w]) => new Array<number>(w).fill(code));
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X; zh_cn)',
  'Lavf/60.3.100',
];

/**
 * Writes `lines` combined_host lines spread over `spanMs` ending at `endMs`, 10 domains, the
 * given client pool; resolves with the file size.
 */
export async function writeLog(file: string, lines: number, endMs: number, spanMs: number, seed = 42): Promise<number> {
  const rand = prng(seed);
  const pool = clientPool(50_000, rand);
  const domains = Array.from({ length: 10 }, (_, i) => `live${i}.example.com`);
  const out = new LineFile(file);
  const start = endMs - spanMs;
  for (let i = 0; i < lines; i++) {
    const t = start + Math.floor((i / lines) * spanMs);
    const ip = pool[Math.floor(rand() * rand() * pool.length)] as string;
    const domain = domains[Math.floor(rand() * domains.length)] as string;
    const status = STATUSES[Math.floor(rand() * STATUSES.length)] as number;
    const seg = Math.floor(rand() * 100_000);
    const agent = AGENTS[Math.floor(rand() * AGENTS.length)] as string;
    await out.add(`${ip} - - [${timeLocal(t)}] "GET /live/stream${seg % 50}/${seg}.ts HTTP/1.1" ${status} ${200_000 + seg} "-" "${agent}" ${domain}\n`);
  }
  return out.close();
}
