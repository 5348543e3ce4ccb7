import type { Isp, Region } from '../contract/values.js';
import type { AccessRecord } from '../ingest/aggregator.js';
import { Categorical, hash01, poisson, type Rng } from './random.js';

const MINUTE = 60_000;

export const DEMO_DOMAINS: ReadonlyArray<readonly [string, number]> = [
  ['play.example.com', 600],
  ['hls.example.com', 300],
  ['flv.example.com', 150],
];

// Rough share of viewers per province (internet users), abroad/unknown as OT.
const REGIONS = new Categorical<Region>([
  ['GD', 11], ['JS', 7], ['SD', 7], ['ZJ', 6], ['HA', 6], ['SC', 6], ['HE', 5], ['HB', 4.5], ['HN', 4.5],
  ['AH', 4], ['FJ', 3.5], ['BJ', 3.5], ['SH', 3.5], ['LN', 3], ['SN', 3], ['JX', 3], ['GX', 3], ['YN', 3],
  ['CQ', 2.5], ['SX', 2.5], ['GZ', 2.5], ['HL', 2.2], ['OT', 2], ['JL', 1.6], ['NM', 1.5], ['XJ', 1.5],
  ['GS', 1.5], ['TJ', 1.3], ['HI', 0.8], ['HK', 0.6], ['NX', 0.5], ['QH', 0.4], ['TW', 0.4], ['XZ', 0.25],
  ['MO', 0.1],
]);
const ISPS = new Categorical<Isp>([['CMCC', 45], ['CTCC', 30], ['CUCC', 20], ['OTHER', 5]]);

const NORMAL_CODES: Array<[number, number]> = [
  [200, 86], [206, 5], [302, 3], [304, 3], [403, 0.5], [404, 1.5], [499, 0.6], [500, 0.2], [502, 0.2],
  [503, 0.1], [504, 0.1],
];
const NORMAL = new Categorical<number>(NORMAL_CODES);
const SERVER_BURST = new Categorical<number>([...NORMAL_CODES, [502, 9], [504, 5], [503, 2]]);
const CLIENT_BURST = new Categorical<number>([...NORMAL_CODES, [403, 6], [404, 8]]);

/** Share of the daily peak: highest around 20:00 China time, lowest before dawn. */
export function diurnal(ms: number): number {
  const hourCst = ((ms / 3_600_000 + 8) % 24 + 24) % 24;
  return 0.55 + 0.45 * Math.cos((2 * Math.PI * (hourCst - 20.5)) / 24);
}

/** Which code mix a domain uses in a minute: every 20-minute block may open with a short burst. */
function codesFor(domainIndex: number, minute: number): Categorical<number> {
  const m = Math.floor(minute / MINUTE);
  const block = Math.floor(m / 20);
  if (m % 20 >= 4) return NORMAL;
  const h = hash01(block * 7 + domainIndex);
  if (h < 0.12) return SERVER_BURST;
  if (h < 0.2) return CLIENT_BURST;
  return NORMAL;
}

/** Feeds realistic requests for [from, to) to `emit`, minute by minute (partial minutes pro rata). */
export function generateTraffic(
  project: string, from: number, to: number, rng: Rng, emit: (r: AccessRecord) => void,
): number {
  let emitted = 0;
  for (let t = from; t < to; ) {
    const minute = Math.floor(t / MINUTE) * MINUTE;
    const sliceEnd = Math.min(to, minute + MINUTE);
    const fraction = (sliceEnd - t) / MINUTE;
    DEMO_DOMAINS.forEach(([domain, perMinute], index) => {
      const n = poisson(perMinute * diurnal(minute) * fraction, rng);
      const codes = codesFor(index, minute);
      for (let i = 0; i < n; i++) {
        emit({ project, domain, time: minute, region: REGIONS.sample(rng), isp: ISPS.sample(rng), code: codes.sample(rng) });
      }
      emitted += n;
    });
    t = sliceEnd;
  }
  return emitted;
}
