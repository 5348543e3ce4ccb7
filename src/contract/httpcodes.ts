import { ApiError } from './errors.js';
import { FORBIDDEN, normalizeDomain } from './domain.js';
import { readArray, type ParamSpec } from './params.js';
import type { RawQuery } from './query.js';
import { MINUTE, floorTo, formatUtcSecond } from './time.js';
import { ISPS, REGIONS, type Isp, type Region } from './values.js';
import { END_TIME_PARAM, HTTPCODES_WINDOW, resolveWindow, START_TIME_PARAM } from './window.js';

export const MAX_DOMAINS = 10;

const forbidden = FORBIDDEN.source.slice(1, -1);

export const PLAY_DOMAINS_PARAM: ParamSpec = {
  name: 'play_domains', in: 'query', kind: 'array', required: true,
  description: `Play domains, 1 to ${MAX_DOMAINS} distinct ones, comma-separated and/or repeated. Host names without port or path; ` +
    'case-insensitive, IDNA allowed (compared in ASCII form: 例子.com = xn--fsqu00a.com).',
  schema: {
    type: 'array', minItems: 1, maxItems: MAX_DOMAINS,
    items: { type: 'string', minLength: 1, maxLength: 253, pattern: `^[^${forbidden}]+$` },
  },
};
export const CODE_PARAM: ParamSpec = {
  name: 'code', in: 'query', kind: 'array',
  description: 'HTTP status codes (100..599) to list, comma-separated and/or repeated; default every code seen in the window.',
  schema: { type: 'array', items: { type: 'string', pattern: '^[1-5][0-9]{2}$', examples: ['200', '404'] } },
};
export const REGION_PARAM: ParamSpec = {
  name: 'region', in: 'query', kind: 'array',
  description: 'Province codes to count (OT: abroad or unknown), comma-separated and/or repeated; default all.',
  schema: { type: 'array', items: { type: 'string', enum: [...REGIONS] } },
};
export const ISP_PARAM: ParamSpec = {
  name: 'isp', in: 'query', kind: 'array',
  description: 'Carriers to count, comma-separated and/or repeated; default all.',
  schema: { type: 'array', items: { type: 'string', enum: [...ISPS] } },
};

/** ListQueryHttpCode's query parameters, in the order they are checked (the first invalid one is named). */
export const HTTPCODES_PARAMS: readonly ParamSpec[] = [PLAY_DOMAINS_PARAM, CODE_PARAM, REGION_PARAM, ISP_PARAM, START_TIME_PARAM, END_TIME_PARAM];

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
  const domains = readArray(query, PLAY_DOMAINS_PARAM, normalizeDomain);
  if (domains instanceof ApiError) return domains;
  const rawCodes = readArray(query, CODE_PARAM);
  if (rawCodes instanceof ApiError) return rawCodes;
  const codes = new Set(rawCodes.map(Number));
  const rawRegions = readArray(query, REGION_PARAM);
  if (rawRegions instanceof ApiError) return rawRegions;
  const rawIsps = readArray(query, ISP_PARAM);
  if (rawIsps instanceof ApiError) return rawIsps;

  const window = resolveWindow(query, HTTPCODES_WINDOW, nowMs);
  if (window instanceof ApiError) return window;
  // Minute slots that intersect [start, end) and have begun by now.
  const fromMinute = floorTo(window.start, MINUTE);
  const toMinute = Math.min(window.end, floorTo(window.now, MINUTE) + MINUTE);
  return {
    domains: [...domains].sort(),
    codes: [...codes].sort((a, b) => a - b),
    regions: rawRegions as Region[],
    isps: rawIsps as Isp[],
    fromMinute,
    toMinute: Math.max(fromMinute, toMinute),
  };
}

/** count / total in ten-thousandths, rounded half-up, exactly (no floating-point drift at the .5 boundary). */
export function proportionUnits(count: number, total: number): number {
  if (total <= 0 || count <= 0) return 0;
  const scaled = count * 20000 + total;
  if (Number.isSafeInteger(scaled)) return Math.floor(scaled / (2 * total));
  return Number((BigInt(count) * 20000n + BigInt(total)) / (2n * BigInt(total)));
}

/** count / total rounded half-up to 4 decimals. */
export const proportion = (count: number, total: number): number => proportionUnits(count, total) / 10000;

// "0.5" for 5000, "0.0313" for 313: the JSON text of units / 10000, built from the integer.
export const FRACTION = Array.from({ length: 10000 }, (_, u) => (u === 0 ? '0' : `0.${String(u).padStart(4, '0').replace(/0+$/, '')}`));
const proportionText = (count: number, total: number): string => {
  const u = proportionUnits(count, total);
  return u >= 10000 ? '1' : (FRACTION[u] as string);
};

/** The dense minute × code matrix every response is rendered from. */
export interface HttpCodesMatrix {
  slots: number;
  fromMinute: number;
  codes: number[];
  /** counts[slot * codes.length + codeIndex] */
  counts: Float64Array;
  /** All requests per slot under the domain/region/isp filters (the proportion denominator). */
  totals: Float64Array;
}

/** Sums the store's cells into the dense, zero-filled matrix of the window's minutes. */
export function httpCodesMatrix(q: HttpCodesQuery, cells: readonly CodeCount[]): HttpCodesMatrix {
  const slots = Math.max(0, Math.ceil((q.toMinute - q.fromMinute) / MINUTE));
  let codes = q.codes;
  if (codes.length === 0) {
    const seen = new Set<number>();
    for (const c of cells) if (c.count > 0) seen.add(c.code);
    codes = [...seen].sort((a, b) => a - b);
  }
  const index = new Map<number, number>();
  codes.forEach((c, i) => index.set(c, i));
  const width = codes.length;
  const counts = new Float64Array(slots * width);
  const totals = new Float64Array(slots);
  for (const c of cells) {
    if (c.count <= 0) continue;
    const i = (c.minute - q.fromMinute) / MINUTE;
    if (!Number.isInteger(i) || i < 0 || i >= slots) continue;
    totals[i] = (totals[i] as number) + c.count;
    const j = index.get(c.code);
    if (j !== undefined) counts[i * width + j] = (counts[i * width + j] as number) + c.count;
  }
  return { slots, fromMinute: q.fromMinute, codes, counts, totals };
}

/** The response as an object (what the JSON text below encodes). */
export function shapeHttpCodes(q: HttpCodesQuery, cells: readonly CodeCount[]): HttpCodesResponse {
  const m = httpCodesMatrix(q, cells);
  const width = m.codes.length;
  const data_series: HttpCodesResponse['data_series'] = new Array(m.slots);
  for (let i = 0; i < m.slots; i++) {
    const total = m.totals[i] as number;
    data_series[i] = {
      time: formatUtcSecond(m.fromMinute + i * MINUTE),
      http_codes: m.codes.map((code, j) => {
        const count = m.counts[i * width + j] as number;
        return { code, count, proportion: proportion(count, total) };
      }),
    };
  }
  return { data_series };
}

/** The response as JSON text, rendered straight from the matrix (no intermediate objects). */
export function httpCodesJson(q: HttpCodesQuery, cells: readonly CodeCount[]): string {
  const m = httpCodesMatrix(q, cells);
  const width = m.codes.length;
  const parts: string[] = new Array(m.slots);
  const codePrefix = m.codes.map((c) => `{"code":${c},"count":`);
  for (let i = 0; i < m.slots; i++) {
    const total = m.totals[i] as number;
    let entry = `{"time":"${formatUtcSecond(m.fromMinute + i * MINUTE)}","http_codes":[`;
    for (let j = 0; j < width; j++) {
      const count = m.counts[i * width + j] as number;
      entry += `${j > 0 ? ',' : ''}${codePrefix[j]}${count},"proportion":${proportionText(count, total)}}`;
    }
    parts[i] = entry + ']}';
  }
  return `{"data_series":[${parts.join(',')}]}`;
}
