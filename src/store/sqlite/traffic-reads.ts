import type Database from 'better-sqlite3';
import { renderDetail } from '../../contract/traffic/detail-body.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import { sumMeasure } from '../blocks/codec.js';
import { cachedStatement } from '../blocks/table.js';
import { domainSeriesOf, projectSeries } from './traffic-totals.js';
import type { TrafficFilter } from '../traffic.js';
import { ISP_INDEX, REGION_INDEX } from './layout.js';
import {
  IP_TYPE_NUMBER, MEASURE_TOTALS_BYTES, MEASURE_TRAFFIC_BYTES, PROTOCOL_NUMBER, TRAFFIC_DOMAINS, TRAFFIC_SLOT_MS, TRAFFIC_STREAMS, TRAFFIC_TOTALS, ipTypeOfKey, protocolOfKey,
} from './traffic-layout.js';

/** Per-domain byte series of a read: series[d * slots + i] is domain domains[d] in slot i. */
export interface TrafficByDomainResult {
  domains: string[];
  slots: number;
  series: Float64Array;
}

/**
 * Every series of a cube whose key starts with `prefix` (a JSON array's text without its closing
 * bracket, ending in a comma). The next character of such a key is always the '"' opening the next
 * string, so the keys are exactly the range [prefix + '"', prefix + '#'): a range on the key's
 * unique index, not a scan of the series table.
 */
function seriesWithPrefix(db: Database.Database, table: string, prefix: string): Array<{ id: number; tuple: string[] }> {
  const rows = cachedStatement(db, `SELECT id, key FROM ${table} WHERE key >= ? AND key < ?`).raw().all(`${prefix}"`, `${prefix}#`) as Array<[number, string]>;
  return rows.map(([id, key]) => ({ id, tuple: JSON.parse(key) as string[] }));
}

const prefixOf = (tuple: readonly string[]): string => JSON.stringify(tuple).slice(0, -1) + ',';

/** Blocks (6 hours) of the first look-back window of readTrafficDomains: one day; each next window is 4x longer. */
const FIRST_WINDOW_BLOCKS = 4;

/**
 * Play domains of the project with traffic still stored (any block at the total level), ascending.
 * The total level's row ids put the block in the high bits, so a time range of blocks is an id
 * range: the newest day is read first, then windows 4x longer going back, stopping as soon as every
 * domain of the project has been seen. Domains with recent traffic (the usual case) cost one short
 * range; a domain without any stored block makes it read the whole level once, as a scan would.
 */
export function readTrafficDomains(db: Database.Database, project: string): string[] {
  const total = TRAFFIC_DOMAINS.levels.find((l) => l.dims.length === 0);
  if (!total) return [];
  const pending = new Map(seriesWithPrefix(db, TRAFFIC_DOMAINS.seriesTable, prefixOf([project])).map((s) => [s.id, s.tuple[1] as string]));
  if (pending.size === 0) return [];
  const table = total.table;
  const top = cachedStatement(db, `SELECT max(id) FROM ${table.name}`).pluck().get() as number | null;
  if (top === null) return [];
  const unit = table.id(0, 0, 1);
  const distinct = cachedStatement(db, `SELECT DISTINCT ${table.seriesSql('id')} FROM ${table.name} WHERE id >= ? AND id < ?`).pluck();
  const found: string[] = [];
  let hi = table.parts(top).block + 1;
  for (let span = FIRST_WINDOW_BLOCKS; pending.size > 0 && hi > 0; span *= 4) {
    const lo = Math.max(0, hi - span);
    for (const series of distinct.all(lo * unit, hi * unit) as number[]) {
      const domain = pending.get(series);
      if (domain === undefined) continue;
      found.push(domain);
      pending.delete(series);
    }
    hi = lo;
  }
  return found.sort();
}

/** The series a filter reads, per domain: stream series when app or stream is given, else domain series. */
function seriesByDomain(db: Database.Database, f: TrafficFilter): { perStream: boolean; byDomain: Map<string, number[]> } {
  const perStream = f.app !== undefined || f.stream !== undefined;
  const domains = f.domains.length > 0 ? f.domains : readTrafficDomains(db, f.project);
  const byDomain = new Map<string, number[]>();
  for (const d of domains) {
    if (!perStream) {
      const id = TRAFFIC_DOMAINS.seriesId(db, [f.project, d], false);
      if (id !== undefined) byDomain.set(d, [id]);
      continue;
    }
    const prefix = f.app !== undefined ? prefixOf([f.project, d, f.app]) : prefixOf([f.project, d]);
    const ids = seriesWithPrefix(db, TRAFFIC_STREAMS.seriesTable, prefix)
      .filter((s) => s.tuple.length === 4 && (f.app === undefined || s.tuple[2] === f.app) && (f.stream === undefined || s.tuple[3] === f.stream))
      .map((s) => s.id);
    if (ids.length > 0) byDomain.set(d, ids);
  }
  return { perStream, byDomain };
}

/** Sums the bytes of `series` into `out` (one entry per slot of f.slotMs). */
function sumInto(db: Database.Database, f: TrafficFilter, perStream: boolean, series: number[], out: Float64Array): void {
  const regions = f.regions.map((r) => REGION_INDEX.get(r)).filter((i): i is number => i !== undefined);
  const isps = f.isps.map((r) => ISP_INDEX.get(r)).filter((i): i is number => i !== undefined);
  if ((f.regions.length > 0 && regions.length === 0) || (f.isps.length > 0 && isps.length === 0)) return;
  const protocol = f.protocol === undefined ? undefined : PROTOCOL_NUMBER.get(f.protocol);
  const ipType = f.ipType === undefined ? undefined : IP_TYPE_NUMBER.get(f.ipType);
  const fromSlot = Math.floor(f.from / TRAFFIC_SLOT_MS);
  const toSlot = Math.ceil(f.to / TRAFFIC_SLOT_MS);
  const fine = f.slotMs === TRAFFIC_SLOT_MS ? out : new Float64Array(toSlot - fromSlot);
  // No filter but domains: the totals (one key, day blocks) hold the same sums in far fewer cells.
  const unfiltered = !perStream && regions.length === 0 && isps.length === 0 && protocol === undefined && ipType === undefined;
  if (unfiltered) {
    TRAFFIC_TOTALS.sum(db, { series, filter: [], fromSlot, toSlot, measure: MEASURE_TOTALS_BYTES, column: () => fine });
  } else {
    (perStream ? TRAFFIC_STREAMS : TRAFFIC_DOMAINS).sum(db, {
      series, filter: [regions, isps], fromSlot, toSlot, measure: MEASURE_TRAFFIC_BYTES,
      column: (key) =>
        (protocol === undefined || protocolOfKey(key) === protocol) && (ipType === undefined || ipTypeOfKey(key) === ipType) ? fine : undefined,
    });
  }
  if (fine === out) return;
  const per = f.slotMs / TRAFFIC_SLOT_MS;
  for (let i = 0; i < fine.length; i++) {
    const j = Math.floor(i / per);
    out[j] = (out[j] as number) + (fine[i] as number);
  }
}

const slotCount = (f: TrafficFilter): number => Math.max(0, Math.round((f.to - f.from) / f.slotMs));

/**
 * The project's total series when it answers the filter exactly: no filter but domains, and the
 * domains (if any are named) include every domain the project has a series for, so the sum over
 * them is the sum over the whole project (a dashboard's "all domains" query reads one series).
 */
function wholeProject(db: Database.Database, f: TrafficFilter): number | undefined {
  const perStream = f.app !== undefined || f.stream !== undefined;
  if (perStream || f.regions.length > 0 || f.isps.length > 0 || f.protocol !== undefined || f.ipType !== undefined) return undefined;
  const id = projectSeries(db, f.project, false);
  if (id === undefined || f.domains.length === 0) return id;
  const asked = new Set(f.domains);
  return domainSeriesOf(db, f.project).every((s) => asked.has(s.domain)) ? id : undefined;
}

/** Bytes per slot summed over every domain and cell the filter selects. */
export function readTrafficSeries(db: Database.Database, f: TrafficFilter): Float64Array {
  const out = new Float64Array(slotCount(f));
  if (out.length === 0) return out;
  const project = wholeProject(db, f);
  if (project !== undefined) {
    sumInto(db, f, false, [project], out);
    return out;
  }
  const { perStream, byDomain } = seriesByDomain(db, f);
  const all = [...byDomain.values()].flat();
  if (all.length > 0) sumInto(db, f, perStream, all, out);
  return out;
}

/** The detail answer's bytes (ListDomainTrafficDetail / ListBandwidthDetail), read and rendered on this thread. */
export function trafficDetailBody(db: Database.Database, f: TrafficFilter, kind: DetailKind): Uint8Array {
  const bytes = readTrafficSeries(db, f);
  return renderDetail({ kind, slots: { slotMs: f.slotMs, from: f.from, to: f.to, count: bytes.length } }, bytes);
}

/** Bytes per slot per domain (domains without stored series are left out). */
export function readTrafficByDomain(db: Database.Database, f: TrafficFilter): TrafficByDomainResult {
  const slots = slotCount(f);
  const { perStream, byDomain } = seriesByDomain(db, f);
  const domains = slots === 0 ? [] : [...byDomain.keys()];
  const series = new Float64Array(domains.length * slots);
  domains.forEach((d, i) => sumInto(db, f, perStream, byDomain.get(d) as number[], series.subarray(i * slots, (i + 1) * slots)));
  return { domains, slots, series };
}

/** Requests and bytes stored in the traffic cubes (one project or all), from their total levels: for tests and tools. */
export function trafficTotals(db: Database.Database, project?: string): { requests: number; bytes: number; streamRequests: number } {
  const sum = (cube: typeof TRAFFIC_DOMAINS, measure: number): number => {
    const level = cube.levels.find((l) => l.dims.length === 0);
    if (!level) return 0;
    const sql = `SELECT b.data FROM ${level.table.name} b JOIN ${cube.seriesTable} s ON s.id = ${level.table.seriesSql('b.id')}` +
      (project === undefined ? '' : ' WHERE substr(s.key, 1, ?) = ?');
    const prefix = prefixOf([project ?? '']);
    const stmt = db.prepare(sql).pluck();
    const rows = (project === undefined ? stmt.iterate() : stmt.iterate(prefix.length, prefix)) as IterableIterator<Buffer>;
    const perSlot = new Float64Array(cube.spec.blockSlots);
    for (const data of rows) sumMeasure(data, measure, 0, () => perSlot);
    return perSlot.reduce((a, b) => a + b, 0);
  };
  return { requests: sum(TRAFFIC_DOMAINS, 0), bytes: sum(TRAFFIC_DOMAINS, MEASURE_TRAFFIC_BYTES), streamRequests: sum(TRAFFIC_STREAMS, 0) };
}
