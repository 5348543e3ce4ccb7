/**
 * Pure shaping for the Traffic view: the four traffic/bandwidth answers (validated, since they
 * arrive as untyped JSON) into chart points, the per-domain table and the splits. No DOM.
 */
import { ShapeError } from './shape.js';

export interface TimeValue {
  time: number;
  value: number;
}
export interface DomainValue {
  domain: string;
  value: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isAmount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const bad = (what: string): ShapeError => new ShapeError(`Unexpected response from the server: ${what}`);

/** A ListDomainTrafficDetail / ListBandwidthDetail body: `data_list` of (value, time), oldest first. */
export function parseDetail(json: unknown): TimeValue[] {
  if (!isObject(json) || !Array.isArray(json.data_list)) throw bad('no data_list');
  return (json.data_list as unknown[]).map((e) => {
    if (!isObject(e) || !isAmount(e.value) || typeof e.time !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(e.time)) {
      throw bad('bad data_list entry');
    }
    return { time: Date.parse(e.time), value: e.value };
  });
}

/** A ListDomainTrafficSummary (`traffic_list`) or ListDomainBandwidthPeak (`bandwidth_list`) body. */
export function parsePerDomain(json: unknown, list: 'traffic_list' | 'bandwidth_list'): DomainValue[] {
  if (!isObject(json) || !Array.isArray(json[list])) throw bad(`no ${list}`);
  return (json[list] as unknown[]).map((e) => {
    if (!isObject(e) || !isAmount(e.value) || typeof e.domain !== 'string') throw bad(`bad ${list} entry`);
    return { domain: e.domain, value: e.value };
  });
}

export interface DomainRow {
  domain: string;
  peakBps: number;
  bytes: number;
}

/** Peak and total per domain, busiest (by bytes) first; domains in only one answer count 0 in the other. */
export function domainRows(peaks: readonly DomainValue[], totals: readonly DomainValue[]): DomainRow[] {
  const rows = new Map<string, DomainRow>();
  for (const p of peaks) rows.set(p.domain, { domain: p.domain, peakBps: p.value, bytes: 0 });
  for (const t of totals) {
    const r = rows.get(t.domain);
    if (r) r.bytes = t.value;
    else rows.set(t.domain, { domain: t.domain, peakBps: 0, bytes: t.value });
  }
  return [...rows.values()].sort((a, b) => b.bytes - a.bytes || b.peakBps - a.peakBps || (a.domain < b.domain ? -1 : 1));
}

export const sumValues = (list: readonly { value: number }[]): number => list.reduce((s, e) => s + e.value, 0);

export interface SplitRow {
  name: string;
  bytes: number;
}

/**
 * The protocol split: bytes of flv and hls, and the rest of the total as "other" (requests whose
 * URI names no stream); never negative.
 */
export function protocolSplit(total: number, flv: number, hls: number): SplitRow[] {
  return [
    { name: 'HTTP-FLV', bytes: flv },
    { name: 'HLS', bytes: hls },
    { name: 'other', bytes: Math.max(0, total - flv - hls) },
  ];
}

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234567 -> "1.23 M" (powers of 1000); below 1000 as a whole number. */
function si(v: number): string {
  let i = 0;
  let x = v;
  while (x >= 1000 && i < SI.length - 1) {
    x /= 1000;
    i++;
  }
  return i === 0 ? String(Math.round(x)) : `${x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)} ${SI[i]}`;
}

const withUnit = (v: number, unit: string): string => {
  const s = si(v);
  return s.includes(' ') ? `${s}${unit}` : `${s} ${unit}`;
};

/** Bits per second for people: "850 bps", "12.3 Mbps". */
export const formatBps = (bps: number): string => withUnit(bps, 'bps');
/** Bytes for people, decimal units as CDN bills use them: "512 B", "1.50 GB". */
export const formatBytes = (bytes: number): string => withUnit(bytes, 'B');
