import type Database from 'better-sqlite3';
import type { Cube } from '../blocks/cube.js';
import type { TrafficRow } from '../traffic.js';
import { ISP_INDEX, REGION_INDEX } from './layout.js';
import { newCells } from './migrate-v2.js';
import { writeTrafficTotals } from './traffic-totals.js';
import { IP_TYPE_NUMBER, PROTOCOL_NUMBER, TRAFFIC_DOMAINS, TRAFFIC_SLOT_MS, TRAFFIC_STREAMS, trafficKey } from './traffic-layout.js';

/** Schema v3: the traffic cubes' tables (empty; filled by ingest from then on). */
export function createTrafficTables(db: Database.Database): void {
  db.exec(TRAFFIC_DOMAINS.ddl());
  db.exec(TRAFFIC_STREAMS.ddl());
}

/**
 * Writes traffic rows into both traffic cubes, inside the caller's write transaction (the same one
 * as the playback cells and the checkpoints). Series ids created here are cached only once the
 * transaction has committed (`commit`), so a rolled-back batch leaves no stale id behind.
 */
export class TrafficWriter {
  private readonly ids = new Map<string, number>();
  private fresh = new Map<string, number>();

  private seriesId(db: Database.Database, cube: Cube, tuple: string[]): number {
    // NUL cannot occur in a domain, and app/stream names exclude control characters: the join is unique.
    const key = `${cube.spec.name}\u0000${tuple.join('\u0000')}`;
    const known = this.ids.get(key) ?? this.fresh.get(key);
    if (known !== undefined) return known;
    const id = cube.seriesId(db, tuple, true) as number;
    this.fresh.set(key, id);
    return id;
  }

  write(db: Database.Database, rows: readonly TrafficRow[]): void {
    if (rows.length === 0) return;
    const domains = newCells(rows.length);
    const streams = newCells(rows.length);
    for (const r of rows) {
      const region = REGION_INDEX.get(r.region);
      const isp = ISP_INDEX.get(r.isp);
      const protocol = PROTOCOL_NUMBER.get(r.protocol);
      const ipType = IP_TYPE_NUMBER.get(r.ipType);
      if (region === undefined || isp === undefined || protocol === undefined || ipType === undefined) {
        throw new Error(`unknown traffic dims ${r.region}/${r.isp}/${r.protocol}/${r.ipType}`);
      }
      const slot = Math.floor(r.slot / TRAFFIC_SLOT_MS);
      const key = trafficKey(protocol, ipType);
      const add = (cells: ReturnType<typeof newCells>, series: number): void => {
        const n = cells.count++;
        (cells.series as Float64Array)[n] = series;
        (cells.slot as Float64Array)[n] = slot;
        (cells.dims[0] as Int32Array)[n] = region;
        (cells.dims[1] as Int32Array)[n] = isp;
        (cells.key as Int32Array)[n] = key;
        (cells.measures[0] as Float64Array)[n] = r.requests;
        (cells.measures[1] as Float64Array)[n] = r.bytes;
      };
      add(domains, this.seriesId(db, TRAFFIC_DOMAINS, [r.project, r.domain]));
      // Per-stream detail only where the URI named a stream (app and stream are then non-empty).
      if (r.protocol !== 'other' && r.app !== '' && r.stream !== '') {
        add(streams, this.seriesId(db, TRAFFIC_STREAMS, [r.project, r.domain, r.app, r.stream]));
      }
    }
    TRAFFIC_DOMAINS.write(db, domains);
    writeTrafficTotals(db, domains, rows.map((r) => r.project));
    if (streams.count > 0) TRAFFIC_STREAMS.write(db, streams);
  }

  /** The transaction committed: keep its new series ids. */
  commit(): void {
    for (const [k, v] of this.fresh) this.ids.set(k, v);
    this.fresh = new Map();
  }

  /** The transaction rolled back: forget its new series ids. */
  rollback(): void {
    this.fresh = new Map();
  }
}
