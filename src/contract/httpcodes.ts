import { ApiError, invalidParameter } from './errors.js';
import { normalizeDomain } from './domain.js';
import { arrayParam, type RawQuery } from './query.js';
import { MINUTE, floorTo, formatUtcSecond } from './time.js';
import { isIsp, isRegion, parseStatusCode, type Isp, type Region } from './values.js';
import { HTTPCODES_WINDOW, resolveWindow } from './window.js';

export const MAX_DOMAINS = 10;

/** A validated ListQueryHttpCode request. Minutes are epoch ms; `toMinute` is exclusive. */
export interface HttpCodesQuery {
  domains: string[];
  codes: number[];
  regions: Region[];
  isps: Isp[];
  fromMinute: number;
  toMinute: number;
}

/** One aggregated cell the store answers with: requests of `code` in `minute` (all filters but code applied). */
export interface CodeCount {
  minute: number;
  code: number;
  count: number;
}

export interface HttpCodeEntry {
  code: number;
  count: number;
  proportion: number;
}
export interface HttpCodesResponse {
  data_series: Array<{ time: string; http_codes: HttpCodeEntry[] }>;
}

export function parseHttpCodesQuery(query: RawQuery, nowMs: number): HttpCodesQuery | ApiError {
  const rawDomains = arrayParam(query, 'play_domains');
  if (!rawDomains || rawDomains.length === 0) return invalidParameter('play_domains');
  const domains = new Set<string>();
  for (const d of rawDomains) {
    const n = normalizeDomain(d);
    if (n === undefined) return invalidParameter('play_domains');
    domains.add(n);
  }
  if (domains.size > MAX_DOMAINS) return invalidParameter('play_domains');

  const rawCodes = arrayParam(query, 'code');
  if (!rawCodes) return invalidParameter('code');
  const codes = new Set<number>();
  for (const c of rawCodes) {
    const n = parseStatusCode(c);
    if (n === undefined) return invalidParameter('code');
    codes.add(n);
  }

  const rawRegions = arrayParam(query, 'region');
  if (!rawRegions || !rawRegions.every(isRegion)) return invalidParameter('region');
  const rawIsps = arrayParam(query, 'isp');
  if (!rawIsps || !rawIsps.every(isIsp)) return invalidParameter('isp');

  const window = resolveWindow(query, HTTPCODES_WINDOW, nowMs);
  if (window instanceof ApiError) return window;
  // Minute slots that intersect [start, end) and have begun by now.
  const fromMinute = floorTo(window.start, MINUTE);
  const toMinute = Math.min(window.end, floorTo(window.now, MINUTE) + MINUTE);
  return {
    domains: [...domains].sort(),
    codes: [...codes].sort((a, b) => a - b),
    regions: rawRegions,
    isps: rawIsps,
    fromMinute,
    toMinute: Math.max(fromMinute, toMinute),
  };
}

/** count / total rounded half-up to 4 decimals, exactly (no floating-point drift at the .5 boundary). */
export function proportion(count: number, total: number): number {
  if (total <= 0 || count <= 0) return 0;
  const scaled = count * 20000 + total;
  if (Number.isSafeInteger(scaled)) return Math.floor(scaled / (2 * total)) / 10000;
  const big = (BigInt(count) * 20000n + BigInt(total)) / (2n * BigInt(total));
  return Number(big) / 10000;
}

/** Builds the dense, zero-filled minute series from the store's cells. */
export function shapeHttpCodes(q: HttpCodesQuery, cells: readonly CodeCount[]): HttpCodesResponse {
  const slots = Math.max(0, Math.ceil((q.toMinute - q.fromMinute) / MINUTE));
  const totals = new Float64Array(slots);
  const byMinute: Array<Map<number, number> | undefined> = new Array(slots);
  const seen = new Set<number>();
  for (const c of cells) {
    if (c.count <= 0) continue;
    const i = (c.minute - q.fromMinute) / MINUTE;
    if (!Number.isInteger(i) || i < 0 || i >= slots) continue;
    totals[i] = (totals[i] ?? 0) + c.count;
    let m = byMinute[i];
    if (!m) byMinute[i] = m = new Map();
    m.set(c.code, (m.get(c.code) ?? 0) + c.count);
    seen.add(c.code);
  }
  const codes = q.codes.length > 0 ? q.codes : [...seen].sort((a, b) => a - b);
  const data_series: HttpCodesResponse['data_series'] = new Array(slots);
  for (let i = 0; i < slots; i++) {
    const total = totals[i] ?? 0;
    const m = byMinute[i];
    data_series[i] = {
      time: formatUtcSecond(q.fromMinute + i * MINUTE),
      http_codes: codes.map((code) => {
        const count = m?.get(code) ?? 0;
        return { code, count, proportion: proportion(count, total) };
      }),
    };
  }
  return { data_series };
}
