import type Database from 'better-sqlite3';
import { sumMeasure } from '../blocks/codec.js';
import type { TrafficFilter } from '../traffic.js';
import { ISP_INDEX, REGION_INDEX } from './layout.js';
import {
  IP_TYPE_NUMBER, MEASURE_TRAFFIC_BYTES, PROTOCOL_NUMBER, TRAFFIC_DOMAINS, TRAFFIC_SLOT_MS, TRAFFIC_STREAMS, ipTypeOfKey, protocolOfKey,
} from './traffic-layout.js';

/** Per-domain byte series of a read: series[d * slots + i] is domain domains[d] in slot i. */
export interface TrafficByDomainResult {
  domains: string[];
  slots: number;
  series: Float64Array;
}

/** Every series of a cube whose key starts with `prefix` (a JSON array's text without its closing bracket). */
function seriesWithPrefix(db: Database.Database, table: string, prefix: string): Array<{ id: number; tuple: string[] }> {
  const rows = db.prepare(`SELECT id, key FROM ${table} WHERE substr(key, 1, ?) = ?`).raw().all(prefix.length, prefix) as Array<[number, string]>;
  return rows.map(([id, key]) => ({ id, tuple: JSON.parse(key) as string[] }));
}

const prefixOf = (tuple: readonly string[]): string => JSON.stringify(tuple).slice(0, -1) + ',';

/** Play domains of the project with traffic still stored (any block at the total level), ascending. */
export function readTrafficDomains(db: Database.Database, project: string): string[] {
  const total = TRAFFIC_DOMAINS.levels.find((l) => l.dims.length === 0);
  if (!total) return [];
  const prefix = prefixOf([project]);
  const rows = db.prepare(`SELECT id, key FROM ${TRAFFIC_DOMAINS.seriesTable} WHERE substr(key, 1, ?) = ?`).raw().all(prefix.length, prefix) as Array<[number, string]>;
  if (rows.length === 0) return [];
  // The row id packs (block, series, group): one pass over the total level's ids finds the series with any block.
  const stored = new Set(db.prepare(`SELECT DISTINCT ${total.table.seriesSql('id')} FROM ${total.table.name}`).pluck().all() as number[]);
  return rows.filter(([id]) => stored.has(id)).map(([, k]) => (JSON.parse(k) as string[])[1] as string).sort();
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
  (perStream ? TRAFFIC_STREAMS : TRAFFIC_DOMAINS).sum(db, {
    series, filter: [regions, isps], fromSlot, toSlot, measure: MEASURE_TRAFFIC_BYTES,
    column: (key) =>
      (protocol === undefined || protocolOfKey(key) === protocol) && (ipType === undefined || ipTypeOfKey(key) === ipType) ? fine : undefined,
  });
  if (fine === out) return;
  const per = f.slotMs / TRAFFIC_SLOT_MS;
  for (let i = 0; i < fine.length; i++) {
    const j = Math.floor(i / per);
    out[j] = (out[j] as number) + (fine[i] as number);
  }
}

const slotCount = (f: TrafficFilter): number => Math.max(0, Math.round((f.to - f.from) / f.slotMs));

/** Bytes per slot summed over every domain and cell the filter selects. */
export function readTrafficSeries(db: Database.Database, f: TrafficFilter): Float64Array {
  const out = new Float64Array(slotCount(f));
  if (out.length === 0) return out;
  const { perStream, byDomain } = seriesByDomain(db, f);
  const all = [...byDomain.values()].flat();
  if (all.length > 0) sumInto(db, f, perStream, all, out);
  return out;
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
