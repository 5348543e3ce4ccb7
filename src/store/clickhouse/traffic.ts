import type { DetailKind } from '../../contract/traffic/detail.js';
import { renderDetail } from '../../contract/traffic/detail-body.js';
import type { QueryOptions } from '../types.js';
import type { TrafficFilter, TrafficQuery, TrafficRow } from '../traffic.js';
import { num, settled, str, type ChConnection, type ExecOptions } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList, TsvBytes } from './sql.js';
import type { TrafficBlocks } from './traffic-blocks.js';
import type { TrafficCells } from './traffic-cells.js';
import { chunkTraffic, domainsInsert, streamsInsert, trafficGroupKey, trafficMarkersQueries } from './traffic-batch.js';

const SLOT_MS = 300_000;

/**
 * The traffic cube in ClickHouse (tables of migrations/002_traffic.sql): writes that a retry
 * applies exactly once, and the reads of TrafficQuery. Reads without app/stream use the rollup
 * table `traffic_domains`; with app or stream, `traffic_streams`.
 */
export class ClickHouseTraffic implements TrafficQuery {
  constructor(
    private readonly server: ChConnection,
    private readonly names: SchemaNames,
    /** Waits until no attempt of these query ids still runs on the server (see ClickHouseStore). */
    private readonly waitUntilFinished: (queryIds: string[]) => Promise<void> = async () => undefined,
    /** The settings of each insert, asked at each write (the store's may change). */
    private readonly insertSettings: () => ExecOptions['settings'] = () => ({}),
    /** Replicated layout: fails unless the markers an earlier attempt left are on the insert quorum (see ClickHouseStore). */
    private readonly checkQuorum: (name: string, queriesFor: (localTable: string) => string[]) => Promise<void> = async () => undefined,
    /** Closed hours of the per-domain totals in memory (traffic-blocks.ts), or undefined: every read by SQL. */
    readonly blocks?: TrafficBlocks,
    /** Closed hours of the filtered (per-stream, per-region...) cells in memory (traffic-cells.ts), or undefined. */
    readonly cells?: TrafficCells,
  ) {}

  private t(name: 'traffic_streams' | 'traffic_domains' | 'traffic_stamps' | 'traffic_stream_stamps' | 'traffic_day_stamps' | 'traffic_project_day_stamps'): string {
    return table(this.names, name);
  }

  /** Writes the rows of batch `batchId`; `retry`: an earlier attempt of it may have partly landed. */
  async write(batchId: string, rows: readonly TrafficRow[], retry: boolean): Promise<void> {
    const chunks = chunkTraffic(batchId, rows);
    if (chunks.length === 0) return;
    const targets = [
      { name: 'traffic_streams' as const, suffix: 's', insert: streamsInsert },
      { name: 'traffic_domains' as const, suffix: 'd', insert: domainsInsert },
    ];
    const queryId = (tag: string, suffix: string): string => `livestats-${tag}-${suffix}`;
    // The two tables at once; the chunks of one table in order (18.16 runs one quorum insert per table at a time).
    await settled(targets.map(async (target) => {
      const w = new TsvBytes();
      const present = new Set<string>();
      if (retry) {
        await this.waitUntilFinished(chunks.map((c) => queryId(c.tag, target.suffix)));
        for (const sql of trafficMarkersQueries(this.t(target.name), chunks)) {
          for (const r of await this.server.rows(sql, undefined, 'write')) {
            present.add(`${str(r.batch)}\u0000${trafficGroupKey(str(r.project), str(r.domain), num(r.slot))}`);
          }
        }
        if (present.size > 0) await this.checkQuorum(target.name, (t) => trafficMarkersQueries(t, chunks));
      }
      for (const chunk of chunks) {
        const missing = chunk.groups.filter((g) => !present.has(`${chunk.tag}\u0000${g.key}`));
        if (missing.length === 0) continue;
        const insert = target.insert(this.t(target.name), chunk, missing, w);
        await this.server.exec(insert.statement, {
          body: insert.body, queryId: queryId(chunk.tag, target.suffix), settings: this.insertSettings(),
        });
      }
    }));
    if (retry) await this.bumpStamps(rows);
  }

  /**
   * A retry: an earlier attempt may have landed in traffic_domains or traffic_streams while its stamp
   * view failed, so every hour the batch touches gets a new stamp in both stamp tables (a random tag,
   * no rows): a node's traffic block of that hour, built before, is then stale (traffic-blocks.ts,
   * traffic-cells.ts).
   */
  private async bumpStamps(rows: readonly TrafficRow[]): Promise<void> {
    const hours = new Map<string, [string, string, number]>();
    for (const r of rows) {
      const hour = Math.floor(r.slot / 3_600_000);
      hours.set(`${r.project}\u0000${r.domain}\u0000${hour}`, [r.project, r.domain, hour]);
    }
    if (hours.size === 0) return;
    // traffic_stamps' bump tags go into traffic_day_stamps too (one row per hour, summed into its day by
    // the table), so a day's stamp stays the sum of its hour stamps (migration 015); the day rows first:
    // should the hour rows then fail, the day differs from its hours (its answers by SQL, never a stale block).
    const bumps = [...hours.values()].map(([p, d, h]) => ({ p, d, h, tag: 1 + Math.floor(Math.random() * 2 ** 52) }));
    const values = (rows: ReadonlyArray<{ p: string; d: string; h: number; tag: number }>, day: boolean): string =>
      rows.map((b) => `(${quote(b.p)}, ${quote(b.d)}, ${quote(day ? Math.floor(b.h / 24) : b.h)}, 0, ${quote(b.tag)})`).join(', ');
    // And into the project's day stamps (migration 018) first of all: a node reuses its fine stamps of a day only
    // while that day's coarse stamp has not moved (coarse-stamps.ts), so once any bump row lands, this one has.
    await this.server.exec(`INSERT INTO ${this.t('traffic_project_day_stamps')} (project, day, rows, tags) VALUES ${
      bumps.map((b) => `(${quote(b.p)}, ${quote(Math.floor(b.h / 24))}, 0, ${quote(b.tag)})`).join(', ')}`, { settings: this.insertSettings() });
    await this.server.exec(`INSERT INTO ${this.t('traffic_day_stamps')} (project, domain, day, rows, tags) VALUES ${values(bumps, true)}`,
      { settings: this.insertSettings() });
    await this.server.exec(`INSERT INTO ${this.t('traffic_stamps')} (project, domain, hour, rows, tags) VALUES ${values(bumps, false)}`,
      { settings: this.insertSettings() });
    const streams = bumps.map((b) => ({ ...b, tag: 1 + Math.floor(Math.random() * 2 ** 52) }));
    await this.server.exec(`INSERT INTO ${this.t('traffic_stream_stamps')} (project, domain, hour, rows, tags) VALUES ${values(streams, false)}`,
      { settings: this.insertSettings() });
  }

  /** The WHERE clause and table of a filter (slots as epoch 5-minute slots). */
  private where(f: TrafficFilter): { from: string; where: string } {
    const perStream = f.app !== undefined || f.stream !== undefined;
    const c = [
      `project = ${quote(f.project)}`,
      `slot >= ${quote(Math.floor(f.from / SLOT_MS))}`,
      `slot < ${quote(Math.ceil(f.to / SLOT_MS))}`,
      "batch = ''",
    ];
    if (f.domains.length > 0) c.push(`domain IN ${quoteList(f.domains)}`);
    c.push(...filterConditions(f));
    return { from: this.t(perStream ? 'traffic_streams' : 'traffic_domains'), where: c.join(' AND ') };
  }

  private slotExpr(f: TrafficFilter): { expr: string; count: number; first: number } {
    const per = f.slotMs / SLOT_MS;
    return { expr: `intDiv(slot, ${quote(per)})`, count: Math.max(0, (f.to - f.from) / f.slotMs), first: f.from / f.slotMs };
  }

  async trafficSeries(f: TrafficFilter, o: QueryOptions = {}): Promise<Float64Array> {
    const s = this.slotExpr(f);
    const out = new Float64Array(s.count);
    if (s.count === 0) return out;
    return await this.blocks?.series(f, o.signal) ?? await this.seriesBeyondBlocks(f, o);
  }

  /** trafficSeries from the filtered cells or by SQL (the totals' blocks not asked). */
  private async seriesBeyondBlocks(f: TrafficFilter, o: QueryOptions): Promise<Float64Array> {
    const s = this.slotExpr(f);
    const out = new Float64Array(s.count);
    const fromCells = await this.cells?.series(f, o.signal);
    if (fromCells) return fromCells;
    const { from, where } = this.where(f);
    const rows = await this.server.rows(`SELECT ${s.expr} AS s, sum(bytes) AS b FROM ${from} WHERE ${where} GROUP BY s`, o.signal);
    for (const r of rows) {
      const i = num(r.s) - s.first;
      if (i >= 0 && i < s.count) out[i] = num(r.b);
    }
    return out;
  }

  /**
   * The detail answer as bytes (renderDetail over trafficSeries: the bytes of detailJson, without a
   * string per entry; 7 d at 300 s is 2,016 entries), so the main thread makes no garbage for it. From
   * the totals' blocks it is rendered by their worker (give it back with releaseBody once sent).
   */
  async trafficDetailBody(f: TrafficFilter, kind: DetailKind, o: QueryOptions = {}): Promise<Uint8Array> {
    const count = Math.max(0, (f.to - f.from) / f.slotMs);
    const fromBlocks = count > 0 ? await this.blocks?.detailBody(f, kind, o.signal) : undefined;
    if (fromBlocks) return fromBlocks;
    const bytes = count > 0 ? await this.seriesBeyondBlocks(f, o) : new Float64Array(0);
    return renderDetail({ kind, slots: { slotMs: f.slotMs, from: f.from, to: f.to, count: bytes.length } }, bytes);
  }

  async trafficByDomain(f: TrafficFilter, o: QueryOptions = {}): Promise<Map<string, Float64Array>> {
    const s = this.slotExpr(f);
    const out = new Map<string, Float64Array>();
    if (s.count === 0) return out;
    const fromBlocks = await this.cells?.byDomain(f, o.signal);
    if (fromBlocks) return fromBlocks;
    const { from, where } = this.where(f);
    const rows = await this.server.rows(`SELECT domain, ${s.expr} AS s, sum(bytes) AS b FROM ${from} WHERE ${where} GROUP BY domain, s`, o.signal);
    for (const r of rows) {
      const domain = str(r.domain);
      let series = out.get(domain);
      if (!series) out.set(domain, (series = new Float64Array(s.count)));
      const i = num(r.s) - s.first;
      if (i >= 0 && i < s.count) series[i] = num(r.b);
    }
    return out;
  }

  async trafficDomains(project: string, o: QueryOptions = {}): Promise<string[]> {
    const rows = await this.server.rows(`SELECT DISTINCT domain FROM ${this.t('traffic_domains')}
      WHERE project = ${quote(project)} ORDER BY domain`, o.signal);
    return rows.map((r) => str(r.domain));
  }
}

/** The conditions of a filter's app, stream, protocol, provinces, carriers and address family (none for what it leaves open). */
export function filterConditions(f: TrafficFilter): string[] {
  const c: string[] = [];
  if (f.app !== undefined) c.push(`app = ${quote(f.app)}`);
  if (f.stream !== undefined) c.push(`stream = ${quote(f.stream)}`);
  if (f.protocol !== undefined) c.push(`protocol = ${quote(f.protocol)}`);
  if (f.regions.length > 0) c.push(`region IN ${quoteList(f.regions)}`);
  if (f.isps.length > 0) c.push(`isp IN ${quoteList(f.isps)}`);
  if (f.ipType !== undefined) c.push(`ip_type = ${quote(f.ipType)}`);
  return c;
}
