import type Database from 'better-sqlite3';
import type { Cube } from '../blocks/cube.js';
import { sumDuplicateCells } from '../blocks/reduce.js';
import { GEO_CODE_LIMIT, IP_TYPE_CODES, PROTOCOL_CODES, type ProjectCells } from '../packed.js';
import type { TrafficRow } from '../traffic.js';
import { ISP_INDEX, REGION_INDEX } from './layout.js';
import { appendCell, newCells } from './cube-cells.js';
import { writeTrafficTotals } from './traffic-totals.js';
import { CommittedIds } from './series-cache.js';
import { IP_TYPE_NUMBER, PROTOCOL_NUMBER, TRAFFIC_DOMAINS, TRAFFIC_SLOT_MS, TRAFFIC_STREAMS, trafficKey } from './traffic-layout.js';

const OTHER_PROTOCOL = PROTOCOL_CODES.indexOf('other');

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
  private readonly ids = new CommittedIds();

  /** Cells skipped because their cube had no series id left (never an error: see series-ids.ts). */
  skippedCells = 0;

  /** The series id of a tuple; -1 when the cube has none left. */
  private seriesId(db: Database.Database, cube: Cube, tuple: string[]): number {
    return this.ids.series(db, cube, tuple);
  }

  write(db: Database.Database, rows: readonly TrafficRow[], packed: readonly ProjectCells[] = []): void {
    let total = rows.length;
    for (const p of packed) total += p.cells.traffic?.tuple.length ?? 0;
    if (total === 0) return;
    const domains = newCells(total);
    const streams = newCells(total);
    const projectOf = new Map<number, string>();
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
      const domainId = this.seriesId(db, TRAFFIC_DOMAINS, [r.project, r.domain]);
      if (domainId < 0) {
        this.skippedCells++;
        continue;
      }
      projectOf.set(domainId, r.project);
      appendCell(domains, domainId, slot, region, isp, key, r.requests, r.bytes);
      // Per-stream detail only where the URI named a stream (app and stream are then non-empty).
      if (r.protocol !== 'other' && r.app !== '' && r.stream !== '') {
        const streamId = this.seriesId(db, TRAFFIC_STREAMS, [r.project, r.domain, r.app, r.stream]);
        if (streamId >= 0) appendCell(streams, streamId, slot, region, isp, key, r.requests, r.bytes);
        else this.skippedCells++;
      }
    }
    for (const p of packed) {
      const t = p.cells.traffic;
      if (!t) continue;
      // Series ids once per tuple of the batch; -1: no stream series (the URI named none).
      const domainSeries = new Float64Array(t.domains.length);
      const streamSeries = new Float64Array(t.domains.length);
      const byDomain = new Map<string, number>();
      for (let k = 0; k < t.domains.length; k++) {
        const domain = t.domains[k] as string;
        let id = byDomain.get(domain);
        if (id === undefined) byDomain.set(domain, (id = this.seriesId(db, TRAFFIC_DOMAINS, [p.project, domain])));
        domainSeries[k] = id;
        if (id >= 0) projectOf.set(id, p.project);
        const app = t.apps[k] as string;
        const stream = t.streams[k] as string;
        // -1: the URI named no stream; -2: no stream series id left.
        const ss = id >= 0 && app !== '' && stream !== '' ? this.seriesId(db, TRAFFIC_STREAMS, [p.project, domain, app, stream]) : -1;
        streamSeries[k] = id >= 0 && app !== '' && stream !== '' && ss < 0 ? -2 : ss;
      }
      for (let i = 0; i < t.tuple.length; i++) {
        const k = t.tuple[i] as number;
        const geo = t.geo[i] as number;
        const protocol = t.protocol[i] as number;
        const ipType = t.ipType[i] as number;
        if (geo >= GEO_CODE_LIMIT || protocol >= PROTOCOL_CODES.length || ipType >= IP_TYPE_CODES.length || !(k < t.domains.length)) {
          throw new Error(`packed traffic cell ${i} outside its batch`);
        }
        const slot = Math.floor((t.slot[i] as number) / TRAFFIC_SLOT_MS);
        const key = trafficKey(protocol, ipType);
        const requests = t.requests[i] as number;
        const bytes = t.bytes[i] as number;
        if ((domainSeries[k] as number) < 0) {
          this.skippedCells++;
          continue;
        }
        appendCell(domains, domainSeries[k] as number, slot, geo >> 2, geo & 3, key, requests, bytes);
        const ss = streamSeries[k] as number;
        if (ss >= 0 && protocol !== OTHER_PROTOCOL) appendCell(streams, ss, slot, geo >> 2, geo & 3, key, requests, bytes);
        else if (ss === -2) this.skippedCells++;
      }
    }
    // A domain's streams share its cells: summed once here, the four domain levels merge fewer cells.
    const summed = sumDuplicateCells(domains, TRAFFIC_DOMAINS.spec.dims.map((d) => d.values.length));
    TRAFFIC_DOMAINS.write(db, summed);
    // The totals of schema v5 (domain and project series): each domain series belongs to one project.
    const projects = new Array<string>(summed.count);
    for (let i = 0; i < summed.count; i++) projects[i] = projectOf.get(summed.series[i] as number) as string;
    writeTrafficTotals(db, summed, projects);
    if (streams.count > 0) TRAFFIC_STREAMS.write(db, streams);
  }

  /** The transaction committed: keep its new series ids. */
  commit(): void {
    this.ids.commit();
  }

  /** The transaction rolled back: forget its new series ids. */
  rollback(): void {
    this.ids.rollback();
  }
}
