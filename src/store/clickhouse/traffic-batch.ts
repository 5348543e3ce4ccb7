import { cellValue } from '../cell-values.js';
import { ISPS, REGIONS } from '../../contract/values.js';
import { IP_TYPE_CODES, PROTOCOL_CODES } from '../packed.js';
import type { TrafficRow } from '../traffic.js';
import { quote, quoteList, TsvBytes, type InsertData } from './sql.js';
import { CHUNK_ROWS, slices } from './batch.js';

/**
 * How the traffic rows of one WriteBatch become INSERTs, retry-safe exactly like the counts (see
 * batch.ts): deterministic chunks, one marker row per (chunk, project, domain, UTC day) in each of
 * the two tables, in the same INSERT as the rows it vouches for. A retry inserts, per table, only
 * the groups whose marker is missing. The rollup table (no app/stream) gets the group's rows summed.
 */

const SLOT_MS = 300_000;
const DAY_SLOTS = 288;

export interface TrafficGroup {
  key: string;
  project: string;
  domain: string;
  /** Epoch slot of the marker row: the start of the group's UTC day. */
  markerSlot: number;
  rows: TrafficRow[];
}

export interface TrafficChunk {
  tag: string;
  groups: TrafficGroup[];
}

export const trafficGroupKey = (project: string, domain: string, markerSlot: number): string =>
  `${project}\u0000${domain}\u0000${markerSlot}`;

/** Cuts rows into chunks of at most `maxRows`, each grouped by (project, domain, day); tags `<batch>#t<n>`. */
export function chunkTraffic(batchId: string, rows: readonly TrafficRow[], maxRows = CHUNK_ROWS): TrafficChunk[] {
  const chunks: TrafficChunk[] = [];
  for (let start = 0; start < rows.length; start += maxRows) {
    const groups = new Map<string, TrafficGroup>();
    let last: TrafficGroup | undefined;
    const end = Math.min(rows.length, start + maxRows);
    for (let i = start; i < end; i++) {
      const r = rows[i] as TrafficRow;
      const markerSlot = Math.floor(r.slot / SLOT_MS / DAY_SLOTS) * DAY_SLOTS;
      // Neighbouring rows mostly share a group: no key string for them.
      let g = last !== undefined && last.markerSlot === markerSlot && last.domain === r.domain && last.project === r.project ? last : undefined;
      if (!g) {
        const key = trafficGroupKey(r.project, r.domain, markerSlot);
        g = groups.get(key);
        if (!g) groups.set(key, (g = { key, project: r.project, domain: r.domain, markerSlot, rows: [] }));
      }
      g.rows.push(r);
      last = g;
    }
    chunks.push({ tag: `${batchId}#t${chunks.length}`, groups: [...groups.values()] });
  }
  return chunks;
}

const tuple = (values: Array<string | number>): string => '(' + values.map(quote).join(', ') + ')';

/** INSERT (TabSeparated data, as bytes) into the per-stream table: the groups' rows plus one marker row each. */
export function streamsInsert(table: string, chunk: TrafficChunk, groups: readonly TrafficGroup[], w = new TsvBytes()): InsertData {
  for (const g of groups) {
    const project = w.escaped(g.project);
    const domain = w.escaped(g.domain);
    for (const r of g.rows) {
      w.raw(project).tab().raw(domain).tab().int(r.slot / SLOT_MS).tab().str(r.app).tab().str(r.stream).tab().str(r.protocol).tab()
        .str(r.region).tab().str(r.isp).tab().str(r.ipType).tab().tab().int(cellValue(r.requests)).tab().int(cellValue(r.bytes)).tab().int(0).end();
    }
    w.raw(project).tab().raw(domain).tab().int(g.markerSlot).tab().tab().tab().tab().tab().tab().tab().str(chunk.tag).tab().int(0).tab().int(0).tab().int(1).end();
  }
  return {
    statement: `INSERT INTO ${table} (project, domain, slot, app, stream, protocol, region, isp, ip_type, batch, requests, bytes, markers) FORMAT TabSeparated`,
    body: w.take(),
  };
}

const REGION_AT = new Map<string, number>(REGIONS.map((r, i) => [r, i]));
const ISP_AT = new Map<string, number>(ISPS.map((r, i) => [r, i]));
const PROTOCOL_AT = new Map<string, number>(PROTOCOL_CODES.map((r, i) => [r, i]));
const IP_TYPE_AT = new Map<string, number>(IP_TYPE_CODES.map((r, i) => [r, i]));

/**
 * A traffic row's key in the rollup (slot, protocol, region, isp, address family): a number from the
 * values' codes (no string per row), or, for a value outside them (never from ingest), a string.
 */
function domainKey(r: TrafficRow): number | string {
  const region = REGION_AT.get(r.region);
  const isp = ISP_AT.get(r.isp);
  const protocol = PROTOCOL_AT.get(r.protocol);
  const ipType = IP_TYPE_AT.get(r.ipType);
  const slot = r.slot / SLOT_MS;
  if (region === undefined || isp === undefined || protocol === undefined || ipType === undefined || !Number.isSafeInteger(slot) || slot < 0 || slot >= 2 ** 32) {
    return `${r.slot}\u0000${r.protocol}\u0000${r.region}\u0000${r.isp}\u0000${r.ipType}`;
  }
  return (((slot * 64 + region) * 4 + isp) * 4 + protocol) * 4 + ipType;
}

/** INSERT (TabSeparated data, as bytes) into the rollup table: each group's rows summed over app and stream, plus its marker. */
export function domainsInsert(table: string, chunk: TrafficChunk, groups: readonly TrafficGroup[], w = new TsvBytes()): InsertData {
  for (const g of groups) {
    const sums = new Map<number | string, { r: TrafficRow; requests: number; bytes: number }>();
    for (const r of g.rows) {
      const k = domainKey(r);
      const e = sums.get(k);
      if (e) {
        e.requests += r.requests;
        e.bytes += r.bytes;
      } else {
        sums.set(k, { r, requests: r.requests, bytes: r.bytes });
      }
    }
    const project = w.escaped(g.project);
    const domain = w.escaped(g.domain);
    for (const { r, requests, bytes } of sums.values()) {
      w.raw(project).tab().raw(domain).tab().int(r.slot / SLOT_MS).tab().str(r.protocol).tab().str(r.region).tab().str(r.isp).tab().str(r.ipType).tab().tab()
        .int(cellValue(requests)).tab().int(cellValue(bytes)).tab().int(0).end();
    }
    w.raw(project).tab().raw(domain).tab().int(g.markerSlot).tab().tab().tab().tab().tab().str(chunk.tag).tab().int(0).tab().int(0).tab().int(1).end();
  }
  return {
    statement: `INSERT INTO ${table} (project, domain, slot, protocol, region, isp, ip_type, batch, requests, bytes, markers) FORMAT TabSeparated`,
    body: w.take(),
  };
}

/** SELECTs of the markers of these chunks present in `table`: columns batch, project, domain, slot. */
export function trafficMarkersQueries(table: string, chunks: readonly TrafficChunk[]): string[] {
  const pairs = chunks.flatMap((c) => c.groups.map((g) => ({ tag: c.tag, g })));
  return slices(pairs).map((part) => {
    const keys = part.map(({ g }) => tuple([g.project, g.domain, g.markerSlot]));
    return `SELECT DISTINCT batch, project, domain, slot FROM ${table}
    WHERE (project, domain, slot) IN (${keys.join(', ')}) AND markers > 0
      AND batch IN ${quoteList([...new Set(part.map((p) => p.tag))])}`;
  });
}
